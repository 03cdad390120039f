"""The lint checks that must be code: what a parsed policy means, beyond what the grammar sees.

Each check is a small function registered with ``@check(rule_id, …)`` under the one rule id it
reports (``registry.py`` holds the rule's kind, severity and documentation). A check looks at one
policy (``Policy`` -> findings) or one statement of it (``Policy, index, Statement`` -> findings).

``lint(inventory)`` runs them once, after every reader is done, for every reader alike, over each
distinct policy in the inventory: the documents the readers read (``Inventory.documents``), then
whatever else the inventory holds (principals' identity policies, boundaries and trust policies,
standalone policies, resource policies, SCP and RCP levels). A document met more than once (a
managed policy that is also a permissions boundary; the same document read twice at one place, as a
Terraform ``count`` makes it) is checked once, as first met; and a finding is reported once per
source location (file, line and element path; an AWS managed policy's ARN), however many copies of
the document were read (a nested stack's template under two parents). What a check is run on is decided by
data on the policy, never by which reader made it:

- ``Policy.origin`` — a check runs only on the origins it names: the statements of an AWS managed
  policy are not the user's to fix (only an unknown action there is reported: IG3004, a warning
  naming the policy, as a permission the workload may rely on that grants nothing); a Lambda
  permission's document is written by the reader from the resource's properties, so only its
  actions are the user's; SAM's policy templates are SAM's (an unknown action there is IG3004, a
  warning naming the template, and their missing Version is not news).
- ``Policy.grammar_rejected`` — where the reader's grammar check (``sources/grammar.py``) already
  rejected the document, an ``invalid-policy`` check would say the same thing in other words, so
  only the checks of other kinds (unknown actions) run.
- a placeholder whose every statement is unknown (``policy.all_unknown``) is not checked at all.

A check that raises becomes one ``note`` finding of rule IG9002 naming the check's rule and the
policy: never a crash, and never a silent gap.
"""
from __future__ import annotations

import os
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import (Any, Callable, Dict, FrozenSet, Hashable, Iterable, Iterator, List, Mapping, Optional, Tuple,
                    Union)

from ..catalog.actions import check_action
from ..model import Finding, Inventory, Location, Policy, Statement
from ..policy import (IDENTITY_KINDS, KIND_LABEL, PRINCIPAL_REQUIRED_KINDS, VERSIONS, all_unknown,
                      did_you_mean, is_known_operator, show, suggest_operator)
from .registry import default_rules

__all__ = ["CHECKS", "Check", "check", "check_policy", "current_inventory", "lint"]

PolicyCheck = Callable[[Policy], Iterable[Finding]]
StatementCheck = Callable[[Policy, int, Statement], Iterable[Finding]]
Path = Tuple[Union[str, int], ...]

# the origins of documents in the user's code (written there, or chosen from SAM's policy
# templates): every check about a document runs on them, none on AWS's own policies
_DOCUMENTS = frozenset({"code", "sam-policy-template"})


@dataclass(frozen=True)
class Check:
    """One registered check: the rule it reports, what it looks at, and on which origins it runs.

    A per-statement check is called once for every statement of every policy, and most calls find
    nothing; what a check can tell from the policy alone is better asked once per policy: ``when``
    (optional) is False for a policy in none of whose statements ``run`` can find anything (it
    is then not called there), and ``body`` (optional) is what ``run`` comes to on the statements
    of a policy ``when`` holds for (``run`` without the policy-wide tests ``when`` already made).
    Both only save work: ``run`` alone gives the same findings."""

    rule: str
    run: Union[PolicyCheck, StatementCheck]
    per_statement: bool
    origins: FrozenSet[str]
    when: Optional[Callable[[Policy], bool]] = None
    body: Optional[StatementCheck] = None

    def applies_to(self, policy: Policy) -> bool:
        if policy.origin not in self.origins:
            return False
        return not (policy.grammar_rejected and default_rules()[self.rule].kind == "invalid-policy")


CHECKS: List[Check] = []


