"""Effective permissions: what a principal's identity policies and permissions boundary grant, per
action, and whether one grant covers another. Pure, and decided without a request: ``iamgate diff``
compares two revisions with it (``findings/diff.py``).

:func:`principal_permissions` turns a principal into the ``(effect, canonical action) -> {Grant}``
map it holds; :class:`GrantIndex` answers whether the grants of one effect cover another grant;
:func:`new_wildcards` lists the wildcards of a principal's Allow statements that another revision
of it did not have.

Principal keys. A principal is matched across two revisions by ``Principal.id``: the
CloudFormation logical ID, the Terraform address (``module.worker.aws_iam_role.this``), or the
role/user name of an account export. Those survive the edits a pull request usually makes (a new
``RoleName``, a changed path, a new stack or account suffix in an ARN), while names and ARNs do not.
When two principals share an id (two templates with a ``WorkerRole``), the key becomes
``"WorkerRole (infra/a.yaml)"`` — the pipeline rewrites base-side file names to their
working-tree spelling first, so the key is still the same on both sides. Renaming a logical ID or
a Terraform address shows as one principal removed and one added, which is what the deployment
will do too.

Approximations (the diff is a review aid; ``iamgate check`` remains the proof):

- Only identity policies and the permissions boundary make up a principal's permissions. SCPs,
  RCPs, resource policies and session policies are not folded in (they apply through the manifest's
  requirements, which ``check`` fully evaluates on both sides).
- Action patterns confined to one service (``s3:Get*``, ``ec2:*``) are expanded through the catalog;
  patterns that span services (``*``, ``*:Describe*``) and unknown actions are kept as written.
  ``NotAction`` is kept as ``"*"`` minus the listed actions, ``NotResource`` as ``"*"`` minus the
  listed resources; both are reported as new wildcards.
- Conditions are not evaluated: a grant carries its conditions as a marker ("conditional"). A grant
  covers another only when its conditions are a subset of the other's.
- An Allow is dropped when an unconditional, resolved Deny of the same principal covers it entirely;
  partial Denies are only reported (as denies), they do not carve holes into Allows.
- Boundary: an Allow counts when a boundary Allow covers it (their conditions are merged); when the
  boundary allows the action on a narrower resource, the narrower resource is what counts; when they
  only overlap, the identity grant is kept as is (an over-approximation).
- Gained/lost use coverage, not equality: ``s3:GetObject`` on ``arn:aws:s3:::b/*`` is not gained when
  the base allowed it on ``*``. Coverage of resource patterns uses :mod:`iamgate.engine.match`
  (a pattern with policy variables is compared literally).

Imports the model, the catalog (action patterns) and ``engine/match.py`` only.
"""
from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any, Dict, FrozenSet, Iterable, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

from .. import catalog
from ..model import Condition, Inventory, Location, Principal, Statement
from .match import action_matches, action_service, concretize, globs_intersect, resource_matches, split_arn

__all__ = ["Grant", "GrantIndex", "Permissions", "Wildcard", "effective_permissions", "new_wildcards",
           "principal_keys", "principal_permissions"]


# ============================================================================ data


@dataclass(frozen=True)
class Grant:
    """One resource side of an effective permission, for the action it is filed under.

    ``resource`` is a pattern; ``not_resources`` (a NotResource statement) means ``"*"`` except
    those; ``except_actions`` (a NotAction statement, filed under the action ``"*"``) means every
    action except those. ``conditions`` are the statement's conditions, kept as a marker, never
    evaluated. ``source`` is where the granting statement is written and ``via`` the Action pattern
    the action was expanded from (``s3:Get*``); neither is part of equality.
    """

    resource: str
    not_resources: Tuple[str, ...] = ()
    except_actions: Tuple[str, ...] = ()
    conditions: Tuple[Condition, ...] = ()
    unresolved: bool = False
    source: Optional[Location] = field(default=None, compare=False)
    via: Optional[str] = field(default=None, compare=False)

    @property
    def conditional(self) -> bool:
        return bool(self.conditions)

    def sort_key(self) -> Tuple[Any, ...]:
        return (self.resource, self.not_resources, self.except_actions,
                tuple((c.operator, c.key, c.values) for c in self.conditions), self.unresolved)


# (effect, canonical action or kept pattern) -> grants
Permissions = Dict[Tuple[str, str], FrozenSet[Grant]]


