"""Requirements the code's own wiring implies: the ``infer:`` entries of the rule packs, read over
``Inventory.resources``.

An entry names the resource types it reads (CloudFormation, SAM and Terraform types alike), the
conditions on their properties, the principal (the role the resource runs as, the role of a resource
it refers to, or a service principal that the destination's resource policy must let in), and what
that principal needs::

    - types: [AWS::Lambda::EventSourceMapping]
      when: [{path: EventSourceArn, refers_to: [AWS::SQS::Queue]}]
      principal: {role_of: FunctionName}
      needs:
        - actions: [sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes]
          resource: "{arn:EventSourceArn}"

Paths are property names joined by ``.``; ``*`` reads every item of a list or mapping; ``->`` follows
a reference to the resource it names and goes on in that resource's properties
(``EventSourceArn->KmsMasterKeyId``: the key of the queue the mapping reads; an ARN or queue URL
written as a string is followed to the resource of the code that has it); ``item`` is the value
``for_each`` iterates over. In ``resource`` and ``context`` templates, ``{arn:PATH}`` is the ARN of
what the path refers to (a resource of the scanned code, or an ARN written as such), ``{arn:self}``
the ARN of the resource read, ``{value:PATH}`` a plain value, and ``{account}``, ``{region}``,
``{partition}`` come from the settings. A path that yields several values makes one requirement each.

The path step ``json`` reads a string value as JSON (Terraform's
``container_definitions = jsonencode([...])`` arrives as a string; a value that is not valid JSON
yields nothing, a property actually named ``json`` is still read as such); the path ``self`` is the
ARN of the resource read; the condition ``matches: REGEX`` holds when a (plain) value matches the
regular expression (``re.search``), and the named groups of that match are the template fields
``{match:NAME}`` (``matches: '^(?P<acct>[0-9]{12})[.]dkr[.]ecr[.]'`` then ``{match:acct}``).

A state machine's ``DefinitionString`` and Terraform's ``definition`` are read the same way
(``definition.json.States.*``). An SQS queue URL
(``https://sqs.REGION.amazonaws.com/ACCOUNT/NAME``, what a Step Functions ``QueueUrl`` holds) stands
for the queue's ARN in ``{arn:PATH}``. A service principal may be a template too
(``logs.{region}.amazonaws.com``). ``**`` reads a value and every value nested in it, at any
depth (``Definition.**.States.*``: the states of a state machine and of its Parallel and Map states).

A requirement is inferred only where the code says enough: the principal must be one the readers
found (a role defined elsewhere cannot be checked), and a destination the code names but whose ARN
cannot be resolved offline gives an ``unknown`` requirement with the reason, never a guess.

Pure: imports model only.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from ..model import Inventory, Principal, Requirement, Resource, ResourceRef, Settings, find_principals

__all__ = ["ById", "Inferred", "infer", "near", "values_at"]


@dataclass(frozen=True)
class Inferred:
    """One requirement a rule inferred: who, what, from which resource; ``unknown`` says why it
    cannot be decided (its resource could not be resolved)."""

    rule: str
    principal: Principal
    requirement: Requirement
    unknown: str = ""


class _Unresolvable(Exception):
    """A template names a value the code does not give offline."""


# -------------------------------------------------------------------------------- paths


def _step(value: Any, key: str) -> List[Any]:
    if key == "json" and isinstance(value, str):  # a JSON document held as a string
        try:
            return [json.loads(value)]
        except ValueError:
            return []
    if key == "**":
        return _nested(value)
    if key == "*":
        if isinstance(value, Mapping):
            return list(value.values())
        if isinstance(value, list):
            return list(value)
        return []
    if isinstance(value, Mapping) and key in value:
        return [value[key]]
    if isinstance(value, list):  # a list where one value was expected: each item (Terraform blocks)
        return [v[key] for v in value if isinstance(v, Mapping) and key in v]
    return []


def _nested(value: Any) -> List[Any]:
    """``value`` and every value nested in it, depth first; lists give their items only (so that a
    key read next is found once)."""
    out, stack = [], [value]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(reversed(v))
            continue
        out.append(v)
        if isinstance(v, Mapping):
            stack.extend(reversed(list(v.values())))
    return out


def values_at(start: Any, path: str, resources: Mapping[str, Resource],
              by_value: Optional[Mapping[str, Resource]] = None) -> List[Any]:
    """Every value at ``path`` from ``start`` (a resource's properties, or an item), following ``->``
    (a reference, or with ``by_value`` an ARN or queue URL the code's resources have)."""
    current = [start]
    for i, part in enumerate(path.split("->")):
        if i:  # follow each reference to the resource it names
            current = [r.properties for v in current
                       if (r := resources.get(v.target) if isinstance(v, ResourceRef)
                           else (by_value or {}).get(v) if isinstance(v, str) else None) is not None]
        for key in part.split("."):
            current = [x for v in current for x in _step(v, key)]
    return current


# -------------------------------------------------------------------------------- values


_TYPE_SERVICE = {"logs": ("AWS::Logs::", "aws_cloudwatch_log"), "events": ("AWS::Events::", "aws_cloudwatch_event"),
                 "states": ("AWS::StepFunctions::", "aws_sfn_"), "es": ("AWS::Elasticsearch::", "aws_elasticsearch"),
                 "elasticloadbalancing": ("AWS::ElasticLoadBalancingV2::", "aws_lb")}


def type_service(rtype: str) -> str:
    """The ARN service of a resource type: ``AWS::SQS::Queue`` / ``aws_sqs_queue`` -> ``sqs``."""
    for service, prefixes in _TYPE_SERVICE.items():
        if rtype.startswith(prefixes):
            return service
    if rtype.startswith("AWS::"):
        return rtype.split("::")[1].lower()
    parts = rtype.split("_")
    return parts[1] if len(parts) > 2 and parts[0] == "aws" else ""


# an API Gateway integration URI stands for the function it invokes (Uri of AWS::ApiGateway::Method)
_INVOCATION = re.compile(r"arn:[^:]+:apigateway:[^:]*:lambda:path/[^/]+/functions/(arn:[^/]+)/invocations")

_QUEUE_URL = re.compile(r"https://sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([0-9]{12})/([A-Za-z0-9_.-]+)")


def _file(thing: Any) -> str:
    loc = getattr(thing, "location", None)
    return loc.file if loc is not None else ""


def near(candidates: Sequence[Any], here: str) -> Optional[Any]:
    """The one of ``candidates`` (resources or principals with the same id) that a reference written
    in file ``here`` means: the only one, else the only one of that file, else of its folder (a
    Terraform module's files refer to each other); None when that does not decide (never a guess)."""
    if len(candidates) == 1:
        return candidates[0]
    for same in ((lambda c: _file(c) == here), (lambda c: os.path.dirname(_file(c)) == os.path.dirname(here))):
        picked = [c for c in candidates if same(c)]
        if len(picked) == 1:
            return picked[0]
    return None


class ById(Mapping):
    """Resources by id, where two templates (or two Terraform roots) may use the same id: a lookup
    is answered for the file being read (``here``), as :func:`near` decides."""

    def __init__(self, resources: Sequence[Resource]) -> None:
        self.all: Dict[str, List[Resource]] = {}
        for r in resources:
            self.all.setdefault(r.id, []).append(r)
        self.here = ""

    def __getitem__(self, key: str) -> Resource:
        found = near(self.all.get(key, ()), self.here)
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self.all)

    def __len__(self) -> int:
        return len(self.all)


class _Context:
    def __init__(self, inventory: Inventory, roles: Mapping[str, str], settings: Settings) -> None:
        self.inventory = inventory
        self.roles = roles
        self.settings = settings
        self.groups: Dict[str, str] = {}  # the named groups of the ``matches`` conditions that held
        self.by_id = ById(inventory.resources)
        self.by_arn: Dict[str, Resource] = {}
        self.by_value: Dict[str, Resource] = {}  # what -> follows in a string: an ARN, a queue's URL
        for r in inventory.resources:
            if r.arn:
                self.by_arn.setdefault(r.arn, r)
                self.by_value.setdefault(r.arn, r)
                queue = r.arn.split(":") if r.arn.startswith("arn:") and ":sqs:" in r.arn else []
                if len(queue) == 6:  # the URL Terraform's .url and a state's QueueUrl give
                    self.by_value.setdefault(f"https://sqs.{queue[3]}.amazonaws.com/{queue[4]}/{queue[5]}", r)

    def target(self, value: Any) -> Optional[Resource]:
        """The resource of the code a value refers to: a reference, or an ARN the code defines."""
        if isinstance(value, ResourceRef):
            return self.by_id.get(value.target)
        if isinstance(value, str):
            return self.by_arn.get(value)
        return None

    def arn(self, value: Any) -> str:
        """The ARN a value stands for; raises _Unresolvable when the code does not give it offline."""
        if isinstance(value, ResourceRef):
            target = self.by_id.get(value.target)
            if value.attribute not in (None, "Arn", "arn") and value.value and value.value.startswith("arn:"):
                invoked = _INVOCATION.fullmatch(value.value)  # invoke_arn: the function it invokes
                return invoked.group(1) if invoked else value.value  # or its own (a table's StreamArn)
            if target is not None and target.arn and value.attribute not in ("Name",):
                own = value.value if isinstance(value.value, str) else ""
                # an ARN within the resource's (a table's StreamArn, a qualified function ARN) is that one
                return own if own.startswith((target.arn + "/", target.arn + ":")) else target.arn
            if isinstance(value.value, str) and (value.value.startswith("arn:") or _QUEUE_URL.fullmatch(value.value)):
                return self.arn(value.value)
            raise _Unresolvable(f"the ARN of {value.target}")
        if isinstance(value, str) and value.startswith("arn:"):
            invoked = _INVOCATION.fullmatch(value)
            return invoked.group(1) if invoked else value
        queue = _QUEUE_URL.fullmatch(value) if isinstance(value, str) else None
        if queue:
            return f"arn:{self.settings.partition}:sqs:{queue.group(1)}:{queue.group(2)}:{queue.group(3)}"
        if value is None:
            raise _Unresolvable("a value that could not be resolved")
        raise _Unresolvable(f"{value!r} (not an ARN)")

    def service_of(self, value: Any) -> str:
        try:
            arn = self.arn(value)
        except _Unresolvable:
            target = self.target(value)
            return type_service(target.type) if target is not None else ""
        parts = arn.split(":")
        return parts[2] if len(parts) > 2 else ""

    # ---------------------------------------------------------------- principals

    def role_of(self, resource: Resource) -> Optional[Principal]:
        """The role ``resource`` runs as: the one its role property names (``roles:`` of the packs),
        else the one generated for it (SAM's ``<Function>Role``, which answers to the function's id)."""
        prop = self.roles.get(resource.type)
        named = [v for v in values_at(resource.properties, prop, self.by_id) if v is not None] if prop else []
        if named:
            found = [self.role(v) for v in named]
            return found[0] if len(found) == 1 else None
        generated = [p for p in self.inventory.principals if resource.id in p.aliases and p.id != resource.id]
        return near(generated, self.by_id.here)

    def role(self, value: Any) -> Optional[Principal]:
        """The principal a value names: a reference to a role of the code, or its ARN."""
        if isinstance(value, ResourceRef):
            found = [p for p in self.inventory.principals if p.id == value.target]
            if not found and value.value:
                found = find_principals(self.inventory, value.value)
        elif isinstance(value, str) and value:
            found = find_principals(self.inventory, value)
        else:
            return None
        return near(found, self.by_id.here)

    # ---------------------------------------------------------------- templates

    def render(self, template: str, resource: Resource, item: Any) -> List[str]:
        """Every string ``template`` stands for (one per value of a path that has several)."""
        results = [""]
        pos = 0
        for m in re.finditer(r"\{([a-z]+)(?::([^}]*))?\}", template):
            literal = template[pos:m.start()]
            pos = m.end()
            kind, path = m.group(1), m.group(2)
            if kind in ("account", "region", "partition"):
                value = getattr(self.settings, kind)
                if not value:
                    raise _Unresolvable(f"settings.{kind}")
                options = [value]
            elif kind == "arn" and path == "self":
                if not resource.arn:
                    raise _Unresolvable(f"the ARN of {resource.id}")
                options = [resource.arn]
            elif kind == "match" and path:
                if path not in self.groups:
                    raise _Unresolvable(f"{{match:{path}}} of {resource.id}")
                options = [self.groups[path]]
            elif kind in ("arn", "value") and path:
                found = self.at(resource, item, path)
                if not found:
                    raise _Unresolvable(f"{path} of {resource.id}")
                options = [self.arn(v) if kind == "arn" else _plain(v) for v in found]
            else:
                raise ValueError(f"unknown template field {m.group(0)} in {template!r}")
            results = [r + literal + o for r in results for o in options]
        return [r + template[pos:] for r in results]

    def at(self, resource: Resource, item: Any, path: str) -> List[Any]:
        if path == "self":
            return [resource.arn] if resource.arn else []
        if path == "item" or path.startswith("item.") or path.startswith("item->"):
            rest = path[4:].lstrip(".")
            if not rest:
                return [item]
            if rest.startswith("->"):
                return values_at({"_": item}, "_" + rest, self.by_id, self.by_value)
            return values_at(item, rest, self.by_id, self.by_value)
        return values_at(resource.properties, path, self.by_id, self.by_value)


def _plain(value: Any) -> str:
    if isinstance(value, ResourceRef):
        if value.value is None:
            raise _Unresolvable(f"the value of {value.target}")
        return value.value
    if value is None or isinstance(value, (dict, list)):
        raise _Unresolvable("a value that could not be resolved")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _holds(ctx: _Context, resource: Resource, item: Any, when: Any) -> bool:
    values = ctx.at(resource, item, when.path)
    if when.present is not None:
        return any(_present(v) for v in values) == when.present
    if not values:
        return False
    if getattr(when, "matches", None) is not None:
        for v in values:
            try:
                m = re.search(when.matches, _plain(v))
            except _Unresolvable:
                continue
            if m:
                ctx.groups.update({k: g for k, g in m.groupdict().items() if g is not None})
                return True
        return False
    if when.equals is not None:
        wanted = {str(e).lower() if isinstance(e, (str, bool)) else str(e) for e in when.equals}
        return any((_show(v) in wanted) for v in values)
    if when.refers_to is not None:
        return any((t := ctx.target(v)) is not None and t.type in when.refers_to for v in values)
    if when.arn_service is not None:
        return any(ctx.service_of(v) in when.arn_service for v in values)
    return True


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).lower() if isinstance(value, str) else str(value)


