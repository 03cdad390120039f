"""--format junit: one test case per requirement (failing when not allowed) and per other finding
(failing at error severity), in XML that parses."""
import xml.etree.ElementTree as ET

from iamgate.model import Report
from iamgate.report import junit

from .formats import example, lint, missing, outcome


def parse(text):
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    (suite,) = root
    assert suite.tag == "testsuite"
    return root, suite


def test_the_example_requirements_are_test_cases(capsys, monkeypatch):
    rc, out = example(capsys, monkeypatch, "junit")
    assert rc == 1
    root, suite = parse(out)
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("9", "4", "0")
    assert root.get("tests") == "9" and root.get("failures") == "4"
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    put = cases[("WorkerRole", "s3:PutObject on arn:aws:s3:::invoices-prod-111122223333/2026/*")]
    failure = put.find("failure")
    assert failure.get("type") == "implicit_deny"
    assert failure.get("message") == "s3:PutObject on arn:aws:s3:::invoices-prod-111122223333/2026/*: implicit deny (identity)"
    assert "fix: add to policy \"worker\"" in failure.text
    assert (put.get("file"), put.get("line")) == ("examples/cloudformation/iamgate.yaml", "10")
    get = cases[("WorkerRole", "s3:GetObject on arn:aws:s3:::invoices-prod-111122223333/2026/*")]
    assert list(get) == []
    assert cases[("sns.amazonaws.com", "sqs:SendMessage on "
                  "arn:aws:sqs:eu-west-1:111122223333:orders-stack-JobsQueue-C46EF90E4E96")].find("failure") is not None


def test_suppressed_requirements_are_skipped_and_other_findings_are_cases():
    findings = (missing(1, suppressed=("accepted until Q3", "iamgate.yaml:30")), missing(2),
                lint(3, "error", message="bad <policy> & \x01 control"), lint(4, "warning"),
                lint(5, "error").__class__(**{**lint(5, "error").__dict__,
                                              "suppressed": ("legacy", "Metadata of Old (s.yaml:2)")}))
    report = Report(findings, (outcome(1), outcome(2), outcome(3, "allow")), principals=1)
    _, suite = parse(junit.render(report))
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("6", "2", "2")
    cases = list(suite.iter("testcase"))
    assert cases[0].find("skipped").get("message") == "suppressed: accepted until Q3 (iamgate.yaml:30)"
    assert cases[1].find("failure").get("type") == "implicit_deny"
    assert list(cases[2]) == []
    lints = {c.get("name"): c for c in cases[3:]}
    bad = lints["IG3001: bad <policy> & \ufffd control"]
    assert bad.find("failure").get("type") == "invalid-policy"
    assert bad.get("classname") == "infra/stack.yaml" and bad.get("line") == "1003"
    assert lints["IG3007: policy 4: the statement allows every action"].find("system-out").text.startswith("warning: ")
    assert lints["IG3001: policy 5: the statement allows every action"].find("skipped") is not None


def test_a_missing_permission_with_no_requirement_is_still_a_case():
    _, suite = parse(junit.render(Report((missing(7),))))
    (case,) = suite.iter("testcase")
    assert case.find("failure").get("type") == "missing-permission"


def test_an_empty_report_parses():
    _, suite = parse(junit.render(Report(())))
    assert suite.get("tests") == "0"
