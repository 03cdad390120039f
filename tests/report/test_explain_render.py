"""iamgate explain rendered: the JSON document of an explanation (against the shipped
account-export example, as tests/findings/test_explain.py judges it)."""
import json
import os
import shutil

import pytest

from iamgate.findings.explain import explain
from iamgate.manifest import load_manifest
from iamgate.pipeline import scope_from
from iamgate.report.explain import render_json
from iamgate.scan import read_inventory, read_policy_files
from iamgate.sources import options_from
from iamgate.sources.denials import parse_message

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "account-export")
ACCT = "111122223333"
SESSION = f"arn:aws:sts::{ACCT}:assumed-role/orders-worker/task-1"
OBJECT = f"arn:aws:s3:::orders-prod-{ACCT}/invoices/x"


@pytest.fixture(scope="module")
def code(tmp_path_factory):
    root = tmp_path_factory.mktemp("explain") / "acct"
    shutil.copytree(EXAMPLE, root)
    path = str(root / "iamgate.yaml")
    with open(path, encoding="utf-8") as fh:
        manifest = load_manifest(path, fh.read())
    inventory = read_inventory([str(root)], options_from(manifest.settings, manifest.resolve))
    kinds = {manifest.resolve(f): "scp" for f in manifest.scp}
    files, problems = read_policy_files(list(kinds), kinds)
    assert not problems and len(files) == 2
    return inventory, manifest, files


def run(code, message):
    inventory, manifest, files = code
    return explain(scope_from(inventory, manifest, files), parse_message(message))


def test_json_output(code):
    e = run(code, f'User: {SESSION} is not authorized to perform: s3:PutObject on resource: "{OBJECT}" because no '
                  "identity-based policy allows the s3:PutObject action")
    doc = json.loads(render_json(e))
    assert doc["version"] == 1 and doc["conclusion"] == "agrees"
    assert doc["message"]["caller"] == SESSION and doc["message"]["role_name"] == "orders-worker"
    assert (doc["message"]["denial"], doc["message"]["policy_type"]) == ("implicit", "identity")
    assert (doc["principal"], doc["decision"], doc["blocked_by"]) == ("orders-worker", "implicit_deny", ["identity"])
    assert doc["cause"][0] == "implicit deny: no identity-based policy allows s3:PutObject"
    assert {"policy_kind", "policy", "sid", "effect", "outcome", "reason", "failed_conditions", "location"} \
        == set(doc["trace"][0])
    assert doc["context"]["aws:userid"].endswith(":task-1")
    assert json.loads(render_json(run(code, "nothing")))["decision"] is None
