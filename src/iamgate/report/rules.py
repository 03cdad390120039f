"""``iamgate rules``: every rule of the registry with its documentation (ruff's headings: what it
does, why it matters, an example, the fix), as text or as JSON (``{"version": 1, "rules": […]}``).
"""
from __future__ import annotations

import json
from typing import List

from ..rules.registry import Rule, RuleSet


def render_json(rules: RuleSet) -> str:
    return json.dumps({"version": 1, "rules": [r.as_dict() for r in rules]}, indent=2) + "\n"


def _indented(text: str) -> List[str]:
    return ["    " + line if line else "" for line in text.splitlines()]


def rule_lines(rule: Rule) -> List[str]:
    """One rule documented in full."""
    lines = [f"{rule.id} {rule.name} ({rule.severity}, {rule.kind})", f"  {rule.title}", ""]
    for heading, text in (("What it does", rule.what), ("Why it matters", rule.why),
                          ("Example", rule.example), ("Fix", rule.fix)):
        lines += [f"  {heading}:", *_indented(text), ""]
    lines.append(f"  More: {rule.url}")
    return lines


def render_text(rules: RuleSet) -> str:
    """One rule: its whole documentation; several: one line each, then how to read one in full."""
    if len(rules) == 1:
        return "\n".join(rule_lines(rules.rules[0])) + "\n"
    width = max(len(r.name) for r in rules)
    lines = [f"{r.id}  {r.name:<{width}}  {r.severity:<7}  {r.title}" for r in rules]
    lines += ["", f"{len(rules)} rules · iamgate rules RULE shows one in full (id or name)"]
    return "\n".join(lines) + "\n"
