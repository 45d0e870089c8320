"""commissioning: line up employment-and-skills funding pots against evidenced need.

Read a case (:func:`commissioning.inputs.validate.load_case`), map provision against need
(:mod:`commissioning.analysis.mapping`), optimise (:mod:`optimiser`), and write an auditable
Local Labour Market Agreement (:mod:`commissioning.analysis.agreement`).
"""

import os

# OpenBLAS (under numpy) leaves its worker threads spinning after any BLAS call. Nothing
# here gains from threaded BLAS (the work is element-wise or sparse), and at combined-
# authority size those threads burnt ~45% extra CPU for no wall-clock gain — CPU that a
# shared machine's other jobs, or HiGHS, could use. Set the variable yourself to override.
# (It only takes effect when this package is imported before numpy, as the CLI does.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
