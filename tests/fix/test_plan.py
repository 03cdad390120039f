"""Planning: which policy must change, and what is left as text (a policy that lives in AWS, an
explicit deny) or gets no fix (an unknown decision)."""
import json
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


# ---------------------------------------------------------------------------------------------
# A writer that fails: the finding keeps no fix, the report gains a note (IG9001), the check and
# its exit code are otherwise unaffected


def run_cli(capsys, *argv):
    from iamgate.cli import main
    rc = main(list(argv))
    return rc, capsys.readouterr().out


def test_a_failing_writer_gives_no_fix_and_a_note_not_a_failed_check(tmp_path, monkeypatch, capsys):
    from iamgate.fix.yaml import YamlWriter
    shutil.copytree(EXAMPLES / "cloudformation", tmp_path / "cfn")
    monkeypatch.chdir(tmp_path)
    argv = ("check", "--manifest", "cfn/iamgate.yaml", "cfn", "--format", "json")
    rc_before, out = run_cli(capsys, *argv)
    before = json.loads(out)

    def broken(self, changes, label):
        raise KeyError("Foo")
    monkeypatch.setattr(YamlWriter, "place", broken)
    rc_after, out = run_cli(capsys, *argv)
    after = json.loads(out)

    assert rc_after == rc_before == 1  # the missing permissions fail the gate; the notes do not
    notes = [f for f in after["findings"] if f["rule"] == "IG9001"]
    others = [f for f in after["findings"] if f["rule"] != "IG9001"]
    assert [f for f in before["findings"] if f["rule"] == "IG9001"] == []
    assert {n["message"] for n in notes} == {
        f"fix writer yaml failed on cfn/orders-stack.yaml: KeyError: 'Foo'; no fix proposed for {action}"
        for action in ("s3:PutObject", "sns:Publish", "kms:GenerateDataKey")}
    assert all(n["kind"] == "rule-error" and n["severity"] == "note" and "principal" not in n for n in notes)
    assert all(n["location"] == {"file": "cfn/orders-stack.yaml", "line": None} for n in notes)
    manifest = [f for f in others if f["rule"] == "IG1001"]  # the wiring gap's fix is text, not the writer's
    assert len(manifest) == 3 and all("fix" not in f for f in manifest)
    assert others == [{k: v for k, v in f.items() if not (k == "fix" and f["rule"] == "IG1001")}
                      for f in before["findings"]]
    assert after["summary"] == dict(before["summary"], notes=before["summary"]["notes"] + len(notes))

    rc_text, text = run_cli(capsys, *argv[:-2])
    assert rc_text == 1
    assert "· fix writer yaml failed on cfn/orders-stack.yaml: KeyError: 'Foo'; no fix proposed for s3:PutObject" \
        in text
    assert [line for line in text.splitlines() if "fix: " in line and "fix: add to the queue policy" not in line] == []


def test_a_failing_planner_gives_no_fix_and_a_note(tmp_path, monkeypatch):
    from iamgate.fix import plan
    shutil.copytree(EXAMPLES / "account-export", tmp_path / "acct")
    monkeypatch.chdir(tmp_path / "acct")

    def broken(self, outcome):
        raise RuntimeError("boom")
    monkeypatch.setattr(plan._Context, "plan", broken)
    report = run_check(["."])
    found = by_action(report)
    assert found["s3:PutObject"].fix is None
    assert found["s3:GetObject"].fix is not None  # an explicit deny is not planned: its text stands
    (note,) = [f for f in report.findings if f.rule == "IG9001" and f.action == "s3:PutObject"]
    assert note.message == ("fix planner failed on account-authorization-details.json: RuntimeError: boom; "
                            "no fix proposed for s3:PutObject")
    assert (note.kind, note.severity) == ("rule-error", "note")
    assert note.location.file == "account-authorization-details.json"
