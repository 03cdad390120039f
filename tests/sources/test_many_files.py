"""Many small inputs (a few hundred; the speed of thousands is measured by bench/bench_many_files.py,
never asserted here): each is read exactly once, in path order, and the files that are not inputs
(package manifests, CI configs) are passed over without a problem."""
import json
import os
import sys

from iamgate.cli import main

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
from bench_many_files import generate  # noqa: E402  (the benchmark's tree, so both read the same shape)

N = 360


def test_a_few_hundred_files_are_each_read_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    generate(tmp_path / "repo", N)
    (tmp_path / "repo" / "iamgate.yaml").write_text('version: 1\nsettings: {account: "111122223333"}\n')
    monkeypatch.chdir(tmp_path / "repo")
    rc = main(["inventory", "--format", "json"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["problems"] == [] and doc["unresolved"] == []

    roles = [p["aliases"][1] for p in doc["principals"]]
    assert sorted(roles) == sorted(f"worker-{i}" for i in range(N) if i % 3 == 1)
    files = [p["location"]["file"] for p in doc["principals"]]
    assert files == sorted(files) and len(set(files)) == len(files)

    policies = [p["name"] for p in doc["policies"]]
    assert policies == [f"policy-{i:05d}" for i in range(0, N, 3)]
    assert all(p["statements"] == 1 for p in doc["policies"])
    assert not any("package" in json.dumps(p) or "ci-" in json.dumps(p) for p in doc["policies"])