def check(rule: str, *, origins: Iterable[str] = _DOCUMENTS, per_statement: bool = True,
          when: Optional[Callable[[Policy], bool]] = None,
          body: Optional[StatementCheck] = None) -> Callable[[Callable], Callable]:
    """Register the decorated function as the check that reports ``rule`` (a built-in rule, or one
    of a shipped pack whose ``check:`` names the function; tests/rules keep the two in step).
    ``when``, ``body``: for a per-statement check, what it needs of the whole policy (``Check``)."""

    def register(fn: Callable) -> Callable:
        CHECKS.append(Check(rule, fn, per_statement, frozenset(origins), when, body))
        return fn
    return register


# ------------------------------------------------------------------------------ the checks
# Registered in the order their findings are reported: the policy's Version first, then per
# statement its actions, principals, condition operators and variables.


@check("IG3007", origins={"code"}, per_statement=False)
def missing_version(policy: Policy) -> List[Finding]:
    if policy.version is not None:
        return []
    return [_finding("IG3007", f"{policy.name}: no Version: policy variables such as ${{aws:username}} are not "
                               'substituted (add "Version": "2012-10-17")', policy.location)]


@check("IG3008", per_statement=False)
def invalid_version(policy: Policy) -> List[Finding]:
    if policy.version is None or policy.version in VERSIONS:
        return []
    return [_finding("IG3008", f"{policy.name}: Version {show(policy.version)} is not one of "
                               f"{', '.join(VERSIONS)}", policy.location, ("Version",))]


@check("IG3003", origins={"code", "properties"}, when=lambda policy: not all(
    _all_known(s.actions) and _all_known(s.not_actions) for s in policy.statements))
