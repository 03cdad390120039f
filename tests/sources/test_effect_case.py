"""An Effect written in the wrong case ("allow"), as public repositories ship it: one finding, and the
policy still counts (never dropped, never called absent). The reproduction from ../shared/repro is
skipped when absent."""
import json

import pytest

from iamgate.policy import PolicyError, parse_statement

from ..cli import run
from ..repro import copy_repro



def check_json(capsys, *argv):
    rc, out, err = run(capsys, "check", "--format", "json", *argv)
    assert "Traceback" not in err
    return rc, json.loads(out)


def test_repro_lowercase_allow_is_one_finding_and_the_policy_counts(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(copy_repro("lowercase-allow", tmp_path))
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    rc, doc = check_json(capsys, "--manifest", "m.yaml")
    found = doc["findings"]
    assert [(f["rule"], f["kind"]) for f in found] == [("IG3002", "invalid-policy")]
    assert found[0]["message"] == ('p.json: policy p: Statement[0].Effect: "allow" is not one of Allow, Deny '
                                   '(Effect is case-sensitive: write "Allow")')
    assert doc["summary"]["requirements"] == 1 and doc["summary"]["satisfied"] == 1
    assert rc == 1  # the invalid policy still fails the gate
    rc, out, _ = run(capsys, "check", "--manifest", "m.yaml", "--fix-diff")
    assert "no identity policy" not in out


def test_mis_cased_effects_are_reported_once_each_and_every_statement_counts(tree, capsys):
    (tree / "worker.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Read", "Effect": "allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"},
        {"Sid": "Write", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::data/*"},
        {"Sid": "NoDelete", "Effect": "DENY", "Action": "s3:DeleteObject", "Resource": "*"}]}, indent=2))
    (tree / "iamgate.yaml").write_text(
        "version: 1\nsettings: {account: '111122223333'}\nprincipals:\n"
        "  - principal: arn:aws:iam::111122223333:role/worker\n    policies: [worker.json]\n    needs:\n"
        "      - {actions: [s3:GetObject, s3:PutObject], resources: 'arn:aws:s3:::data/k'}\n")
    rc, doc = check_json(capsys)
    found = doc["findings"]
    assert sorted((f["rule"], f["message"].split(": ", 1)[1]) for f in found) == [
        ("IG3002", 'policy worker: Statement[0].Effect: "allow" is not one of Allow, Deny '
                   '(Effect is case-sensitive: write "Allow")'),
        ("IG3002", 'policy worker: Statement[2].Effect: "DENY" is not one of Allow, Deny '
                   '(Effect is case-sensitive: write "Deny")'),
    ]
    assert doc["summary"]["requirements"] == 2 and doc["summary"]["satisfied"] == 2
    assert rc == 1
    # the mis-cased Deny denies
    rc, out, _ = run(capsys, "simulate", "arn:aws:iam::111122223333:role/worker", "s3:DeleteObject",
                     "arn:aws:s3:::data/k")
    assert "DENIED (explicit deny)" in out


def test_parse_statement_reads_the_effect_whatever_its_case():
    assert parse_statement({"Effect": "allow", "Action": "s3:*", "Resource": "*"}).effect == "Allow"
    assert parse_statement({"Effect": "dEnY", "Action": "s3:*", "Resource": "*"}).effect == "Deny"
    for effect in ("Permit", None, ["Allow"]):
        with pytest.raises(PolicyError, match=r"Statement\[0\]\.Effect: must be"):
            parse_statement({"Effect": effect, "Action": "s3:*", "Resource": "*"})