# -------------------------------------------------------------------------------- inference


def _items(ctx: _Context, resource: Resource, for_each: Optional[str]) -> Iterator[Tuple[Any, str]]:
    if not for_each:
        yield None, ""
        return
    base = for_each[:-2] if for_each.endswith(".*") else for_each
    container = values_at(resource.properties, base, ctx.by_id)
    shown = base.replace(".**", "")  # Definition.States.Fetch: state names are unique in a machine
    for c in container:
        if isinstance(c, Mapping):
            for key, value in c.items():
                yield value, f"{shown}.{key}"
        elif isinstance(c, list):
            for i, value in enumerate(c):
                yield value, f"{shown}[{i}]"


def _principal(ctx: _Context, resource: Resource, item: Any, spec: Tuple[str, Any]) -> List[Principal]:
    kind, value = spec
    if kind == "service":  # logs.{region}.amazonaws.com: a template like a resource's
        try:
            names = ctx.render(value, resource, item)
        except _Unresolvable:
            return []
        return [Principal(id=n, type="service", arn=n) for n in names]
    if kind == "self":
        p = ctx.role_of(resource)
        return [p] if p is not None else []
    out: List[Principal] = []
    for v in ctx.at(resource, item, value):
        if kind == "role":
            p = ctx.role(v)
        else:
            target = ctx.target(v)
            p = ctx.role_of(target) if target is not None else None
        if p is not None and p not in out:
            out.append(p)
    return out


