"""The GitHub Action (action.yml) as a workflow runs it: its pins and inputs, and its steps run
locally in order with bash in a simulated GitHub environment (a fresh $GITHUB_OUTPUT and
$GITHUB_STEP_SUMMARY file per step, $GITHUB_ACTION_PATH, $GITHUB_WORKSPACE, $RUNNER_TEMP, the
`${{ … }}` expressions substituted) on a copy of the shipped CloudFormation example.

The `uses:` step (setup-python) and the install step (pip install of the Action's checkout) are not
run: their outputs are simulated with this test's own interpreter and the iamgate under test. The
sarif, github and markdown formats the Action asks for come from another branch; until they exist,
a stub of each is registered (sitecustomize) so the Action's plumbing is still exercised, and the
asserts on their contents run only with the real renderers.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest
import yaml

import iamgate
from iamgate.report import formats_of

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
ACTION = os.path.join(ROOT, "action.yml")
EXAMPLE = os.path.join(ROOT, "examples", "cloudformation")
SRC = os.path.dirname(os.path.dirname(os.path.abspath(iamgate.__file__)))
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$")
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
ACTION_FORMATS = ("sarif", "github", "markdown")
REAL = {fmt: fmt in formats_of("check") for fmt in ACTION_FORMATS}

STUBS = '''
"""Stand-ins for the check formats the Action uses that this branch does not have yet."""
import json


def sarif(report):
    results = [{"ruleId": f.rule, "level": f.severity, "message": {"text": f.message}} for f in report.findings]
    return json.dumps({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "iamgate"}}, "results": results}]})


def github(report):
    return "".join(f"::error file={f.location.file if f.location else ''}::{f.message.splitlines()[0]}\\n"
                   for f in report.findings)


def markdown(report):
    return f"# iamgate\\n\\n{len(report.findings)} findings\\n"
'''


def load_action():
    with open(ACTION, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_every_inner_action_is_pinned_to_a_full_commit_sha():
    steps = load_action()["runs"]["steps"]
    uses = [s["uses"] for s in steps if "uses" in s]
    assert uses and all(PINNED.match(u) for u in uses), uses
    with open(ACTION, encoding="utf-8") as fh:  # and says which release the commit is
        lines = [line for line in fh if re.match(r"\s*(-\s*)?uses:", line)]
    assert all(re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+\s*$", line) for line in lines), lines


@pytest.mark.parametrize("doc", ["README.md", os.path.join("docs", "ci.md")])
def test_the_documented_workflows_pin_third_party_actions(doc):
    with open(os.path.join(ROOT, doc), encoding="utf-8") as fh:
        uses = re.findall(r"uses:\s*(\S+)(.*)", fh.read())
    third_party = [(u, rest) for u, rest in uses if u.split("/")[0] in ("actions", "github")]
    assert {u.split("@")[0] for u, _ in third_party} >= {"actions/checkout", "github/codeql-action/upload-sarif"}
    assert all(PINNED.match(u) and re.match(r"\s*# v\d+\.\d+\.\d+", rest) for u, rest in third_party), third_party


def test_inputs_outputs_and_steps():
    action = load_action()
    inputs = {name: spec.get("default") for name, spec in action["inputs"].items()}
    assert inputs == {"paths": ".", "manifest": "", "fail-on": "error", "formats": "", "args": "",
                      "working-directory": ".", "python-version": "3.12", "sarif-file": "iamgate.sarif",
                      "category": ""}
    assert all(spec.get("description") for spec in action["inputs"].values())
    assert set(action["outputs"]) == {"errors", "warnings", "notes", "sarif-file", "exit-code"}
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    assert steps[0]["with"]["python-version"] == "${{ inputs.python-version }}"
    for step in steps:
        if "run" in step:
            assert step["shell"] == "bash"
            # inputs reach scripts through env:, never spliced into the script (script injection)
            assert "${{" not in step["run"], step["run"]
    check = next(s for s in steps if s.get("id") == "check")
    script = check["run"]
    for fmt in ("--format text", "--format github", '"sarif:$sarif"', '"markdown:$summary"', '"json:$report"'):
        assert fmt in script


# --- the simulated runner -------------------------------------------------------------------------

def parse_env_file(path):
    """$GITHUB_OUTPUT's syntax: NAME=VALUE lines and NAME<<DELIMITER … DELIMITER blocks."""
    out, lines = {}, open(path, encoding="utf-8").read().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1:end])
            i = end + 1
            continue
        if line:
            name, _, value = line.partition("=")
            out[name] = value
        i += 1
    return out


