"""Deploy checks on the real corpus (../shared/corpus): an administrator deploy role can deploy
everything but what a key policy keeps from it, a role with nothing gets findings that each name
the resource, file and line that need the permission; nothing crashes."""
import json
import os

import pytest

from tests.cli import run

CORPUS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "corpus")
pytestmark = pytest.mark.skipif(not os.path.isdir(CORPUS), reason="needs ../shared/corpus")

DIRS = ("cfn/aws-cloudformation-templates", "sam/serverless-patterns", "terraform/terraform-aws-lambda",
        "terraform/terraform-iam-policy-validator")


def deploy_check(capsys, tree, folder, statement):
    path = os.path.abspath(os.path.join(CORPUS, folder))
    (tree / "role.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    (tree / "iamgate.yaml").write_text(
        "version: 1\nsettings: {account: '111122223333'}\nprincipals:\n"
        f"  - principal: arn:aws:iam::111122223333:role/ci\n    policies: [role.json]\n    deploys: ['{path}']\n")
    rc, out, err = run(capsys, "check", path, "--format", "json")
    assert "Traceback" not in err and "internal error" not in err, err
    return path, [f for f in json.loads(out)["findings"] if f["rule"] in ("IG1101", "IG1102")]


@pytest.mark.parametrize("folder", DIRS)
def test_an_administrator_can_deploy_the_corpus_but_for_key_policies_and_other_accounts(tree, capsys, folder):
    _, found = deploy_check(capsys, tree, folder, {"Effect": "Allow", "Action": "*", "Resource": "*"})
    for f in found:
        assert (f["rule"] == "IG1102" or f["decision"] == "unknown" or f["blocked_by"] == ["kms-key-policy"]), f


@pytest.mark.parametrize("folder", DIRS)
def test_a_role_with_nothing_is_told_which_resource_needs_what(tree, capsys, folder):
    path, found = deploy_check(capsys, tree, folder, {"Effect": "Allow", "Action": "s3:GetObject",
                                                      "Resource": "arn:aws:s3:::nothing/*"})
    denied = [f for f in found if f["rule"] == "IG1101"]
    assert len(denied) > 20
    for f in denied:
        assert f["origin"]["resource"] and f["origin"]["rule"] == "IG1101", f
        where = f["origin"]["location"]
        assert where and os.path.abspath(where["file"]).startswith(path), f
