"""``check``: every requirement of a scope decided, and what the user is told about each.

Requirements come from the manifest's ``needs`` (references into the code resolved against what
the readers found; an action that takes no resource is required on ``*``, as AWS authorizes it);
each is decided by the engine (``engine/request.py``) and every one that is not allowed becomes a
finding whose ``details`` say why (``diagnose``). Pure: the scope has been read by
``pipeline.gather`` before anything here runs.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from .. import catalog
from ..engine.evaluate import takes_no_resource
from ..engine.request import decide_requirement, request_context, resource_policies_for
from ..model import (ASSUMED_ACCOUNT, Decision, Finding, Inventory, Location, Manifest, Outcome, Principal, PrincipalEntry, Report,
                     Requirement, Scope, Unresolved, find_principals, selector_for)
from ..rules.registry import RuleSet, default_rules, roles, stamp
from .diagnose import cause_lines
from .unused import unused_findings

if TYPE_CHECKING:  # imported where a manifest is checked: a check without one needs none of it
    from ..references import Reference

# ----------------------------------------------------------------------------- requirements


def expand_actions(actions: Sequence[str]) -> Tuple[List[str], List[Tuple[str, str, Optional[str]]]]:
    """Canonical actions, and (action, problem, suggestion) for those the catalog does not know."""
    good: List[str] = []
    bad: List[Tuple[str, str, Optional[str]]] = []
    for a in actions:
        if "*" in a or "?" in a:
            expanded = catalog.expand_action(a)
            if expanded:
                good.extend(expanded)
                continue
        canon = catalog.canonical_action(a)
        if canon:
            good.append(canon)
            continue
        chk = catalog.check_action(a)
        bad.append((a, chk.problem or f"unknown action {a}", chk.suggestion))
    seen: set = set()
    return [a for a in good if not (a in seen or seen.add(a))], bad  # type: ignore[func-returns-value]


def pseudo_parameters(manifest: Manifest) -> Dict[str, str]:
    s = manifest.settings
    suffix = "amazonaws.com.cn" if s.partition == "aws-cn" else "amazonaws.com"
    out = {"AWS::Region": s.region, "AWS::Partition": s.partition, "AWS::URLSuffix": suffix}
    if s.account:
        out["AWS::AccountId"] = s.account
    return out


Resolver = Callable[["Reference"], Optional[str]]


def make_resolver(manifest: Manifest, inventory: Inventory) -> Resolver:
    """Resolves pseudo parameters from settings and references from what the readers found.

    A reference that names two different values (two templates with the same logical ID) is
    ambiguous and stays unresolved.
    """
    pseudo = pseudo_parameters(manifest)
    known: Dict[str, set] = {}
    for key, value in inventory.references:
        known.setdefault(key, set()).add(value)

    def resolve(ref: Reference) -> Optional[str]:
        if ref.kind == "pseudo":
            return pseudo.get(ref.text)
        values = known.get(ref.text)
        if values and len(values) == 1:
            return next(iter(values))
        return None
    return resolve


# ----------------------------------------------------------------------------- findings


def finding_for(outcome: Outcome, rules: Optional[RuleSet] = None) -> Finding:
    """The finding for a requirement that is not allowed, its cause in ``details``: of rule IG1001
    (IG1002 when unknown) for the manifest's, of the rule that inferred it for the code's."""
    d, req = outcome.decision, outcome.requirement
    what = {"implicit_deny": "implicit deny", "explicit_deny": "explicit deny", "unknown": "unknown"}[d.result]
    blockers = ", ".join(d.blocked_by)
    message = f"{req.action} on {req.resource}: {what}"
    if blockers:
        message += f" ({blockers})"
    if outcome.note:
        message += f" — {outcome.note}"
    details = cause_lines(outcome.principal, req, d, outcome.note)
    rule = "IG1002" if d.result == "unknown" else "IG1001"
    if req.rule in ("IG1101", "IG1102"):
        rule = req.rule
        more = f" and {req.also} more resource{'s' if req.also > 1 else ''}" if req.also else ""
        details = [f"needed to {req.via} {req.source}" + (f" ({req.origin})" if req.origin else "") + more] \
            + list(details)
    elif req.rule is not None:
        rule = req.rule
        inferred = (rules or default_rules()).get(req.rule)
        title = f": {inferred.title.lower()[0]}{inferred.title[1:]}" if inferred is not None else ""
        what = f"{req.source}.{req.via}" if req.via else req.source
        details = [f"required by {what} ({req.origin}){title}" if req.origin else
                   f"required by {what}{title}"] + list(details)
    # a service principal is located at the destination's resource policy (inferred_outcomes)
    where = outcome.principal.location or req.origin
    return Finding(kind="missing-permission", rule=rule, severity="error", message=message,
                   principal=outcome.selector, action=req.action, resource=req.resource, decision=d,
                   location=where, details=tuple(details), origin=req.origin,
                   origin_resource=req.source,
                   origin_property=None if req.rule in ("IG1101", "IG1102") else req.via,
                   origin_operations=tuple(req.via.split(", ")) if req.rule in ("IG1101", "IG1102") and req.via
                   else ())


def check(scope: Scope, unused: bool = False) -> Report:
    """Decide every requirement of the scope's manifest; with ``unused``, also note per principal
    the allowed actions none of its requirements uses (``unused.py``, rule IG1004).

    The scope's ``files`` hold the policies of the files the manifest names (guardrails, policies,
    boundary), keyed by the path as the manifest resolves it; a missing key means the file could
    not be read (the reader already reported why).
    """
    inventory, manifest = scope.inventory, scope.manifest
    rules: RuleSet = scope.rules if scope.rules is not None else default_rules()
    findings: List[Finding] = list(inventory.problems)
    findings.extend(unresolved_notes(inventory.unresolved))
    read = scope.read or inventory
    inferred = inferred_outcomes(scope, rules)
    if manifest is None:
        findings.extend(_outcome_findings(inferred, rules))
        if unused:
            findings.extend(unused_findings(inferred))
        checked = len({(o.principal.id, o.principal.location) for o in inferred if o.principal.type != "service"})
        return _suppressed(Report(_stamped(findings, rules), tuple(inferred), checked or len(read.principals), read,
                                  rules=rules),
                           scope, rules)

    from ..references import substitute

    def mloc(line: Optional[int]) -> Location:
        return Location(manifest.file, line)

    resolve = make_resolver(manifest, inventory)
    outcomes: List[Outcome] = []
    principals_checked = 0

    for entry in manifest.principals:
        principal = principal_for(scope, entry, findings, mloc(entry.line))
        if principal is None:
            continue
        principals_checked += 1
        if entry.deploys:
            outcomes.extend(deploy_outcomes(scope, entry, principal, findings, mloc(entry.line)))
        for need in entry.needs:
            actions, unknown = expand_actions(need.actions)
            for action, problem, suggestion in unknown:
                hint = f" — did you mean {suggestion}?" if suggestion else ""
                findings.append(Finding(kind="unknown-action", rule="IG1003", severity="error",
                                        message=f"{problem}{hint}", principal=entry.selector, action=action,
                                        location=mloc(need.line)))
            for raw in need.resources:
                resource, missing = substitute(raw, resolve)
                for ref in missing:
                    findings.append(Finding(kind="unresolved", rule="IG0202", severity="error",
                                            message=f"could not resolve ${{{ref.text}}} in {raw}",
                                            principal=entry.selector, resource=raw, location=mloc(need.line)))
                for action in actions:
                    target, moved = _authorized(action, resource, raw)
                    req = Requirement(entry.selector, action, target, need.context, mloc(need.line))
                    if moved and any(o.requirement == req for o in outcomes):
                        continue  # the same action with another resource of the need: the same request
                    if missing and not moved:
                        outcomes.append(Outcome(entry.selector, principal, req, Decision("unknown"),
                                                f"the resource {raw} could not be resolved"))
                        continue
                    ctx = request_context(principal, target, manifest.settings.region, need.context)
                    # an allowed request's near misses are dropped (_kept): not even made, unless the
                    # account check reads them
                    stand_in = stand_in_account(principal, req, ctx)
                    d, note = account_checked(decide_requirement(scope, principal, req, ctx, stand_in),
                                              principal, req, ctx, stand_in)
                    outcomes.append(Outcome(entry.selector, principal, req, _kept(d), "; ".join(filter(None, (note, moved)))))

    outcomes += inferred
    findings.extend(_outcome_findings(outcomes, rules))
    if unused:
        findings.extend(unused_findings(outcomes))
    return _suppressed(Report(_stamped(findings, rules), tuple(outcomes), principals_checked, read, rules=rules),
                       scope, rules)


def _suppressed(report: Report, scope: Scope, rules: RuleSet) -> Report:
    """The report with the suppressions of the code and of the manifest applied (``suppress.py``)."""
    from .suppress import apply_suppressions, manifest_suppressions
    found = tuple(scope.inventory.suppressions) + manifest_suppressions(scope.manifest)
    return apply_suppressions(report, found, scope.inventory, rules)


def deploy_outcomes(scope: Scope, entry: PrincipalEntry, deployer: Principal, findings: List[Finding],
                    where: Location) -> List[Outcome]:
    """The deploy requirements of ``entry`` (``findings/deploy.py``) decided: by the deployer, or by
    the CloudFormation service role the entry names. An action the data gives on ``*`` (it does not
    say which other resource it acts on) that the policies allow on some resources but not all is
    unknown, not denied."""
    from .deploy import deploy_needs
    manifest = scope.manifest
    assert manifest is not None
    # catalog.deploy.DeployDataError (cfn-lint without its schemas) goes up: an input error, exit 2
    needs, warnings = deploy_needs(scope.inventory, entry, manifest, scope.settings)
    for message, at in warnings:
        findings.append(Finding(kind="unknown-action", rule="IG1103", severity="warning", message=message,
                                location=at))
    if not needs:
        findings.append(Finding(kind="manifest-error", rule="IG0104", severity="warning",
                                message=f'principal "{entry.selector}": deploys: {", ".join(entry.deploys)} defines '
                                        "no stack, resource or plan change among the scanned files",
                                principal=entry.selector, location=where))
        return []
    role: Optional[Principal] = None
    role_note = ""
    if entry.cloudformation_role:
        found = find_principals(scope.inventory, entry.cloudformation_role)
        if len(found) == 1:
            role = found[0]
        else:
            role_note = (f"the CloudFormation service role {entry.cloudformation_role} is "
                         f"{'ambiguous' if found else 'not in the scanned files'}: its policies are unknown")
    out: List[Outcome] = []
    for need in needs:
        principal = deployer if need.who == "deployer" else role
        selector = entry.selector if need.who == "deployer" else (entry.cloudformation_role or entry.selector)
        via = ", ".join(need.operations)
        req = Requirement(selector, need.action, need.resource, dict(need.context), need.location,
                          "IG1102" if need.unknown else "IG1101", need.source, via, need.also)
        if need.unknown or principal is None:
            out.append(Outcome(selector, principal or deployer, req, Decision("unknown"), need.unknown or role_note))
            continue
        if "*" in need.action or "?" in need.action:
            out.append(_pattern_outcome(scope, selector, principal, req))
            continue
        target, moved = _authorized(need.action, need.resource, need.resource)
        req = replace(req, resource=target)
        ctx = request_context(principal, target, scope.settings.region, req.context)
        d, note = account_checked(decide_requirement(scope, principal, req, ctx), principal, req, ctx)
        if d.result == "implicit_deny" and target == "*" and any(
                t.reason == "resource" and t.statement.effect == "Allow" for t in d.near_misses()):
            d, note = replace(d, result="unknown"), (f"the deploy data does not say which resource {need.action} "
                                                      f"acts on for {need.type}; it is allowed on some resources only")
        out.append(Outcome(selector, principal, req, d, note))
    return out


def _pattern_outcome(scope: Scope, selector: str, principal: Principal, req: Requirement) -> Outcome:
    """A deploy permission the data gives as a pattern (``ec2:Describe*``): the handler calls some of
    its actions, the data does not say which. Every one allowed: allowed; none: denied (the first is
    reported); some: unknown, with how many are denied."""
    actions = catalog.expand_action(req.action)
    decided = []
    for action in actions:
        target, _ = _authorized(action, req.resource, req.resource)
        r = replace(req, action=action, resource=target)
        ctx = request_context(principal, target, scope.settings.region, r.context)
        decided.append((r, account_checked(decide_requirement(scope, principal, r, ctx), principal, r, ctx)))
    denied = [(r, d, n) for r, (d, n) in decided if d.result != "allow"]
    if not decided or not denied:
        r, (d, n) = decided[0] if decided else (req, (Decision("unknown"), f"{req.action} matches no action"))
        return Outcome(selector, principal, r, d, n)
    r, d, n = denied[0]
    if len(denied) < len(decided):
        d, n = replace(d, result="unknown"), (f"the deploy data names {req.action}, not which of its {len(decided)} "
                                              f"actions the handler calls; {len(denied)} of them are not allowed")
    return Outcome(selector, principal, r, d, n)


def _outcome_findings(outcomes: Sequence[Outcome], rules: RuleSet) -> List[Finding]:
    out = [finding_for(o, rules) for o in outcomes if o.decision.result != "allow"]
    out += [f for o in outcomes if o.decision.result == "allow" for f in unresolved_denies(o)]
    return out


def inferred_outcomes(scope: Scope, rules: RuleSet) -> List[Outcome]:
    """The requirements the code's wiring implies (the ``infer:`` rules of the packs in force),
    decided like the manifest's. One whose resource could not be resolved is decided on every
    resource: allowed only when a grant covers them all, otherwise unknown with the reason."""
    from ..rules.infer import infer
    out: List[Outcome] = []
    region = scope.settings.region
    for inf in infer(scope.inventory, [r for r in rules if r.infer], roles(), scope.settings):
        principal, req = inf.principal, inf.requirement
        selector = (selector_for(scope.inventory, principal) or principal.id) if principal.type != "service" \
            else principal.id
        req = replace(req, principal=selector)
        ctx = request_context(principal, req.resource, region, req.context)
        d, note = account_checked(decide_requirement(scope, principal, req, ctx), principal, req, ctx)
        if inf.unknown:
            if d.result != "allow":
                d, note = replace(d, result="unknown"), inf.unknown
        if principal.type == "service":
            where = _destination(scope, req.resource)
            if where is None and d.result == "implicit_deny":  # a destination defined elsewhere
                d, note = replace(d, result="unknown"), (f"{req.resource} is not defined in the scanned files: "
                                                         "its resource policy cannot be checked")
            principal = replace(principal, location=where)
        out.append(Outcome(selector, principal, req, d, note))
    return out


def _destination(scope: Scope, resource: str) -> Optional[Location]:
    """Where a service principal's missing permission is fixed: the destination's resource policy
    (a queue policy, a Lambda permission), else the destination itself; None when neither is in the code."""
    for rp in resource_policies_for(scope, resource):
        if rp.location is not None or rp.policy.location is not None:
            return rp.location or rp.policy.location
    for r in scope.inventory.resources:
        if r.arn == resource and r.location is not None:
            return r.location
    return None


_ACCOUNT = re.compile(r"[0-9]{12}")


def _accounts(value: str) -> List[str]:
    """The account IDs a policy value names: the account field of an ARN, or the value itself when
    it is one (a principal or condition value). Digits elsewhere (a key ID) are not accounts."""
    if value.startswith("arn:"):
        parts = value.split(":")
        return [parts[4]] if len(parts) > 4 and _ACCOUNT.fullmatch(parts[4]) else []
    return [value] if _ACCOUNT.fullmatch(value) else []


def _kept(d: Decision) -> Decision:
    """What the report keeps of a decision: an allowed request's near misses (the statements that
    nearly applied) explain nothing and are dropped; 100,000 requirements kept a million of them."""
    if d.result != "allow" or not any(t.outcome == "near-miss" for t in d.trace):
        return d
    return Decision(d.result, d.blocked_by, tuple(t for t in d.trace if t.outcome != "near-miss"))


def stand_in_account(principal: Principal, req: Requirement, context: Mapping[str, object]) -> bool:
    """Whether the request involves the stand-in account (``account_checked`` then reads every
    statement of the trace, near misses too: one naming another account might apply in the real one)."""
    return (ASSUMED_ACCOUNT in req.resource or ASSUMED_ACCOUNT in (principal.arn or "")
            or ASSUMED_ACCOUNT in "\0".join(map(str, context.values())))


def account_checked(decided: Tuple[Decision, str], principal: Principal, req: Requirement,
                    context: Mapping[str, object], stand_in: Optional[bool] = None) -> Tuple[Decision, str]:
    """The decision, unless the request involves the stand-in account (``model.ASSUMED_ACCOUNT``:
    settings.account is not set) while a statement that took part names another account: then
    whether it applies depends on the account the code deploys into, and the decision is unknown."""
    d, note = decided
    if not (stand_in_account(principal, req, context) if stand_in is None else stand_in):
        return d, note
    for t in d.trace:
        st = t.statement
        texts = list(st.resources or ()) + list(st.not_resources or ())
        texts += [v for m in (st.principals or {}, st.not_principals or {}) for vs in m.values() for v in vs]
        texts += [v for c in st.conditions for v in c.values]
        other = sorted({a for x in texts for a in _accounts(x) if a != ASSUMED_ACCOUNT})
        if other:
            where = f" ({st.location})" if st.location else ""
            return replace(d, result="unknown"), (
                f"a statement{where} names account {other[0]}: whether it applies depends on the account the "
                "code deploys into (set settings.account in the manifest)")
    return d, note


def unresolved_notes(unresolved: Sequence[Unresolved]) -> List[Finding]:
    """One note per file and expression that could not be resolved, with the lines that use it.

    On its own an unresolved value fails nothing: a decision that depends on it is ``unknown`` (an
    IG1002 error) or, when allowed, an IG0203 error naming the Deny that could still block it. What
    the reader made up itself (the account of a synthesized ARN) gets no note: the user did not
    write it, and the one setting that resolves it is named by every note about AWS::AccountId.
    """
    groups: Dict[Tuple[str, str], List[Unresolved]] = {}
    for u in unresolved:
        if u.synthesized:
            continue
        groups.setdefault((u.location.file if u.location else "", u.expression), []).append(u)
    out = []
    for (_, expression), uses in groups.items():
        lines = sorted({u.location.line for u in uses if u.location and u.location.line})
        message = f"could not resolve {expression}"
        if len(lines) > 1:
            more = lines[1:]
            shown = ", ".join(str(n) for n in more[:12]) + (f" and {len(more) - 12} more" if len(more) > 12 else "")
            message += f" — also on line{'s' if len(more) > 1 else ''} {shown}"
        first = next((u.location for u in uses if u.location and u.location.line == (lines[0] if lines else None)),
                     uses[0].location)
        out.append(Finding(kind="unresolved", rule="IG0201", severity="note", message=message, location=first))
    return out


def unresolved_denies(outcome: Outcome) -> List[Finding]:
    """For an allowed requirement: each Deny statement that could still block it but holds a value
    that could not be resolved. The known statements allow, so the requirement stays allowed, and
    this error says what would have to be resolved to be sure."""
    out = []
    req = outcome.requirement
    for t in outcome.decision.trace:
        if t.outcome != "unresolved" or t.statement.effect != "Deny":
            continue
        st = t.statement
        where = f" ({st.location})" if st.location else ""
        name = f'statement "{st.sid}" of' if st.sid else "a Deny statement in"
        out.append(Finding(kind="unresolved", rule="IG0203", severity="error",
                           message=f"{req.action} on {req.resource} is allowed, but {name} {t.policy_kind} policy "
                                   f"{t.policy_name}{where} could deny it: its {t.reason} "
                                   "(resolve the value in the manifest's settings to decide)",
                           principal=outcome.selector, action=req.action, resource=req.resource,
                           location=st.location or outcome.principal.location, origin=req.origin))
    return out


def _authorized(action: str, resource: str, written: str) -> Tuple[str, str]:
    """The resource AWS authorizes ``action`` against, and why it is not the one the manifest wrote:
    an action that takes no resource (``codepipeline:ListPipelines``) is authorized against ``*``
    (``engine/evaluate.py``), so its requirement is one on ``*`` whatever ``resources`` says."""
    if resource == "*" or not takes_no_resource(action):
        return resource, ""
    return "*", f'{action} takes no resource: AWS authorizes it against "*", not {written}'


def _stamped(findings: List[Finding], rules: Optional[RuleSet] = None) -> Tuple[Finding, ...]:
    rules = rules if rules is not None else default_rules()
    return tuple(stamp(f, rules) for f in findings if f.rule not in rules.disabled)


def selectors_hint(inventory: Inventory, found: Sequence[Principal], wrote: Optional[str] = None) -> str:
    """What to write instead of ``wrote``, a selector that matches each of ``found``: the selector
    that picks each one alone (``model.selector_for``: svc-a/template.yaml:Fn, Parent/Child/Role, a
    name, the ARN), or nothing when one of them has none."""
    picks = [selector_for(inventory, p, wrote) for p in found]
    if not picks or not all(picks):
        return ""
    return "; select one with " + " or ".join(f'"{s}"' for s in picks)


def principal_for(scope: Scope, entry: PrincipalEntry, findings: List[Finding],
                  where: Location) -> Optional[Principal]:
    """The one principal a manifest entry selects (the scope has already added the entry's policy
    files to it); a manifest-error finding when it selects none or several."""
    found = find_principals(scope.inventory, entry.selector)
    if len(found) > 1:
        names = ", ".join(f"{p.id} ({p.location})" if p.location else p.id for p in found)
        findings.append(Finding(kind="manifest-error", rule="IG0103", severity="error",
                                message=f'principal "{entry.selector}" matches {len(found)} principals: {names}'
                                        + selectors_hint(scope.inventory, found, entry.selector),
                                principal=entry.selector, location=where))
        return None
    if found:
        return found[0]
    if entry.needs or entry.deploys:
        read = scope.read or scope.inventory
        known = ", ".join(sorted(p.id for p in read.principals)[:8]) or "none"
        findings.append(Finding(kind="manifest-error", rule="IG0102", severity="error",
                                message=f'principal "{entry.selector}" is not in the scanned files '
                                        f'(principals found: {known})', principal=entry.selector, location=where))
    return None
