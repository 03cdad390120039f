"""iamgate finds at least what AWS's cfn-policy-validator parser finds in the corpus templates.

The baseline (tests/fixtures/cfn_policy_validator_baseline.json) was recorded by
scripts/cfn_policy_validator_baseline.py with cfn-policy-validator 0.0.37 (MIT-0), run offline
over ../shared/corpus; it holds, per template, the parameter values it was given, each principal with
its policies' statement counts, and the resource policies. Templates the parser rejected are
recorded with its error and skipped here.
"""
import json
from pathlib import Path

import pytest

from iamgate.sources import ReadOptions
from iamgate.sources.cloudformation.loader import load_template_text
from iamgate.sources.cloudformation.template import Template

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[3] / "shared" / "corpus"
BASELINE = json.loads((HERE.parents[1] / "fixtures" / "cfn_policy_validator_baseline.json").read_text())
CASES = sorted((k, v) for k, v in BASELINE["templates"].items() if "error" not in v)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
@pytest.mark.parametrize("rel,expected", CASES, ids=[c[0].split("/", 1)[1] for c in CASES])
def test_finds_at_least_what_cfn_policy_validator_finds(rel, expected):
    opts = ReadOptions(account=BASELINE["account"], region=BASELINE["region"], parameters=expected["parameters"],
                       stack_name="StackName")  # what the validator substitutes for AWS::StackName
    template = Template(rel, load_template_text((CORPUS / rel).read_text(encoding="utf-8")), opts, "StackName")
    inv = template.read()
    # the validator ignores resource Conditions; iamgate leaves out what a false Condition removes
    removed = {kind: sum(1 for e in inv.excluded if e.type == kind) for kind in ("AWS::IAM::Role",
                                                                                 "AWS::S3::BucketPolicy")}
    missing = 0
    for key, statement_counts in expected["principals"].items():
        name = key.split(":", 1)[1]
        found = [p for p in inv.principals if name in p.aliases or name == p.id]
        if not found and key.startswith("Roles:"):
            missing += 1
            assert missing <= removed["AWS::IAM::Role"], f"{rel}: {key} not found among {[p.aliases for p in inv.principals]}"
            continue
        assert len(found) == 1, f"{rel}: {key} not found among {[p.aliases for p in inv.principals]}"
        ours = sum(len(p.statements) for p in found[0].identity_policies)
        assert ours >= sum(statement_counts), f"{rel}: {key}: {ours} statements, the validator found {statement_counts}"
    # resource policies, per kind of resource: at least as many resources with a policy
    ours: dict = {}
    for r in inv.resource_policies if inv else ():
        ours.setdefault(FAMILY.get(r.type, r.type), set()).add(r.resource)
    theirs: dict = {}
    for entry in expected["resource_policies"]:
        rtype, name = entry.rsplit(":", 1)
        theirs.setdefault(rtype, set()).add(name)
    for rtype, names in theirs.items():
        allowance = removed["AWS::S3::BucketPolicy"] if rtype == "AWS::S3::Bucket" else 0
        assert len(ours.get(rtype, ())) + allowance >= len(names), f"{rel}: {rtype}: {sorted(names)} vs {ours.get(rtype)}"


# the resource a resource-policy resource applies to
FAMILY = {"AWS::S3::BucketPolicy": "AWS::S3::Bucket", "AWS::SQS::QueuePolicy": "AWS::SQS::Queue",
          "AWS::SQS::QueueInlinePolicy": "AWS::SQS::Queue", "AWS::SNS::TopicPolicy": "AWS::SNS::Topic",
          "AWS::SNS::TopicInlinePolicy": "AWS::SNS::Topic", "AWS::Lambda::Permission": "AWS::Lambda::Function",
          "AWS::Logs::ResourcePolicy": "AWS::Logs::ResourcePolicy", "AWS::Events::EventBusPolicy": "AWS::Events::EventBus",
          "AWS::SecretsManager::ResourcePolicy": "AWS::SecretsManager::Secret"}
