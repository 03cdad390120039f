"""The same input gives byte-identical output in every format, whatever order the file system lists
files in: the examples copied as they are, re-created file by file in reverse order, and read with
os.listdir / os.scandir returning their entries reversed. Each run is from inside the tree, so every
path in the output is relative and the copies compare byte for byte."""
import os
import shutil

import pytest

from iamgate.cli import main

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
EXAMPLES = os.path.join(ROOT, "examples")
RUNS = [[command, "--manifest", "iamgate.yaml", ".", "--format", fmt]
        for command in ("check", "inventory") for fmt in ("text", "json")]


def copy_reversed(src, dst):
    """The same files, each folder and file created in the reverse of sorted order (most file
    systems then list them in creation order, or at least in another one)."""
    entries = []
    for folder, dirs, files in os.walk(src):
        dirs.sort()
        entries += [(os.path.relpath(os.path.join(folder, f), src), True) for f in sorted(files)]
        entries += [(os.path.relpath(os.path.join(folder, d), src), False) for d in dirs]
    os.makedirs(dst)
    for rel, is_file in sorted(entries, key=lambda e: e[0].count(os.sep)):  # parents first
        if not is_file:
            os.makedirs(os.path.join(dst, rel), exist_ok=True)
    for rel, is_file in reversed(entries):
        if is_file:
            os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
            shutil.copyfile(os.path.join(src, rel), os.path.join(dst, rel))


class _Reversed:
    """os.scandir's iterator, with its entries in reverse order."""

    def __init__(self, inner):
        self.entries = list(inner)[::-1]
        inner.close()

    def __iter__(self):
        return iter(self.entries)

    def __next__(self):
        if not self.entries:
            raise StopIteration
        return self.entries.pop(0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def close(self):
        pass


def outputs(capsys, folder):
    os.chdir(folder)
    results = []
    for argv in RUNS:
        rc = main(argv)
        out = capsys.readouterr()
        results.append((argv, rc, out.out, out.err))
    return results


@pytest.mark.parametrize("example", sorted(os.listdir(EXAMPLES)))
def test_output_does_not_depend_on_listing_order(tmp_path, monkeypatch, capsys, example):
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    monkeypatch.chdir(tmp_path)
    shutil.copytree(os.path.join(EXAMPLES, example), tmp_path / "copy")
    copy_reversed(os.path.join(EXAMPLES, example), tmp_path / "reversed")

    expected = outputs(capsys, tmp_path / "copy")
    assert all(rc in (0, 1) and out for _, rc, out, _ in expected), expected
    assert outputs(capsys, tmp_path / "reversed") == expected

    real_listdir, real_scandir = os.listdir, os.scandir
    native = [e.name for e in real_scandir(tmp_path)]
    monkeypatch.setattr(os, "listdir", lambda path=".": real_listdir(path)[::-1])
    monkeypatch.setattr(os, "scandir", lambda path=".": _Reversed(real_scandir(path)))
    assert [e.name for e in os.scandir(tmp_path)] == native[::-1] and os.listdir(tmp_path) == native[::-1]
    assert outputs(capsys, tmp_path / "copy") == expected
