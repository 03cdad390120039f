"""iamgate explain rendered: the JSON document of an explanation (against the shipped
account-export example, as tests/findings/test_explain.py judges it)."""
import json

import pytest

from iamgate.report.explain import render_json

from ..explain_samples import OBJECT, SESSION, account_export, run

@pytest.fixture(scope="module")
def code(tmp_path_factory):
    return account_export(tmp_path_factory)


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
