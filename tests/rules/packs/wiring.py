"""What the pack tests share: write a small repository, run ``iamgate check`` on it without a
manifest (or with one), and read the findings of one rule."""
import json
import textwrap
from pathlib import Path
from typing import Dict, List, Tuple

from tests.cli import run


def write(root: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def check(capsys, root: Path, files: Dict[str, str], *argv: str) -> Tuple[int, List[dict]]:
    """``iamgate check --format json`` on ``files`` written under ``root`` (the working directory)."""
    write(root, files)
    rc, out, err = run(capsys, "check", "--format", "json", *argv)
    assert "Traceback" not in err and "internal error" not in err, err
    return rc, json.loads(out)["findings"]


def of_rule(findings: List[dict], rule: str) -> List[dict]:
    return [f for f in findings if f["rule"] == rule]


def missing(findings: List[dict], rule: str) -> List[Tuple[str, str, str]]:
    """(principal, action, resource) of each requirement ``rule`` inferred that is not allowed."""
    return sorted((f.get("principal"), f["action"], f["resource"]) for f in of_rule(findings, rule))


def line_of(text: str, needle: str) -> int:
    """The 1-based line of ``text`` (dedented as ``write`` writes it) where ``needle`` first occurs."""
    lines = textwrap.dedent(text).lstrip("\n").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def origin(finding: dict) -> str:
    """The implying resource with its property, as the text report shows it: ``Orders (Subscription[0])``."""
    o = finding["origin"]
    return f'{o["resource"]} ({o["property"]})' if o.get("property") else o["resource"]
