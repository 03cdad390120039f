"""``iamgate check --write-baseline FILE`` / ``--baseline FILE`` as users run them: adopt the gate on
a repository with findings, keep it quiet across unrelated edits, fail on new findings, report the
fixed ones, and refuse a baseline it cannot read."""
import json

from tests.cli import run
from tests.findings.test_suppress import POLICY_DOCUMENT
from tests.rules.packs.test_lambda import CFN, GRANT_CFN, GRANTED_CFN, TF
from tests.rules.packs.wiring import write


def _check(capsys, *argv):
    rc, out, err = run(capsys, "check", "--format", "json", *argv)
    assert "Traceback" not in err, err
    return rc, json.loads(out), err


def _active(doc, rule=None):
    return [f for f in doc["findings"] if "suppressed" not in f and (rule is None or f["rule"] == rule)]


def test_write_then_use_a_baseline_on_cloudformation(tree, capsys):
    write(tree, {"stack.yaml": CFN})
    rc, doc, _ = _check(capsys)
    assert rc == 1 and len(_active(doc, "IG2101")) == 3
    rc, doc, err = _check(capsys, "--write-baseline", "iamgate-baseline.json")
    assert rc == 0 and _active(doc) == [] and "wrote 5 findings to the baseline iamgate-baseline.json" in err
    base = json.loads((tree / "iamgate-baseline.json").read_text())
    assert base["version"] == 1 and base["tool"]["name"] == "iamgate"
    assert "line" not in json.dumps(base["entries"])  # never keyed by line
    e = next(e for e in base["entries"] if e["rule"] == "IG2101" and e["action"] == "sqs:ReceiveMessage")
    assert (e["file"], e["principal"], e["resource"], e["origin"]) == (
        "stack.yaml", "WorkerRole", "arn:aws:sqs:us-east-1:000000000000:jobs", "JobsMapping")
    rc, doc, _ = _check(capsys, "--baseline", "iamgate-baseline.json")
    assert rc == 0 and _active(doc) == [] and doc["summary"]["suppressed"] == 5
    f = doc["findings"][0]
    assert f["suppressed"] == {"reason": "in the baseline", "by": "baseline iamgate-baseline.json"}
    assert "fixed_since_baseline" not in doc
    # without the baseline the findings are back
    rc, doc, _ = _check(capsys)
    assert rc == 1


def test_an_unrelated_edit_that_moves_the_findings_does_not_resurface_them(tree, capsys):
    write(tree, {"main.tf": TF})
    rc, _, _ = _check(capsys, "--write-baseline", "base.json")
    assert rc == 0
    moved = ('resource "aws_sqs_queue" "audit" {\n  name = "audit"\n}\n\n# the jobs the worker reads\n\n'
             + (tree / "main.tf").read_text())
    (tree / "main.tf").write_text(moved)
    rc, doc, _ = _check(capsys, "--baseline", "base.json")
    assert rc == 0 and _active(doc) == [] and "fixed_since_baseline" not in doc
    lines = {f["location"]["line"] for f in doc["findings"] if f["rule"] == "IG2101"}
    assert lines == {moved.splitlines().index('resource "aws_iam_role" "worker" {') + 1}  # they did move


def test_a_new_finding_fails_and_a_fixed_one_is_reported(tree, capsys):
    write(tree, {"stack.yaml": CFN})
    _check(capsys, "--write-baseline", "base.json")
    # the queue permissions granted (3 findings fixed) and a new policy with an unknown action
    fixed = CFN.replace(GRANT_CFN, GRANTED_CFN.replace("sqs:GetQueueAttributes", "sqs:GetQueueAttributes, "
                                                                                 "s3:GetObjects"))
    (tree / "stack.yaml").write_text(fixed.lstrip("\n"))
    rc, doc, _ = _check(capsys, "--baseline", "base.json")
    [new] = _active(doc)
    assert rc == 1 and new["rule"] == "IG3003" and new["action"] == "s3:GetObjects"
    gone = doc["fixed_since_baseline"]
    assert sorted(e["action"] for e in gone) == ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
    assert {e["rule"] for e in gone} == {"IG2101"}
    rc, out, _ = run(capsys, "check", "--baseline", "base.json")
    assert "3 fixed since the baseline" in out and "2 suppressed" in out


def test_a_baseline_counts_its_findings(tree, capsys):
    """Two findings with the same key: a baseline holding one of them covers one."""
    write(tree, {"main.tf": POLICY_DOCUMENT})
    _check(capsys, "--write-baseline", "base.json", "--fail-on", "warning")
    base = json.loads((tree / "base.json").read_text())
    assert len(base["entries"]) == 2
    base["entries"] = base["entries"][:1]
    (tree / "base.json").write_text(json.dumps(base))
    rc, doc, _ = _check(capsys, "--baseline", "base.json", "--fail-on", "warning")
    assert rc == 1 and len(_active(doc, "IG3101")) == 1


def test_suppressed_findings_are_not_baselined_and_input_errors_never(tree, capsys):
    write(tree, {"main.tf": POLICY_DOCUMENT.replace(
        "  statement {\n    sid         = \"ReadArchive\"",
        "  # iamgate:ignore IG3101 reviewed\n  statement {\n    sid         = \"ReadArchive\""),
        "broken.yaml": 'AWSTemplateFormatVersion: "2010-09-09"\nResources: [\n'})
    rc, doc, _ = _check(capsys, "--write-baseline", "base.json")
    assert rc == 2  # the broken template still makes the run an input error
    base = json.loads((tree / "base.json").read_text())
    assert [e["rule"] for e in base["entries"]] == ["IG3101"]
    rc, doc, _ = _check(capsys, "--baseline", "base.json")
    assert rc == 2 and [f["rule"] for f in _active(doc)] == ["IG0001"]


def test_a_bad_baseline_is_an_input_error(tree, capsys):
    write(tree, {"stack.yaml": CFN})
    cases = {
        "missing.json": None,
        "broken.json": "{not json",
        "other.json": '{"findings": []}',
        "future.json": '{"version": 9, "entries": []}',
        "entries.json": '{"version": 1, "entries": [{"file": "stack.yaml"}]}',
    }
    words = {"missing.json": "cannot read it", "broken.json": "invalid JSON", "other.json": "not a baseline",
             "future.json": "version 9 is not supported", "entries.json": "entries[0] is not a baseline entry"}
    for name, text in cases.items():
        if text is not None:
            (tree / name).write_text(text)
        rc, out, err = run(capsys, "check", "--baseline", name)
        assert rc == 2 and words[name] in err and name in err, (name, err)
        assert "Traceback" not in err