@dataclass(frozen=True)
class Wildcard:
    """A wildcard in an Allow statement that the base revision did not have for these services.

    ``element`` is ``Action``, ``NotAction``, ``Resource`` or ``NotResource``; ``pattern`` the text
    (the listed elements, comma-separated, for the Not- forms); ``services`` the service prefixes
    of the statement's actions (``*`` for a pattern spanning services); ``broad`` marks the ones
    that reach a whole service or account (``*``, ``s3:*``, ``Resource: "*"``, ``table/*``, Not-).
    """

    element: str
    pattern: str
    services: Tuple[str, ...]
    broad: bool
    location: Optional[Location] = None


# ============================================================================ permissions


def principal_keys(principals: Iterable[Principal]) -> "OrderedDict[str, Principal]":
    """Each principal under a key that is stable across revisions (see the module docstring)."""
    plist = list(principals)
    ids = Counter(p.id or (p.aliases[0] if p.aliases else p.arn or "?") for p in plist)
    out: "OrderedDict[str, Principal]" = OrderedDict()
    for p in plist:
        key = p.id or (p.aliases[0] if p.aliases else p.arn or "?")
        if ids[key] > 1:
            key = f"{key} ({p.location.file if p.location else '?'})"
        unique, n = key, 2
        while unique in out:
            unique, n = f"{key} #{n}", n + 1
        out[unique] = p
    return out


def _is_pattern(text: str) -> bool:
    return "*" in text or "?" in text


def _action_keys(patterns: Sequence[str]) -> "OrderedDict[str, Optional[str]]":
    """Canonical actions for an Action element, each with the pattern it was expanded from (or None).

    Patterns confined to one service are expanded through the catalog; patterns spanning services
    and unknown actions are kept as written."""
    out: "OrderedDict[str, Optional[str]]" = OrderedDict()
    for a in patterns:
        if _is_pattern(a):
            expanded = catalog.expand_action(a) if action_service(a) is not None else ()
            for action in expanded:
                out.setdefault(action, a)
            if not expanded:
                out.setdefault(a, None)
        else:
            out[catalog.canonical_action(a) or a] = None
    return out


def _statement_grants(st: Statement) -> Iterator[Tuple[str, Grant]]:
    """(action, grant) for every action and resource a statement names."""
    if st.actions is not None:
        keys: List[Tuple[str, Tuple[str, ...], Optional[str]]] = [
            (a, (), via) for a, via in _action_keys(st.actions).items()]
    elif st.not_actions is not None:
        keys = [("*", tuple(sorted(set(st.not_actions), key=str.lower)), None)]
    else:
        return
    if st.resources is not None:
        sides = [(r, ()) for r in dict.fromkeys(st.resources)]
    elif st.not_resources is not None:
        sides = [("*", tuple(sorted(set(st.not_resources))))]
    else:
        return
    conditions = tuple(sorted(set(st.conditions), key=lambda c: (c.operator, c.key, c.values)))
    for action, except_actions, via in keys:
        for resource, not_resources in sides:
            yield action, Grant(resource, not_resources, except_actions, conditions, bool(st.unresolved),
                                st.location, via)


_Grants = Dict[str, Set[Grant]]  # action -> grants, for one effect


def _collect(statements: Iterable[Statement]) -> Tuple[_Grants, _Grants]:
    allow: _Grants = {}
    deny: _Grants = {}
    for st in statements:
        target = allow if st.effect == "Allow" else deny
        for action, grant in _statement_grants(st):
            target.setdefault(action, set()).add(grant)
    return allow, deny


# ---------------------------------------------------------------------------- coverage


def _action_covers(b: str, h: str) -> bool:
    """Every action ``h`` names (an action or pattern) is named by ``b``."""
    return b.lower() == h.lower() or action_matches(b, concretize(h))


def _actions_overlap(a: str, b: str) -> bool:
    return globs_intersect(a.lower(), b.lower())


def _resource_covers(b: str, h: str) -> bool:
    return b == h or b == "*" or bool(resource_matches(b, concretize(h), {}))


def _action_part_covers(ba: str, b: Grant, ha: str, h: Grant) -> bool:
    if not _action_covers(ba, ha):
        return False
    return all(not _actions_overlap(e, ha) or any(_action_covers(x, e) for x in h.except_actions)
               for e in b.except_actions)


def _resource_part_covers(b: Grant, h: Grant) -> bool:
    if not _resource_covers(b.resource, h.resource):
        return False
    return all(not globs_intersect(n, h.resource) or any(_resource_covers(x, n) for x in h.not_resources)
               for n in b.not_resources)


