"""The root cache (sources/terraform/rootcache.py): a warm run reports exactly what a cold run
reports, on the corpus (../shared, skipped when absent), the examples and a generated repository,
and sees every kind of input its evaluation read change; the JSON codec it stores results with
gives back values equal to what was computed, to the type."""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import os
from pathlib import Path

import pytest

from iamgate.model import Inventory, Location, ResourceRef, Settings, Statement
from iamgate.sources import ReadOptions, codec, read_inventory
from iamgate.sources.terraform import config, rootcache
from iamgate.sources.terraform.policy_document import RenderedJson, RenderedPartial
from iamgate.sources.values import Partial, Unknown

from ...cli import run

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT.parent / "shared" / "corpus" / "terraform"
CORPUS_FOLDERS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []


# ------------------------------------------------------------------------------------ helpers


def same(a, b, path="") -> None:
    """``a`` and ``b`` equal to the type, in every field (also those a dataclass does not compare:
    ``Resource.properties``), dicts in the same order, a rendered document's statement locations."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{path}: keys {list(a)} != {list(b)}"
        for k in a:
            same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{path}: {len(a)} != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, frozenset):
        assert a == b, path
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), path
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"
    if isinstance(a, (RenderedJson, RenderedPartial)):
        same(a.statement_locations, b.statement_locations, f"{path}.statement_locations")


def round_trip(value):
    return codec.decode(json.loads(json.dumps(codec.encode(value), allow_nan=False)))


def generated(folder: Path, modules: int) -> Path:
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write(str(folder), modules=modules)
    return folder / "tf"


def write(folder: Path, files: dict) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


@pytest.fixture
def evaluations(monkeypatch):
    """How many root modules were evaluated (not answered by the root cache) since the test began."""
    calls = []
    real = config._evaluate_root

    def counting(*args):
        calls.append(args[1].directory)
        return real(*args)
    monkeypatch.setattr(config, "_evaluate_root", counting)
    return calls


def check(capsys, monkeypatch, cache: Path, *argv):
    """``iamgate check ... --format json`` with the cache in ``cache``: (exit code, report)."""
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(cache))
    monkeypatch.delenv("IAMGATE_NO_CACHE", raising=False)
    rc, out, err = run(capsys, "check", *argv, "--format", "json")
    assert rc in (0, 1), err
    return rc, out


# ------------------------------------------------------------------------------------ the codec


@pytest.mark.parametrize("value", [
    None, True, False, 0, 1, -7, 2 ** 70, 1.0, 0.1, -0.0, "", "é\u2028\ud800", (), [], {}, (1, (2,)), [1, [2]],
    {"b": 1, "a": 2}, {1: "x", "1": "y"}, {True: 1}, {(1, 2): [3]}, frozenset({"a", "b", "c"}), frozenset(),
    Partial(("arn:aws:s3:::", Unknown("var.bucket", 3, file="variables.tf"), "/*")),
    Unknown("x", synthesized=True), ResourceRef("aws_sqs_queue.q", "arn", "arn:aws:sqs:x"),
    [True, 1, 1.0, "1", None], {"a": (True,), "b": [1.5, {"c": frozenset({1})}]},
    Statement("Allow", ("s3:GetObject",), principals={"AWS": ("*",)}, location=Location("a.tf", 3),
              unresolved=frozenset({"Resource", "Action"})),
    Settings(account="111122223333", variables={"env": "prod", "n": 1, "flag": True, "l": [1, {"x": None}]},
             var_files=("a.tfvars",)),
])
def test_a_value_reads_back_equal_to_the_type(value):
    same(round_trip(value), value)


def test_a_rendered_policy_document_keeps_where_its_statements_were_written():
    text = RenderedJson('{"Statement": []}')
    text.statement_locations = (Location("iam.tf", 4), None)
    partial = RenderedPartial(("{", Unknown("x"), "}"))
    partial.statement_locations = (Location("iam.tf", 9),)
    for value in (text, partial, RenderedJson("plain")):
        same(round_trip(value), value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object(), {1, 2}, bytearray(b"x"),
                                   Path("a"), (1, float("-inf"))])
def test_what_json_cannot_hold_faithfully_is_refused(value):
    with pytest.raises(TypeError):
        codec.encode(value)


def test_an_object_with_attributes_besides_its_fields_is_refused():
    location = Location("a.tf", 1)
    object.__setattr__(location, "note", "kept nowhere")
    document = RenderedJson("{}")
    document.other = 1
    for value in (location, document, (Location("b.tf"), location)):
        with pytest.raises(TypeError):
            codec.encode(value)


@pytest.mark.parametrize("data", [{"c": "Popen", "v": []}, {"c": "Location", "v": ["a"]}, {"x": 1},
                                  {"c": "Location", "v": ["a", 1, 2, 3, 4, 5]},
                                  {"l": [1], "o": {}, "f": []}, {"c": "Location", "v": {"file": "a"}}])
def test_what_the_encoder_never_writes_is_refused(data):
    with pytest.raises((KeyError, TypeError, ValueError)):
        codec.decode(data)


def _folders():
    out = [pytest.param(ROOT / "examples" / "terraform", id="examples/terraform")]
    out += [pytest.param(CORPUS / name, id=f"corpus/{name}") for name in CORPUS_FOLDERS]
    if not CORPUS_FOLDERS:
        out.append(pytest.param(None, id="corpus", marks=pytest.mark.skip("../shared/corpus is absent")))
    return out


@pytest.mark.parametrize("folder", _folders())
def test_every_inventory_of_the_terraform_folders_reads_back_equal(folder, monkeypatch, tmp_path):
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    options = ReadOptions(account="111122223333", region="eu-west-1", variables={"env": "prod"})
    inventory = read_inventory([str(folder)], options)
    same(round_trip(inventory), inventory)
    same(round_trip(options), options)


def test_every_root_stored_reads_back_equal(monkeypatch, tmp_path):
    """What each root of the examples, the corpus and a generated repository stores (its inventory,
    notes, unresolved values, excluded resources) is what was computed, field by field."""
    stored = []
    real = rootcache.RootCache.entry_data

    def keep(deps, value):
        stored.append(value)
        return real(deps, value)
    monkeypatch.setattr(rootcache.RootCache, "entry_data", staticmethod(keep))
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "cache"))
    folders = [ROOT / "examples" / "terraform", generated(tmp_path / "gen", 5), write(tmp_path / "tree", TREE) / "live"]
    folders += [CORPUS / name for name in CORPUS_FOLDERS]
    for folder in folders:
        read_inventory([str(folder)], ReadOptions(variables={"env": "prod"}))
    assert len(stored) >= 7
    for value in stored:
        same(round_trip(value), value)
    assert all(isinstance(v[0], Inventory) for v in stored)


# ------------------------------------------------------------------------------------ cold and warm


@pytest.mark.parametrize("name", ["examples", "generated"] + [f"corpus/{n}" for n in CORPUS_FOLDERS])
def test_a_warm_check_reports_what_a_cold_one_does(name, tmp_path, monkeypatch, capsys, evaluations):
    monkeypatch.chdir(ROOT)
    if name == "examples":
        argv = ["--manifest", "examples/terraform/iamgate.yaml", "examples/terraform"]
    elif name == "generated":
        argv = [str(generated(tmp_path / "gen", 12))]
    else:
        argv = [str(CORPUS / name.split("/", 1)[1])]
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    uncached = run(capsys, "check", *argv, "--format", "json")[:2]
    cold = check(capsys, monkeypatch, tmp_path / "cache", *argv)
    evaluated = len(evaluations)
    warm = check(capsys, monkeypatch, tmp_path / "cache", *argv)
    assert warm == cold == uncached
    assert len(evaluations) == evaluated, "the warm run evaluated roots again"
    if evaluated:
        assert os.listdir(tmp_path / "cache" / "tfroots")


def test_no_cache_means_no_root_entries(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    run(capsys, "check", "examples/terraform", "--format", "json")
    assert not (tmp_path / "cache").exists()


# ------------------------------------------------------------------------------------ edits seen

TRUST = ('jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow", Action = "sts:AssumeRole", '
         'Principal = {Service = "lambda.amazonaws.com"}}]})')
TREE = {
    # the root module, the only folder scanned
    "live/main.tf": '''
variable "env" {}
variable "team" { default = "a" }
variable "prefix" { default = "data" }

module "role" {
  source = "../modules/role"
  name   = "app-${var.env}-${var.team}"
}

resource "aws_iam_role_policy" "s3" {
  name   = "s3"
  role   = module.role.name
  policy = templatefile("${path.module}/policy.json.tpl", { bucket = "${var.prefix}-${var.env}" })
}
''',
    "live/terraform.tfvars": 'env = "prod"\n',
    "live/policy.json.tpl": '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
                            '"Action": "s3:GetObject", "Resource": "arn:aws:s3:::${bucket}/*"}]}\n',
    # a module outside the scanned folder
    "modules/role/main.tf": f'''
variable "name" {{}}

resource "aws_iam_role" "this" {{
  name               = var.name
  assume_role_policy = {TRUST}
}}

resource "aws_iam_role_policy" "sqs" {{
  role   = aws_iam_role.this.id
  policy = jsonencode({{Version = "2012-10-17", Statement = [{{Effect = "Allow", Action = "sqs:SendMessage",
                       Resource = "arn:aws:sqs:eu-west-1:111122223333:${{var.name}}"}}]}})
}}

output "name" {{ value = aws_iam_role.this.name }}
''',
    "extra.tfvars": 'team = "a"\n',
    "iamgate.yaml": '''version: 1
settings:
  account: "111122223333"
  region: eu-west-1
  variables:
    prefix: data
principals:
  - principal: module.role.aws_iam_role.this
    needs:
      - actions: s3:GetObject
        resources: "arn:aws:s3:::data-prod/report.csv"
      - actions: sqs:SendMessage
        resources: "arn:aws:sqs:eu-west-1:111122223333:app-prod-a"
      - actions: s3:PutObject
        resources: "arn:aws:s3:::logs-prod/report.csv"
''',
}

EDITS = {
    "a .tf of the root": ("live/main.tf", 'bucket = "${var.prefix}-${var.env}"', 'bucket = "${var.prefix}-x"'),
    "a .tf of a called module outside the scan": ("modules/role/main.tf", "sqs:SendMessage", "sqs:ReceiveMessage"),
    "a new .tf in a called module": ("modules/role/extra.tf", None,
                                     'resource "aws_iam_role_policy" "logs" {\n  role = aws_iam_role.this.id\n'
                                     '  policy = jsonencode({Version = "2012-10-17", Statement = [{Effect = "Allow",'
                                     ' Action = "s3:PutObject", Resource = "arn:aws:s3:::logs-prod/*"}]})\n}\n'),
    "a .tfvars of the root": ("live/terraform.tfvars", 'env = "prod"', 'env = "dev"'),
    "a new .auto.tfvars": ("live/x.auto.tfvars", None, 'env = "qa"\n'),
    "a templatefile target": ("live/policy.json.tpl", "s3:GetObject", "s3:GetObjectVersion"),
    "a --var-file": ("extra.tfvars", 'team = "a"', 'team = "c"'),
    "the manifest's variables": ("iamgate.yaml", "prefix: data", "prefix: logs"),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_warm_check_sees_each_input_of_a_root_change(edit, tmp_path, monkeypatch, capsys, evaluations):
    repo = write(tmp_path / "repo", TREE)
    monkeypatch.chdir(repo)
    argv = ["--manifest", "iamgate.yaml", "--var-file", "extra.tfvars", "live"]
    cache = tmp_path / "cache"
    before = check(capsys, monkeypatch, cache, *argv)
    assert check(capsys, monkeypatch, cache, *argv) == before and len(evaluations) == 1  # warm: from the cache
    name, old, new = EDITS[edit]
    path = repo / name
    path.write_text(new if old is None else path.read_text().replace(old, new))
    warm = check(capsys, monkeypatch, cache, *argv)
    cold = check(capsys, monkeypatch, tmp_path / "fresh", *argv)
    assert warm == cold
    assert warm != before, "the edit changes the report"
    # and back: the entry written for the edited tree is not used for the original one
    path.write_text(TREE[name]) if old is not None else path.unlink()
    assert check(capsys, monkeypatch, cache, *argv) == before


def test_a_damaged_or_foreign_entry_is_evaluated_again(tmp_path, monkeypatch, capsys, evaluations):
    repo = write(tmp_path / "repo", TREE)
    monkeypatch.chdir(repo)
    argv = ["--manifest", "iamgate.yaml", "live"]
    cache = tmp_path / "cache"
    before = check(capsys, monkeypatch, cache, *argv)
    (entry,) = [p for p in (cache / "tfroots").rglob("*.json")]  # the pack of this scan
    for damage in (b"", b"{not json", json.dumps({"format": rootcache.FORMAT, "key": "other"}).encode(),
                   entry.read_bytes().replace(b'"c":"Principal"', b'"c":"Popen"'),
                   entry.read_bytes().replace(b'"deps":[', b'"deps":[["nonsense","x","y"],')):
        entry.write_bytes(damage)
        count = len(evaluations)
        assert check(capsys, monkeypatch, cache, *argv) == before
        assert len(evaluations) == count + 1


def test_a_revision_checked_out_elsewhere_is_not_root_cached(tmp_path, monkeypatch, evaluations):
    """``diff`` reads the base revision from a new temporary folder at every run: entries for it
    would never be read again, only pile up."""
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("IAMGATE_NO_CACHE", raising=False)
    read_inventory([str(ROOT / "examples" / "terraform")], ReadOptions(), cwd=str(ROOT))
    assert evaluations and not (tmp_path / "cache" / "tfroots").exists()
    read_inventory([str(ROOT / "examples" / "terraform")], ReadOptions())
    assert (tmp_path / "cache" / "tfroots").exists()
