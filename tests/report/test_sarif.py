"""--format sarif: SARIF 2.1.0 as GitHub code scanning takes it, validated against the official
schema (../shared/data), and its structure checked without the schema."""
import gzip
import json
import os

import pytest

from iamgate.model import Location, Report, fingerprint
from iamgate.report import sarif
from iamgate.rules.registry import default_rules

from .formats import STACK, example, lint, many, missing, with_fix

SCHEMA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "sarif-schema-2.1.0.json")
SHARED = "/work/shared/data/sarif-schema-2.1.0.json"


def schema():
    for path in (SCHEMA, SHARED):
        if os.path.exists(path):
            with open(path, encoding="utf-8") as fh:
                return json.load(fh)
    pytest.skip("the SARIF schema (../shared/data/sarif-schema-2.1.0.json) is not here")


def validate(doc):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft4Validator(schema()).validate(doc)


@pytest.mark.parametrize("which", ["cloudformation", "terraform", "account-export"])
def test_the_examples_are_valid_sarif(capsys, monkeypatch, which):
    rc, out = example(capsys, monkeypatch, "sarif", which=which)
    assert rc == 1
    doc = json.loads(out)
    validate(doc)
    assert doc["runs"][0]["results"] and all(r["locations"] for r in doc["runs"][0]["results"])


def test_the_example_structure(capsys, monkeypatch):
    monkeypatch.delenv("IAMGATE_SARIF_CATEGORY", raising=False)
    _, out = example(capsys, monkeypatch, "sarif")
    doc = json.loads(out)
    assert doc["version"] == "2.1.0" and len(doc["runs"]) == 1
    run = doc["runs"][0]
    assert run["automationDetails"] == {"id": "iamgate/check/"}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file:///")
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")
    driver = run["tool"]["driver"]
    assert driver["name"] == "iamgate" and driver["version"] and driver["informationUri"].startswith("https://")
    # every rule of the registry, with its documentation
    assert [r["id"] for r in driver["rules"]] == [r.id for r in default_rules()]
    ig1001 = next(r for r in driver["rules"] if r["id"] == "IG1001")
    rule = default_rules()["IG1001"]
    assert ig1001["name"] == "missing-permission"
    assert ig1001["shortDescription"]["text"] == rule.title
    assert ig1001["fullDescription"]["text"] == rule.what
    assert ig1001["helpUri"] == rule.url
    assert rule.why in ig1001["help"]["text"] and "## Fix" in ig1001["help"]["markdown"]
    assert ig1001["defaultConfiguration"]["level"] == "error"
    results = run["results"]
    assert sorted((r["ruleId"], r["properties"]["action"]) for r in results) == [
        ("IG1001", "kms:GenerateDataKey"), ("IG1001", "s3:PutObject"), ("IG1001", "sns:Publish"),
        ("IG2202", "sqs:SendMessage")]
    for r in results:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] == "error"
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"] == {"uri": STACK, "uriBaseId": "%SRCROOT%"}
        assert loc["region"]["startLine"] >= 1
        assert len(r["partialFingerprints"]["iamgate/v1"]) == 32
    put = next(r for r in results if r["properties"]["action"] == "s3:PutObject")
    assert put["locations"][0]["physicalLocation"]["region"] == {"startLine": 64}
    assert put["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "examples/cloudformation/iamgate.yaml"
    assert put["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"].strip().startswith(
        "- Effect: Allow")
    assert "suppressions" not in put


def test_category_from_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("IAMGATE_SARIF_CATEGORY", "prod")
    _, out = example(capsys, monkeypatch, "sarif")
    assert json.loads(out)["runs"][0]["automationDetails"] == {"id": "iamgate/prod/"}


def test_fingerprints_do_not_depend_on_the_line():
    a, b = missing(1), missing(1)
    moved = b.__class__(**{**b.__dict__, "location": Location(b.location.file, 400)})
    one = json.loads(sarif.render(Report((a,))))["runs"][0]["results"][0]
    two = json.loads(sarif.render(Report((moved,))))["runs"][0]["results"][0]
    assert one["partialFingerprints"] == two["partialFingerprints"] == {"iamgate/v1": fingerprint(a)}
    assert one["locations"] != two["locations"]


def test_equal_keys_get_distinct_fingerprints():
    # two policies of one file with the same flaw at the same element path: one key, two alerts
    first, second = lint(1, message="policy a"), lint(1, message="policy b")
    second = second.__class__(**{**second.__dict__, "location": Location(second.location.file, 2000)})
    assert fingerprint(first) == fingerprint(second)
    results = json.loads(sarif.render(Report((first, second))))["runs"][0]["results"]
    prints = [r["partialFingerprints"]["iamgate/v1"] for r in results]
    assert len(set(prints)) == 2 and fingerprint(first) in prints


def test_suppressed_findings_stay_with_their_suppression():
    report = Report((missing(1, suppressed=("the bucket is written by a batch job", "Metadata of Worker (s.yaml:12)")),
                     missing(2, suppressed=("accepted until Q3", "iamgate.yaml:30")), missing(3)))
    doc = json.loads(sarif.render(report))
    validate(doc)
    by_resource = {r["properties"]["resource"]: r for r in doc["runs"][0]["results"]}
    assert by_resource["arn:aws:s3:::bucket-1/*"]["suppressions"] == [
        {"kind": "inSource", "status": "accepted",
         "justification": "the bucket is written by a batch job (Metadata of Worker (s.yaml:12))"}]
    assert by_resource["arn:aws:s3:::bucket-2/*"]["suppressions"][0]["kind"] == "external"
    assert "suppressions" not in by_resource["arn:aws:s3:::bucket-3/*"]


def test_regions_files_without_lines_and_findings_without_files():
    no_line = lint(1).__class__(**{**lint(1).__dict__, "location": Location("policies/admin.json")})
    nowhere = lint(2).__class__(**{**lint(2).__dict__, "location": None})
    spanned = missing(4)
    doc = json.loads(sarif.render(Report((no_line, nowhere, spanned))))
    validate(doc)
    results = {r["properties"].get("resource", r["message"]["text"]): r for r in doc["runs"][0]["results"]}
    assert results["arn:aws:s3:::bucket-4/*"]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 5, "startColumn": 3, "endLine": 5, "endColumn": 20}
    file_only = next(r for r in doc["runs"][0]["results"] if r["message"]["text"].startswith("policy 1"))
    assert file_only["locations"] == [{"physicalLocation": {"artifactLocation": {
        "uri": "policies/admin.json", "uriBaseId": "%SRCROOT%"}}}]
    assert "locations" not in next(r for r in doc["runs"][0]["results"] if r["message"]["text"].startswith("policy 2"))


