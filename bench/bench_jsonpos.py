"""JSON with positions (sources/jsonpos.py) on a 1.8 MB account export, best of several runs.

    .venv/bin/python bench/bench_jsonpos.py

Goal (issue 3): well under a second for a megabyte; json.loads alone is printed for scale.
"""
from __future__ import annotations

import json
import time

from iamgate.sources.jsonpos import load


def main() -> None:
    statement = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "kms:Decrypt"],
                 "Resource": ["arn:aws:s3:::bucket-é/*", "*"],
                 "Condition": {"StringEquals": {"aws:PrincipalTag/team": ["a", "b"], "n": 1.5}}}
    doc = {"Policies": [{"PolicyName": f"p{i}", "Document": {"Version": "2012-10-17", "Statement": [statement] * 3}}
                        for i in range(1100)]}
    text = json.dumps(doc, indent=2)
    for name, fn in (("jsonpos.load", load), ("json.loads", json.loads)):
        best = min(_time(fn, text) for _ in range(5))
        print(f"{name:13s} {len(text) / 1e6:.1f} MB: {best * 1000:6.0f} ms")


def _time(fn, text: str) -> float:
    start = time.perf_counter()
    fn(text)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
