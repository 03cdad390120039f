"""Policy documents shared by the tests of the grammar (sources/test_grammar.py) and of the lint
checks (rules/test_builtin.py): the same input, judged by each layer."""
from pathlib import Path

# ../shared/corpus/json beside the repository (tests skip when it is absent)
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "json"

REAL = [  # (file under ../shared/corpus/json, kind, path to the document)
    ("MAMIP/policies/PowerUserAccess.json", "identity", ("PolicyVersion", "Document")),
    ("MAMIP/policies/AWSLambdaVPCAccessExecutionRole.json", "identity", ("PolicyVersion", "Document")),
    ("data-perimeter-policy-examples/service_control_policies/data_perimeter_governance_scp.json", "scp", ()),
    ("data-perimeter-policy-examples/resource_control_policies/identity_perimeter_rcp.json", "rcp", ()),
    ("service-control-policy-examples/Region-controls/"
     "Deny-access-to-AWS-based-on-the-requested-AWS-region-with-Bedrock-CRIS.json", "scp", ()),
    ("cloudsplaining/examples/policies/explicit-actions.json", "identity", ()),
]


BUCKET_POLICY_WITHOUT_PRINCIPAL = """
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Sid": "DenyInsecureTransport",
              "Effect": "Deny",
              "Action": "s3:*",
              "Resource": ["arn:aws:s3:::orders-prod", "arn:aws:s3:::orders-prod/*"],
              "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }
          ]
        }"""

IDENTITY_POLICY_WITH_PRINCIPAL = """
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
              "Action": "sqs:SendMessage",
              "Resource": "arn:aws:sqs:eu-west-1:111122223333:orders"
            }
          ]
        }"""

UNKNOWN_CONDITION_OPERATOR = """
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Action": "s3:GetObject",
              "Resource": "arn:aws:s3:::orders-prod/*",
              "Condition": {
                "StringEqualz": {"aws:PrincipalTag/team": "orders"}
              }
            }
          ]
        }"""