def _grant_covers(ba: str, b: Grant, ha: str, h: Grant, conditions: bool = True) -> bool:
    """Whatever (ha, h) allows or denies, (ba, b) does too (conditions: b's are a subset of h's)."""
    if conditions and not set(b.conditions) <= set(h.conditions):
        return False
    return _action_part_covers(ba, b, ha, h) and _resource_part_covers(b, h)


class GrantIndex:
    """Grants of one effect by action, with the pattern keys apart (they may cover any action)."""

    def __init__(self, grants: Mapping[str, Iterable[Grant]]) -> None:
        self.exact: Dict[str, List[Tuple[str, Grant]]] = {}
        self.patterns: List[Tuple[str, Grant]] = []
        for action, gs in grants.items():
            pairs = [(action, g) for g in gs]
            self.exact.setdefault(action.lower(), []).extend(pairs)
            if _is_pattern(action):
                self.patterns.extend(pairs)

    def candidates(self, action: str) -> Iterator[Tuple[str, Grant]]:
        low = action.lower()
        yield from self.exact.get(low, ())
        for a, g in self.patterns:
            if a.lower() != low and _action_covers(a, action):
                yield a, g

    def covers(self, action: str, grant: Grant, conditions: bool = True) -> bool:
        return any(_grant_covers(a, g, action, grant, conditions) for a, g in self.candidates(action))


def _merge_conditions(a: Grant, b: Grant) -> Tuple[Condition, ...]:
    return tuple(sorted(set(a.conditions) | set(b.conditions), key=lambda c: (c.operator, c.key, c.values)))


def _within_boundary(allow: _Grants, boundary: _Grants) -> _Grants:
    """The part of the identity Allows that the boundary's Allows also allow (approximate)."""
    index = GrantIndex(boundary)
    out: _Grants = {}
    for action, grants in allow.items():
        for g in grants:
            full: List[Grant] = []
            narrower: List[Grant] = []
            overlap: List[Grant] = []
            for ba, bg in index.candidates(action):
                if not _action_part_covers(ba, bg, action, g):
                    continue
                if _resource_part_covers(bg, g):
                    full.append(bg)
                elif _resource_part_covers(g, bg):
                    narrower.append(bg)
                elif globs_intersect(bg.resource, g.resource):
                    overlap.append(bg)
            if full:
                best = min(full, key=lambda b: len(b.conditions))
                kept = [replace(g, conditions=_merge_conditions(g, best))]
            else:
                kept = [Grant(b.resource, b.not_resources, g.except_actions, _merge_conditions(g, b),
                              g.unresolved or b.unresolved, g.source, g.via) for b in narrower]
                kept += [replace(g, conditions=_merge_conditions(g, b)) for b in overlap]
            if kept:
                out.setdefault(action, set()).update(kept)
    return out


def _minus_denies(allow: _Grants, deny: _Grants) -> _Grants:
    """Allows that no unconditional, resolved Deny covers entirely."""
    hard = {a: [g for g in gs if not g.conditions and not g.unresolved] for a, gs in deny.items()}
    index = GrantIndex(hard)
    out: _Grants = {}
    for action, grants in allow.items():
        kept = {g for g in grants if not index.covers(action, g, conditions=False)}
        if kept:
            out[action] = kept
    return out


def _minimize(grants: _Grants) -> _Grants:
    """Drop grants another grant of the same set covers (ties: the one sorting first stays)."""
    index = GrantIndex(grants)
    out: _Grants = {}
    for action, gs in grants.items():
        for g in gs:
            redundant = False
            for oa, og in index.candidates(action):
                if (oa, og) == (action, g) or not _grant_covers(oa, og, action, g):
                    continue
                mutual = _grant_covers(action, g, oa, og)
                if not mutual or (og.sort_key(), oa.lower()) < (g.sort_key(), action.lower()):
                    redundant = True
                    break
            if not redundant:
                out.setdefault(action, set()).add(g)
    return out


def principal_permissions(principal: Principal) -> Permissions:
    """``(effect, action) -> grants`` for one principal: identity policies within its boundary,
    minus what its unconditional Denies cover, without redundant grants."""
    allow, deny = _collect(st for pol in principal.identity_policies for st in pol.statements)
    if principal.boundary is not None:
        b_allow, b_deny = _collect(principal.boundary.statements)
        allow = _within_boundary(allow, b_allow)
        for action, gs in b_deny.items():
            deny.setdefault(action, set()).update(gs)
    allow = _minimize(_minus_denies(allow, deny))
    deny = _minimize(deny)
    perms: Permissions = {}
    for effect, grants in (("Allow", allow), ("Deny", deny)):
        for action, gs in grants.items():
            perms[(effect, action)] = frozenset(gs)
    return perms


