"""--format FMT[:FILE] behaves the same for every command; iamgate rules documents every rule a
finding can carry; python -m iamgate is the same command line."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from iamgate.report import RENDERERS, formats_of, renderer
from ..cli import run

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
EXAMPLES = os.path.join(ROOT, "examples")
MESSAGE = ('User: arn:aws:sts::111122223333:assumed-role/orders-worker-prod/i-0abc is not authorized to perform: '
           's3:PutObject on resource: "arn:aws:s3:::orders-prod-111122223333/x" because no identity-based policy '
           'allows the s3:PutObject action')


@pytest.fixture
def examples(tmp_path, monkeypatch):
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path / "examples")
    return tmp_path / "examples"


# every command that reads code, with arguments that make it do real work on the CloudFormation example
COMMANDS = {
    "check": ["check", "--manifest", "cloudformation/iamgate.yaml", "cloudformation"],
    "simulate": ["simulate", "--manifest", "cloudformation/iamgate.yaml", "WorkerRole", "s3:PutObject",
                 "arn:aws:s3:::orders-prod-111122223333/x", "cloudformation"],
    "explain": ["explain", "--manifest", "cloudformation/iamgate.yaml", MESSAGE, "cloudformation"],
    "inventory": ["inventory", "--manifest", "cloudformation/iamgate.yaml", "cloudformation"],
    "rules": ["rules"],
}


def test_every_renderer_in_the_table_loads():
    for command, fmt in RENDERERS:
        assert callable(renderer(command, fmt)), (command, fmt)
    assert {"text", "json"} <= set(formats_of("check")) and "markdown" in formats_of("diff")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_repeated_formats_write_stdout_and_files_alike(examples, capsys, command):
    argv = COMMANDS[command]
    rc_text, text, _ = run(capsys, *argv)
    rc_json, as_json, _ = run(capsys, *argv, "--format", "json")
    # one run, three outputs: text to stdout, json and text to files
    rc, out, err = run(capsys, *argv, "--format", "text", "--format", "json:out.json", "--format", "text:out.txt")
    assert rc == rc_text == rc_json, err
    assert out == text
    assert (examples / "out.txt").read_text(encoding="utf-8") == text
    assert json.loads((examples / "out.json").read_text(encoding="utf-8")) == json.loads(as_json)
    assert json.loads(as_json)["version"] == 1


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unknown_format_is_a_usage_error_naming_the_choices(examples, capsys, command):
    rc, out, err = run(capsys, *COMMANDS[command], "--format", "yaml")
    assert rc == 2 and out == ""
    assert f'unknown format "yaml" for {command} (choose {", ".join(formats_of(command))})' in err


def test_rules_json_documents_every_rule_a_finding_carries(examples, capsys):
    rc, out, _ = run(capsys, "rules", "--format", "json")
    assert rc == 0
    rules = {r["id"]: r for r in json.loads(out)["rules"]}
    for r in rules.values():
        assert r["title"] and r["url"].startswith("https://") and r["severity"] in ("error", "warning", "note")
        assert all(r["docs"][k] for k in ("what", "why", "example", "fix")), r["id"]
    seen = set()
    for example in ("account-export", "cloudformation", "terraform"):
        for argv in (["check", "--manifest", f"{example}/iamgate.yaml", example], ["check", example]):
            _, out, err = run(capsys, *argv, "--format", "json")
            findings = json.loads(out)["findings"]
            for f in findings:
                assert f["rule"] in rules, f
                assert f["severity"] == rules[f["rule"]]["severity"], f
            seen |= {f["rule"] for f in findings}
    assert {"IG1001"} <= seen  # the examples do exercise the registry


def test_one_rule_in_full_by_id_or_name(capsys):
    rc, by_id, _ = run(capsys, "rules", "IG1001")
    rc2, by_name, _ = run(capsys, "rules", "missing-permission")
    assert rc == rc2 == 0 and by_id == by_name
    assert by_id.startswith("IG1001 missing-permission (error")
    for heading in ("What it does:", "Why it matters:", "Example:", "Fix:", "More: https://"):
        assert heading in by_id
    rc, _, err = run(capsys, "rules", "IG9999")
    assert rc == 2 and 'no rule "IG9999"' in err


def test_python_dash_m_iamgate_is_the_cli():
    done = subprocess.run([sys.executable, "-m", "iamgate", "rules", "--format", "json"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert any(r["id"] == "IG1001" for r in json.loads(done.stdout)["rules"])


SHARED_CORPUS = os.path.join(ROOT, "..", "shared", "corpus")


@pytest.mark.skipif(not os.path.isdir(SHARED_CORPUS), reason="needs ../shared/corpus")
def test_every_rule_on_the_real_corpus_is_documented(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no manifest here: every file of the corpus, as a user would first run it
    _, out, _ = run(capsys, "rules", "--format", "json")
    documented = {r["id"]: r["severity"] for r in json.loads(out)["rules"]}
    rc, out, err = run(capsys, "check", os.path.abspath(SHARED_CORPUS), "--format", "json")
    assert rc in (1, 2), err  # the corpus holds real findings (and files that are invalid on purpose)
    findings = json.loads(out)["findings"]
    assert len({f["rule"] for f in findings}) >= 5
    undocumented = {f["rule"] for f in findings} - set(documented)
    assert not undocumented
    assert all(f["severity"] == documented[f["rule"]] for f in findings)
    # the packs run on the real corpus, and none of their rules failed on it (a failure is an IG9002 note)
    fired = {f["rule"] for f in findings}
    assert any(r.startswith("IG2") for r in fired) and any(r.startswith("IG31") for r in fired), fired
    assert [f for f in findings if f["rule"] in ("IG9001", "IG9002")] == []
