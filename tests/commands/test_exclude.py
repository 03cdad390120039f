"""--exclude GLOB and the manifest's check: exclude: — the files they name are never read, on every
command that reads code; globs are relative to each scanned directory and to the working directory."""
import json
import os
import subprocess

import pytest

from iamgate.manifest import ManifestError, load_manifest
from iamgate.sources import Exclude, walk
from ..cli import run

POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::orders/*"}]})
BROKEN = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},]}'
TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Worker:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
"""


@pytest.fixture
def repo(tree):
    """Code to check, next to test fixtures that are broken on purpose and a stray build output."""
    (tree / "infra").mkdir()
    (tree / "infra" / "template.yaml").write_text(TEMPLATE)
    (tree / "iam").mkdir()
    (tree / "iam" / "reader.json").write_text(POLICY)
    (tree / "tests" / "fixtures" / "bad").mkdir(parents=True)
    (tree / "tests" / "fixtures" / "bad" / "trailing-comma.json").write_text(BROKEN)
    (tree / "build").mkdir()
    (tree / "build" / "template.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources: [\n")
    (tree / ".terraform" / "modules").mkdir(parents=True)
    (tree / ".terraform" / "modules" / "p.json").write_text(BROKEN)
    return tree


def inventory(capsys, *argv):
    rc, out, err = run(capsys, "inventory", "--format", "json", *argv)
    return rc, json.loads(out), err


def test_without_exclude_the_broken_fixtures_fail_closed(repo, capsys):
    rc, doc, _ = inventory(capsys, ".")
    assert rc == 2
    files = {p["location"]["file"] for p in doc["problems"]}
    assert files == {"tests/fixtures/bad/trailing-comma.json", "build/template.yaml"}  # never .terraform


@pytest.mark.parametrize("globs", [
    ["**/fixtures/**", "build"],
    ["tests/fixtures", "./build/"],
    ["tests", "build/*"],
    ["*.json", "build/**"],  # *.json without '/' names files at any depth: iam/reader.json too
])
def test_excluded_files_are_not_read(repo, capsys, globs):
    argv = [a for g in globs for a in ("--exclude", g)]
    rc, doc, err = inventory(capsys, ".", *argv)
    assert rc == 0, (doc["problems"], err)
    assert [p["id"] for p in doc["principals"]] == ["Worker"]
    assert [p["name"] for p in doc["policies"]] == ([] if "*.json" in globs else ["reader"])


def test_globs_are_relative_to_the_scanned_directory_and_to_the_working_directory(repo, capsys, monkeypatch):
    monkeypatch.chdir(repo / "infra")
    rc, doc, _ = inventory(capsys, "..", "--exclude", "tests/fixtures/**", "--exclude", "build")
    assert rc == 0, doc["problems"]
    monkeypatch.chdir(repo)
    rc, doc, _ = inventory(capsys, "tests", "build", "infra", "--exclude", "fixtures", "--exclude", "./build")
    assert rc == 0, doc["problems"]
    assert [p["id"] for p in doc["principals"]] == ["Worker"]


def test_an_excluded_file_named_on_the_command_line_is_not_read(repo, capsys):
    rc, doc, _ = inventory(capsys, "tests/fixtures/bad/trailing-comma.json", "iam/reader.json",
                           "--exclude", "tests/**")
    assert rc == 0 and [p["name"] for p in doc["policies"]] == ["reader"]


def test_the_manifest_check_exclude(repo, capsys):
    (repo / "iamgate.yaml").write_text('version: 1\ncheck:\n  exclude: ["**/fixtures/**"]\n')
    rc, doc, _ = inventory(capsys, ".")
    assert {p["location"]["file"] for p in doc["problems"]} == {"build/template.yaml"}
    rc, doc, _ = inventory(capsys, ".", "--exclude", "build")  # the command line adds to the manifest
    assert rc == 0, doc["problems"]


@pytest.mark.parametrize("command", [
    ["check"], ["inventory"], ["simulate", "Worker", "s3:GetObject", "arn:aws:s3:::orders/x"],
    ["explain", "User: arn:aws:sts::111122223333:assumed-role/Worker/x is not authorized to perform: "
                "s3:GetObject on resource: arn:aws:s3:::orders/x"],
])
def test_every_command_that_reads_code_takes_exclude(repo, capsys, command):
    rc, out, err = run(capsys, *command, ".", "--exclude", "tests", "--exclude", "build")
    assert "trailing-comma" not in out + err and "build/template.yaml" not in out + err, (rc, out, err)
    assert rc != 2 or "not valid" not in out + err


def test_the_manifest_schema_takes_check_exclude_and_nothing_else_there():
    manifest = load_manifest("iamgate.yaml", 'version: 1\ncheck:\n  exclude: ["**/fixtures/**", "build"]\n')
    assert manifest.exclude == ("**/fixtures/**", "build")
    assert load_manifest("iamgate.yaml", "version: 1\n").exclude == ()
    for bad, message in (('version: 1\ncheck:\n  exclude: "build"\n', "check.exclude"),
                         ('version: 1\ncheck:\n  exclud: [build]\n', "did you mean 'exclude'"),
                         ('version: 1\nexclude: [build]\n', "exclude")):
        with pytest.raises(ManifestError) as e:
            load_manifest("iamgate.yaml", bad)
        assert message in str(e.value)


@pytest.mark.parametrize("glob, path, expected", [
    ("**/fixtures/**", "a/b/fixtures/c/d.json", True),
    ("**/fixtures/**", "fixtures/d.json", True),
    ("a/**/b.json", "a/b.json", True),
    ("a/**/b.json", "a/x/y/b.json", True),
    ("a/*.json", "a/x/b.json", False),
    ("*.test.json", "deep/down/p.test.json", True),
    ("./p.json", "deep/p.json", False),
    ("p.json", "deep/p.json", True),
    ("deep", "deep/p.json", True),
    ("p?.json", "p1.json", True),
    ("p[0-9].json", "px.json", False),
    ("P.json", "p.json", False),
])
def test_glob_semantics(tmp_path, glob, path, expected):
    assert Exclude((glob,)).matches(str(tmp_path / path), [str(tmp_path)]) is expected


