"""check's options from the command line, the environment, the manifest's check: section and the
defaults, in that order; --show-config says where each comes from; progress only on a terminal."""
import io
import json

from iamgate.commands.progress import Progress
from tests.cli import run

STACK = """\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
      Policies:
        - PolicyName: p
          PolicyDocument:
            Version: "2012-10-17"
            Statement: [{Effect: Allow, Action: "s3:Get*", Resource: "*"}]
"""


def setup(tree, check_section=""):
    (tree / "infra").mkdir()
    (tree / "infra" / "stack.yaml").write_text(STACK)
    (tree / "iamgate.yaml").write_text("version: 1\n" + check_section)


def test_the_manifest_gives_paths_fail_on_and_formats(tree, capsys, monkeypatch):
    monkeypatch.delenv("IAMGATE_FAIL_ON", raising=False)
    setup(tree, "check:\n  paths: [infra]\n  fail-on: warning\n  formats: [json]\n")
    rc, out, _ = run(capsys, "check")
    doc = json.loads(out)  # the manifest's format
    assert any(f["rule"] == "IG3104" for f in doc["findings"])  # read from infra/, the manifest's path
    assert rc == 1  # IG3104 is a warning: fail-on warning from the manifest
    rc, out, _ = run(capsys, "check", "--fail-on", "error", "--format", "text")
    assert rc == 0 and out.startswith("infra/stack.yaml")  # the command line wins


def test_the_environment_wins_over_the_manifest(tree, capsys, monkeypatch):
    setup(tree, "check:\n  paths: [infra]\n  fail-on: warning\n")
    monkeypatch.setenv("IAMGATE_FAIL_ON", "error")
    assert run(capsys, "check")[0] == 0
    monkeypatch.setenv("IAMGATE_FAIL_ON", "loud")
    rc, _, err = run(capsys, "check")
    assert rc == 2 and "IAMGATE_FAIL_ON='loud': choose error, warning, note, never" in err


def test_show_config_names_each_source(tree, capsys, monkeypatch):
    setup(tree, "check:\n  paths: [infra]\n  exclude: ['**/fixtures/**']\n  formats: [json]\n")
    monkeypatch.setenv("IAMGATE_FAIL_ON", "note")
    rc, out, _ = run(capsys, "check", "--show-config", "--exclude", "build")
    assert rc == 0
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert lines["manifest:"] == "manifest: iamgate.yaml"
    assert lines["paths"].split("#")[1].strip() == "iamgate.yaml"
    assert "note" in lines["fail-on"] and "environment (IAMGATE_FAIL_ON)" in lines["fail-on"]
    assert "json" in lines["formats"] and lines["formats"].endswith("# iamgate.yaml")
    assert lines["allow-unknown"].split()[1] == "false" and lines["allow-unknown"].endswith("# default")
    assert "**/fixtures/** (iamgate.yaml); build (command line)" in lines["exclude"]


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_only_on_a_terminal_and_never_in_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("IAMGATE_NO_PROGRESS", raising=False)
    tty = _Tty()
    p = Progress(tty)
    p.phase("reading infra")
    p.done()
    assert "iamgate: reading infra" in tty.getvalue() and tty.getvalue().endswith("\r\033[K")
    pipe = io.StringIO()
    q = Progress(pipe)
    q.phase("reading infra")
    q.done()
    assert pipe.getvalue() == ""
    monkeypatch.setenv("CI", "true")
    ci = _Tty()
    r = Progress(ci)
    r.phase("reading")
    assert ci.getvalue() == ""