def infer(inventory: Inventory, rules: Sequence[Any], roles: Mapping[str, str], settings: Settings
          ) -> Tuple[Inferred, ...]:
    """Every requirement the ``infer:`` entries of ``rules`` (registry rules) imply over the
    inventory's resources, in rule order then resource order; each (principal, action, resource,
    context) once, under the first rule that implies it."""
    ctx = _Context(inventory, roles, settings)
    out: List[Inferred] = []
    seen: set = set()
    by_type: Dict[str, List[Resource]] = {}
    for r in inventory.resources:
        by_type.setdefault(r.type, []).append(r)
    for rule in rules:
        for entry in getattr(rule, "infer", ()) or ():
            for rtype in entry.types:
                for resource in by_type.get(rtype, ()):
                    ctx.by_id.here = _file(resource)  # references are to the resources of its own file
                    for item, where in _items(ctx, resource, entry.for_each):
                        ctx.groups = {}
                        if not all(_holds(ctx, resource, item, w) for w in entry.when):
                            continue
                        for principal in _principal(ctx, resource, item, entry.principal):
                            for need in entry.needs:
                                via = _via(entry, need, where)
                                for inferred in _requirements(ctx, rule.id, resource, item, principal, need, via):
                                    r = inferred.requirement
                                    key = (principal.id, r.action, r.resource, tuple(sorted(r.context.items())))
                                    if key not in seen:
                                        seen.add(key)
                                        out.append(inferred)
    return tuple(out)


