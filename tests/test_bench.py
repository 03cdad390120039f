"""bench/run.py keeps working: at its tiny sizes it runs every row as a real process and prints the
table. Nothing here asserts a time (the machine decides those); the table's shape, the rows, the
sizes and the fitted exponents are checked, and the generator is deterministic."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")


@pytest.fixture(scope="module")
def output() -> str:
    done = subprocess.run([sys.executable, os.path.join(BENCH, "run.py"), "--tiny"], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def rows(output: str) -> list:
    lines = [line for line in output.splitlines() if line.startswith("|")]
    assert lines[0] == "| row | size | median | peak MB | growth / ratio |"
    assert lines[1] == "|---|---|---:|---:|---|"
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    assert all(len(c) == 5 for c in cells), cells
    return cells


def test_the_table_has_every_row_of_the_tiny_run(output):
    cells = rows(output)
    assert [c[0] for c in cells] == (["iamgate --version", "check one template", "hook: one changed template",
                                      "hook: one changed .tf"] + ["check Terraform: cold", "check Terraform: warm"] * 2
                                     + ["export: check"] * 3 + ["manifest: check"] * 3)
    assert [c[1] for c in cells[4:8]] == ["2 modules", "2 modules", "4 modules", "4 modules"]
    assert [c[1].split(" (")[0] for c in cells[8:11]] == ["10 roles x 5 st", "20 roles x 5 st", "40 roles x 5 st"]
    assert [c[1] for c in cells[11:]] == [f"{k} needs / 10 roles x 10 st" for k in (50, 100, 200)]
    assert "corpus" not in output  # --tiny skips the corpus rows
    for c in cells:
        assert re.fullmatch(r"\d+ ms|\d+\.\d\d s", c[2]), c
        assert int(c[3]) > 0, c  # a real process's peak resident set, in MB


def test_each_series_ends_with_its_fitted_exponent(output):
    cells = rows(output)
    notes = [c[4] for c in cells]
    assert notes[:5] == [""] * 5 and notes[6] == "" and notes[8:10] == ["", ""] and notes[11:13] == ["", ""]
    for note in (notes[5], notes[7]):
        assert re.fullmatch(r"warm / cold = \d+\.\d\d", note), note
    for note in (notes[10], notes[13]):
        assert re.fullmatch(r"exponent -?\d+\.\d\d", note), note


def test_the_header_names_the_machine(output):
    first = output.splitlines()[0]
    assert re.fullmatch(r"iamgate benchmark: \d+ cores, Python 3\.\d+\.\d+ \(.*\); median of 1 run\(s\), interleaved",
                        first), first


def test_the_generator_is_deterministic_and_its_manifest_has_k_needs(tmp_path):
    sys.path.insert(0, BENCH)
    try:
        import generate
    finally:
        sys.path.remove(BENCH)
    a = generate.write(str(tmp_path / "a"), roles=7, statements=3, requirements=40, stacks=2, modules=2)
    b = generate.write(str(tmp_path / "b"), roles=7, statements=3, requirements=40, stacks=2, modules=2)
    for kind in ("export", "manifest"):
        assert open(a[kind]).read() == open(b[kind]).read()
    data = json.load(open(a["export"]))
    assert len(data["RoleDetailList"]) == 7
    assert all(len(r["RolePolicyList"][0]["PolicyDocument"]["Statement"]) == 3 for r in data["RoleDetailList"])
    assert open(a["manifest"]).read().count("- actions:") == 40
    assert sorted(os.listdir(a["cfn"])) == ["stack-0.yaml", "stack-1.yaml"]
    assert sorted(os.listdir(a["tf"])) == ["mod-0", "mod-1"]


def test_the_generated_inputs_are_read_as_meant(tmp_path):
    """The export's roles are principals, half of the manifest's needs are met and half are not:
    the benchmark measures real work, not an input error."""
    sys.path.insert(0, BENCH)
    try:
        import generate
    finally:
        sys.path.remove(BENCH)
    paths = generate.write(str(tmp_path), roles=4, statements=2, requirements=8)
    done = subprocess.run([sys.executable, "-m", "iamgate", "check", "--manifest", paths["manifest"],
                           "--format", "json", paths["export"]], capture_output=True, text=True, cwd=str(tmp_path),
                          env={**os.environ, "PYTHONPATH": os.path.join(ROOT, "src")})
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert (report["summary"]["requirements"], report["summary"]["satisfied"]) == (8, 4)
    missing = sorted((f["kind"], f["principal"], f["action"], f["resource"]) for f in report["findings"])
    assert missing == [("missing-permission", f"role-0000{i}", "sqs:SendMessage",
                        f"arn:aws:sqs:us-east-1:111122223333:queue-{i}-1") for i in range(4)]
