"""Start-up cost of the CLI as a user or a pre-commit hook pays it: `iamgate --version` and a check of
one small template, each as a fresh process, best of several runs.

    .venv/bin/python bench/bench_startup.py [TEMPLATE]

Default template: examples/cloudformation/orders-stack.yaml with its manifest. A restructure must not
make either number grow (issue 9); compare before and after on the same machine.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
IAMGATE = os.path.join(os.path.dirname(sys.executable), "iamgate")
# as installed: bytecode cached even where the session sets PYTHONDONTWRITEBYTECODE
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def best(cmd: list[str], runs: int) -> float:
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV, cwd=ROOT)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    example = os.path.join("examples", "cloudformation")
    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(example, "orders-stack.yaml")
    manifest = [] if len(sys.argv) > 1 else ["--manifest", os.path.join(example, "iamgate.yaml")]
    bare = best([sys.executable, "-c", "pass"], 15)
    version = best([IAMGATE, "--version"], 15)
    check = best([IAMGATE, "check", *manifest, "--fail-on", "never", target], 9)
    print(f"python -c pass:        {bare * 1000:6.0f} ms")
    print(f"iamgate --version:     {version * 1000:6.0f} ms")
    print(f"iamgate check {os.path.basename(target)}: {check * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
