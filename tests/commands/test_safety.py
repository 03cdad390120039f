"""iamgate is safe to run on a pull request: YAML only through safe loaders, nothing from the input
run as code, no network, and nothing written but what the user asked for (and the parse cache,
where IAMGATE_CACHE_DIR says). Data comes from installed packages, never a user's cache."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
SRC = os.path.join(ROOT, "src", "iamgate")
EXAMPLES = os.path.join(ROOT, "examples")

MESSAGE = ("User: arn:aws:sts::111122223333:assumed-role/orders-worker-prod/i-0abc is not authorized to perform: "
           's3:PutObject on resource: "arn:aws:s3:::orders-prod-111122223333/x" because no identity-based policy '
           "allows the s3:PutObject action")
CFN = ["--manifest", "examples/cloudformation/iamgate.yaml"]

# every command, on the shipped examples (what scripts/golden_outputs.sh records)
COMMANDS = [
    ["check", "--manifest", "examples/account-export/iamgate.yaml", "examples/account-export"],
    ["check", "--manifest", "examples/terraform/iamgate.yaml", "examples/terraform", "--format", "json"],
    ["check", *CFN, "examples/cloudformation"],
    ["check", *CFN, "examples/cloudformation", "--fix-diff"],
    ["inventory", "--manifest", "examples/terraform/iamgate.yaml", "examples/terraform"],
    ["inventory", *CFN, "examples/cloudformation", "--format", "json"],
    ["simulate", *CFN, "WorkerRole", "s3:PutObject", "arn:aws:s3:::orders-prod-111122223333/x",
     "examples/cloudformation"],
    ["explain", *CFN, MESSAGE, "examples/cloudformation", "--format", "json"],
    ["diff", "HEAD~1", "examples"],
    ["diff", "HEAD~1", "examples", "--format", "json"],
    ["rules"],
    ["rules", "--format", "json"],
]

# Runs COMMANDS in one interpreter; with IAMGATE_TEST_NO_NETWORK set, every way of opening a
# connection raises and is recorded in that file (a library that swallowed the error would
# otherwise hide it).
RUNNER = r"""
import contextlib, io, json, os, socket, sys
log = os.environ.get("IAMGATE_TEST_NO_NETWORK")
if log:
    def _refuse(*args, **kwargs):
        with open(log, "a") as fh:
            fh.write(repr(args)[:200] + "\n")
        raise OSError("network access is disabled in this test")
    class _NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            _refuse(*args)
    socket.socket = _NoSocket
    socket.create_connection = _refuse
    socket.getaddrinfo = _refuse
    socket.gethostbyname = _refuse
from iamgate.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    results.append([argv, rc, out.getvalue(), err.getvalue()])
print(json.dumps(results))
"""


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def work(tmp_path, monkeypatch):
    """The examples in a git repository of two commits (the second changes a policy), with a
    home, a temporary folder and a cache folder of their own."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "XDG_CACHE_HOME", "IAMGATE_NO_CACHE",
                "IAMGATE_CACHE_DIR", "IAMGATE_MAX_FILE_SIZE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES, repo / "examples")
    git(repo, "init", "-q")
    for key, value in (("user.name", "t"), ("user.email", "t@example.com"), ("commit.gpgsign", "false")):
        git(repo, "config", key, value)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    stack = repo / "examples" / "cloudformation" / "orders-stack.yaml"
    stack.write_text(stack.read_text().replace("[s3:GetObject, s3:ListBucket]", "[s3:GetObject, s3:ListBucket, s3:DeleteObject]"))
    git(repo, "commit", "-q", "-am", "change")
    git(repo, "status", "--porcelain")  # let git refresh its index now, not during the test
    for name in ("home", "tmp", "cache"):
        (tmp_path / name).mkdir()
    return tmp_path


