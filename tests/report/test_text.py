"""The text report: how a fix reads under a finding."""
from iamgate.model import Fix
from iamgate.report.text import fix_lines


def test_fix_lines_indents_the_snippet():
    fix = Fix("f.yaml", 3, 'add to policy "p" (f.yaml:2):\n  - Effect: Allow\nand add to x:\n  y')
    assert fix_lines(fix) == ['fix: add to policy "p" (f.yaml:2):', "       - Effect: Allow",
                              "     and add to x:", "       y"]