def unknown_action(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    if _all_known(statement.actions) and _all_known(statement.not_actions):
        return []  # what nearly every statement comes to, without walking it entry by entry
    return [_finding("IG3003", message, _where(policy, statement), path, action)
            for action, message, path in _unknown_actions(index, statement)]


@check("IG3004", origins={"sam-policy-template", "aws-managed"})
def unknown_action_in_aws_policy(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    """SAM's templates name few actions: one finding each. An AWS managed policy may name dozens the
    catalog no longer has (ReadOnlyAccess names retired services): one finding per element."""
    unknown = _unknown_aws_actions(index, statement) if policy.origin == "aws-managed" \
        else list(_unknown_actions(index, statement))
    if policy.origin == "sam-policy-template":
        source = f"SAM policy template {policy.origin_name or '(unnamed)'}"
        return [_finding("IG3004", f"{message} (in {source})", _where(policy, statement), path, action)
                for action, message, path in unknown]
    source = f"AWS managed policy {policy.name}"
    out = []
    for path in dict.fromkeys(path for _, _, path in unknown):
        here = [(action, message) for action, message, p in unknown if p == path]
        if len(here) == 1:
            action, message = here[0]
            out.append(_finding("IG3004", f"{message} (in {source})", _where(policy, statement), path, action))
            continue
        shown = ", ".join(a for a, _ in here[:5]) + (f", … ({len(here) - 5} more)" if len(here) > 5 else "")
        out.append(_finding("IG3004", f"{len(here)} actions the IAM catalog does not know: {shown} (in {source})",
                            _where(policy, statement), path))
    return out


@check("IG3005", when=lambda policy: policy.kind in IDENTITY_KINDS and any(
    s.principals is not None or s.not_principals is not None for s in policy.statements))
def principal_in_identity_policy(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    if (statement.principals is None and statement.not_principals is None) or policy.kind not in IDENTITY_KINDS \
            or "Principal" in statement.unresolved:
        return []
    label = KIND_LABEL.get(policy.kind, "this policy")
    present = [name for name, value in (("Principal", statement.principals),
                                        ("NotPrincipal", statement.not_principals)) if value is not None]
    return [_finding("IG3005", f"{policy.name}: Statement[{index}]: {name} is not allowed in {label}",
                     _where(policy, statement), ("Statement", index, name)) for name in present]


@check("IG3006", when=lambda policy: policy.kind in PRINCIPAL_REQUIRED_KINDS)
def missing_principal(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    if policy.kind not in PRINCIPAL_REQUIRED_KINDS or "Principal" in statement.unresolved \
            or statement.principals is not None or statement.not_principals is not None:
        return []
    label = KIND_LABEL.get(policy.kind, "this policy")
    return [_finding("IG3006", f"{policy.name}: Statement[{index}]: missing Principal or NotPrincipal: AWS "
                               f"rejects {label} statement without one",
                     _where(policy, statement), ("Statement", index))]


@check("IG3009", when=lambda policy: any(s.conditions for s in policy.statements))
def unknown_condition_operator(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    if not statement.conditions:
        return []
    unknown = dict.fromkeys(c.operator for c in statement.conditions if not is_known_operator(c.operator))
    return [_finding("IG3009", f"{policy.name}: Statement[{index}].Condition: unknown condition operator "
                               f"{show(op)}{did_you_mean(suggest_operator(op))}",
                     _where(policy, statement), ("Statement", index, "Condition", op)) for op in unknown]


@check("IG3010", when=lambda policy: policy.version == "2008-10-17")
def variables_in_2008_policy(policy: Policy, index: int, statement: Statement) -> List[Finding]:
    if policy.version != "2008-10-17":
        return []
    values = [*(statement.resources or ()), *(statement.not_resources or ()),
              *(v for c in statement.conditions for v in c.values)]
    if not any("${" in v for v in values):
        return []
    return [_finding("IG3010", f"{policy.name}: Statement[{index}]: Version 2008-10-17 does not substitute "
                               "policy variables: ${…} is matched as literal text "
                               '(use "Version": "2012-10-17")', _where(policy, statement), ("Statement", index))]


# ------------------------------------------------------------------------------ helpers


def _where(policy: Policy, statement: Statement) -> Optional[Location]:
    return statement.location or policy.location


def _finding(rule: str, message: str, where: Optional[Location], path: Path = (),
             action: Optional[str] = None) -> Finding:
    """A finding of ``rule`` with the registry's kind and severity."""
    r = default_rules()[rule]
    return Finding(kind=r.kind, rule=rule, severity=r.severity, message=message, action=action,
                   location=where, path=path)


@lru_cache(maxsize=4096)
def _all_known(patterns: Optional[Tuple[str, ...]]) -> bool:
    """Whether the catalog knows every entry of an Action or NotAction element (``check_action``):
    a policy often repeats an element's entries from statement to statement."""
    return patterns is None or all(check_action(p).ok for p in patterns)


def _unknown_actions(index: int, statement: Statement) -> Iterator[Tuple[str, str, Path]]:
    """(action, message, path) for each Action/NotAction entry the catalog does not know."""
    for element, patterns in (("Action", statement.actions), ("NotAction", statement.not_actions)):
        for action in dict.fromkeys(patterns or ()):
            if element in statement.unresolved and ("*" in action or "?" in action):
                continue  # a reader's placeholder for a value it could not resolve
            result = check_action(action)
            if not result.ok:
                yield (action, _action_message(action, result.problem or "unknown action", result.suggestion),
                       ("Statement", index, element))


def _unknown_aws_actions(index: int, statement: Statement) -> List[Tuple[str, str, Path]]:
    """``_unknown_actions`` of a statement of an AWS managed policy, kept in the cache directory
    per catalog version and code: ReadOnlyAccess names thousands of actions of hundreds of
    services, whose catalog files every run that met it read again."""
    import json

    from ..cache import cached_json, code_digest
    from ..catalog import actions, data_version
    source = json.dumps([code_digest(__file__, actions.__file__), data_version(), index, statement.actions,
                         statement.not_actions, sorted(statement.unresolved)])
    found = cached_json("aws-unknown-actions", source,
                        lambda: [[a, m, list(p)] for a, m, p in _unknown_actions(index, statement)])
    return [(a, m, tuple(p)) for a, m, p in found]


def _action_message(action: str, problem: str, suggestion: Optional[str]) -> str:
    if action not in problem:
        problem = f"{action} {problem}" if problem.startswith("matches") else f"{problem} in {action}"
    return problem + did_you_mean(suggestion)


def _failed(c: Check, policy: Policy, error: Exception) -> Finding:
    rule = default_rules()[c.rule]
    where = f"{policy.location.file}: " if policy.location else ""
    return _finding("IG9002", f"rule {rule.id} ({rule.name}) failed on {where}{policy.name}: "
                              f"{type(error).__name__}: {error}", policy.location)


# ------------------------------------------------------------------------------ running them


def check_policy(policy: Policy, checks: Iterable[Check] = CHECKS) -> List[Finding]:
    """What the checks that apply to ``policy`` find in it: policy-wide findings first, then per
    statement in order. A check that raises becomes one IG9002 note for the policy, and is not run
    on the policy's other statements."""
    applying = [c for c in checks if c.applies_to(policy)]
    failed: Dict[int, Finding] = {}  # index in applying -> the note
    findings: List[Finding] = []

    def fail(k: int, error: Exception) -> None:
        failed[k] = _failed(applying[k], policy, error)
        findings.append(failed[k])

    for k, c in enumerate(applying):
        if not c.per_statement:
            try:
                findings.extend(c.run(policy))  # type: ignore[call-arg]
            except Exception as e:  # noqa: BLE001 — a failing check is reported, it never stops the run
                fail(k, e)
    # called once per statement and check (most find nothing): no closure or lambda per call, and
    # not at all where the check's ``when`` says the policy holds nothing for it
    per_statement = [(k, run) for k, run in ((k, _statement_run(c, policy)) for k, c in enumerate(applying)
                                             if c.per_statement) if run is not None]
    failures = len(failed)
    for index, statement in enumerate(policy.statements):
        for k, run in per_statement:
            try:
                findings.extend(run(policy, index, statement))  # type: ignore[call-arg]
            except Exception as e:  # noqa: BLE001 — a failing check is reported, it never stops the run
                fail(k, e)
        if len(failed) != failures:  # a check failed on this statement: not run on the later ones
            failures = len(failed)
            per_statement = [(k, run) for k, run in per_statement if k not in failed]
    return findings


def _statement_run(c: Check, policy: Policy) -> Optional[StatementCheck]:
    """What to call on each statement of ``policy`` for the per-statement check ``c``: None when its
    ``when`` rules the policy out, its ``body`` when ``when`` holds, else ``run``. A ``when`` that
    raises decides nothing: ``run`` is called, and fails (IG9002) where it would have."""
    if c.when is None:
        return c.run  # type: ignore[return-value]
    try:
        relevant = c.when(policy)
    except Exception:  # noqa: BLE001 — the check itself reports it
        return c.run  # type: ignore[return-value]
    if not relevant:
        return None
    return c.body or c.run  # type: ignore[return-value]


def _policies(inventory: Inventory) -> Iterator[Policy]:
    """Every policy the inventory holds: the documents as read first, then the rest."""
    yield from inventory.documents
    yield from inventory.policies
    for p in inventory.principals:
        yield from p.identity_policies
        if p.boundary is not None:
            yield p.boundary
        if p.trust_policy is not None:
            yield p.trust_policy
    for r in inventory.resource_policies:
        yield r.policy
    for level in (*inventory.scp, *inventory.rcp):
        yield from level


def _document_key(policy: Policy) -> Tuple[Any, ...]:
    """What makes two policies one document: all but the kind it is attached as (a managed policy
    used as a permissions boundary is the policy its definition was read as). The statements last."""
    return (policy.name, policy.location, policy.version, policy.arn, policy.origin, policy.origin_name,
            policy.grammar_rejected, policy.statements)


def _source_key(policy: Policy, finding: Finding) -> Hashable:
    """Where a finding's subject is written: two findings with one key are one mistake, told once.

    A document read more than once under different names (a nested stack's template read under two
    parents, whose ``AWS::IAM::ManagedPolicy`` gets each stack's physical name; one ``count``-ed
    Terraform resource) is one text in one file: its findings are keyed by the file, line and column
    of the element (``Finding.location``) and the element path, not by the policy they were found
    in. An AWS managed policy is written by AWS, not where it is attached: it is keyed by its ARN.
    A note that a check failed is about the check, so it keeps its message in the key."""
    subject = finding.message if finding.kind == "rule-error" else None
    if policy.origin == "aws-managed":
        return finding.rule, "aws-managed", policy.arn or policy.name, finding.path, finding.action, subject
    if finding.location is None:
        return finding.rule, finding.message, finding.path, finding.action
    return finding.rule, finding.location, finding.path, finding.action, subject


def lint(inventory: Inventory, checks: Any = CHECKS, kinds: Optional[Mapping[str, str]] = None) -> Tuple[Finding, ...]:
    """The lint findings of every distinct policy in ``inventory``, each policy checked once, in
    the order the readers read them; a finding about the same written element as an earlier one
    (``_source_key``) is left out. ``checks``: the checks to run, or the rules in force (a
    ``registry.RuleSet``: the checks of the rules it has not turned off). ``kinds``: file -> the kind
    the manifest gives its policies (``sources.manifest_kinds``): a policy file a reader could only
    take for an identity policy is checked as the SCP, RCP or boundary the manifest says it is."""
    if checks is None:
        checks = CHECKS
    elif hasattr(checks, "disabled"):
        checks = [c for c in CHECKS if c.rule not in checks.disabled]
    checks = list(checks)
    token = _INVENTORY.set(inventory)
    try:
        return _lint(inventory, checks, _kinds_by_path(kinds or {}))
    finally:
        _INVENTORY.reset(token)


# the inventory being linted, for a check that needs more than the policy (the role a trust
# policy belongs to: rules/lint.py); None outside ``lint``
_INVENTORY: ContextVar[Optional[Inventory]] = ContextVar("iamgate_lint_inventory", default=None)


def current_inventory() -> Optional[Inventory]:
    """The inventory ``lint`` is running over, or None (a policy checked on its own)."""
    return _INVENTORY.get()


def _kinds_by_path(kinds: Mapping[str, str]) -> Dict[str, str]:
    return {os.path.realpath(f): k for f, k in kinds.items()}


def _lint(inventory: Inventory, checks: List[Check], kinds: Mapping[str, str]) -> Tuple[Finding, ...]:
    distinct = _distinct(inventory, kinds)
    reported: Dict[Hashable, None] = {}
    findings: List[Finding] = []
    for policy, found in zip(distinct, _checked(distinct, checks)):
        for finding in found:
            where = _source_key(policy, finding)
            if where not in reported:
                reported[where] = None
                findings.append(finding)
    return tuple(findings)


def _distinct(inventory: Inventory, kinds: Mapping[str, str]) -> List[Policy]:
    """The policies ``lint`` checks, in order: each document once, none whose content is unknown,
    each of the kind the manifest gives its file."""
    # policies by their document key but the statements (``_document_key``): the statements of a
    # policy are compared only with those of the policies that share the rest of its key, which few
    # do, instead of each statement being hashed for a key
    seen: Dict[Hashable, List[Tuple[Statement, ...]]] = {}
    met: set = set()  # id() of each policy object met (the inventory holds them all while this runs)
    out: List[Policy] = []
    for policy in _policies(inventory):
        if id(policy) in met:  # the documents are met again as the principals' policies
            continue
        met.add(id(policy))
        key = _document_key(policy)[:-1] + (len(policy.statements),)
        alike = seen.setdefault(key, [])
        if any(statements == policy.statements for statements in alike):
            continue
        alike.append(policy.statements)
        if all_unknown(policy):
            continue
        named = kinds.get(os.path.realpath(policy.location.file)) if kinds and policy.location else None
        if named is not None and policy.kind == "identity" and named != "identity":
            policy = replace(policy, kind=named)  # type: ignore[arg-type]
        out.append(policy)
    return out


_AHEAD = 20_000  # statements below which forking (its cost grows with the process) saves too little


def _checked(policies: List[Policy], checks: List[Check]) -> List[List[Finding]]:
    """``check_policy`` of each policy; for many statements (an account export) spread over forked
    processes (``parallel.fork_map``), each checking a run of the policies: the same findings."""
    from .. import parallel

    def weight(policy: Policy) -> int:
        return len(policy.statements) + 1

    count = parallel.workers() if sum(map(weight, policies)) >= _AHEAD else 1
    runs = parallel.chunks_by_weight(policies, weight, count)
    found = parallel.fork_map(lambda run: [check_policy(p, checks) for p in run], runs)
    return [findings for run in found for findings in run]


# the policy lint rules of rules/policy-lint.yaml (IG31xx) register after the checks above
from . import lint as _policy_lint  # noqa: E402,F401  (registration is the import)
