"""``python -m tests.oracle --cases 20000 --seed 7 --out disagreements.json``

Generates the cases, installs iam-simulate into a temporary folder (or ``--npm-dir``), runs one
node process over every case and iamgate's engine on the same cases, and prints the agreement,
the counts per caller type and per policy type, and the disagreement classes; one minimal example
per class goes to ``--out``. Exit status: 0 if every disagreement is in a known class and iamgate
never allows what the oracle denies outside a class documented as iamgate being right ("oracle" or
"conflict"), 1 otherwise, 2 if the oracle is missing.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from typing import List, Optional

from .compare import Report, run
from .generate import generate
from .known import by_class, tolerated_false_allow
from .simulate import Oracle, OracleUnavailable, install


def _pct(c) -> str:
    n = c["agree"] + c["disagree"]
    return f"{100.0 * c['agree'] / n:6.2f}% of {n:6d}" if n else "      -"


def print_report(rep: Report, seed: int, elapsed: float) -> None:
    print(f"seed {seed}: {rep.total} cases, {rep.agreed} agree, agreement {rep.agreement():.2f}% "
          f"({elapsed:.1f}s)")
    if rep.harness:
        print("harness problems (not compared):")
        for k, v in rep.harness.most_common():
            print(f"  {v:6d}  {k}")
    print("per caller type:")
    for k in sorted(rep.by_caller):
        print(f"  {k:16s} {_pct(rep.by_caller[k])}")
    print("per policy type present:")
    for k in sorted(rep.by_policy):
        print(f"  {k:22s} {_pct(rep.by_policy[k])}")
    known = by_class()
    print("disagreement classes:")
    for cls, n in rep.classes.most_common():
        tag = known[cls].verdict if cls in known else "UNKNOWN"
        fa = f" (iamgate allows: {rep.false_allows[cls]})" if rep.false_allows.get(cls) else ""
        print(f"  {n:6d}  [{tag}] {cls}{fa}")


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.oracle", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default="oracle-disagreements.json", help="one minimal example per class")
    ap.add_argument("--npm-dir", help="reuse this folder for the npm install (default: a temporary one)")
    ap.add_argument("--minimize", type=int, default=400, help="minimize at most this many disagreements")
    a = ap.parse_args(argv)
    start = time.time()
    with tempfile.TemporaryDirectory(prefix="iamgate-oracle-") as tmp:
        folder = a.npm_dir or tmp
        try:
            install(folder)
        except OracleUnavailable as e:
            print(f"oracle unavailable: {e}", file=sys.stderr)
            return 2
        cases = generate(a.cases, a.seed)
        with Oracle(folder) as oracle:
            rep = run(cases, oracle, minimize_limit=a.minimize,
                      progress=lambda m: print(m, file=sys.stderr))
    print_report(rep, a.seed, time.time() - start)
    known = by_class()
    with open(a.out, "w") as fh:
        json.dump({cls: {**ex, "count": rep.classes[cls],
                         "verdict": known[cls].verdict if cls in known else "unknown",
                         "doc": known[cls].doc if cls in known else None,
                         "url": known[cls].url if cls in known else None}
                   for cls, ex in sorted(rep.examples.items())}, fh, indent=1)
    print(f"examples written to {a.out}")
    unknown = [c for c in rep.classes if c not in known]
    bad_allows = [c for c in rep.false_allows if c in known and not tolerated_false_allow(known[c].verdict)]
    return 1 if unknown or bad_allows or rep.harness else 0


if __name__ == "__main__":
    sys.exit(main())
