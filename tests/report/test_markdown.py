"""--format markdown (check): the job summary — counts, the requirement table, the findings by
file with their fixes as suggestions, the details collapsed — within GitHub's 1 MiB."""
from iamgate.model import Report
from iamgate.report import markdown

from .formats import STACK, example, lint, many, missing, outcome, with_fix


def test_the_example_summary(capsys, monkeypatch):
    rc, out = example(capsys, monkeypatch, "markdown")
    assert rc == 1
    assert out.startswith("## ❌ iamgate check\n\n**4 errors** · 0 warnings · 0 notes · 5 of 9 requirements met · "
                          "1 principal\n")
    table = [line for line in out.splitlines() if line.startswith("| `")]
    assert len(table) == 9
    # missing first, then granted
    assert [("granted" in row) for row in table] == [False] * 4 + [True] * 5
    assert ("| `WorkerRole` | `s3:PutObject` | `arn:aws:s3:::invoices-prod-111122223333/2026/*` | "
            "❌ missing (identity) | manifest · `examples/cloudformation/iamgate.yaml:10` |") in table
    assert ("| `sns.amazonaws.com` | `sqs:SendMessage` | "
            "`arn:aws:sqs:eu-west-1:111122223333:orders-stack-JobsQueue-C46EF90E4E96` | ❌ missing (resource) | "
            "IG2202 · `examples/cloudformation/orders-stack.yaml:105` |") in table
    assert f"#### `{STACK}`" in out
    assert out.count("<details><summary>Why</summary>") == 4 and out.count("</details>") == 5
    assert "<details><summary>5 requirements met</summary>" in out
    assert "❌ **IG2202** `sns-subscription-delivery-access`" in out
    # the boundary's fix replaces a line: a suggestion; the policy's fix inserts lines: added lines
    assert "replace `examples/cloudformation/orders-stack.yaml` line 61:\n\n```suggestion\n" \
           "            Action: [s3:*, sqs:*, kms:*, logs:*, sns:Publish]\n```" in out
    assert "insert before `examples/cloudformation/orders-stack.yaml` line 101:\n\n```diff\n+" in out


def test_a_fix_without_edits_is_a_plain_code_block():
    f = with_fix()
    no_edit = f.__class__(**{**f.__dict__, "fix": f.fix.__class__(f.fix.file, None, "add to the role in AWS:\n"
                                                                                  "  Action: s3:PutObject")})
    out = markdown.render(Report((no_edit,)))
    assert "**Fix:** add to the role in AWS:\n\n```\n  Action: s3:PutObject\n```" in out
    assert "suggestion" not in out


def test_a_fix_with_backticks_gets_a_longer_fence():
    f = with_fix()
    edit = f.fix.edits[0].__class__("infra/stack.yaml", 3, 3, "x: ```\n")
    odd = f.__class__(**{**f.__dict__, "fix": f.fix.__class__(f.fix.file, 3, "replace:\n x", (edit,))})
    assert "````suggestion\nx: ```\n````" in markdown.render(Report((odd,)))


def test_text_is_escaped():
    f = lint(1, "error", message="policy <script> | *bold* `tick`")
    out = markdown.render(Report((f,)))
    assert r"policy &lt;script&gt; \| \*bold\* \`tick\`" in out


def test_suppressed_findings_are_collapsed_and_not_counted():
    report = Report((missing(1, suppressed=("accepted until Q3", "iamgate.yaml:30")), missing(2)))
    out = markdown.render(report)
    assert "**1 error** · 0 warnings · 0 notes" in out and "· 1 suppressed" in out
    assert "<details><summary>1 suppressed finding</summary>" in out
    assert "accepted until Q3 (iamgate.yaml:30)" in out
    assert out.count("❌ **IG1001**") == 1


def test_nothing_found():
    out = markdown.render(Report((), (outcome(1, "allow"),), principals=1))
    assert out.startswith("## ✅ iamgate check\n\n0 errors · 0 warnings · 0 notes · 1 of 1 requirements met")
    assert "✅ granted" in out and "### Findings" not in out


def test_a_huge_report_stays_under_githubs_limit():
    report = many(20_000)
    out = markdown.render(report)
    assert len(out.encode("utf-8")) < 1024 * 1024
    assert "> **Truncated:**" in out and "requirement" in out.split("> **Truncated:**")[1]
    assert out.rstrip().endswith("run `iamgate check --format json`.")


def test_truncation_says_what_is_left_out():
    report = Report(tuple(missing(i) for i in range(40)), (outcome(1),), principals=1)
    out = markdown.render(report, budget=8_000)
    assert len(out.encode("utf-8")) <= 8_000
    shown = out.count("❌ **IG1001**")
    assert 0 < shown < 40
    assert f"> **Truncated:** {40 - shown} findings not shown" in out


def test_findings_come_before_the_requirements_met():
    report = Report((lint(1, "error"),), tuple(outcome(i, "allow") for i in range(3)), principals=1)
    out = markdown.render(report)
    assert "### Requirements not met" not in out
    assert out.index("❌ **IG3001**") < out.index("<details><summary>3 requirements met</summary>")


def test_truncated_inside_a_collapsed_section_closes_it():
    report = Report((missing(1),), tuple(outcome(i, "allow") for i in range(400)), principals=1)
    out = markdown.render(report, budget=12_000)
    assert "❌ **IG1001**" in out
    assert out.count("<details>") == out.count("</details>")
    assert "requirements not shown" in out and "finding" not in out.split("> **Truncated:**")[1].split("not shown")[0]
