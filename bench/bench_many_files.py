"""Benchmark a repository of many small inputs: N JSON policies and CloudFormation templates.

Usage: python bench/bench_many_files.py [--files N] [--runs R] [--keep DIR]

Generates a tree of N files (default 3,000) in nested folders — a third IAM policy files, a third
CloudFormation templates with one role each, a third JSON/YAML files that are neither (package
manifests, CI configs, which every reader must look at and pass over) — then times, over R runs:

- ``iamgate inventory --format json`` in a fresh interpreter (what CI pays), with its peak memory;
- ``read_inventory`` in-process (the readers alone, without start-up).

It prints per-file cost too, so that a regression that makes the walk or a reader quadratic shows
as a per-file time that grows with N (try --files 300, 3000, 10000). Speed goals are measured here,
never asserted in tests; tests/sources/test_many_files.py checks what is read on a few hundred.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Role{i}:
    Type: AWS::IAM::Role
    Properties:
      RoleName: worker-{i}
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement: [{{Effect: Allow, Principal: {{Service: lambda.amazonaws.com}}, Action: sts:AssumeRole}}]
      Policies:
        - PolicyName: worker-{i}
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: [s3:GetObject, s3:PutObject]
                Resource: !Sub "arn:aws:s3:::bucket-{i}-${{AWS::AccountId}}/*"
"""


def generate(root: Path, n: int) -> None:
    """N small files, a third of each kind, 50 to a folder."""
    for i in range(n):
        folder = root / f"team-{i // 500:02d}" / f"svc-{i // 50:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        kind = i % 3
        if kind == 0:
            doc = {"Version": "2012-10-17", "Statement": [
                {"Sid": f"S{i}", "Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"],
                 "Resource": f"arn:aws:sqs:us-east-1:111122223333:queue-{i}"}]}
            (folder / f"policy-{i:05d}.json").write_text(json.dumps(doc, indent=2))
        elif kind == 1:
            (folder / f"stack-{i:05d}.yaml").write_text(TEMPLATE.format(i=i))
        elif i % 2:
            (folder / f"package-{i:05d}.json").write_text(json.dumps({"name": f"svc-{i}", "version": "1.0.0",
                                                                      "dependencies": {"left-pad": "^1.3.0"}}))
        else:
            (folder / f"ci-{i:05d}.yml").write_text(f"name: build-{i}\non: [push]\njobs:\n  test:\n"
                                                    "    runs-on: ubuntu-latest\n    steps: [{run: make}]\n")


def _env() -> dict:
    path = os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "IAMGATE_NO_CACHE": "1"}


def cli_run(root: Path) -> tuple:
    """(seconds, peak MiB, principals) of one ``iamgate inventory`` in a fresh interpreter."""
    code = ("import resource, sys, time\nt = time.perf_counter()\nfrom iamgate.cli import main\n"
            "rc = main(['inventory', '--format', 'json', '.'])\n"
            "sys.stderr.write('%f %d %d' % (time.perf_counter() - t, "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, rc))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, env=_env(), capture_output=True, text=True,
                          check=True)
    seconds, rss_kib, rc = proc.stderr.split()[-3:]
    principals = len(json.loads(proc.stdout)["principals"])
    assert rc == "0", proc.stderr
    return float(seconds), int(rss_kib) / 1024, principals


def in_process(root: Path) -> float:
    sys.path.insert(0, str(SRC))
    from iamgate.sources import read_inventory
    cwd = os.getcwd()
    os.chdir(root)
    try:
        t = time.perf_counter()
        read_inventory(["."])
        return time.perf_counter() - t
    finally:
        os.chdir(cwd)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp) / "repo"
        generate(root, args.files)
        cli = [cli_run(root) for _ in range(args.runs)]
        inproc = [in_process(root) for _ in range(args.runs)]
    secs = statistics.median(c[0] for c in cli)
    print(f"{args.files} files ({cli[0][2]} principals read)")
    print(f"  iamgate inventory, fresh interpreter: median {secs:.2f} s "
          f"({secs / args.files * 1e3:.2f} ms/file), peak {max(c[1] for c in cli):.0f} MiB")
    ip = statistics.median(inproc)
    print(f"  read_inventory in-process:           median {ip:.2f} s ({ip / args.files * 1e3:.2f} ms/file)")


if __name__ == "__main__":
    main()
