"""Synthetic inputs for bench/run.py, deterministic (the same sizes give the same bytes).

    .venv/bin/python bench/generate.py OUT [--roles R] [--statements S] [--requirements K]

What is written, under OUT:
- ``export.json``: ``aws iam get-account-authorization-details`` output with R roles (each with one
  inline policy of S statements, a trust policy for Lambda and one attached customer managed
  policy shared by every tenth role) and the managed policies they attach;
- ``manifest.yaml`` (with K > 0): K requirements spread over the export's roles by name, half of
  them met, half not;
- ``cfn/stack-N.yaml``: CloudFormation templates, each a role with its queue and its policy;
- ``tf/mod-N/main.tf``: Terraform configurations, each a role with its queue and its policy.

Everything is built from the numbers alone (no randomness), so two runs measure the same input.
"""
from __future__ import annotations

import argparse
import json
import os

ACCOUNT = "111122223333"
# service, an action the statements grant, one they do not, the resource ARN
SERVICES = (("s3", "GetObject", "PutObject", "arn:aws:s3:::bucket-{i}/*"),
            ("sqs", "ReceiveMessage", "SendMessage", "arn:aws:sqs:us-east-1:" + ACCOUNT + ":queue-{i}"),
            ("dynamodb", "GetItem", "PutItem", "arn:aws:dynamodb:us-east-1:" + ACCOUNT + ":table/table-{i}"),
            ("sns", "Publish", "Subscribe", "arn:aws:sns:us-east-1:" + ACCOUNT + ":topic-{i}"),
            ("kms", "Decrypt", "Encrypt", "arn:aws:kms:us-east-1:" + ACCOUNT + ":key/key-{i}"))
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                  "Action": "sts:AssumeRole"}]}
DATE = "2024-01-01T00:00:00Z"


def statement(role: int, index: int) -> dict:
    service, action, _, arn = SERVICES[index % len(SERVICES)]
    return {"Sid": f"S{index}", "Effect": "Allow", "Action": [f"{service}:{action}", f"{service}:List*"],
            "Resource": arn.format(i=f"{role}-{index}")}


def role_name(i: int) -> str:
    return f"role-{i:05d}"


def export(roles: int, statements: int) -> dict:
    """An account export of ``roles`` roles with ``statements`` inline statements each."""
    managed = []
    for m in range(max(1, roles // 10)):
        arn = f"arn:aws:iam::{ACCOUNT}:policy/shared-{m}"
        doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents",
                                                       "Resource": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/shared/{m}:*"}]}
        managed.append({"PolicyName": f"shared-{m}", "PolicyId": f"ANPA{m:017d}", "Arn": arn, "Path": "/",
                        "DefaultVersionId": "v1", "AttachmentCount": 10, "IsAttachable": True,
                        "CreateDate": DATE, "UpdateDate": DATE,
                        "PolicyVersionList": [{"Document": doc, "VersionId": "v1", "IsDefaultVersion": True,
                                               "CreateDate": DATE}]})
    details = []
    for i in range(roles):
        name = role_name(i)
        details.append({
            "Path": "/", "RoleName": name, "RoleId": f"AROA{i:017d}", "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "CreateDate": DATE, "AssumeRolePolicyDocument": TRUST, "InstanceProfileList": [],
            "RolePolicyList": [{"PolicyName": f"{name}-inline", "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [statement(i, s) for s in range(statements)]}}],
            "AttachedManagedPolicies": [{"PolicyName": f"shared-{i // 10}",
                                         "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/shared-{i // 10}"}],
            "Tags": [{"Key": "team", "Value": f"team-{i % 7}"}],
        })
    return {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": details, "Policies": managed}


def manifest(roles: int, statements: int, requirements: int) -> str:
    """K requirements over the export's roles: even ones are granted by the inline policy, odd ones
    ask for an action nothing grants (so the check has findings to report)."""
    per = -(-requirements // roles)  # ceiling
    lines = ["version: 1", f"settings: {{account: '{ACCOUNT}', region: us-east-1}}", "principals:"]
    left = requirements
    for i in range(roles):
        if left <= 0:
            break
        lines += [f"  - principal: {role_name(i)}", "    needs:"]
        for k in range(min(per, left)):
            s = k % statements
            service, granted, other, arn = SERVICES[s % len(SERVICES)]
            wanted = granted if k % 2 == 0 else other
            lines += [f"      - actions: [{service}:{wanted}]",
                      f"        resources: \"{arn.format(i=f'{i}-{s}')}\""]
        left -= min(per, left)
    return "\n".join(lines) + "\n"


def stack(i: int) -> str:
    return f"""AWSTemplateFormatVersion: '2010-09-09'
Description: synthetic stack {i}
Resources:
  Queue{i}:
    Type: AWS::SQS::Queue
  Role{i}:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {{Service: lambda.amazonaws.com}}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: read-queue
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: [sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes]
                Resource: !GetAtt Queue{i}.Arn
"""


def module(i: int) -> str:
    return f"""resource "aws_sqs_queue" "q{i}" {{
  name = "queue-{i}"
}}

resource "aws_iam_role" "r{i}" {{
  name = "role-{i}"
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{ Effect = "Allow", Principal = {{ Service = "lambda.amazonaws.com" }}, Action = "sts:AssumeRole" }}]
  }})
}}

resource "aws_iam_role_policy" "p{i}" {{
  role = aws_iam_role.r{i}.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = ["sqs:ReceiveMessage", "sqs:DeleteMessage"], Resource = aws_sqs_queue.q{i}.arn }}]
  }})
}}
"""


def write(out: str, roles: int = 0, statements: int = 0, requirements: int = 0, stacks: int = 0,
          modules: int = 0) -> dict:
    """Write the inputs asked for under ``out``; returns their paths by kind."""
    os.makedirs(out, exist_ok=True)
    paths = {}
    if roles:
        paths["export"] = os.path.join(out, "export.json")
        with open(paths["export"], "w") as fh:
            json.dump(export(roles, statements), fh)  # one line, as json.dumps writes it
    if requirements and roles:
        paths["manifest"] = os.path.join(out, "manifest.yaml")
        with open(paths["manifest"], "w") as fh:
            fh.write(manifest(roles, statements, requirements))
    if stacks:
        paths["cfn"] = os.path.join(out, "cfn")
        os.makedirs(paths["cfn"], exist_ok=True)
        for i in range(stacks):
            with open(os.path.join(paths["cfn"], f"stack-{i}.yaml"), "w") as fh:
                fh.write(stack(i))
    if modules:
        paths["tf"] = os.path.join(out, "tf")
        for i in range(modules):
            folder = os.path.join(paths["tf"], f"mod-{i}")
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, "main.tf"), "w") as fh:
                fh.write(module(i))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--roles", type=int, default=100)
    parser.add_argument("--statements", type=int, default=26)
    parser.add_argument("--requirements", type=int, default=0)
    parser.add_argument("--stacks", type=int, default=0)
    parser.add_argument("--modules", type=int, default=0)
    args = parser.parse_args()
    for kind, path in write(args.out, args.roles, args.statements, args.requirements, args.stacks,
                            args.modules).items():
        print(f"{kind}: {path}")


if __name__ == "__main__":
    main()