def effective_permissions(inventory: Inventory) -> Dict[str, Permissions]:
    """Every principal's permissions, by its stable key (:func:`principal_keys`)."""
    return {key: principal_permissions(p) for key, p in principal_keys(inventory.principals).items()}


# ---------------------------------------------------------------------------- wildcards


def _broad_action(pattern: str) -> bool:
    service, sep, name = pattern.partition(":")
    return pattern.strip() == "*" or not sep or _is_pattern(service) or name.strip() == "*"


def _broad_resource(pattern: str) -> bool:
    if pattern == "*":
        return True
    parts = split_arn(pattern)
    if parts is None:
        return pattern.startswith("*")
    rest = parts[5]
    if rest == "*":
        return True
    if parts[4]:  # an ARN with an account: "table/*", "function:*" reach every resource of the type
        head, sep, tail = rest.partition("/") if "/" in rest else rest.partition(":")
        return bool(sep) and tail == "*" and not _is_pattern(head)
    return False


_WildItem = Tuple[str, str, str]  # (element, pattern as compared, service)


def _wildcard_items(principal: Principal) -> "OrderedDict[_WildItem, Tuple[str, Optional[Location]]]":
    """Wildcards of the principal's identity Allow statements -> (pattern as written, location)."""
    out: "OrderedDict[_WildItem, Tuple[str, Optional[Location]]]" = OrderedDict()

    def add(element: str, shown: str, service: str, loc: Optional[Location]) -> None:
        key = (element, shown.lower() if element in ("Action", "NotAction") else shown, service)
        out.setdefault(key, (shown, loc))

    for pol in principal.identity_policies:
        for st in pol.statements:
            if st.effect != "Allow":
                continue
            if st.actions is not None:
                services = sorted({action_service(a) or "*" for a in st.actions})
                if "Action" not in st.unresolved:
                    for a in st.actions:
                        if _is_pattern(a):
                            add("Action", a, action_service(a) or "*", st.location)
            elif st.not_actions is not None:
                services = ["*"]
                if "NotAction" not in st.unresolved:
                    add("NotAction", ", ".join(sorted(set(st.not_actions), key=str.lower)), "*", st.location)
            else:
                continue
            if st.resources is not None and "Resource" not in st.unresolved:
                for r in st.resources:
                    if _is_pattern(r):
                        for s in services:
                            add("Resource", r, s, st.location)
            elif st.not_resources is not None and "NotResource" not in st.unresolved:
                for s in services:
                    add("NotResource", ", ".join(sorted(set(st.not_resources))), s, st.location)
    return out


def _item_covered(item: _WildItem, before: Set[_WildItem]) -> bool:
    """The base already had this wildcard, or a wider one of the same element for the same service."""
    if item in before:
        return True
    element, pattern, service = item
    if element not in ("Action", "Resource"):
        return False
    for b_element, b_pattern, b_service in before:
        if b_element != element or b_service not in (service, "*"):
            continue
        if element == "Action" and _action_covers(b_pattern, pattern):
            return True
        if element == "Resource" and _resource_covers(b_pattern, pattern):
            return True
    return False


def new_wildcards(base: Optional[Principal], head: Principal) -> Tuple[Wildcard, ...]:
    """Wildcards of ``head`` that ``base`` had neither as such nor covered by a wider one."""
    before = set(_wildcard_items(base)) if base is not None else set()
    grouped: "OrderedDict[Tuple[str, str], List[Any]]" = OrderedDict()
    for (element, key, service), (shown, loc) in _wildcard_items(head).items():
        if _item_covered((element, key, service), before):
            continue
        entry = grouped.setdefault((element, key), [shown, [], loc])
        entry[1].append(service)
    out = []
    for (element, _), (shown, services, loc) in grouped.items():
        broad = (element in ("NotAction", "NotResource")
                 or (element == "Action" and _broad_action(shown))
                 or (element == "Resource" and _broad_resource(shown)))
        out.append(Wildcard(element, shown, tuple(sorted(set(services))), broad, loc))
    order = {"NotAction": 0, "Action": 1, "NotResource": 2, "Resource": 3}
    return tuple(sorted(out, key=lambda w: (not w.broad, order[w.element], w.pattern, w.services)))