class Runner:
    """Runs action.yml's steps the way the GitHub runner does, minus setup-python and pip."""

    def __init__(self, tmp_path, workspace, stub):
        self.workspace = workspace
        self.temp = tmp_path / "runner-temp"
        self.temp.mkdir()
        self.files = tmp_path / "file-commands"
        self.files.mkdir()
        pythonpath = [SRC]
        if stub:
            stubs = tmp_path / "stubs"
            stubs.mkdir()
            (stubs / "iamgate_action_stubs.py").write_text(STUBS)
            (stubs / "sitecustomize.py").write_text(textwrap.dedent(f"""
                from iamgate.report import RENDERERS
                for fmt in {[f for f, real in REAL.items() if not real]!r}:
                    RENDERERS[("check", fmt)] = "iamgate_action_stubs:" + fmt
                """))
            pythonpath.insert(0, str(stubs))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))}
        self.env.update({"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_ACTION_PATH": ROOT,
                         "GITHUB_WORKSPACE": str(workspace), "RUNNER_TEMP": str(self.temp),
                         "PYTHONPATH": os.pathsep.join(pythonpath), "IAMGATE_NO_CACHE": "1", "NO_COLOR": "1"})
        self.summary = ""

    def expand(self, text, ctx):
        def value(m):
            expr = m.group(1)
            if expr.startswith("inputs."):
                return ctx["inputs"][expr[len("inputs."):]]
            if expr.startswith("steps."):
                step, kind, name = expr[len("steps."):].split(".", 2)
                assert kind == "outputs", expr
                return ctx["steps"].get(step, {}).get(name, "")
            known = {"github.action_path": ROOT, "github.workspace": str(self.workspace),
                     "runner.temp": str(self.temp)}
            assert expr in known, f"the simulated runner does not know {expr!r}"
            return known[expr]
        return EXPR.sub(value, str(text))

    def run(self, inputs):
        action = load_action()
        unknown = set(inputs) - set(action["inputs"])
        assert not unknown, unknown
        ctx = {"inputs": {k: str(spec.get("default", "")) for k, spec in action["inputs"].items()},
               "steps": {}}
        ctx["inputs"].update(inputs)
        rc, stdout = 0, ""
        for n, step in enumerate(action["runs"]["steps"]):
            assert "if" not in step, "the simulated runner runs every step: teach it if: first"
            if "uses" in step:  # setup-python: this interpreter stands for the one it would install
                ctx["steps"][step["id"]] = {"python-path": sys.executable}
                continue
            if step.get("id") == "install":  # pip install of the Action: the iamgate under test
                ctx["steps"]["install"] = {"python": sys.executable}
                continue
            output, summary = self.files / f"output-{n}", self.files / f"summary-{n}"
            output.write_text("")
            summary.write_text("")
            env = dict(self.env, GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary))
            env.update({k: self.expand(v, ctx) for k, v in (step.get("env") or {}).items()})
            cwd = os.path.join(self.workspace, self.expand(step.get("working-directory", "."), ctx))
            script = self.files / f"step-{n}.sh"
            script.write_text(self.expand(step["run"], ctx))
            proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                                  cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
            stdout += proc.stdout
            self.stderr = proc.stderr
            self.summary += summary.read_text()
            if step.get("id"):
                ctx["steps"][step["id"]] = parse_env_file(output)
            if proc.returncode != 0:
                rc = proc.returncode
                break
        outputs = {name: self.expand(spec["value"], ctx) for name, spec in action["outputs"].items()}
        return rc, outputs, stdout


@pytest.fixture
def runner(tmp_path):
    workspace = tmp_path / "workspace"
    shutil.copytree(EXAMPLE, workspace / "infra")
    return Runner(tmp_path, workspace, stub=not all(REAL.values()))


def test_the_action_fails_the_job_on_the_example_and_writes_everything_first(runner):
    rc, outputs, stdout = runner.run({"paths": "infra", "manifest": "infra/iamgate.yaml",
                                      "category": "orders"})
    assert rc == 1, runner.stderr
    sarif = runner.workspace / "iamgate.sarif"
    assert outputs == {"errors": "4", "warnings": "0", "notes": "0", "exit-code": "1",
                       "sarif-file": str(sarif)}
    # the text report and the annotations both go to the log
    assert "4 missing · 5 of 9 requirements met" in stdout
    assert re.search(r"^::error file=[^\n]*orders-stack\.yaml", stdout, re.M), stdout
    assert runner.summary.strip()
    doc = json.loads(sarif.read_text())
    assert doc["version"] == "2.1.0"
    assert sorted(r["ruleId"] for r in doc["runs"][0]["results"]) == ["IG1001", "IG1001", "IG1001", "IG2202"]
    if REAL["sarif"]:  # IAMGATE_SARIF_CATEGORY, from the category input
        assert "orders" in doc["runs"][0]["automationDetails"]["id"]
    if REAL["markdown"]:
        assert "IG2202" in runner.summary and "s3:PutObject" in runner.summary


