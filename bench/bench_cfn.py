"""End-to-end time of `iamgate check` on a ~500-line CloudFormation template, against cfn-lint.

    .venv/bin/python bench/bench_cfn.py [TEMPLATE]

Default template: ../shared/corpus/cfn/aws-cloudformation-templates/S3/compliant-static-website.yaml
(505 lines). Both tools run as fresh processes, as a user or a pre-commit hook runs them; the best of
several runs is kept. Goal (issue 4): iamgate takes at most a fifth of cfn-lint's time.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "..", "..", "shared", "corpus", "cfn", "aws-cloudformation-templates", "S3",
                       "compliant-static-website.yaml")
BIN = os.path.dirname(sys.executable)


# as installed: Python caches bytecode (a session that sets PYTHONDONTWRITEBYTECODE would otherwise
# compile every module of both tools on every run)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def best(cmd, runs: int) -> float:
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV)  # warm
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV)
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    template = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    if not os.path.exists(template):
        sys.exit(f"{template}: not found (pass a template, or run beside ../shared)")
    lines = sum(1 for _ in open(template, encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        manifest = os.path.join(tmp, "iamgate.yaml")
        with open(manifest, "w") as fh:
            fh.write("version: 1\nsettings: {account: '111122223333', region: us-east-1}\n")
        iamgate = best([os.path.join(BIN, "iamgate"), "check", "--manifest", manifest, "--fail-on", "never",
                        template], 7)
        inventory = best([os.path.join(BIN, "iamgate"), "inventory", template], 7)
        cfn_lint = best([os.path.join(BIN, "cfn-lint"), template], 3)
    print(f"template: {os.path.relpath(template)} ({lines} lines)")
    print(f"iamgate check:     {iamgate * 1000:7.0f} ms")
    print(f"iamgate inventory: {inventory * 1000:7.0f} ms")
    print(f"cfn-lint:          {cfn_lint * 1000:7.0f} ms")
    print(f"iamgate / cfn-lint = {iamgate / cfn_lint:.2f} (goal <= 0.20)")


if __name__ == "__main__":
    main()
