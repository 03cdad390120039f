"""A synthetic manifest: K requirements over P principals (issue 15: 10,000 and 100,000).

    python bench/gen_manifest.py K [PRINCIPALS] > iamgate.yaml
"""
from __future__ import annotations

import sys


def manifest(requirements: int, principals: int = 50) -> str:
    lines = ["version: 1", "settings:", '  account: "123456789012"', "  region: us-east-1", "principals:"]
    per = max(1, requirements // principals)
    for p in range(principals):
        lines += [f"  - principal: role{p}", "    needs:"]
        for k in range(per):
            lines += ["      - actions: [s3:GetObject, s3:PutObject]",
                      f'        resources: "arn:aws:s3:::bucket-{p}-{k % 100}/data/{k}/*"']
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]] or [10000]
    sys.stdout.write(manifest(*args))
