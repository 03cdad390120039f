"""The engine scored against the peer evaluators' cases in ../shared/conformance (skipped if absent)."""
import os
import subprocess
import sys

import pytest

RUN = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "conformance", "run.py")


@pytest.mark.skipif(not os.path.exists(RUN), reason="../shared/conformance is not present")
def test_conformance_suite_passes_every_case():
    root = os.path.join(os.path.dirname(__file__), "..")
    out = subprocess.run([sys.executable, RUN, "--engine", "iamgate.conformance:evaluate"], cwd=root,
                         capture_output=True, text=True, timeout=300)
    last = out.stdout.strip().splitlines()[-1]
    passed, failed = (int(x.split()[0]) for x in last.split(", "))
    assert failed == 0 and passed >= 857, out.stdout[-4000:]
