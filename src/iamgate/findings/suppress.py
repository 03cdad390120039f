"""Suppressions: which findings the user has accepted, with the reason they gave.

Three places hold them, each with a required reason:

- CloudFormation ``Metadata: {iamgate: {ignore: [{rule, reason, statement?}]}}`` on a resource (the
  findings located in the resource's lines, or whose principal or origin resource is the resource;
  ``statement`` narrows it to the lines of the statement with that Sid) or on the template (the
  whole file) — read by ``sources/cloudformation``;
- Terraform ``# iamgate:ignore RULE reason`` (or ``//``) before or inside a block, or before or
  inside one ``statement`` block (its lines only) — read by ``sources/terraform/ignores.py``;
- the manifest's ``ignore:`` items, by rule and any of principal, action (a pattern) and path (a
  glob of files relative to the manifest's folder).

A suppressed finding stays in the report with ``Finding.suppressed = (reason, by)``: the JSON and
SARIF outputs show it, ``--fail-on`` and the summary counts do not count it. A suppression that
matches nothing is a warning (IG0105) where it was written: the finding it was for is gone, or
it never named the right one. Input errors (a file that cannot be read, a manifest error) are
never suppressed: the answer would be incomplete. Pure: everything comes from the scope.
"""
from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import replace
from typing import Dict, List, Optional, Sequence, Set, Tuple

from ..model import Finding, Inventory, Location, Report, Suppression, find_principals

UNUSED = "IG0105"


def _norm(path: str) -> str:
    return os.path.normpath(path).replace(os.sep, "/")


def glob_regex(glob: str) -> "re.Pattern[str]":
    """``**`` spans folders, ``*`` and ``?`` do not cross ``/``; a glob without ``/`` matches a
    file or folder name at any depth (as ``--exclude``)."""
    g = glob.replace(os.sep, "/").strip("/")
    out = []
    i = 0
    while i < len(g):
        if g.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif g.startswith("**", i):
            out.append(".*")
            i += 2
        elif g[i] == "*":
            out.append("[^/]*")
            i += 1
        elif g[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(g[i]))
            i += 1
    body = "".join(out)
    if "/" not in g:
        return re.compile(f"(?:.*/)?{body}(?:/.*)?")
    return re.compile(f"{body}(?:/.*)?")


def suppressible(f: Finding) -> bool:
    """Everything but input errors: a run that could not read a file must not pass."""
    return not (f.kind in ("parse-error", "manifest-error") and f.severity == "error")


class _Matcher:
    def __init__(self, inventory: Inventory, rules) -> None:
        self.inventory = inventory
        self.rules = rules
        self._principals: Dict[str, Set[str]] = {}

    def rule_id(self, key: str) -> str:
        found = self.rules.get(key) if self.rules is not None else None
        return found.id if found is not None else key

    def principals(self, selector: str) -> Set[str]:
        if selector not in self._principals:
            self._principals[selector] = {p.id for p in find_principals(self.inventory, selector)}
        return self._principals[selector]

    def same_principal(self, a: Optional[str], b: Optional[str]) -> bool:
        if not a or not b:
            return False
        if a == b:
            return True
        pa = self.principals(a)
        return bool(pa) and bool(pa & self.principals(b))

    def matches(self, s: Suppression, f: Finding) -> bool:
        if self.rule_id(s.rule) != f.rule:
            return False
        if s.file is None:  # the manifest's: every selector given must match
            if s.principal is not None and not self.same_principal(s.principal, f.principal):
                return False
            if s.action is not None and not (f.action and fnmatch.fnmatchcase(f.action.lower(), s.action.lower())):
                return False
            if s.path is not None and not (f.location and glob_regex(s.path).fullmatch(_norm(f.location.file))):
                return False
            return True
        if self._in_lines(s, f):
            return True
        if s.statement is not None:  # a Deny of that Sid decided it
            d = f.decision
            if d is not None and any(t.statement.sid == s.statement and t.location is not None
                                     and self._at(s, t.location) for t in d.applied()):
                return True
            return False
        if s.resource is not None:
            if f.origin_resource == s.resource:
                return True
            if f.principal is not None and (f.principal == s.resource or s.resource in self._aliases(f.principal)):
                return True
        return False

    def _aliases(self, selector: str) -> Set[str]:
        out: Set[str] = set()
        for p in find_principals(self.inventory, selector):
            out.add(p.id)
            out.update(p.aliases)
        return out

    def _at(self, s: Suppression, loc: Location) -> bool:
        if s.file is None or _norm(loc.file) != _norm(s.file):
            return False
        if s.start_line is None:
            return True
        return loc.line is not None and s.start_line <= loc.line <= (s.end_line or s.start_line)

    def _in_lines(self, s: Suppression, f: Finding) -> bool:
        return f.location is not None and self._at(s, f.location)


def apply_suppressions(report: Report, suppressions: Sequence[Suppression], inventory: Inventory,
                       rules=None) -> Report:
    """The report with each finding a suppression matches marked suppressed (the first that
    matches), and an IG0105 warning for each suppression that matched nothing (unless its rule is
    turned off: its findings were dropped, not fixed)."""
    if not suppressions:
        return report
    m = _Matcher(inventory, rules)
    used = [False] * len(suppressions)
    out: List[Finding] = []
    for f in report.findings:
        if f.suppressed is None and suppressible(f):
            hits = [i for i, s in enumerate(suppressions) if m.matches(s, f)]
            for i in hits:  # every one that matches is in use; the first one written says why
                used[i] = True
            if hits:
                s = suppressions[hits[0]]
                f = replace(f, suppressed=(s.reason, s.by))
        out.append(f)
    disabled = getattr(rules, "disabled", frozenset()) if rules is not None else frozenset()
    if UNUSED not in disabled:
        for s, u in zip(suppressions, used):
            if u or m.rule_id(s.rule) in disabled:
                continue
            known = rules is None or rules.get(s.rule) is not None
            what = f"rule {s.rule}" if known else f"{s.rule}, which is no rule (iamgate rules lists them)"
            scope = f" of statement {s.statement}" if s.statement else ""
            out.append(Finding(kind="manifest-error", rule=UNUSED, severity=_severity(rules),
                               message=f"the suppression of {what}{scope} ({s.by}) matches no finding: "
                                       "remove it, or correct what it names",
                               location=s.where))
    return replace(report, findings=tuple(out))


def _severity(rules) -> str:
    rule = rules.get(UNUSED) if rules is not None else None
    return rule.severity if rule is not None else "warning"


def manifest_suppressions(manifest) -> Tuple[Suppression, ...]:
    """The manifest's ``ignore:`` items, their path globs made relative to the working directory."""
    if manifest is None:
        return ()
    out = []
    for s in manifest.ignore:
        path = s.path
        if path is not None and manifest.directory and manifest.directory != ".":
            path = _norm(os.path.join(manifest.directory, path))
        out.append(replace(s, path=path, file=None))
    return tuple(out)