def test_working_directory_default_manifest_extra_formats_and_args(runner):
    """In the stack's folder (its iamgate.yaml found by default), SARIF into a folder that does not
    exist yet, an extra json output, extra arguments; fail-on never passes the step."""
    rc, outputs, _ = runner.run({"working-directory": "infra", "sarif-file": "reports/out/iamgate.sarif",
                                 "formats": "json:extra.json\n", "args": "--allow-unknown",
                                 "fail-on": "never"})
    assert rc == 0, runner.stderr
    sarif = runner.workspace / "infra" / "reports" / "out" / "iamgate.sarif"
    assert outputs == {"errors": "4", "warnings": "0", "notes": "0", "exit-code": "0",
                       "sarif-file": str(sarif)}
    assert sarif.is_file()
    extra = json.loads((runner.workspace / "infra" / "extra.json").read_text())
    assert extra["summary"]["errors"] == 4


def test_a_passing_check(runner):
    """The same stack with the four missing permissions dropped from the manifest's needs."""
    manifest = runner.workspace / "infra" / "iamgate.yaml"
    doc = yaml.safe_load(manifest.read_text())
    doc["principals"][0]["needs"] = [{"actions": ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
                                      "resources": "${JobsQueue.Arn}"}]
    manifest.write_text(yaml.safe_dump(doc))
    template = runner.workspace / "infra" / "orders-stack.yaml"
    text, n = re.subn(r"^  JobsSubscription:\n(?:    .*\n)*", "", template.read_text(), flags=re.M)
    assert n == 1  # the subscription that needs the queue policy (IG2202)
    template.write_text(text)
    rc, outputs, stdout = runner.run({"working-directory": "infra"})
    assert rc == 0, stdout + runner.stderr
    assert outputs["errors"] == "0" and outputs["exit-code"] == "0"
    assert os.path.isfile(outputs["sarif-file"])


def test_an_input_error_exits_2_and_says_so_in_the_summary(runner):
    rc, outputs, _ = runner.run({"paths": "infra", "manifest": "infra/missing.yaml"})
    assert rc == 2
    assert outputs == {"errors": "", "warnings": "", "notes": "", "exit-code": "2", "sarif-file": ""}
    assert "iamgate could not complete the check (exit code 2)" in runner.summary
    assert "missing.yaml" in runner.stderr


def test_inputs_are_data_not_shell(runner):
    """A path or argument with shell syntax in it reaches iamgate as one literal word."""
    rc, outputs, _ = runner.run({"paths": "infra $(touch pwned) *", "manifest": "infra/iamgate.yaml"})
    assert not (runner.workspace / "pwned").exists()
    # "$(touch", "pwned)" and "*" reach iamgate as paths (that do not exist: an input error)
    assert rc == 2 and outputs["exit-code"] == "2"
    assert "no such file or directory: $(touch, pwned), *" in runner.stderr


FAKE_PYTHON = """#!/bin/bash
# stands for setup-python's interpreter: `-m venv DIR` makes DIR/bin/python, which logs its arguments
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin"
  printf '#!/bin/bash\\necho "$0 $*" >> "%s"\\n' "$LOG" > "$3/bin/python"
  chmod +x "$3/bin/python"
fi
"""


def test_the_install_step_installs_the_actions_checkout_into_a_venv_of_its_own(tmp_path):
    """The install step's own logic, with a stand-in for the interpreter setup-python provides
    (a real pip install needs the package index)."""
    step = next(s for s in load_action()["runs"]["steps"] if s.get("id") == "install")
    assert step["env"] == {"SETUP_PYTHON": "${{ steps.python.outputs.python-path }}"}
    fake, log, output, temp = tmp_path / "python", tmp_path / "log", tmp_path / "output", tmp_path / "temp"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    temp.mkdir()
    output.write_text("")
    env = dict(os.environ, SETUP_PYTHON=str(fake), LOG=str(log), RUNNER_TEMP=str(temp),
               GITHUB_OUTPUT=str(output), GITHUB_ACTION_PATH="/actions/OWNER/iamgate/v1")
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                          cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    venv_python = f"{temp}/iamgate-venv/bin/python"
    assert parse_env_file(output) == {"python": venv_python}
    assert log.read_text().split() == [venv_python, "-m", "pip", "install", "--disable-pip-version-check",
                                       "--no-input", "--quiet", "/actions/OWNER/iamgate/v1"]
