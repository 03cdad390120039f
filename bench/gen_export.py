"""A synthetic ``get-account-authorization-details`` export: R roles x S inline statements.

    python bench/gen_export.py ROLES [STATEMENTS] > export.json

Roles share a few managed policies and repeat statement shapes, as real accounts do
(issue 15: 2,000 roles x 26 statements is about 9 MB).
"""
from __future__ import annotations

import json
import sys


def export(roles: int, statements: int = 26) -> dict:
    def statement(i: int, k: int) -> dict:
        return {"Sid": f"S{k}", "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "kms:Decrypt"][: 1 + k % 3],
                "Resource": [f"arn:aws:s3:::bucket-{i % 50}-{k}/*"],
                "Condition": {"StringEquals": {"aws:PrincipalTag/team": f"t{k % 7}"}}}

    managed = [{"PolicyName": f"shared{m}", "Arn": f"arn:aws:iam::123456789012:policy/shared{m}",
                "DefaultVersionId": "v1",
                "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": {
                    "Version": "2012-10-17", "Statement": [statement(m, k) for k in range(5)]}}]}
               for m in range(10)]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}
    role_list = [{"RoleName": f"role{i}", "Arn": f"arn:aws:iam::123456789012:role/role{i}", "Path": "/",
                  "AssumeRolePolicyDocument": trust,
                  "RolePolicyList": [{"PolicyName": "inline", "PolicyDocument": {
                      "Version": "2012-10-17", "Statement": [statement(i, k) for k in range(statements)]}}],
                  "AttachedManagedPolicies": [{"PolicyName": f"shared{i % 10}",
                                               "PolicyArn": f"arn:aws:iam::123456789012:policy/shared{i % 10}"}]}
                 for i in range(roles)]
    return {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": role_list, "Policies": managed}


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]] or [2000]
    json.dump(export(*args), sys.stdout, separators=(",", ":"))
