"""Suppressions (findings/suppress.py): CloudFormation Metadata, Terraform comments, the manifest's
ignore:. Each is run as a user runs it (iamgate check on files in a working directory) and must
fail without the suppression and pass with it; the suppressed findings stay in the JSON."""
import json
import textwrap

from tests.cli import run
from tests.rules.packs.test_lambda import CFN, GRANT_CFN, SAM, TF
from tests.rules.packs.wiring import check, line_of, of_rule, write

from iamgate.sources.terraform.ignores import read as read_tf_ignores, scan

REASON = "the worker is being replaced by the batch job (OPS-212)"


def _active(found, rule=None):
    return [f for f in found if "suppressed" not in f and (rule is None or f["rule"] == rule)]


def _suppressed(found, rule):
    return [f for f in found if f["rule"] == rule and "suppressed" in f]


def _indent(text, n):
    return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * n) + "\n"


def _another(template):
    """The same wiring under other logical IDs and names: a second stack in the same scan."""
    return template.replace("Jobs", "Legacy").replace("jobs", "legacy").replace("Worker", "Old")


def _with_metadata(template, logical, items, indent=4):
    """``template`` with ``Metadata: {iamgate: {ignore: items}}`` under the resource ``logical``."""
    meta = _indent("Metadata:\n  iamgate:\n    ignore:\n" + _indent(items, 6), indent)
    head = f"  {logical}:\n"
    start = template.index(head) + len(head)
    type_line_end = template.index("\n", start) + 1  # after "Type: …"
    return template[:type_line_end] + meta + template[type_line_end:]


# ------------------------------------------------------------------------------ CloudFormation