def snapshot(root):
    """Every file and folder under ``root``: content hash, mode and modification time."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            digest = ""
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as fh:
                    digest = hashlib.sha256(fh.read()).hexdigest()
            out[os.path.relpath(path, root)] = (st.st_mode, st.st_mtime_ns if digest else 0, digest)
    return out


def run_all(work, extra_env):
    env = dict(os.environ, HOME=str(work / "home"), TMPDIR=str(work / "tmp"), **extra_env)
    proc = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(COMMANDS)], cwd=work / "repo", env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_no_network_no_writes_and_the_same_output(work):
    before = snapshot(work / "repo")
    plain = run_all(work, {"IAMGATE_NO_CACHE": "1"})
    assert snapshot(work / "repo") == before
    assert snapshot(work / "cache") == {} and snapshot(work / "home") == {} and snapshot(work / "tmp") == {}

    log = work / "network.log"
    offline = run_all(work, {"IAMGATE_TEST_NO_NETWORK": str(log), "IAMGATE_CACHE_DIR": str(work / "cache")})
    assert not log.exists(), log.read_text()
    assert offline == plain  # every command: the same exit code, output and messages
    assert snapshot(work / "repo") == before  # only the cache folder may change
    assert snapshot(work / "home") == {} and snapshot(work / "tmp") == {}
    assert snapshot(work / "cache")  # the Terraform example was parsed through it

    for argv, rc, out, err in plain:
        assert "Traceback" not in err and "internal error" not in err, (argv, err)
        assert rc in (0, 1), (argv, rc, err)
        assert out, argv
    assert any(argv[0] == "diff" and "s3:DeleteObject" in out for argv, _, out, _ in plain)


# ---------------------------------------------------------------------------------------------
# What the source says: read it, as a reviewer would


def sources():
    for folder, _, files in os.walk(SRC):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as fh:
                    yield os.path.relpath(path, SRC), fh.read()


def test_yaml_only_through_safe_loaders():
    for name, text in sources():
        for line in text.splitlines():
            code = line.split("#")[0]
            assert not re.search(r"\b(Full|Unsafe)?Loader\b\s*=\s*yaml\.(Loader|FullLoader|UnsafeLoader)", code), name
            assert "unsafe_load" not in code and "full_load" not in code, (name, line)
            if re.search(r"\byaml\.load\(", code):
                assert "Loader=_Loader" in code, (name, line)
    loader = dict(sources())["sources/cloudformation/loader.py"]
    assert 'getattr(yaml, "CSafeLoader", yaml.SafeLoader)' in loader


def test_nothing_from_the_input_is_run_as_code():
    for name, text in sources():
        code = "\n".join(line.split("#")[0] for line in text.splitlines())
        for pattern in (r"(?<![.\w])eval\(", r"(?<![.\w])exec\(", r"(?<![.\w])compile\(", r"import pickle", r"marshal\.loads?\(", r"from marshal import",
                        r"os\.system", r"os\.popen", r"shell=True"):
            if name == "sources/compiled_schema.py" and pattern in (r"(?<![.\w])exec\(", r"(?<![.\w])compile\(") \
                    and code.count("exec(") == code.count("compile(source") == 1:
                continue  # the shipped schemas' validators, from source with no literal (the next test)
            assert not re.search(pattern, code), (name, pattern)
        if re.search(r"import subprocess|subprocess\.", code):
            assert name == "sources/git.py", name  # git, with a fixed program and argument list


def test_the_compiled_schemas_source_holds_no_literal():
    """What ``compiled_schema`` runs is written from the schema's structure alone: every value of
    the schema (a property name, a pattern, an enum) is a named constant, and the source is refused
    if it holds a quote, a backslash or a comment."""
    from iamgate.sources.compiled_schema import Unsupported, compile_schema

    sources_run = []
    import builtins

    real = builtins.compile

    def spy(source, *args, **kwargs):
        sources_run.append(source)
        return real(source, *args, **kwargs)

    import iamgate.sources.compiled_schema as module
    module.compile = spy  # type: ignore[attr-defined]
    try:
        hostile = {"properties": {'x"); import os; os.system("id': {"enum": ["'; exec('x')#"]}},
                   "patternProperties": {"^a\\b": {"pattern": '"\\d'}}, "required": ["\n#"]}
        compile_schema(hostile, lambda ref, base: ({}, base), known=())
    finally:
        del module.compile
    assert sources_run and not any(c in sources_run[0] for c in "\"'\\#")
    assert "os" not in sources_run[0].replace("isinstance", "").replace("pos", "")
    with pytest.raises(Unsupported):  # a literal can only come from a bug: refused, not run
        compile_schema({"type": "string"}, lambda ref, base: ({}, base), known=(),
                       extra={"type": "'x'"})


def test_data_only_from_installed_packages():
    for name, text in sources():
        assert ".cache/aws" not in text and "cfn-lint/" not in text.replace("``cfn-lint``", ""), name
        assert not re.search(r"expanduser\(", text) or name == "cache.py", name