def test_a_replacing_fix_is_a_sarif_fix():
    doc = json.loads(sarif.render(Report((with_fix(),))))
    validate(doc)
    rep = doc["runs"][0]["results"][0]["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert rep["deletedRegion"] == {"startLine": 12, "startColumn": 1, "endLine": 13, "endColumn": 1}


def test_a_file_outside_the_working_directory_is_an_absolute_uri(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outside = os.path.abspath(os.path.join(str(tmp_path), "..", "elsewhere", "policy.json"))
    f = lint(1).__class__(**{**lint(1).__dict__, "location": Location(outside, 3)})
    loc = json.loads(sarif.render(Report((f,))))["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].startswith("file:///") and "uriBaseId" not in loc["artifactLocation"]


def test_over_the_result_limit_the_rest_is_summarized():
    report = Report(tuple(lint(i, "note") for i in range(30)) + tuple(missing(i) for i in range(5)))
    doc = json.loads(sarif.render(report, max_results=10))
    validate(doc)
    results = doc["runs"][0]["results"]
    assert len(results) == 10
    # the errors first: all five are kept
    assert [r["ruleId"] for r in results[:5]] == ["IG1001"] * 5
    last = results[-1]
    assert last["ruleId"] == "iamgate/truncated" and last["properties"]["omitted"] == 26
    assert doc["runs"][0]["tool"]["driver"]["rules"][last["ruleIndex"]]["id"] == "iamgate/truncated"
    assert last["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "infra/stack.yaml"


def test_githubs_real_limits_hold_for_a_huge_report():
    report = many(25_010)
    text = sarif.render(report)
    doc = json.loads(text)
    results = doc["runs"][0]["results"]
    assert len(results) == sarif.MAX_RESULTS
    assert results[-1]["properties"]["omitted"] == 11
    assert len(gzip.compress(text.encode())) <= sarif.MAX_GZIPPED


def test_over_the_size_limit_fewer_results_are_kept():
    report = many(200)
    empty = len(gzip.compress(sarif.render(Report(())).encode()))  # the rules' documentation
    limit = empty + 3_000
    text = sarif.render(report, max_gzipped=limit)
    assert len(gzip.compress(text.encode())) <= limit
    results = json.loads(text)["runs"][0]["results"]
    assert results[-1]["ruleId"] == "iamgate/truncated"
    assert 1 < len(results) < 200
    assert len(results) - 1 + results[-1]["properties"]["omitted"] == 200


def test_sarif_to_a_file_and_annotations_from_one_run(capsys, monkeypatch, tmp_path):
    target = tmp_path / "out.sarif"
    rc, out = example(capsys, monkeypatch, f"sarif:{target}", "github")
    assert rc == 1
    validate(json.loads(target.read_text()))
    assert len(json.loads(target.read_text())["runs"][0]["results"]) == 4
    assert out.count("::error ") == 4
