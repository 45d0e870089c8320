"""Benchmarks: synthetic cases at three sizes and a timed run of every phase of optimise.

* ``python -m benchmarks.generate {district,ca,national} OUT [--check]`` writes a case;
* ``python -m benchmarks.run SIZE`` times read, build, solve, optimise, interpret and write
  in one process, against a floor (the same LP as a sparse matrix handed to highspy);
* ``python -m benchmarks.highs_options`` and ``python -m benchmarks.profile_build`` are
  the measurements behind the recommendations in ``benchmarks/README.md``.

Timings live here, never in test assertions.
"""
