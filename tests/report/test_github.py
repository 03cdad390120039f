"""--format github: workflow commands GitHub turns into annotations, escaped as the Actions
toolkit escapes them, at most N per level and then one summary notice."""
from iamgate.model import Location, Report
from iamgate.report import github

from .formats import STACK, example, lint, missing


def test_the_example_annotates_each_missing_permission(capsys, monkeypatch):
    monkeypatch.delenv("IAMGATE_GITHUB_ANNOTATIONS", raising=False)
    rc, out = example(capsys, monkeypatch, "github")
    assert rc == 1
    lines = out.splitlines()
    assert len(lines) == 4 and all(line.startswith("::error file=") for line in lines)
    put = next(line for line in lines if "s3:PutObject on" in line)
    head, _, message = put[len("::error "):].partition("::")
    assert head == f"file={STACK},line=64,title=IG1001 missing-permission"
    assert message.startswith("WorkerRole: s3:PutObject on arn:aws:s3:::invoices-prod-111122223333/2026/*")
    assert "%0Afix: add to policy" in message and "\n" not in message


def test_escaping_of_data_and_properties():
    assert github.escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    f = lint(1, "error", file="dir,with:odd/100%.json", message="bad: 100% \"x\", y\nsecond line")
    line = github.command(f)
    assert line == ("::error file=dir%2Cwith%3Aodd/100%25.json,line=1001,title=IG3001 malformed-policy::"
                    "bad: 100%25 \"x\", y%0Asecond line")


def test_levels_and_spans():
    note = lint(1, "note")
    warning = lint(2, "warning")
    spanned = missing(3)
    out = github.render(Report((note, warning, spanned))).splitlines()
    assert out[0].startswith("::error file=infra/stack.yaml,line=4,col=3,endLine=4,endColumn=20,title=IG1001 ")
    assert out[1].startswith("::warning file=infra/stack.yaml,line=1002,title=IG3007 ")
    assert out[2].startswith("::notice file=infra/stack.yaml,line=1001,title=IG0005 ")


def test_a_finding_without_a_file_is_annotated_on_the_run():
    f = lint(1, "error").__class__(**{**lint(1, "error").__dict__, "location": None})
    assert github.command(f).startswith("::error title=IG3001 malformed-policy::")


def test_suppressed_findings_are_not_annotated():
    report = Report((missing(1, suppressed=("accepted", "iamgate.yaml:3")), missing(2)))
    out = github.render(report).splitlines()
    assert len(out) == 1 and "bucket-2" in out[0]


def test_only_the_first_per_level_then_one_summary(monkeypatch):
    monkeypatch.delenv("IAMGATE_GITHUB_ANNOTATIONS", raising=False)
    report = Report(tuple(lint(i, "warning") for i in range(15)) + tuple(missing(i) for i in range(32))
                    + tuple(lint(100 + i, "note") for i in range(3)))
    out = github.render(report).splitlines()
    assert sum(line.startswith("::error ") for line in out) == 10
    assert sum(line.startswith("::warning ") for line in out) == 10
    assert sum(line.startswith("::notice file=") for line in out) == 3
    assert out[-1].startswith("::notice title=iamgate::… and 27 more findings not annotated")
    # the errors first, by file and line: the first ones of the role
    assert "bucket-0/" in out[0] and "bucket-9/" in out[9]


def test_many_notes_leave_room_for_the_summary(monkeypatch):
    monkeypatch.setenv("IAMGATE_GITHUB_ANNOTATIONS", "5")
    report = Report(tuple(lint(i, "note") for i in range(5)) + tuple(missing(i) for i in range(6)))
    out = github.render(report).splitlines()
    assert sum(line.startswith("::error ") for line in out) == 5
    assert sum(line.startswith("::notice file=") for line in out) == 4  # and the summary: 5 notices
    assert out[-1].startswith("::notice title=iamgate::… and 2 more findings")


def test_nothing_to_say_is_empty_output():
    assert github.render(Report(())) == ""


def test_a_bad_limit_in_the_environment_is_the_default(monkeypatch):
    monkeypatch.setenv("IAMGATE_GITHUB_ANNOTATIONS", "lots")
    assert github.per_level() == 10


def test_absolute_paths_under_the_working_directory_are_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    f = lint(1, "error").__class__(**{**lint(1, "error").__dict__,
                                      "location": Location(str(tmp_path / "infra" / "a.yaml"), 7)})
    assert github.command(f).startswith("::error file=infra/a.yaml,line=7,")