def test_cloudformation_metadata_on_the_implying_resource_suppresses_its_inferred_findings(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": CFN})
    assert rc == 1 and len(_active(found, "IG2101")) == 3
    text = _with_metadata(CFN, "JobsMapping", f'- rule: IG2101\n  reason: "{REASON}"')
    rc, found = check(capsys, tree, {"stack.yaml": text})
    assert rc == 0 and _active(found, "IG2101") == []
    hits = _suppressed(found, "IG2101")
    assert len(hits) == 3
    at = line_of(text, "- rule: IG2101")
    assert hits[0]["suppressed"] == {"reason": REASON, "by": f"Metadata of JobsMapping (stack.yaml:{at})"}
    # other rules are not suppressed by it
    assert _active(found, "IG2113") == of_rule(found, "IG2113")
    # the text report counts them, does not list them
    rc, out, _ = run(capsys, "check")
    assert "IG2101" not in out and "3 suppressed" in out


def test_cloudformation_metadata_on_the_role_suppresses_the_findings_located_in_it(tree, capsys):
    text = _with_metadata(CFN, "WorkerRole", f"- {{rule: lambda-sqs-event-source, reason: {REASON}}}")
    rc, found = check(capsys, tree, {"stack.yaml": text})
    assert rc == 0 and _active(found, "IG2101") == [] and len(_suppressed(found, "IG2101")) == 3


def test_cloudformation_template_metadata_applies_to_the_whole_file(tree, capsys):
    text = CFN.replace('AWSTemplateFormatVersion: "2010-09-09"\n',
                       'AWSTemplateFormatVersion: "2010-09-09"\nMetadata:\n  iamgate:\n    ignore:\n'
                       f'      - {{rule: IG2101, reason: "{REASON}"}}\n')
    rc, found = check(capsys, tree, {"stack.yaml": text, "other.yaml": _another(CFN)})
    assert rc == 1
    assert {f["location"]["file"] for f in _active(found, "IG2101")} == {"other.yaml"}
    assert {f["location"]["file"] for f in _suppressed(found, "IG2101")} == {"stack.yaml"}


TWO_STATEMENTS = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Reporting:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: ReadReports
            Effect: Allow
            NotAction: ["iam:*", "organizations:*"]
            Resource: arn:aws:s3:::reports/*
          - Sid: ReadArchive
            Effect: Allow
            NotAction: ["iam:*"]
            Resource: arn:aws:s3:::archive/*
"""


def test_cloudformation_statement_narrows_to_the_statement_of_that_sid(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": TWO_STATEMENTS}, "--fail-on", "warning")
    assert rc == 1 and len(_active(found, "IG3101")) == 2
    text = _with_metadata(TWO_STATEMENTS, "Reporting",
                          f'- {{rule: IG3101, reason: "{REASON}", statement: ReadArchive}}')
    rc, found = check(capsys, tree, {"stack.yaml": text}, "--fail-on", "warning")
    [left] = _active(found, "IG3101")
    [gone] = _suppressed(found, "IG3101")
    assert left["location"]["line"] == line_of(text, "- Sid: ReadReports")
    assert gone["location"]["line"] == line_of(text, "- Sid: ReadArchive")
    assert rc == 1  # the other statement still fails
    both = text.replace("statement: ReadArchive}", "statement: ReadArchive}\n          - {rule: IG3101, "
                        "reason: reviewed, statement: ReadReports}")
    rc, found = check(capsys, tree, {"stack.yaml": both}, "--fail-on", "warning")
    assert rc == 0 and _active(found) == []


def test_a_suppression_that_matches_nothing_is_a_warning_at_its_line(tree, capsys):
    text = _with_metadata(TWO_STATEMENTS, "Reporting",
                          f'- {{rule: IG3101, reason: "{REASON}", statement: NoSuchSid}}\n'
                          f'- {{rule: IG3102, reason: "{REASON}"}}')
    rc, found = check(capsys, tree, {"stack.yaml": text})
    unused = of_rule(found, "IG0105")
    assert [(f["severity"], f["location"]["line"]) for f in unused] == [
        ("warning", line_of(text, "statement: NoSuchSid")), ("warning", line_of(text, "rule: IG3102"))]
    assert "statement NoSuchSid" in unused[0]["message"] and "matches no finding" in unused[0]["message"]
    assert len(_active(found, "IG3101")) == 2  # a Sid that is not there suppresses nothing
    assert rc == 0  # warnings fail only with --fail-on warning


def test_a_suppression_without_a_reason_is_an_input_error(tree, capsys):
    text = _with_metadata(CFN, "JobsMapping", "- rule: IG2101")
    write(tree, {"stack.yaml": text})
    rc, out, err = run(capsys, "check", "--format", "json")
    [f] = of_rule(json.loads(out)["findings"], "IG0107")
    assert rc == 2 and f["location"]["line"] == line_of(text, "- rule: IG2101")
    assert "needs a 'reason'" in f["message"]
    # the findings it meant to suppress are not suppressed
    assert len(_active(json.loads(out)["findings"], "IG2101")) == 3
    for bad in ("ignore: IG2101", "ignore:\n          - IG2101"):
        write(tree, {"stack.yaml": CFN.replace("  JobsMapping:\n    Type: AWS::Lambda::EventSourceMapping\n",
                                               "  JobsMapping:\n    Type: AWS::Lambda::EventSourceMapping\n"
                                               f"    Metadata:\n      iamgate:\n        {bad}\n")})
        rc, out, _ = run(capsys, "check", "--format", "json")
        assert rc == 2 and of_rule(json.loads(out)["findings"], "IG0107")


def test_sam_metadata_on_the_function_suppresses_what_its_events_imply(tree, capsys):
    text = _with_metadata(SAM, "Worker", f'- {{rule: IG2101, reason: "{REASON}"}}')
    rc, found = check(capsys, tree, {"template.yaml": text})
    assert _active(found, "IG2101") == [] and len(_suppressed(found, "IG2101")) == 3
    rc, found = check(capsys, tree, {"template.yaml": SAM})
    assert len(_active(found, "IG2101")) == 3


# ------------------------------------------------------------------------------ Terraform


POLICY_DOCUMENT = """
data "aws_iam_policy_document" "reporting" {
  statement {
    sid         = "ReadReports"
    not_actions = ["iam:*", "organizations:*"]
    resources   = ["arn:aws:s3:::reports/*"]
  }

  statement {
    sid         = "ReadArchive"
    not_actions = ["iam:*"]
    resources   = ["arn:aws:s3:::archive/*"]
  }
}

resource "aws_iam_policy" "reporting" {
  name   = "reporting"
  policy = data.aws_iam_policy_document.reporting.json
}
"""


def test_terraform_comment_before_one_statement_of_a_policy_document(tree, capsys):
    rc, found = check(capsys, tree, {"main.tf": POLICY_DOCUMENT}, "--fail-on", "warning")
    assert rc == 1 and len(_active(found, "IG3101")) == 2
    text = POLICY_DOCUMENT.replace('  statement {\n    sid         = "ReadArchive"',
                                   f'  # iamgate:ignore IG3101 {REASON}\n  statement {{\n'
                                   '    sid         = "ReadArchive"')
    rc, found = check(capsys, tree, {"main.tf": text}, "--fail-on", "warning")
    [left] = _active(found, "IG3101")
    [gone] = _suppressed(found, "IG3101")
    assert rc == 1 and left["location"]["line"] == line_of(text, 'sid         = "ReadReports"') - 1
    at = line_of(text, "iamgate:ignore")
    assert gone["suppressed"] == {"reason": REASON, "by": f"comment at main.tf:{at}"}


def test_terraform_comment_inside_a_statement_and_with_slashes(tree, capsys):
    text = POLICY_DOCUMENT.replace('    not_actions = ["iam:*", "organizations:*"]',
                                   '    not_actions = ["iam:*", "organizations:*"] // iamgate:ignore IG3101 reviewed')
    rc, found = check(capsys, tree, {"main.tf": text}, "--fail-on", "warning")
    [left] = _active(found, "IG3101")
    assert left["location"]["line"] == line_of(text, 'sid         = "ReadArchive"') - 1 and rc == 1


def test_terraform_comment_before_a_block_suppresses_the_block(tree, capsys):
    text = POLICY_DOCUMENT.replace('data "aws_iam_policy_document"',
                                   f'# iamgate:ignore allow-not-action {REASON}\n\ndata "aws_iam_policy_document"')
    rc, found = check(capsys, tree, {"main.tf": text}, "--fail-on", "warning")
    assert rc == 0 and _active(found) == [] and len(_suppressed(found, "IG3101")) == 2


def test_terraform_comment_on_the_implying_resource_and_on_the_role(tree, capsys):
    rc, found = check(capsys, tree, {"main.tf": TF})
    assert rc == 1 and len(_active(found, "IG2101")) == 3
    on_mapping = TF.replace('resource "aws_lambda_event_source_mapping"',
                            f'# iamgate:ignore IG2101 {REASON}\nresource "aws_lambda_event_source_mapping"')
    rc, found = check(capsys, tree, {"main.tf": on_mapping})
    assert _active(found, "IG2101") == [] and len(_suppressed(found, "IG2101")) == 3
    on_role = TF.replace('  name = "worker"\n  assume_role_policy',
                         f'  # iamgate:ignore IG2101 {REASON}\n  name = "worker"\n  assume_role_policy')
    rc, found = check(capsys, tree, {"main.tf": on_role})
    assert _active(found, "IG2101") == [] and len(_suppressed(found, "IG2101")) == 3


def test_terraform_comment_without_a_reason_is_an_input_error(tree, capsys):
    text = TF.replace('resource "aws_lambda_event_source_mapping"',
                      '# iamgate:ignore IG2101\nresource "aws_lambda_event_source_mapping"')
    write(tree, {"main.tf": text})
    rc, out, _ = run(capsys, "check", "--format", "json")
    found = json.loads(out)["findings"]
    [f] = of_rule(found, "IG0107")
    assert rc == 2 and f["location"] == {"file": "main.tf", "line": line_of(text, "iamgate:ignore")}
    assert "needs a rule id and a reason" in f["message"]


def test_terraform_scanner_is_not_fooled_by_strings_heredocs_and_interpolations():
    text = textwrap.dedent('''
        locals {
          a = "# iamgate:ignore IG1 not a comment { }"
          b = "${jsonencode({ x = "}" })}"
          c = <<EOF
        # iamgate:ignore IG2 not a comment either
        }
        EOF
          d = { e = 1 } # iamgate:ignore IG3101 on the locals block
        }
        /* iamgate:ignore nothing here
           { */
        resource "aws_iam_role" "r" {
          inline_policy {
            policy = "{}"
          }
        }
        ''').lstrip()
    blocks, comments = scan(text)
    assert [(b.kind, b.labels, b.start, b.end) for b in blocks] == [
        ("locals", (), 1, 9), ("resource", ("aws_iam_role", "r"), 12, 16), ("inline_policy", (), 13, 15)]
    found, problems = read_tf_ignores("main.tf", text)
    assert problems == []
    assert [(s.rule, s.start_line, s.end_line, s.resource) for s in found] == [("IG3101", 1, 9, None)]


def test_terraform_comment_before_a_nested_block_outside_a_statement_is_the_whole_resource():
    text = textwrap.dedent('''
        resource "aws_iam_role" "r" {
          # iamgate:ignore IG3101 reviewed
          inline_policy {
            policy = "{}"
          }
        }
        ''').lstrip()
    [s], _ = read_tf_ignores("main.tf", text)
    assert (s.start_line, s.end_line, s.resource) == (1, 6, "aws_iam_role.r")


# ------------------------------------------------------------------------------ the manifest


def test_manifest_ignore_by_rule_principal_action_and_path(tree, capsys):
    files = {"stack.yaml": CFN, "legacy/stack.yaml": _another(CFN)}
    rc, found = check(capsys, tree, files)
    assert rc == 1 and len(_active(found, "IG2101")) == 6
    manifest = textwrap.dedent(f'''
        version: 1
        ignore:
          - rule: IG2101
            principal: OldRole
            action: "sqs:Receive*"
            path: "legacy/**"
            reason: "{REASON}"
        ''').lstrip()
    rc, found = check(capsys, tree, {**files, "iamgate.yaml": manifest})
    [gone] = _suppressed(found, "IG2101")
    assert (gone["action"], gone["location"]["file"]) == ("sqs:ReceiveMessage", "legacy/stack.yaml")
    assert gone["principal"] == "OldRole"
    assert gone["suppressed"] == {"reason": REASON, "by": "iamgate.yaml:3"}
    assert rc == 1 and len(_active(found, "IG2101")) == 5
    broad = manifest.replace('    principal: OldRole\n    action: "sqs:Receive*"\n    path: "legacy/**"\n', "")
    rc, found = check(capsys, tree, {**files, "iamgate.yaml": broad})
    assert rc == 0 and _active(found, "IG2101") == []


def test_manifest_ignore_that_matches_nothing_and_without_reason(tree, capsys):
    manifest = "version: 1\nignore:\n  - {rule: IG2101, principal: NoSuchRole, reason: gone}\n"
    rc, found = check(capsys, tree, {"stack.yaml": CFN, "iamgate.yaml": manifest})
    [f] = of_rule(found, "IG0105")
    assert f["location"] == {"file": "iamgate.yaml", "line": 3} and rc == 1
    write(tree, {"iamgate.yaml": "version: 1\nignore:\n  - {rule: IG2101, principal: WorkerRole}\n"})
    rc, out, err = run(capsys, "check")
    assert rc == 2 and "iamgate.yaml:3: ignore[0]: a suppression needs 'rule' and 'reason'" in err
    write(tree, {"iamgate.yaml": 'version: 1\nignore:\n  - {rule: IG2101, reason: " "}\n'})
    rc, out, err = run(capsys, "check")
    assert rc == 2 and "reason cannot be blank" in err


def test_suppressed_findings_fail_nothing_but_input_errors_are_never_suppressed(tree, capsys):
    manifest = f'version: 1\nignore:\n  - {{rule: IG0001, reason: "{REASON}"}}\n'
    rc, found = check(capsys, tree, {"broken.yaml": 'AWSTemplateFormatVersion: "2010-09-09"\nResources: [\n',
                                     "iamgate.yaml": manifest})
    assert rc == 2 and _active(found, "IG0001")
    (tree / "broken.yaml").unlink()
    (tree / "iamgate.yaml").unlink()
    granted = CFN.replace(GRANT_CFN, GRANT_CFN)  # unchanged: the suppression alone makes it pass
    text = _with_metadata(granted, "WorkerRole", f'- {{rule: IG2101, reason: "{REASON}"}}\n'
                                                 f'- {{rule: IG2113, reason: "{REASON}"}}')
    rc, found = check(capsys, tree, {"stack.yaml": text}, "--fail-on", "note")
    assert _active(found) == [] and rc == 0


def test_fix_diff_leaves_suppressed_findings_alone(tree, capsys):
    write(tree, {"stack.yaml": CFN})
    rc, out, _ = run(capsys, "check", "--fix-diff")
    assert "sqs:ReceiveMessage" in out
    write(tree, {"stack.yaml": _with_metadata(CFN, "JobsMapping", f'- {{rule: IG2101, reason: "{REASON}"}}')})
    rc, out, err = run(capsys, "check", "--fix-diff")
    assert "sqs:ReceiveMessage" not in out and "sqs:ReceiveMessage" not in err


def test_cloudformation_json_template_metadata_with_a_statement(tree, capsys):
    doc = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"Reporting": {
        "Type": "AWS::IAM::ManagedPolicy",
        "Metadata": {"iamgate": {"ignore": [{"rule": "IG3101", "reason": REASON, "statement": "ReadArchive"}]}},
        "Properties": {"PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Sid": "ReadReports", "Effect": "Allow", "NotAction": ["iam:*"], "Resource": "arn:aws:s3:::reports/*"},
            {"Sid": "ReadArchive", "Effect": "Allow", "NotAction": ["iam:*"], "Resource": "arn:aws:s3:::archive/*"},
        ]}}}}}
    text = json.dumps(doc, indent=2)
    rc, found = check(capsys, tree, {"stack.json": text}, "--fail-on", "warning")
    [left] = _active(found, "IG3101")
    [gone] = _suppressed(found, "IG3101")
    assert left["location"]["line"] < gone["location"]["line"] and rc == 1
    assert gone["suppressed"]["by"].startswith("Metadata of Reporting (stack.json:")


def test_a_suppression_of_a_rule_turned_off_is_not_reported_unused(tree, capsys):
    text = POLICY_DOCUMENT.replace('data "aws_iam_policy_document"',
                                   f'# iamgate:ignore IG3101 {REASON}\ndata "aws_iam_policy_document"')
    rc, found = check(capsys, tree, {"main.tf": text, "iamgate.yaml": "version: 1\nrules:\n  disable: [IG3101]\n"},
                      "--fail-on", "warning")
    assert found == [] and rc == 0
    rc, found = check(capsys, tree, {"main.tf": text.replace("IG3101", "IG3102"), "iamgate.yaml": "version: 1\n"},
                      "--fail-on", "warning")
    assert [f["rule"] for f in _active(found)] == ["IG0105", "IG3101", "IG3101"] and rc == 1


def test_report_counts_leave_suppressed_findings_out_in_every_format():
    from iamgate.model import Finding
    from iamgate.report import counts
    kept = Finding(kind="over-permissive", rule="IG3101", severity="warning", message="m")
    gone = Finding(kind="missing-permission", rule="IG1001", severity="error", message="m",
                   suppressed=(REASON, "iamgate.yaml:3"))
    assert counts((kept, gone)) == {"errors": 0, "warnings": 1, "notes": 0}
