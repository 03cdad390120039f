"""Engine throughput: decisions per second for a principal with 50 statements across 10 services,
and the cost of `import iamgate`.

    .venv/bin/python bench/bench_engine.py

Goal (issue 2): >= 20,000 decisions/s on one core; `import iamgate` < 100 ms.
"""
from __future__ import annotations

import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from iamgate.engine.evaluate import PolicySet, Request, decide  # noqa: E402
from iamgate.policy import parse_policy  # noqa: E402

ACCOUNT = "111122223333"
SERVICES = {
    "s3": ["GetObject", "PutObject", "DeleteObject", "ListBucket", "GetObjectAcl"],
    "sqs": ["SendMessage", "ReceiveMessage", "DeleteMessage", "GetQueueAttributes"],
    "sns": ["Publish", "Subscribe", "GetTopicAttributes"],
    "dynamodb": ["GetItem", "PutItem", "Query", "UpdateItem", "DeleteItem"],
    "kms": ["Decrypt", "Encrypt", "GenerateDataKey"],
    "lambda": ["InvokeFunction", "GetFunction"],
    "logs": ["CreateLogStream", "PutLogEvents", "CreateLogGroup"],
    "secretsmanager": ["GetSecretValue", "DescribeSecret"],
    "ssm": ["GetParameter", "GetParameters", "GetParametersByPath"],
    "ec2": ["DescribeInstances", "CreateNetworkInterface", "DeleteNetworkInterface"],
}


def resource(service: str, i: int) -> str:
    return {
        "s3": f"arn:aws:s3:::bucket-{i}/*",
        "sqs": f"arn:aws:sqs:us-east-1:{ACCOUNT}:queue-{i}",
        "sns": f"arn:aws:sns:us-east-1:{ACCOUNT}:topic-{i}",
        "dynamodb": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/table-{i}",
        "kms": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/key-{i}",
        "lambda": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn-{i}",
        "logs": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/fn-{i}:*",
        "secretsmanager": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:secret-{i}-*",
        "ssm": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/{i}/*",
        "ec2": "*",
    }[service]


def build_policy(rnd: random.Random):
    statements = []
    for service, actions in SERVICES.items():
        for i in range(5):  # 5 statements per service, 50 in all
            st = {"Sid": f"{service}{i}", "Effect": "Deny" if i == 4 and service == "s3" else "Allow",
                  "Action": [f"{service}:{a}" for a in rnd.sample(actions, k=min(2, len(actions)))],
                  "Resource": resource(service, i)}
            if i == 3:
                st["Condition"] = {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
            statements.append(st)
    return parse_policy({"Version": "2012-10-17", "Statement": statements}, "bench", "identity")


def requests(rnd: random.Random, n: int):
    out = []
    for _ in range(n):
        service = rnd.choice(list(SERVICES))
        action = rnd.choice(SERVICES[service])
        res = resource(service, rnd.randrange(6)).replace("*", "obj")
        out.append(Request(action=f"{service}:{action}", resource=res, principal_type="iam-role",
                           principal_arn=f"arn:aws:iam::{ACCOUNT}:role/bench", principal_account=ACCOUNT,
                           resource_account=ACCOUNT, context={"aws:RequestedRegion": "us-east-1"}))
    return out


def main() -> None:
    rnd = random.Random(7)
    ps = PolicySet(identity=(build_policy(rnd),))
    reqs = requests(rnd, 20_000)
    for r in reqs[:2000]:  # warm the pattern caches
        decide(r, ps)
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        results = [decide(r, ps).result for r in reqs]
        best = max(best, len(reqs) / (time.perf_counter() - t))
    allowed = sum(r == "allow" for r in results)
    print(f"decisions/s (50 statements, 10 services, one core): {best:,.0f}  "
          f"[{allowed} allow of {len(reqs)}]")

    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(__file__), "..", "src"))
    times = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import iamgate"], check=True, env=env)
        times.append(time.perf_counter() - t)
    base = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        base.append(time.perf_counter() - t)
    print(f"import iamgate: {1000 * (min(times) - min(base)):.1f} ms over a bare interpreter start "
          f"({1000 * min(times):.1f} ms in all)")


if __name__ == "__main__":
    main()
