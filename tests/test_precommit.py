"""The hooks of .pre-commit-hooks.yaml run by the real pre-commit and prek, as a user's repository
runs them: the hook repository is this checkout committed to a temporary git repository, the
user's repository another one with a manifest, two CloudFormation stacks and a Terraform module.

Each tool installs iamgate into a virtual environment of its own (``language: python``: pip, or uv
for prek) from the hook repository, with its dependencies from the package index; that costs
about 30 s per install for pre-commit (try-repo installs afresh at every call, so it is called
once) and a few seconds for prek once uv's cache is warm. pre-commit and prek come with the
``test`` extra (prek finds uv, also there, beside the interpreter)."""
import os
import shutil
import subprocess
import sys

import pytest

from .hook_samples import module, stack, write_repo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
HOOK_FILES = ("src", "rules", "pyproject.toml", "README.md", ".pre-commit-hooks.yaml")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def env(home):
    """A clean environment: no PYTHONPATH (the hook must run the iamgate it installed), git without
    the user's configuration, the tools' caches of environments in the test's own folder."""
    out = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "PRE_COMMIT", "PREK_")) and k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    (home / "gitconfig").write_text("")
    out.update({
        "PATH": BIN + os.pathsep + out.get("PATH", ""),
        "GIT_CONFIG_GLOBAL": str(home / "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
        "PRE_COMMIT_HOME": str(home / "pre-commit"), "PREK_HOME": str(home / "prek"),
        "IAMGATE_NO_CACHE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_COMPILE": "1", "NO_COLOR": "1",
    })
    return out


def sh(env, cwd, *argv, check=True):
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600)
    if check and done.returncode != 0:
        raise AssertionError(f"{argv}: {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="module")
def hooks(tmp_path_factory, env):
    """(path, commit) of this checkout's hook files committed to a repository of their own."""
    repo = tmp_path_factory.mktemp("hooks-repo")
    for part in HOOK_FILES:
        src = os.path.join(ROOT, part)
        if os.path.isdir(src):
            shutil.copytree(src, repo / part, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(src, repo / part)
    sh(env, repo, "git", "init", "-q")
    sh(env, repo, "git", "add", "-A")
    sh(env, repo, "git", "commit", "-q", "-m", "hooks")
    return repo, sh(env, repo, "git", "rev-parse", "HEAD")[1].strip()


@pytest.fixture
def user_repo(tmp_path, env):
    write_repo(tmp_path)
    sh(env, tmp_path, "git", "init", "-q")
    return tmp_path


def pre_commit(*argv):
    return (sys.executable, "-m", "pre_commit", *argv)


def prek_command():
    found = shutil.which("prek", path=BIN) or shutil.which("prek")
    if found is None:
        pytest.skip("prek is not installed (pip install prek)")
    return found


def test_the_hook_file_is_a_valid_manifest_for_both_tools(env):
    pytest.importorskip("pre_commit")
    hooks_file = os.path.join(ROOT, ".pre-commit-hooks.yaml")
    sh(env, ROOT, *pre_commit("validate-manifest", hooks_file))
    sh(env, ROOT, prek_command(), "validate-manifest", hooks_file)


def test_pre_commit_try_repo_and_commits(hooks, tmp_path, env):
    """try-repo on a stack that lacks a permission fails with the finding; installed in a
    repository, the hooks block each commit that drops a permission and let the fix through. The
    two installs of iamgate (try-repo's, the installed hooks') run at the same time."""
    pytest.importorskip("pre_commit")
    path, rev = hooks
    tried = tmp_path / "tried"
    tried.mkdir()
    write_repo(tried)
    (tried / "orders" / "stack.yaml").write_text(stack("WorkerRole", "JobsQueue", ["sqs:SendMessage"]))
    sh(env, tried, "git", "init", "-q")
    sh(env, tried, "git", "add", "-A")
    try_repo = subprocess.Popen(pre_commit("try-repo", path, "iamgate", "--files", "orders/stack.yaml"), cwd=tried,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                stdin=subprocess.DEVNULL)
    try:
        user_repo = tmp_path / "user"
        user_repo.mkdir()
        write_repo(user_repo)
        sh(env, user_repo, "git", "init", "-q")
        commits(env, user_repo, path, rev)
        out, _ = try_repo.communicate(timeout=600)
    finally:
        if try_repo.poll() is None:
            try_repo.kill()
            try_repo.wait()
    assert try_repo.returncode == 1, out
    assert "iamgate (IAM permissions of the changed stacks and modules)" in out and "Failed" in out
    assert "✗ sqs:ReceiveMessage on arn:aws:sqs:us-east-1:000000000000:" in out
    assert "(needed at iamgate.yaml:5)  [IG1001]" in out
    assert "orders/stack.yaml" in out and "BillingRole" not in out


def commits(env, user_repo, path, rev):
    (user_repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {path}\n    rev: {rev}\n    hooks:\n      - id: iamgate\n      - id: iamgate-all\n")
    sh(env, user_repo, *pre_commit("install"))
    sh(env, user_repo, "git", "add", "-A")
    rc, out = sh(env, user_repo, "git", "commit", "-m", "orders, billing and infra", check=False)
    assert rc == 0, out
    assert out.count("Passed") == 2, out

    def commit(message):
        sh(env, user_repo, "git", "add", "-A")
        before = sh(env, user_repo, "git", "rev-parse", "HEAD")[1]
        rc, out = sh(env, user_repo, "git", "commit", "-m", message, check=False)
        return rc, out, sh(env, user_repo, "git", "rev-parse", "HEAD")[1] != before

    (user_repo / "orders" / "stack.yaml").write_text(stack("WorkerRole", "JobsQueue", ["sqs:SendMessage"]))
    rc, out, committed = commit("orders: send only")
    assert rc == 1 and not committed, out
    assert out.count("Failed") == 2  # the stack's hook and the whole repository's
    assert "✗ sqs:ReceiveMessage on arn:aws:sqs:us-east-1:000000000000:" in out and "[IG1001]" in out

    (user_repo / "orders" / "stack.yaml").write_text(stack("WorkerRole", "JobsQueue"))
    (user_repo / "infra" / "main.tf").write_text(module(["sqs:ReceiveMessage"]))
    rc, out, committed = commit("orders fixed, infra receives only")
    assert rc == 1 and not committed, out
    assert "sqs:DeleteMessage" in out and "sqs:GetQueueAttributes" in out and "[IG2101]" in out

    (user_repo / "infra" / "main.tf").write_text(module(["sqs:ReceiveMessage", "sqs:DeleteMessage",
                                                         "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]))
    rc, out, committed = commit("infra: the worker extends the visibility of long jobs")
    assert rc == 0 and committed, out
    assert out.count("Passed") == 2, out

    (user_repo / "README.md").write_text("# orders\n\nThe order service.\n")
    rc, out, committed = commit("docs")
    assert rc == 0 and committed, out
    assert out.count("(no files to check)Skipped") == 2, out


def test_prek_runs_the_same_hooks(hooks, user_repo, env):
    prek = prek_command()
    path = hooks[0]
    (user_repo / "billing" / "stack.yaml").write_text(stack("BillingRole", "InvoicesQueue", ["sqs:SendMessage"]))
    sh(env, user_repo, "git", "add", "-A")
    rc, out = sh(env, user_repo, prek, "try-repo", path, "iamgate", "--files", "billing/stack.yaml", check=False)
    assert rc == 1, out
    assert "✗ sqs:ReceiveMessage on arn:aws:sqs:us-east-1:000000000000:" in out and "[IG1001]" in out
    assert "BillingRole" in out and "WorkerRole" not in out
    # a commit that touches another stack only passes the changed-files hook, not the whole repository's
    rc, out = sh(env, user_repo, prek, "try-repo", path, "iamgate", "--files", "orders/stack.yaml", check=False)
    assert rc == 0, out
    rc, out = sh(env, user_repo, prek, "try-repo", path, "iamgate-all", "--files", "orders/stack.yaml", check=False)
    assert rc == 1 and "BillingRole" in out, out

    (user_repo / "billing" / "stack.yaml").write_text(stack("BillingRole", "InvoicesQueue"))
    sh(env, user_repo, "git", "add", "-A")
    rc, out = sh(env, user_repo, prek, "try-repo", path, "iamgate-all", "--all-files", check=False)
    assert rc == 0, out
