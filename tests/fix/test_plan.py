"""Planning: which policy must change, and what is left as text (a policy that lives in AWS, an
explicit deny) or gets no fix (an unknown decision)."""
import shutil

from iamgate.findings.check import check
from iamgate.fix import add_fixes, unified_diff
from iamgate.manifest import load_manifest
from iamgate.pipeline import scope_from

from .helpers import EXAMPLES, by_action, read_text, run_check


# ---------------------------------------------------------------------------------------------
# Where iamgate does not edit: an account export, an explicit deny


def test_account_export_and_explicit_deny_get_text_only(tmp_path, monkeypatch):
    shutil.copytree(EXAMPLES / "account-export", tmp_path / "acct")
    monkeypatch.chdir(tmp_path / "acct")
    report = run_check(["."])
    found = by_action(report)
    put = found["s3:PutObject"].fix
    assert put.edits == ()
    assert put.text.startswith('the policy "worker" lives in AWS (read from account-authorization-details.json:')
    assert '"Action": "s3:PutObject",' in put.text

    deny = found["s3:GetObject"].fix
    assert deny.edits == ()
    assert deny.text.startswith("narrow statement NoSecrets (account-authorization-details.json:32:29)")
    assert unified_diff([f.fix for f in report.findings if f.fix], read_text) == ""


def test_an_unknown_decision_gets_no_fix():
    from iamgate.model import Inventory, Location, Principal
    from iamgate.policy import parse_policy, unresolved_policy
    known = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}, "p", "identity",
        location=Location("p.json", 1), statement_location=lambda i: Location("p.json", 3))
    hole = unresolved_policy("ReadOnlyAccess", "identity", Location("p.json", 9), "arn:aws:iam::aws:policy/X")
    role = Principal(id="r", type="role", arn="arn:aws:iam::111122223333:role/r", account="111122223333",
                     identity_policies=(known, hole), location=Location("p.json", 1), aliases=("r",))
    manifest = load_manifest("iamgate.yaml", "version: 1\nprincipals:\n  - principal: r\n    needs:\n"
                                             "      - {actions: s3:PutObject, resources: 'arn:aws:s3:::b/k'}\n")
    scope = scope_from(Inventory(principals=(role,)), manifest)
    report = add_fixes(check(scope), scope, {"p.json": "{}"}.get)
    (f,) = [f for f in report.findings if f.kind == "missing-permission"]
    assert f.decision.result == "unknown" and f.fix is None
