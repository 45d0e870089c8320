"""Every output and message of a fixed set of runs is what ``tests/golden.json`` records.

See :mod:`golden` for the runs and how to write the digests anew when a change is meant to
alter outputs. A failure names each output that changed; ``python tests/golden.py --dump
DIR`` on two trees gives texts to diff.
"""

from __future__ import annotations

import json

from golden import DIGESTS, produce


def test_outputs_are_byte_for_byte_what_they_were(tmp_path):
    expected = json.loads(DIGESTS.read_text(encoding="utf-8"))
    got = produce(tmp_path)
    changed = sorted(name for name in expected.keys() | got.keys() if expected.get(name) != got.get(name))
    assert not changed, f"outputs that changed: {changed}"