def test_walk_does_not_enter_an_excluded_folder(repo):
    found = walk(["."], Exclude(("tests",)))
    assert not any(f.startswith("tests") or "/tests/" in f for f in found.files)
    assert any(f.endswith("reader.json") for f in found.files)


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def test_diff_excludes_on_both_sides(repo, capsys, monkeypatch):
    """A fixture broken in the base revision and in the working tree: excluded, on both sides."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)
    git(repo, "init", "-q")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
        "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false",
        "commit", "-q", "-m", "base")
    (repo / "iam" / "reader.json").write_text(POLICY.replace("s3:GetObject", "s3:*"))
    rc, out, err = run(capsys, "diff", "HEAD", ".")
    assert rc == 2 and "trailing-comma.json" in out + err, (out, err)
    monkeypatch.chdir(repo / "iam")  # a glob relative to the working directory, in the base checkout too
    rc, out, err = run(capsys, "diff", "HEAD", "..", "--exclude", "../build", "--exclude", "**/fixtures/**",
                       "--format", "json")
    assert "trailing-comma" not in out + err and "build/template.yaml" not in out + err, (out, err)
    assert rc in (0, 1), (out, err)
    assert json.loads(out)["notes"] == []  # nothing unreadable on either side


def test_a_file_outside_the_working_directory_is_matched_with_dot_dot(tmp_path):
    cwd = str(tmp_path / "iam")
    target = str(tmp_path / "build" / "t.yaml")
    assert Exclude(("../build",)).matches(target, [cwd])
    assert not Exclude((".*",)).matches(target, [cwd])  # '..' is never a name a glob matches
    assert not Exclude(("iam",)).matches(target, [cwd])
