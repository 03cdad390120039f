"""What a commit waits for: `iamgate hook` (the pre-commit hook) on one changed template, as a fresh
process the way pre-commit starts it, median of several runs; beside it `iamgate check` of the whole
repository (the iamgate-all hook) for scale.

    .venv/bin/python bench/bench_hook.py [STACKS] [RUNS]

The repository is made in a temporary folder: STACKS CloudFormation stacks (default 40), each a
role with its queue and a requirement in the manifest, and STACKS // 8 Terraform modules with a
Lambda function reading an SQS queue. The hook's number must stay well under a second and must not
grow with the size of the repository (issue 14); the whole repository's does.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from tests.hook_samples import module, stack  # noqa: E402


def make_repo(root: str, stacks: int) -> None:
    lines = ["version: 1", "principals:"]
    for i in range(stacks):
        folder = os.path.join(root, f"svc-{i:02d}")
        os.makedirs(folder)
        with open(os.path.join(folder, "stack.yaml"), "w") as fh:
            fh.write(stack(f"Svc{i:02d}Role", f"Svc{i:02d}Queue"))
        lines += [f"  - principal: Svc{i:02d}Role", "    needs:", "      - actions: [sqs:ReceiveMessage]",
                  f'        resources: "${{Svc{i:02d}Queue.Arn}}"']
    for i in range(max(1, stacks // 8)):
        folder = os.path.join(root, "infra", f"mod-{i}")
        os.makedirs(folder)
        with open(os.path.join(folder, "main.tf"), "w") as fh:
            fh.write(module())
    with open(os.path.join(root, "iamgate.yaml"), "w") as fh:
        fh.write("\n".join(lines) + "\n")


def median(cmd: list, cwd: str, env: dict, runs: int) -> float:
    subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)}: exit {done.returncode}")
    return statistics.median(times)


def main() -> None:
    stacks = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    with tempfile.TemporaryDirectory(prefix="iamgate-bench-hook-") as repo, \
            tempfile.TemporaryDirectory(prefix="iamgate-bench-cache-") as cache:
        make_repo(repo, stacks)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPATH"] = os.path.join(ROOT, "src")
        env["IAMGATE_CACHE_DIR"] = cache  # outside the repository, which check walks
        iamgate = [sys.executable, "-m", "iamgate"]
        bare = median([sys.executable, "-c", "pass"], repo, env, runs)
        hook = median(iamgate + ["hook", "svc-00/stack.yaml"], repo, env, runs)
        tf = median(iamgate + ["hook", "infra/mod-0/main.tf"], repo, env, runs)
        nothing = median(iamgate + ["hook", "README.md", "package.json"], repo, env, runs)
        whole = median(iamgate + ["check"], repo, env, max(3, runs // 2))
    print(f"repository: {stacks} stacks, {max(1, stacks // 8)} Terraform modules; median of {runs} runs")
    print(f"python -c pass:                      {bare * 1000:6.0f} ms")
    print(f"iamgate hook (one changed template): {hook * 1000:6.0f} ms")
    print(f"iamgate hook (one changed .tf):      {tf * 1000:6.0f} ms")
    print(f"iamgate hook (nothing iamgate reads):{nothing * 1000:6.0f} ms")
    print(f"iamgate check (whole repository):    {whole * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
