"""--format gitlab: a Code Quality report with the fields GitLab documents
(https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format): each issue has a
string description, check_name and fingerprint, a severity of info/minor/major/critical/blocker and
a location with a relative path and lines.begin."""
import json

from iamgate.model import Location, Report, fingerprint
from iamgate.report import gitlab

from .formats import STACK, example, lint, missing

SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def documented(issues):
    """Each issue as GitLab reads it; raises AssertionError on what GitLab would reject or merge."""
    assert isinstance(issues, list)
    prints = [i["fingerprint"] for i in issues]
    assert len(prints) == len(set(prints)), "GitLab shows one issue per fingerprint"
    for issue in issues:
        for key in ("description", "check_name", "fingerprint"):
            assert isinstance(issue[key], str) and issue[key]
        assert issue["severity"] in SEVERITIES
        path = issue["location"]["path"]
        assert isinstance(path, str) and path and not path.startswith("/") and "\\" not in path
        begin = issue["location"]["lines"]["begin"]
        assert isinstance(begin, int) and begin >= 1
    return issues


def test_the_example_report(capsys, monkeypatch):
    rc, out = example(capsys, monkeypatch, "gitlab")
    assert rc == 1
    issues = documented(json.loads(out))
    assert sorted((i["check_name"], i["severity"], i["location"]["path"]) for i in issues) == [
        ("IG1001", "major", STACK)] * 3 + [("IG2202", "major", STACK)]
    put = next(i for i in issues if "s3:PutObject" in i["description"])
    assert put["description"] == ("WorkerRole: s3:PutObject on arn:aws:s3:::invoices-prod-111122223333/2026/*: "
                                  "implicit deny (identity)")
    assert put["location"]["lines"] == {"begin": 64}
    assert "fix: add to policy \"worker\"" in put["content"]["body"]


def test_severities_and_a_finding_without_a_line():
    no_line = lint(2, "warning").__class__(**{**lint(2, "warning").__dict__, "location": Location("p/admin.json")})
    issues = documented(json.loads(gitlab.render(Report((missing(1), no_line, lint(3, "note"))))))
    assert [(i["check_name"], i["severity"]) for i in issues] == [("IG1001", "major"), ("IG3007", "minor"),
                                                                 ("IG0005", "info")]
    assert issues[1]["location"] == {"path": "p/admin.json", "lines": {"begin": 1}}


def test_fingerprints_are_line_independent_and_unique():
    a = missing(1)
    moved = a.__class__(**{**a.__dict__, "location": Location(a.location.file, 300)})
    one = json.loads(gitlab.render(Report((a,))))[0]["fingerprint"]
    assert one == json.loads(gitlab.render(Report((moved,))))[0]["fingerprint"] == fingerprint(a)
    twins = (lint(1, message="policy a"), lint(1, message="policy b"))
    documented(json.loads(gitlab.render(Report(twins))))


def test_suppressed_and_fileless_findings_are_left_out():
    nowhere = lint(5, "error").__class__(**{**lint(5, "error").__dict__, "location": None})
    report = Report((missing(1, suppressed=("accepted", "iamgate.yaml:3")), missing(2), nowhere))
    issues = documented(json.loads(gitlab.render(report)))
    assert [i["description"] for i in issues] == ["WorkerRole: s3:PutObject on arn:aws:s3:::bucket-2/*: implicit "
                                                  "deny (identity)"]


def test_an_empty_report_is_an_empty_array():
    assert json.loads(gitlab.render(Report(()))) == []
