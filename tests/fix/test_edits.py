"""Applying edits and the unified diff, on in-memory files."""
from iamgate.fix import apply_fixes, unified_diff
from iamgate.fix.edits import apply_edits
from iamgate.model import Edit, Fix


# ---------------------------------------------------------------------------------------------
# Diffs and edits on in-memory files


def test_unified_diff_of_several_edits_in_one_file():
    files = {"p.yaml": "a\nb\nc\nd\n", "q.txt": "x\ny"}
    fixes = [
        Fix("p.yaml", 2, "", (Edit("p.yaml", 3, 2, "one\n"), Edit("p.yaml", 4, 4, "D\n"))),
        Fix("p.yaml", 2, "", (Edit("p.yaml", 3, 2, "one\n"), Edit("p.yaml", 3, 2, "two\n"))),  # same place
        Fix("q.txt", 3, "", (Edit("q.txt", 3, 2, "z\n"),)),  # after a last line with no newline
    ]
    assert apply_edits(files["p.yaml"], [e for f in fixes[:2] for e in f.edits]) == "a\nb\none\ntwo\nc\nD\n"
    diff = unified_diff(fixes, files.get)
    assert diff.startswith("diff --git a/p.yaml b/p.yaml\n--- a/p.yaml\n+++ b/p.yaml\n")
    assert "-y\n\\ No newline at end of file\n+y\n+z\n" in diff
    written = {}
    assert apply_fixes(fixes, files.get, written.__setitem__) == ["p.yaml", "q.txt"]
    assert written == {"p.yaml": "a\nb\none\ntwo\nc\nD\n", "q.txt": "x\ny\nz\n"}


def test_crlf_files_keep_their_line_ending():
    assert apply_edits("a\r\nb\r\n", [Edit("f", 2, 1, "new\n")]) == "a\r\nnew\r\nb\r\n"