def _via(entry: Any, need: Any, where: str) -> Optional[str]:
    """The property that implies a need: the item ``for_each`` reads (``Events.Jobs``), else the first
    path the need's resource names, else the first condition's (``{arn:EventSourceArn}`` -> EventSourceArn)."""
    if where:
        return where
    m = re.search(r"\{(?:arn|value):([^}]+)\}", need.resource)
    if m and m.group(1) != "self":
        return m.group(1)
    return entry.when[0].path if entry.when else None


def _requirements(ctx: _Context, rule: str, resource: Resource, item: Any, principal: Principal, need: Any,
                  via: Optional[str]) -> List[Inferred]:
    selector, source = principal.id, resource.id
    try:
        targets = ctx.render(need.resource, resource, item)
        contexts: List[Dict[str, Tuple[str, ...]]] = [{}]
        for key, template in need.context:
            values = ctx.render(template, resource, item)
            contexts = [dict(c, **{key: (v,)}) for c in contexts for v in values]
    except _Unresolvable as exc:
        # decided on every resource: a grant that covers them all still proves it
        return [Inferred(rule, principal, Requirement(selector, a, "*", {}, resource.location, rule, source, via),
                         f"{exc} could not be resolved offline") for a in need.actions]
    return [Inferred(rule, principal, Requirement(selector, a, t, c, resource.location, rule, source, via))
            for t in dict.fromkeys(targets) for c in contexts for a in need.actions]
