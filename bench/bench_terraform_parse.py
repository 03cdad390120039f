"""Reading a Terraform tree cold (empty parse cache) and warm (second run, same cache).

    .venv/bin/python bench/bench_terraform_parse.py [DIR] [--runs N]

Default DIR: ../shared/corpus/terraform. Every ``*.tf`` and ``*.tf.json`` file under DIR is read
and parsed with ``iamgate.sources.terraform.hcl.parse_many``, each run in a fresh process, as a user or a
pre-commit hook runs iamgate: a cold run gets a new, empty temporary cache directory
(``IAMGATE_CACHE_DIR``); the warm run that follows reuses it. The best of N cold/warm pairs is
kept, both as whole-process wall time and as the time spent inside the process (file reading
and parsing, after imports). Goal (Terraform reader issue): warm <= cold / 5.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "..", "..", "shared", "corpus", "terraform")


def terraform_files(root: str) -> List[str]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [os.path.join(folder, f) for f in sorted(files) if f.endswith((".tf", ".tf.json"))]
    return found


def child(root: str) -> None:
    """One run: read and parse everything under ``root``; print what happened as JSON."""
    start = time.perf_counter()
    from iamgate.sources.terraform.hcl import HclError, parse_many

    imported = time.perf_counter()
    items: List[Tuple[str, str]] = []
    for path in terraform_files(root):
        with open(path, encoding="utf-8", errors="replace") as fh:
            items.append((path, fh.read()))
    results = parse_many(items)
    done = time.perf_counter()
    print(json.dumps({"files": len(items), "lines": sum(t.count("\n") for _, t in items),
                      "errors": sum(isinstance(r, HclError) for r in results),
                      "import": imported - start, "work": done - imported}))


def run(root: str, cache: str) -> Dict[str, float]:
    env = dict(os.environ, IAMGATE_CACHE_DIR=cache)
    env.pop("IAMGATE_NO_CACHE", None)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", root], env=env,
                         check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - start
    return dict(json.loads(out), wall=wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dir", nargs="?", default=DEFAULT)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.dir)
        return
    if not os.path.isdir(args.dir):
        sys.exit(f"{args.dir}: not a directory (pass one, or run beside ../shared)")
    cold: List[Dict[str, float]] = []
    warm: List[Dict[str, float]] = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="iamgate-bench-cache-") as cache:
            cold.append(run(args.dir, cache))
            warm.append(run(args.dir, cache))
    c_wall, w_wall = min(r["wall"] for r in cold), min(r["wall"] for r in warm)
    c_work, w_work = min(r["work"] for r in cold), min(r["work"] for r in warm)
    info = cold[0]
    print(f"tree: {os.path.relpath(args.dir)}: {info['files']} files, {info['lines']} lines, "
          f"{info['errors']} parse errors; {os.cpu_count()} CPUs; best of {args.runs}")
    print(f"cold: {c_wall * 1000:7.0f} ms process  ({c_work * 1000:7.1f} ms reading and parsing, "
          f"{info['lines'] / c_work:,.0f} lines/s)")
    print(f"warm: {w_wall * 1000:7.0f} ms process  ({w_work * 1000:7.1f} ms reading and parsing)")
    print(f"warm / cold = {w_wall / c_wall:.3f} whole process, {w_work / c_work:.3f} in process "
          f"(goal <= 0.20)")


if __name__ == "__main__":
    main()
