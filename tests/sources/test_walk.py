"""What is read under the scanned paths: symbolic links (outside, inside, loops, explicit), the
size limit (IAMGATE_MAX_FILE_SIZE), and Terraform's file functions confined to the scanned tree."""
import json
import os

import pytest

from iamgate.rules.registry import BUILTIN as RULES
from iamgate.sources import MAX_BYTES, SIZE_SETTING, max_bytes, walk
from ..cli import run

POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                   "Resource": "arn:aws:s3:::orders/*"}]}
SECRET = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository checked out from a pull request, next to files that are not part of it."""
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    outside = tmp_path / "home"
    (outside / ".aws").mkdir(parents=True)
    (outside / ".aws" / "admin.json").write_text(json.dumps(SECRET))
    tree = tmp_path / "repo"
    (tree / "iam").mkdir(parents=True)
    (tree / "iam" / "reader.json").write_text(json.dumps(POLICY))
    monkeypatch.chdir(tree)
    return tree, outside


def inventory(capsys, *paths):
    rc, out, err = run(capsys, "inventory", "--format", "json", *paths)
    return rc, json.loads(out), err


def names(doc):
    return sorted(p["name"] for p in doc.get("policies", []))


def test_link_to_a_file_outside_is_a_note_and_not_read(repo, capsys):
    tree, outside = repo
    os.symlink(outside / ".aws" / "admin.json", tree / "iam" / "admin.json")
    rc, out, err = run(capsys, "inventory")
    assert rc == 0, err
    assert "note: iam/admin.json: a symbolic link to " in out
    assert "outside the scanned tree; not followed" in out
    assert "admin (1 statement)" not in out
    rc, out, _ = run(capsys, "check", "--format", "json")
    notes = [f for f in json.loads(out)["findings"] if f["rule"] == "IG0005"]
    assert [n["location"]["file"] for n in notes] == [os.path.join("iam", "admin.json")]
    assert notes[0]["severity"] == "note" and rc == 0


def test_link_to_a_directory_outside_is_a_note_and_not_walked(repo, capsys):
    tree, outside = repo
    os.symlink(outside / ".aws", tree / "iam" / "creds")
    rc, out, _ = run(capsys, "inventory")
    assert rc == 0
    assert "note: iam/creds: a symbolic link to" in out and "admin" not in out.replace("note: iam/creds", "")


def test_relative_escape_and_loops_and_broken_links(repo, capsys):
    tree, _ = repo
    os.symlink("../../home/.aws/admin.json", tree / "iam" / "up.json")
    os.symlink("loop-b.json", tree / "iam" / "loop-a.json")
    os.symlink("loop-a.json", tree / "iam" / "loop-b.json")
    os.symlink(".", tree / "iam" / "self")
    os.symlink("gone.json", tree / "iam" / "broken.json")
    rc, out, err = run(capsys, "inventory")
    assert rc == 0, out + err
    assert "note: iam/up.json: a symbolic link to ../../home/.aws/admin.json, outside the scanned tree" in out
    assert "note: iam/loop-a.json: a symbolic link loop; not followed" in out
    assert "note: iam/broken.json: a broken symbolic link (to gone.json); not followed" in out
    assert "iam/self" not in out  # a link to a directory inside the tree: walked once, as the real one
    assert out.count("reader (1 statement)") == 1


def test_link_inside_the_tree_is_read_once(repo, capsys):
    tree, _ = repo
    os.symlink("reader.json", tree / "iam" / "alias.json")
    os.symlink("iam", tree / "more")
    rc, doc, _ = inventory(capsys)
    assert rc == 0
    assert names(doc) == ["reader"]
    assert doc["policies"][0]["location"]["file"] == os.path.join("iam", "reader.json")
    assert walk(["."]).files == (os.path.join(".", "iam", "reader.json"),)
    assert walk(["iam/reader.json", "iam/alias.json", "."]).files == ("iam/reader.json",)


def test_a_link_named_explicitly_is_read(repo, capsys):
    tree, outside = repo
    os.symlink(outside / ".aws" / "admin.json", tree / "admin.json")
    rc, doc, _ = inventory(capsys, "admin.json")
    assert rc == 0 and names(doc) == ["admin"]
    os.symlink(outside / ".aws", tree / "creds")
    rc, doc, _ = inventory(capsys, "creds")
    assert rc == 0 and names(doc) == ["admin"]


def test_the_note_rule_is_documented(capsys):
    rule = RULES["IG0005"]
    assert rule.severity == "note" and rule.what and rule.why and rule.example and rule.fix and rule.url
    rc, out, _ = run(capsys, "rules")
    assert rc == 0 and "IG0005" in out and "symlink-not-followed" in out


# ---------------------------------------------------------------------------------------------
# The size limit


def test_size_limit_default_and_setting(monkeypatch):
    monkeypatch.delenv(SIZE_SETTING, raising=False)
    assert max_bytes() == MAX_BYTES == 20 * 1024 * 1024
    for raw, expected in (("1048576", 1048576), ("512K", 512 * 1024), ("2MiB", 2 * 1024 ** 2), ("1g", 1024 ** 3),
                          ("1.5M", 1536 * 1024)):
        monkeypatch.setenv(SIZE_SETTING, raw)
        assert max_bytes() == expected, raw


def test_a_file_over_the_limit_is_an_input_error(repo, capsys, monkeypatch):
    tree, _ = repo
    monkeypatch.setenv(SIZE_SETTING, "1K")
    big = dict(POLICY, Statement=POLICY["Statement"] * 40)
    (tree / "iam" / "big.json").write_text(json.dumps(big, indent=2))
    (tree / "main.tf").write_text("# " + "x" * 2000 + "\n")
    for command in ("check", "inventory"):
        rc, out, err = run(capsys, command)
        assert rc == 2, (command, out, err)
        assert f"iam/big.json: larger than 1 KiB; not read (the limit is set by {SIZE_SETTING})" in out
        assert f"main.tf: larger than 1 KiB; not read (the limit is set by {SIZE_SETTING})" in out
    monkeypatch.setenv(SIZE_SETTING, "1M")
    rc, out, _ = run(capsys, "inventory")
    assert rc == 0 and "big (40 statements)" in out


@pytest.mark.parametrize("raw", ["lots", "-5", "0", "10X"])
def test_a_bad_size_setting_is_a_usage_error(repo, capsys, monkeypatch, raw):
    monkeypatch.setenv(SIZE_SETTING, raw)
    rc, out, err = run(capsys, "check")
    assert rc == 2 and out == ""
    assert err == f'iamgate: {SIZE_SETTING}="{raw}": expected a size such as 20M, 512K or 1048576 (bytes)\n'


# ---------------------------------------------------------------------------------------------
# Terraform's file functions read only inside the scanned tree


def test_terraform_file_functions_stay_inside_the_tree(repo, capsys):
    tree, outside = repo
    infra = tree / "infra"
    (infra / "policies").mkdir(parents=True)
    (infra / "policies" / "bucket.txt").write_text("arn:aws:s3:::orders/*")
    os.symlink(outside / ".aws" / "admin.json", infra / "policies" / "link.txt")
    (infra / "main.tf").write_text('''
data "aws_iam_policy_document" "d" {
  statement {
    actions   = ["s3:GetObject"]
    resources = [
      trimspace(file("policies/bucket.txt")),
      file("%s"),
      file("../../home/.aws/admin.json"),
      templatefile("policies/link.txt", {}),
      tostring(fileexists("/etc/passwd")),
      file("policies/none.txt"),
    ]
  }
}
resource "aws_iam_policy" "p" {
  name   = "p"
  policy = data.aws_iam_policy_document.d.json
}
''' % (outside / ".aws" / "admin.json"))
    rc, doc, err = inventory(capsys, "infra")
    assert rc == 0, err
    why = sorted(u["expression"] for u in doc["unresolved"])
    text = "\n".join(why)
    assert f'file({outside / ".aws" / "admin.json"}) (an absolute path outside the scanned tree; not read)' in text
    assert "file(../../home/.aws/admin.json) (outside the scanned tree; not read)" in text
    assert "templatefile(policies/link.txt, ...) (a symbolic link that leads outside the scanned tree; not read)" in text
    assert 'fileexists("/etc/passwd") (an absolute path outside the scanned tree; not read)' in text
    assert "file(policies/none.txt) (no such file in the scanned tree)" in text
    assert "bucket.txt" not in text
    assert "admin" not in json.dumps(doc.get("policies", [])) and '"*"' not in json.dumps(doc)


def test_the_size_setting_is_in_the_help(capsys):
    rc, out, _ = run(capsys, "--help")
    assert rc == 0 and f"{SIZE_SETTING}  largest input file read" in out
