"""CloudFormation and SAM templates: every IAM principal, policy and resource policy they deploy.

A template is recognised by its content (``Resources`` of typed resources, or
``AWSTemplateFormatVersion``), whatever its extension. SAM templates are first expanded into the
IAM resources SAM generates (``sam.py``). Values are resolved as CloudFormation would resolve them
(``intrinsics.py``, ``resources.py``); what cannot be resolved offline stays visibly unresolved.

Covered: ``AWS::IAM::Role``/``User``/``Group`` with inline ``Policies``, ``ManagedPolicyArns``,
``PermissionsBoundary`` and ``Tags``; ``AWS::IAM::Policy``/``ManagedPolicy``/``RolePolicy``/
``UserPolicy``/``GroupPolicy`` and ``UserToGroupAddition``; instance profiles; SSO permission sets;
the resource policies listed in ``RESOURCE_POLICIES``; StackSet ``TemplateBody`` and nested stacks
with a local ``TemplateURL`` (``AWS::CloudFormation::Stack``, StackSets) or ``Location`` (SAM's
``AWS::Serverless::Application``).

Nested stacks are read with the parameters the parent passes, under the stack name
``<parent>-<LogicalId>`` (CloudFormation names a nested stack so, plus a suffix), and the files read
so are listed in ``Inventory.nested_templates``, so that the seam does not read them again as stacks
of their own. ``!GetAtt Child.Outputs.Name`` is the manifest's ``settings.stack_outputs`` value if
given, else the child's output resolved, else unknown with a note saying how to give it. A
``TemplateURL`` into a build folder is read from the template it was built from (``built_from``).
A nested template that is missing or cannot be read is a warning (IG0007) at the parent's resource,
never an input error: the parent is still checked.

``Inventory.resources`` lists every resource that exists (a false ``Condition`` removes it; an
unknown one keeps it) at its logical ID's line: its ARN as ``resources.Names.arn`` synthesizes it,
and its ``Properties`` resolved into plain data in which each ``Ref``/``Fn::GetAtt`` of a resource of
the same template (also inside ``Fn::If``) is a ``ResourceRef``; references inside ``Fn::Sub`` or
``Fn::Join`` are their text, and what cannot be resolved offline is None. The resources of a
StackSet body or nested stack are listed as ``<its logical ID>/<logical ID>``, with the logical IDs
of every enclosing nested stack in front (``Parent/Child/Queue``); its principals answer to that path
too. SAM: see ``sam.py``.
"""
from __future__ import annotations

import os
from dataclasses import replace
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ...model import (Excluded, Stack, Finding, Inventory, Location, Policy, Principal, Resource, ResourcePolicy, ResourceRef,
                      Unresolved, merge)
from ...policy import PolicyError, all_unknown, unresolved_policy
from .. import ReadOptions, inside_roots, read_text
from ..documents import Attached, build_policy, managed_policy_for, starred, unknown_statements
from ..grammar import about_unresolved, validate_document
from ..values import NO_VALUE, Partial, Unknown, plain_data, unknowns_in
from .intrinsics import Resolver, Settings
from . import looks_like_template
from .loader import LDict, LList, TemplateError, line_of, load_template_text
from .resources import Names

SERVERLESS = "AWS::Serverless-2016-10-31"
MAX_DEPTH = 5
MAX_NESTED_STACKS = 100  # nested templates read for one top-level template, at every depth together
SAM_APPLICATION = "AWS::Serverless::Application"
# what deploys another template as a nested stack (SAM makes an application an AWS::CloudFormation::Stack)
NESTED_STACK_TYPES = ("AWS::CloudFormation::Stack", SAM_APPLICATION)
# folders build tools write templates into (sam build, cdk synth); a TemplateURL into one is read from
# the template it was built from when that is in the source tree (``built_from``)
BUILD_FOLDERS = (".aws-sam", "cdk.out")
SAM_TEMPLATE_NAMES = ("template.yaml", "template.yml", "template.json")  # what `sam build` looks for
# template file names (without extension) that say nothing about the stack: SAM's and CloudFormation's
# defaults, what `sam package` / `aws cloudformation package` write. A template named so takes its
# synthesized stack name from its folder, so svc-a/template.yaml and svc-b/template.yaml are two stacks
GENERIC_TEMPLATE_NAMES = frozenset({"template", "packaged", "packaged-template", "cfn", "cloudformation"})


def _maybe_template(text: str) -> bool:
    return "AWSTemplateFormatVersion" in text or ("Resources" in text and "::" in text)


def read(path: str, text: str, options: Optional[ReadOptions] = None) -> Optional[Inventory]:
    """The IAM content of a CloudFormation or SAM template; None when the file is not one."""
    if not _maybe_template(text):
        return None
    try:
        data = load_template_text(text)
    except TemplateError as e:
        if "AWSTemplateFormatVersion" in text or "AWS::" in text:
            return Inventory(problems=(_problem("parse-error", f"{path}: {e.message}",
                                                Location(path, e.line, e.column)),))
        return None
    if not looks_like_template(data):
        return None
    options = options or ReadOptions()
    return Template(path, data, options, options.stack_name or stack_name_for(path)).read()


def stack_name_for(path: str) -> str:
    """The stack name a template is read with when the settings give none: the file's stem
    (orders-stack.yaml -> orders-stack), or its folder's name when the file name is a generic one
    (svc-a/template.yaml -> svc-a; template.yaml read from inside svc-a too), with ``.`` and ``_``
    as ``-``."""
    stem = os.path.splitext(os.path.basename(path))[0]
    if generic_name(path):
        stem = os.path.basename(os.path.dirname(os.path.abspath(path))) or stem
    return stem.replace(".", "-").replace("_", "-") or "stack"


def generic_name(path: str) -> bool:
    """Whether a template's file name says nothing about its stack (template.yaml, packaged.yml)."""
    return os.path.splitext(os.path.basename(path))[0].lower() in GENERIC_TEMPLATE_NAMES


# the rule each kind of reader problem reports (rules/registry.py documents them)
_RULES = {"parse-error": "IG0001", "invalid-policy": "IG3001"}


def _problem(kind: str, message: str, location: Location, severity: str = "error",
             rule: Optional[str] = None) -> Finding:
    return Finding(kind=kind, rule=rule or _RULES[kind], severity=severity,  # type: ignore[arg-type]
                   message=message, location=location)


def _has_serverless_resources(data: Mapping[str, Any]) -> bool:
    resources = data.get("Resources")
    return isinstance(resources, dict) and any(
        isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::Serverless::") for r in resources.values())


def _transforms(data: Mapping[str, Any]) -> List[str]:
    t = data.get("Transform")
    if isinstance(t, list):
        return [str(x) for x in t if isinstance(x, str)]
    return [str(t)] if isinstance(t, str) else []



class _Located(dict):
    """A resource's definition, located at its logical ID's line (not at its first property)."""

    def __init__(self, res: Mapping[str, Any], line: Optional[int]) -> None:
        super().__init__(res)
        self.line = line or line_of(res) or 0


class Template:
    """One template being read."""

    def __init__(self, path: str, data: Mapping[str, Any], options: ReadOptions, stack_name: str,
                 parameters: Optional[Mapping[str, Any]] = None, line_offset: int = 0, depth: int = 0,
                 alias_prefix: str = "", ancestors: Tuple[str, ...] = (), budget: Optional[List[int]] = None) -> None:
        self.path = path
        # nested stacks: the real paths of the files enclosing this template (a cycle is not read),
        # and how many more nested templates one top-level file may read (12 stacks that each
        # nest the file itself would otherwise be 12**5 reads)
        self.ancestors = ancestors
        self.budget = budget if budget is not None else [MAX_NESTED_STACKS]
        self.options = options
        self.offset = line_offset
        self.depth = depth
        self.alias_prefix = alias_prefix
        self.children: Dict[str, "_Nested"] = {}  # nested stack -> its template, found once
        self.building: set = set()  # nested stacks being found (their Parameters are being resolved)
        self.busy_outputs: set = set()  # outputs being resolved (one that refers to itself is unknown)
        self.claimed: List[str] = []  # real paths of the nested templates this template reads
        self.problems: List[Finding] = []
        self.unresolved: List[Unresolved] = []
        self.policy_documents: List[Policy] = []  # every policy read, for Inventory.documents
        self.skipped: Dict[str, Tuple[str, str, Optional[int]]] = {}  # logical ID -> (type, condition, line)
        self.aliases: Dict[str, Tuple[str, ...]] = {}
        self.sam_templates: Dict[str, str] = {}  # role policy name -> the SAM policy template(s) it came from
        self.sources: Dict[str, str] = {}  # generated role -> the SAM resource type that makes it
        self.written: Optional[Mapping[str, Any]] = None  # a SAM template's resources as written
        self.serverless: Dict[str, Tuple[Mapping[str, Any], Any]] = {}  # SAM resource -> (it, its Properties)
        from .ignores import read as read_ignores  # Metadata as written, before SAM expands it
        self.suppressions, ignore_problems = read_ignores(path, data, line_offset, alias_prefix, depth == 0)
        self.problems.extend(ignore_problems)
        self.sam = SERVERLESS in _transforms(data)  # deploying it needs the transform's change set
        if self.sam or _has_serverless_resources(data):
            # without the Transform CloudFormation rejects the template; the intent is plain, so it is
            # read as SAM and the missing Transform reported as a warning
            from .sam import expand
            original = data.get("Resources")
            original = original if isinstance(original, dict) else {}
            sam = expand(data)  # type: ignore[arg-type]
            data = sam.template
            self.written = original
            self.serverless = {logical: (res, sam.properties.get(logical, res.get("Properties")))
                               for logical, res in original.items() if isinstance(res, dict)
                               and str(res.get("Type", "")).startswith("AWS::Serverless::")}
            self.aliases = dict(sam.aliases)
            self.sam_templates = dict(sam.from_templates)
            for role, owners in self.aliases.items():
                kinds = [original[o].get("Type") for o in owners
                         if isinstance(original.get(o), dict) and str(original[o].get("Type", "")).startswith("AWS::Serverless::")]
                if kinds and role not in original:
                    self.sources[role] = str(kinds[0])
            for p in sam.problems:  # its severity is the rule's: the pipeline stamps it from the registry
                self.problems.append(_problem("invalid-policy", f"{path}: {p.message}", self.loc(p.line),
                                              rule=p.rule))
        self.data = data
        params = dict(options.parameters)
        params.update(parameters or {})
        self.settings = Settings(account=options.account, region=options.region, partition=options.partition,
                                 stack_name=stack_name, parameters=params, imports=options.imports,
                                 dynamic=options.dynamic_references)
        resources = data.get("Resources")
        self.resources: Mapping[str, Any] = resources if isinstance(resources, dict) else {}
        self.names: Names
        self.resolver = Resolver(data, self.settings, lambda logical: self.names.ref(logical),
                                 lambda logical, attr: self._attr(logical, attr))
        self.names = Names(self.resources, self.settings, self.resolver.resolve)

    # ------------------------------------------------------------------ helpers

    def loc(self, line: Optional[int]) -> Location:
        return Location(self.path, (line + self.offset) if line else None)

    def resolve(self, value: Any) -> Any:
        return self.resolver.resolve(value)

    def note_unknowns(self, value: Any, where: Optional[int] = None) -> None:
        for u in unknowns_in(value):
            self.unresolved.append(Unresolved(u.expression, self.loc(u.line or where), u.synthesized))

    def of_type(self, *types: str) -> List[Tuple[str, Mapping[str, Any], Mapping[str, Any]]]:
        out = []
        for logical, res in self.resources.items():
            if not isinstance(res, dict) or res.get("Type") not in types:
                continue
            if not self._exists(logical, res):
                continue
            props = res.get("Properties")
            out.append((logical, _Located(res, self._key_line(logical)), props if isinstance(props, dict) else LDict()))
        return out

    def _key_line(self, logical: str) -> Optional[int]:
        resources = self.resources
        return resources.key_line(logical) if isinstance(resources, LDict) else None

    def _exists(self, logical: str, res: Mapping[str, Any]) -> bool:
        cond = res.get("Condition")
        if cond is None:
            return True
        value = self.resolver.condition(cond, line_of(res))
        if value is False:
            written = self.serverless.get(logical)
            rtype = str((written[0] if written else res).get("Type"))
            written_keys = self.written
            line = (written_keys.key_line(logical) if isinstance(written_keys, LDict) and logical in written_keys
                    else self._key_line(logical))
            self.skipped[logical] = (rtype, str(cond), line or line_of(res))
            return False
        return True  # an unknown condition: the resource may exist, so it is read

    def text(self, value: Any) -> Optional[str]:
        """A resolved string, with unknown pieces as ``*``; None for non-strings."""
        if isinstance(value, str):
            return value
        if isinstance(value, Partial):
            return value.text("*")
        return None

    # ------------------------------------------------------------------ policies

    def policy(self, raw: Any, name: str, kind: str, line: Optional[int], arn: Optional[str] = None
               ) -> Optional[Policy]:
        """A policy document property resolved, validated and turned into a Policy."""
        value = self.resolve(raw)
        where = self.loc(line_of(raw, line))
        try:
            policy, unknowns = build_policy(value, name, kind, where,
                                            lambda st, i: (line_of(st) + self.offset) if line_of(st) else None,
                                            arn)
        except PolicyError as e:
            self.problems.append(_problem("invalid-policy", f"{self.path}: {name}: {e}", where))
            return None
        for u in unknowns:
            self.unresolved.append(Unresolved(u.expression, self.loc(u.line) if u.line else where, u.synthesized))
        if isinstance(value, dict):
            grammar = validate_document(starred(value), "identity" if kind == "boundary" else kind,
                                        lambda p: self._locate(value, p, where), f"{self.path}: {name}")
            unknown = unknown_statements(value)
            grammar = [f for f in grammar if not about_unresolved(f, policy, unknown)]
        else:
            grammar = []
        if not all_unknown(policy):
            self.problems.extend(grammar)
        if name in self.sam_templates:  # statements SAM wrote from its policy templates
            policy = replace(policy, origin="sam-policy-template", origin_name=self.sam_templates[name])
        if grammar:
            policy = replace(policy, grammar_rejected=True)
        self.policy_documents.append(policy)
        return policy

    def _locate(self, doc: Any, path: Tuple, default: Location) -> Location:
        line = line_of(doc)
        node = doc
        for key in path:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                break
            line = line_of(node, line)
        return self.loc(line) if line else default

    def managed(self, raw: Any, owner: str, kind: str = "identity", line: Optional[int] = None) -> Policy:
        """A managed policy ARN: one defined in this template, an AWS managed one, or unknown."""
        value = self.resolve(raw)
        where = self.loc(line_of(raw, line))
        arn = self.text(value)
        found = managed_policy_for(value, kind, where, owner, self.customer_managed)
        if found is not None:
            policy, why = found
            if why is not None:
                self.unresolved.append(why)
            return policy
        self.note_unknowns(value, line_of(raw, line))
        if not unknowns_in(value):
            self.unresolved.append(Unresolved(f"managed policy {arn or value!r} of {owner}", where))
        return unresolved_policy(arn or "managed policy", kind, where, arn)

    # ------------------------------------------------------------------ reading

    def read(self) -> Inventory:
        self.customer_managed: Dict[str, Policy] = {}
        attached: List[Attached] = []
        for logical, res, props in self.of_type("AWS::IAM::ManagedPolicy"):
            arn = self.text(self.names.ref(logical))
            name = self.text(self.names.name(logical)) or logical
            p = self.policy(props.get("PolicyDocument"), name, "identity", line_of(res), arn) \
                if "PolicyDocument" in props else None
            if p is None:
                continue
            if arn:
                self.customer_managed[arn] = p
            attached.append(self._targets(Attached(p), props))
        for logical, res, props in self.of_type("AWS::IAM::Policy"):
            name = self.text(self.resolve(props.get("PolicyName"))) or logical
            p = self.policy(props.get("PolicyDocument"), name, "identity", line_of(res))
            if p is not None:
                attached.append(self._targets(Attached(p), props))
        single = {"AWS::IAM::RolePolicy": ("RoleName", "roles"), "AWS::IAM::UserPolicy": ("UserName", "users"),
                  "AWS::IAM::GroupPolicy": ("GroupName", "groups")}
        for logical, res, props in self.of_type(*single):
            prop, target = single[str(res.get("Type"))]
            name = self.text(self.resolve(props.get("PolicyName"))) or logical
            p = self.policy(props.get("PolicyDocument"), name, "identity", line_of(res))
            if p is not None:
                a = Attached(p)
                getattr(a, target).append(self.resolve(props.get(prop)))
                attached.append(a)

        groups = self._groups(attached)
        principals = self._roles(attached) + self._users(attached, groups) + self._permission_sets()
        if generic_name(self.path):
            principals = [self._qualified(p) for p in principals]
        resource_policies = self._resource_policies()
        stacks = (Stack(self.loc(None).file, self.settings.stack_name, self.sam or bool(self.serverless)),) \
            if self.depth == 0 and not self.alias_prefix else ()
        inv = Inventory(principals=tuple(principals), policies=tuple(self.customer_managed.values()),
                        resource_policies=tuple(resource_policies), references=self._references(),
                        resources=tuple(self._resources()), documents=tuple(self.policy_documents),
                        excluded=self._excluded(), stacks=stacks, suppressions=tuple(self.suppressions))
        nested = self._nested()
        return merge([inv, Inventory(unresolved=tuple(_dedupe(self.unresolved)), problems=tuple(self.problems))]
                      + nested)

    def _excluded(self) -> Tuple[Excluded, ...]:
        """Every resource a false Condition leaves out, with the parameters the condition depends on
        and the values it was decided with (after every resource has been looked at)."""
        for logical, res in self.resources.items():
            if isinstance(res, dict):
                self._exists(logical, res)
        out = []
        for logical, (rtype, cond, line) in self.skipped.items():
            values = []
            for name in self.resolver.condition_parameters(cond):
                value = self.resolve({"Ref": name})
                values.append(f"{name}={value}" if isinstance(value, (str, int, float, bool)) else name)
            owners = self.aliases.get(logical, ())
            of = next((o for o in owners if o in self.serverless), None)
            out.append(Excluded(f"{self.alias_prefix}{logical}", rtype, f"Condition {cond} is false", tuple(values),
                                self.loc(line), of))
        return tuple(sorted(out, key=lambda e: (e.location.line or 0) if e.location else 0))

    def _references(self) -> Tuple[Tuple[str, str], ...]:
        """``Name`` (Ref) and ``Name.Attr`` (GetAtt) of every resource whose values are known."""
        from .resources import KINDS
        out: List[Tuple[str, str]] = []
        for logical, res in self.resources.items():
            if not isinstance(res, dict) or not self._exists(logical, res):
                continue
            kind = KINDS.get(str(res.get("Type")))
            if kind is None:
                continue
            pairs = [(logical, self.names.ref(logical))]
            pairs += [(f"{logical}.{attr}", self.names.attr(logical, attr)) for attr in kind.attrs]
            for key, value in pairs:
                if isinstance(value, str):
                    out.append((key, value))
                    if self.alias_prefix:
                        out.append((self.alias_prefix + key, value))
        return tuple(out)

    def _targets(self, a: Attached, props: Mapping[str, Any]) -> Attached:
        for prop, into in (("Roles", a.roles), ("Users", a.users), ("Groups", a.groups)):
            values = self.resolve(props.get(prop, []))
            if isinstance(values, list):
                into.extend(values)
            elif values:
                into.append(values)
        return a

    def _inline(self, props: Mapping[str, Any], owner: str) -> List[Policy]:
        out: List[Policy] = []
        raw = props.get("Policies")
        entries = self.resolve_list_shallow(raw)
        for i, entry in enumerate(entries):
            if isinstance(entry, Unknown):
                self.unresolved.append(Unresolved(entry.expression, self.loc(entry.line or line_of(raw))))
                out.append(unresolved_policy(f"{owner} policy {i}", "identity", self.loc(entry.line or line_of(raw))))
                continue
            if not isinstance(entry, dict):
                continue
            name = self.text(self.resolve(entry.get("PolicyName"))) or f"{owner}Policy{i}"
            p = self.policy(entry.get("PolicyDocument"), name, "identity", line_of(entry))
            if p is not None:
                out.append(p)
        return out

    def resolve_list_shallow(self, raw: Any) -> List[Any]:
        """A list property whose items may be wrapped in Fn::If: the items that exist, unresolved."""
        value = raw
        if isinstance(raw, dict) and len(raw) == 1 and next(iter(raw)) in ("Fn::If", "Ref"):
            value = self.resolve(raw)
        if not isinstance(value, list):
            return [value] if isinstance(value, Unknown) else []
        out: List[Any] = []
        for item in value:
            if isinstance(item, dict) and list(item) == ["Fn::If"]:
                chosen = self._if_branch(item)
                if chosen is None:
                    continue
                item = chosen
            if isinstance(item, dict) and list(item) == ["Ref"] and item["Ref"] == "AWS::NoValue":
                continue
            out.append(item)
        return out

    def _if_branch(self, item: Mapping[str, Any]) -> Any:
        arg = item["Fn::If"]
        if not isinstance(arg, list) or len(arg) != 3:
            return Unknown("Fn::If (malformed)", line_of(item))
        cond = self.resolver.condition(arg[0], line_of(item))
        if isinstance(cond, Unknown):
            return Unknown(f"Fn::If {arg[0]} ({cond.expression})", line_of(item))
        branch = arg[1] if cond else arg[2]
        if isinstance(branch, dict) and branch.get("Ref") == "AWS::NoValue":
            return None
        return branch

    def _managed_list(self, props: Mapping[str, Any], owner: str, key: str = "ManagedPolicyArns") -> List[Policy]:
        out = []
        for entry in self.resolve_list_shallow(props.get(key)):
            if isinstance(entry, Unknown):
                self.unresolved.append(Unresolved(entry.expression, self.loc(entry.line)))
                out.append(unresolved_policy("managed policy", "identity", self.loc(entry.line)))
                continue
            out.append(self.managed(entry, owner, line=line_of(props.get(key))))
        return out

    def _boundary(self, props: Mapping[str, Any], owner: str) -> Optional[Policy]:
        if "PermissionsBoundary" not in props:
            return None
        return self.managed(props["PermissionsBoundary"], owner, "boundary", line_of(props))

    def _tags(self, props: Mapping[str, Any]) -> Dict[str, str]:
        tags = self.resolve(props.get("Tags", []))
        out: Dict[str, str] = {}
        if isinstance(tags, list):
            for t in tags:
                if isinstance(t, dict) and isinstance(t.get("Key"), str) and isinstance(t.get("Value"), str):
                    out[t["Key"]] = t["Value"]
        elif isinstance(tags, dict):
            out = {k: v for k, v in tags.items() if isinstance(v, str)}
        return out

    def _matches(self, values: Sequence[Any], logical: str, name: Any) -> bool:
        name_text = self.text(name)
        return any(v == name_text or v == name or v == logical for v in values if isinstance(v, str))

    def _attached_to(self, attached: List[Attached], target: str, logical: str, name: Any) -> List[Policy]:
        return [a.policy for a in attached if self._matches(getattr(a, target), logical, name)]

    def _roles(self, attached: List[Attached]) -> List[Principal]:
        profiles: Dict[str, List[str]] = {}
        for logical, res, props in self.of_type("AWS::IAM::InstanceProfile"):
            roles = self.resolve(props.get("Roles", []))
            pname = self.text(self.names.name(logical))
            for r in roles if isinstance(roles, list) else []:
                if isinstance(r, str):
                    profiles.setdefault(r, []).extend([logical] + ([pname] if pname else []))
        out = []
        for logical, res, props in self.of_type("AWS::IAM::Role"):
            name = self.names.name(logical)
            arn_value = self.names.attr(logical, "Arn")
            self.note_unknowns(name, line_of(res))
            arn = self.text(arn_value)
            policies = self._inline(props, logical) + self._managed_list(props, f"role {logical}")
            policies += self._attached_to(attached, "roles", logical, name)
            trust = None
            if "AssumeRolePolicyDocument" in props:
                trust = self.policy(props["AssumeRolePolicyDocument"], "AssumeRolePolicyDocument", "trust",
                                    line_of(props.get("AssumeRolePolicyDocument"), line_of(res)))
            name_text = self.text(name)
            aliases = [logical, self._nested_alias(logical), name_text, arn]
            aliases += list(self.aliases.get(logical, ())) + profiles.get(name_text or "", [])
            out.append(Principal(id=logical, type="role", arn=arn if isinstance(arn_value, str) else arn,
                                 account=self.settings.account, identity_policies=tuple(policies),
                                 boundary=self._boundary(props, f"role {logical}"), tags=self._tags(props),
                                 location=self.loc(line_of(res)), aliases=_unique(aliases), trust_policy=trust,
                                 source=self.sources.get(logical, "AWS::IAM::Role")))
        return out

    def _nested_alias(self, logical: str) -> Optional[str]:
        """A principal of a nested stack also answers to its path from the top-level template down,
        ``Parent/Child/Role`` (the logical IDs of the stacks that enclose it): its bare logical ID
        may be defined in several nested stacks."""
        return self.alias_prefix + logical if self.alias_prefix else None

    def _qualified(self, principal: Principal) -> Principal:
        """The principal with its logical IDs (its own, and the SAM resource that made it) also as
        ``<template path>:<logical ID>`` -- the path as findings show it -- so a manifest can select
        one of several same-named templates defining the same logical ID (svc-a/template.yaml:Fn).
        Only for generic file names: a template named for its stack needs no qualifying."""
        shown = self.path.replace(os.sep, "/")
        logicals = [principal.id] + list(self.aliases.get(principal.id, ()))
        return replace(principal, aliases=_unique(list(principal.aliases) + [f"{shown}:{l}" for l in logicals]))

    def _groups(self, attached: List[Attached]) -> Dict[str, List[Policy]]:
        groups: Dict[str, List[Policy]] = {}
        for logical, res, props in self.of_type("AWS::IAM::Group"):
            name = self.names.name(logical)
            policies = self._inline(props, logical) + self._managed_list(props, f"group {logical}")
            policies += self._attached_to(attached, "groups", logical, name)
            for key in {logical, self.text(name) or logical}:
                groups[key] = policies
        return groups

    def _users(self, attached: List[Attached], groups: Dict[str, List[Policy]]) -> List[Principal]:
        additions: Dict[str, List[Any]] = {}
        for logical, res, props in self.of_type("AWS::IAM::UserToGroupAddition"):
            group = self.resolve(props.get("GroupName"))
            users = self.resolve(props.get("Users", []))
            for u in users if isinstance(users, list) else []:
                if isinstance(u, str):
                    additions.setdefault(u, []).append(group)
        out = []
        for logical, res, props in self.of_type("AWS::IAM::User"):
            name = self.names.name(logical)
            name_text = self.text(name) or logical
            policies = self._inline(props, logical) + self._managed_list(props, f"user {logical}")
            policies += self._attached_to(attached, "users", logical, name)
            member_of = self.resolve(props.get("Groups", []))
            member_of = (member_of if isinstance(member_of, list) else []) + additions.get(name_text, [])
            for g in member_of:
                g_text = self.text(g)
                if g_text in groups:
                    policies += [p for p in groups[g_text] if p not in policies]
                else:
                    where = self.loc(line_of(props.get("Groups"), line_of(res)))
                    self.unresolved.append(Unresolved(f"group {g_text or g!r} of user {logical} "
                                                      "(not defined in this template)", where))
                    policies.append(unresolved_policy(f"group {g_text}", "identity", where))
            arn_value = self.names.attr(logical, "Arn")
            out.append(Principal(id=logical, type="user", arn=self.text(arn_value), account=self.settings.account,
                                 identity_policies=tuple(policies), boundary=self._boundary(props, f"user {logical}"),
                                 tags=self._tags(props), location=self.loc(line_of(res)),
                                 aliases=_unique([logical, self._nested_alias(logical), name_text,
                                                  self.text(arn_value)]), source="AWS::IAM::User"))
        return out

    def _permission_sets(self) -> List[Principal]:
        out = []
        for logical, res, props in self.of_type("AWS::SSO::PermissionSet"):
            policies: List[Policy] = []
            if "InlinePolicy" in props:
                p = self.policy(props["InlinePolicy"], f"{logical} inline policy", "identity", line_of(res))
                if p is not None:
                    policies.append(p)
            policies += self._managed_list(props, f"permission set {logical}", "ManagedPolicies")
            for ref in self.resolve_list_shallow(props.get("CustomerManagedPolicyReferences")):
                where = self.loc(line_of(ref, line_of(res)))
                name = self.text(self.resolve(ref.get("Name"))) if isinstance(ref, dict) else None
                self.unresolved.append(Unresolved(f"customer managed policy {name} of permission set {logical} "
                                                  "(it lives in each target account)", where))
                policies.append(unresolved_policy(name or "customer managed policy", "identity", where))
            name = self.text(self.resolve(props.get("Name"))) or logical
            out.append(Principal(id=logical, type="role", arn=None, account=self.settings.account,
                                 identity_policies=tuple(policies), location=self.loc(line_of(res)),
                                 aliases=_unique([logical, self._nested_alias(logical), name]),
                                 source="AWS::SSO::PermissionSet"))
        return out

    # ------------------------------------------------------------------ resource policies

    def _resource_policies(self) -> List[ResourcePolicy]:
        out: List[ResourcePolicy] = []
        for rtype, (prop, target) in RESOURCE_POLICIES.items():
            for logical, res, props in self.of_type(rtype):
                for resource, raw in target(self, logical, props):
                    if raw is None:
                        continue
                    kind = "vpc_endpoint" if rtype == "AWS::EC2::VPCEndpoint" else "resource"
                    p = self.policy(raw, logical, kind, line_of(res))
                    if p is None:
                        continue
                    arn = self.text(resource) or f"({logical})"
                    if unknowns_in(resource):
                        self.note_unknowns(resource, line_of(res))
                    out.append(ResourcePolicy(resource=arn, type=rtype, policy=p, location=self.loc(line_of(res))))
        for logical, res, props in self.of_type("AWS::Lambda::Permission", "AWS::Lambda::LayerVersionPermission"):
            built = _lambda_permission(self, logical, res, props)
            if built is not None:
                out.append(built)
        return out

    # ------------------------------------------------------------------ resources

    def _resources(self) -> List[Resource]:
        """Every resource of the template that exists, in the template's order (a SAM template: its
        resources as written, then those the transform generates; see ``sam.py``)."""
        written = self.written if self.written is not None else self.resources
        out: List[Resource] = []
        for logical in list(written) + [k for k in self.resources if k not in written]:
            res, props = self.serverless.get(logical) or (self.resources.get(logical), None)
            if not isinstance(res, dict) or not self._exists(logical, res):
                continue
            if logical not in self.serverless:
                props = res.get("Properties")
            line = (written.key_line(logical) if isinstance(written, LDict) and logical in written else None) \
                or self._key_line(logical) or line_of(res)
            out.append(Resource(id=self.alias_prefix + logical, type=str(res.get("Type")),
                                arn=self.names.arn(logical),
                                properties=self._property(props) if isinstance(props, dict) else {},
                                location=self.loc(line)))
        return out

    def _property(self, value: Any) -> Any:
        """A property value resolved into plain data, keeping each ``Ref``/``Fn::GetAtt`` of another
        resource as a ``ResourceRef`` (also inside ``Fn::If``); any other intrinsic is resolved, and
        what is not known offline is None. ``NO_VALUE`` (``Ref AWS::NoValue``) is for the caller to
        drop."""
        if isinstance(value, dict) and len(value) == 1:
            (key, arg), = value.items()
            ref = self._resource_ref(key, arg, value)
            if ref is not None:
                return ref
            if key == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
                cond = self.resolver.condition(arg[0], line_of(value))
                return None if isinstance(cond, Unknown) else self._property(arg[1] if cond else arg[2])
            if key == "Ref" or str(key).startswith("Fn::"):
                resolved = self.resolve(value)
                return resolved if resolved is NO_VALUE else plain_data(resolved)
        if isinstance(value, dict):
            items = ((str(k), self._property(v)) for k, v in value.items())
            return {k: v for k, v in items if v is not NO_VALUE}
        if isinstance(value, list):
            return [v for v in (self._property(item) for item in value) if v is not NO_VALUE]
        return plain_data(self.resolve(value))

    def _resource_ref(self, key: str, arg: Any, node: Any) -> Optional[ResourceRef]:
        """``Ref`` or ``Fn::GetAtt`` of a resource of this template, with what it resolves to."""
        if key == "Ref" and isinstance(arg, str) and arg not in self.resolver.parameters:
            target, attribute = arg, None
        elif key == "Fn::GetAtt" and isinstance(arg, (str, list)):
            parts = arg.split(".", 1) if isinstance(arg, str) else [self.resolve(a) for a in arg]
            if len(parts) != 2 or not all(isinstance(p, str) for p in parts):
                return None
            target, attribute = parts
        else:
            return None
        if target not in self.resources and target not in self.serverless:
            return None
        value = self.resolve(node)
        return ResourceRef(self.alias_prefix + target, attribute, value if isinstance(value, str) else None)

    # ------------------------------------------------------------------ nesting

    def _nested(self) -> List[Inventory]:
        out: List[Inventory] = []
        if self.depth >= MAX_DEPTH:
            return out
        for logical, res, props in self.of_type("AWS::CloudFormation::StackSet"):
            if "TemplateURL" in props and not isinstance(props.get("TemplateBody"), (str, dict)):
                out.extend(self._read_child(logical, res, props))
                continue
            if not self._spend(logical, res):
                continue
            body = props.get("TemplateBody")
            stack = self.text(self.resolve(props.get("StackSetName"))) or logical
            params = _stackset_parameters(self.resolve(props.get("Parameters", [])))
            if isinstance(body, str):
                out.append(self._body(body, line_of(body, line_of(res)), stack, params, logical))
            elif isinstance(body, dict):
                if looks_like_template(body):
                    out.append(Template(self.path, body, self.options, stack, params, self.offset, self.depth + 1,
                                        f"{self.alias_prefix}{logical}/", self.ancestors, self.budget).read())
                else:
                    self.unresolved.append(Unresolved(f"TemplateBody of {logical} (not a template; "
                                                      "a pre-processor directive?)", self.loc(line_of(body))))
        for logical, res, props in self.of_type(*NESTED_STACK_TYPES):
            out.extend(self._read_child(logical, res, props))
        if self.claimed:
            out.append(Inventory(nested_templates=tuple(self.claimed)))
        return out

    def _body(self, body: str, line: Optional[int], stack: str, params: Mapping[str, Any], logical: str) -> Inventory:
        # a block scalar's content starts on the line after its key
        offset = self.offset + (line or 0)
        try:
            data = load_template_text(body)
        except TemplateError as e:
            return Inventory(problems=(_problem("parse-error", f"{self.path}: TemplateBody of {logical}: {e.message}",
                                                Location(self.path, offset + (e.line or 0))),))
        if not looks_like_template(data):
            return Inventory()
        return Template(self.path, data, self.options, stack, params, offset, self.depth + 1,
                        f"{self.alias_prefix}{logical}/", self.ancestors, self.budget).read()

    def _read_child(self, logical: str, res: Mapping[str, Any], props: Mapping[str, Any]) -> List[Inventory]:
        """The IAM of a nested stack's template, read once (its outputs may have been wanted before)."""
        child = self._child(logical, res, props)
        if child.template is None or child.read:
            return []
        child.read = True
        return [child.template.read()]

    def _child(self, logical: str, res: Optional[Mapping[str, Any]] = None,
               props: Optional[Mapping[str, Any]] = None) -> "_Nested":
        """The template of the nested stack ``logical``, found once: its outputs (``!GetAtt
        Child.Outputs.Name``, while this template is being resolved) and its IAM (after it) are
        read from the same Template."""
        found = self.children.get(logical)
        if found is not None:
            return found
        if logical in self.building:  # its Parameters refer to its own outputs
            return _Nested(why="its Parameters refer to its own outputs")
        if res is None:
            res = self.resources.get(logical) or {}
            raw = res.get("Properties")
            props = raw if isinstance(raw, dict) else {}
        self.building.add(logical)
        try:
            found = self._find_child(logical, res, props or {})
        finally:
            self.building.discard(logical)
        self.children[logical] = found
        return found

    def _find_child(self, logical: str, res: Mapping[str, Any], props: Mapping[str, Any]) -> "_Nested":
        rtype = str(res.get("Type"))
        where = self.loc(self._key_line(logical) or line_of(res))
        if self.depth >= MAX_DEPTH:
            return _Nested(why=f"nested more than {MAX_DEPTH} levels deep")
        if not self._spend(logical, res):
            return _Nested(why=f"more than {MAX_NESTED_STACKS} nested stacks under one template")
        stack = f"{self.settings.stack_name}-{logical}"  # CloudFormation names it <parent>-<LogicalId>-<suffix>
        if rtype == SAM_APPLICATION:
            name, prop = f"nested application {logical}", "Location"
            raw = props.get("Location")
            if isinstance(raw, dict) and "ApplicationId" in raw:
                app = self.text(self.resolve(raw.get("ApplicationId"))) or "?"
                why = f"Location is the Serverless Application Repository application {app}"
                self.unresolved.append(Unresolved(f"{name}: {why}; not read{_supply(self.alias_prefix, logical)}",
                                                  where))
                return _Nested(why=why)
            url = self.resolve(raw)
            params = self.resolve(props.get("Parameters", {}))
        elif rtype == "AWS::CloudFormation::StackSet":
            name, prop = f"nested stack {logical}", "TemplateURL"
            url = self.resolve(props.get("TemplateURL"))
            params = _stackset_parameters(self.resolve(props.get("Parameters", [])))
            stack = self.text(self.resolve(props.get("StackSetName"))) or logical
        else:
            name, prop = f"nested stack {logical}", "TemplateURL"
            url = self.resolve(props.get("TemplateURL"))
            params = self.resolve(props.get("Parameters", {}))
        params = params if isinstance(params, dict) else {}
        if not isinstance(url, str) or "://" in url or url.startswith("s3:"):
            why = f"{prop} {self.text(url) or '?'} is not a local file"
            self.unresolved.append(Unresolved(f"{name}: {why}; not read{_supply(self.alias_prefix, logical)}", where))
            return _Nested(why=why)
        child_path = os.path.normpath(os.path.join(os.path.dirname(self.path), url))
        source = built_from(child_path)
        if source is not None:
            child_path = source
        elif _build_parts(child_path) is not None and not os.path.isfile(child_path):
            why = f"{prop} {url} is a build output that is not there, and no template it was built from was found"
            self.problems.append(_unread(f"{self.path}: {name}: {why} (run the build, or point {prop} at the source "
                                         f"template); its IAM is not checked{_supply(self.alias_prefix, logical)}",
                                         where))
            return _Nested(why=why)
        real = os.path.realpath(child_path)
        enclosing = self.ancestors or (os.path.realpath(self.path),)
        refused = None
        if not inside_roots(child_path):
            if os.path.isabs(url) and source is None:
                refused = "an absolute path outside the scanned tree"
            elif os.path.islink(child_path) and inside_roots(os.path.dirname(child_path)):
                refused = "a symbolic link that leads outside the scanned tree"
            else:
                refused = "outside the scanned tree"
        elif real in enclosing:
            refused = "the template itself or one that encloses it (a cycle)"
        if refused is not None:
            shown = url if source is None else f"{url} (built from {child_path})"
            self.unresolved.append(Unresolved(f"{name}: {prop} {shown} is {refused}; not read", where))
            return _Nested(why=f"{prop} {url} is {refused}")
        if not os.path.isfile(child_path):
            why = f"{prop} {url}: no such file ({child_path})"
            self.problems.append(_unread(f"{self.path}: {name}: cannot read {child_path} (no such file); its IAM is "
                                         f"not checked{_supply(self.alias_prefix, logical)}", where))
            return _Nested(why=why)
        self.claimed.append(real)
        text, problem = read_text(child_path, child_path)  # the size limit and UTF-8, as every input
        if problem is not None:
            self.problems.append(_unread(f"{self.path}: {name}: {problem.message}; its IAM is not checked", where))
            return _Nested(why=problem.message)
        try:
            data = load_template_text(text or "")
        except TemplateError as e:
            at = f"{child_path}:{e.line}" if e.line else child_path
            self.problems.append(_unread(f"{self.path}: {name}: {at}: {e.message}; its IAM is not checked", where))
            return _Nested(why=f"{at}: {e.message}")
        if not looks_like_template(data):
            self.problems.append(_unread(f"{self.path}: {name}: {child_path} is not a CloudFormation template; "
                                         "its IAM is not checked", where))
            return _Nested(why=f"{child_path} is not a CloudFormation template")
        return _Nested(Template(child_path, data, self.options, stack, dict(params), 0, self.depth + 1,
                                f"{self.alias_prefix}{logical}/", enclosing + (real,), self.budget))

    def _attr(self, logical: str, attribute: str) -> Any:
        """``Fn::GetAtt``: a nested stack's ``Outputs.Name`` from the manifest or its template, any
        other attribute as ``resources.Names`` synthesizes it."""
        res = self.resources.get(logical)
        if attribute.startswith("Outputs.") and isinstance(res, dict) and res.get("Type") in NESTED_STACK_TYPES:
            return self._output(logical, attribute[len("Outputs."):])
        return self.names.attr(logical, attribute)

    def _output(self, logical: str, name: str) -> Any:
        key = f"{logical}.Outputs.{name}"
        given = self.options.stack_outputs
        for k in (self.alias_prefix + key, key):
            if k in given:
                return given[k]
        child = self._child(logical)
        if child.template is not None:
            value = child.template.output(name)
            if value is not None:
                return _moved(value, f"output {name} of {child.template.path}")
            why = f"{child.template.path} has no output {name}"
        else:
            why = child.why or "its template is not read"
        return Unknown(f"Fn::GetAtt {key} (nested stack {logical}: {why}; give its value in the manifest's "
                       f"settings.stack_outputs as \"{self.alias_prefix + key}\")")

    def output(self, name: str) -> Any:
        """The value of this template's output ``name`` resolved (None when there is no such output)."""
        outputs = self.data.get("Outputs")
        entry = outputs.get(name) if isinstance(outputs, dict) else None
        if not isinstance(entry, dict) or "Value" not in entry:
            return None
        if name in self.busy_outputs:
            return Unknown(f"output {name} of {self.path} (it refers to itself)")
        self.busy_outputs.add(name)
        try:
            return self.resolve(entry["Value"])
        finally:
            self.busy_outputs.discard(name)

    def _spend(self, logical: str, res: Mapping[str, Any]) -> bool:
        """Take one nested template from the budget; False (and one note) when it is spent."""
        self.budget[0] -= 1
        if self.budget[0] >= 0:
            return True
        if self.budget[0] == -1:
            self.unresolved.append(Unresolved(f"nested stack {logical}: more than {MAX_NESTED_STACKS} nested "
                                              "stacks under one template; the rest are not read",
                                              self.loc(line_of(res))))
        return False


class _Nested:
    """A nested stack's template as found: the Template (read at most once), or why there is none."""

    def __init__(self, template: Optional[Template] = None, why: Optional[str] = None) -> None:
        self.template = template
        self.why = why
        self.read = False


def _stackset_parameters(value: Any) -> Dict[str, Any]:
    params: Dict[str, Any] = {}
    for p in value if isinstance(value, list) else []:
        if isinstance(p, dict) and isinstance(p.get("ParameterKey"), str):
            params[p["ParameterKey"]] = p.get("ParameterValue")
    return params


def _supply(prefix: str, logical: str) -> str:
    return f" (give the outputs used from it in the manifest's settings.stack_outputs: \"{prefix}{logical}.Outputs.<Name>\")"


def _unread(message: str, location: Location) -> Finding:
    return _problem("parse-error", message, location, severity="warning", rule="IG0007")


def _moved(value: Any, where: str) -> Any:
    """A nested template's output value as the enclosing template uses it: what is unknown in it is
    said to come from there (its line is the nested template's, not the enclosing one's)."""
    if isinstance(value, Unknown):  # a made-up piece (a synthesized ARN's account) stays one
        return Unknown(f"{value.expression} (in {where})", None, value.synthesized)
    if isinstance(value, Partial):
        return Partial([_moved(p, where) if isinstance(p, Unknown) else p for p in value])
    if isinstance(value, list):
        return [_moved(v, where) for v in value]
    if isinstance(value, dict):
        return {k: _moved(v, where) for k, v in value.items()}
    return value


def _build_parts(path: str) -> Optional[Tuple[str, str, List[str]]]:
    """(the folder holding the build folder, the build folder, the path inside it) for a path into
    one of ``BUILD_FOLDERS`` (``.aws-sam/build/`` counts as one); None for any other path."""
    parts = os.path.normpath(path).split(os.sep)
    for i, part in enumerate(parts):
        if part in BUILD_FOLDERS:
            root = os.sep.join(parts[:i]) or (os.sep if os.path.isabs(path) else os.curdir)
            rest = parts[i + 1:]
            if part == ".aws-sam" and rest[:1] == ["build"]:
                rest = rest[1:]
            return root, part, rest
    return None


def built_from(path: str) -> Optional[str]:
    """The template in the source tree that the build output ``path`` was built from, when it is
    there; None for a path that is not into a build folder, or whose source is not found.

    ``sam build`` writes the template of the stack at stack path ``A/B`` (the logical IDs of the
    nested stacks or applications from the root down) to ``.aws-sam/build/A/B/template.yaml``, the
    root's own to ``.aws-sam/build/template.yaml`` (samcli ``Stack.get_output_template_path``); the
    root is the SAM template next to ``.aws-sam`` (``template.yaml``, ``.yml`` or ``.json``, what
    ``sam build`` looks for), and each level's source is the local ``Location``/``TemplateURL`` of
    that logical ID in the level above. Failing that (cdk.out, another layout), the same path with
    the build folder left out is the source when that file exists."""
    found = _build_parts(path)
    if found is None:
        return None
    root, folder, rest = found
    if folder == ".aws-sam" and rest and rest[-1] == "template.yaml":
        source = _sam_source(root, rest[:-1])
        if source is not None:
            return source
    if not rest:
        return None
    candidate = os.path.normpath(os.path.join(root, *rest))
    return candidate if os.path.isfile(candidate) and _build_parts(candidate) is None else None


def _sam_source(root: str, logicals: Sequence[str]) -> Optional[str]:
    current = next((os.path.normpath(os.path.join(root, n)) for n in SAM_TEMPLATE_NAMES
                    if os.path.isfile(os.path.join(root, n))), None)
    for logical in logicals:
        if current is None or not inside_roots(current):
            return None
        location = _local_location(current, logical)
        if location is None:
            return None
        current = os.path.normpath(os.path.join(os.path.dirname(current), location))
        if not os.path.isfile(current) or _build_parts(current) is not None:
            return None
    return current


def _local_location(path: str, logical: str) -> Optional[str]:
    """The local template path (as written) of the nested stack or application ``logical`` of the
    template at ``path``; None when it has none (or the file cannot be read)."""
    text, problem = read_text(path, path)
    if problem is not None:
        return None
    try:
        data = load_template_text(text or "")
    except TemplateError:
        return None
    resources = data.get("Resources") if isinstance(data, dict) else None
    res = resources.get(logical) if isinstance(resources, dict) else None
    props = res.get("Properties") if isinstance(res, dict) else None
    if not isinstance(props, dict):
        return None
    value = props.get("Location" if res.get("Type") == SAM_APPLICATION else "TemplateURL")
    if not isinstance(value, str) or "://" in value or value.startswith("s3:"):
        return None
    return value


# ---------------------------------------------------------------------------------------------
# resource policies: type -> (policy property, how to find the resource ARN(s))


Target = Callable[[Template, str, Mapping[str, Any]], List[Tuple[Any, Any]]]


def _own_arn(attr: str, prop: str) -> Target:
    def target(t: Template, logical: str, props: Mapping[str, Any]) -> List[Tuple[Any, Any]]:
        return [(t.names.attr(logical, attr), props.get(prop))] if prop in props else []
    return target


def _bucket(t: Template, logical: str, props: Mapping[str, Any]) -> List[Tuple[Any, Any]]:
    bucket = t.resolve(props.get("Bucket"))
    from ..values import concat
    arn = concat([f"arn:{t.settings.partition}:s3:::", bucket]) if isinstance(bucket, (str, Partial, Unknown)) \
        else Unknown(f"{logical}.Bucket")
    return [(arn, props.get("PolicyDocument"))]


def _queue_arn(t: Template, url: Any) -> Any:
    if isinstance(url, str) and url.startswith("https://sqs."):
        host, _, rest = url[len("https://"):].partition("/")
        region = host.split(".")[1]
        account, _, name = rest.partition("/")
        return f"arn:{t.settings.partition}:sqs:{region}:{account}:{name}"
    if isinstance(url, str) and url.startswith("arn:"):
        return url
    return Unknown(f"the ARN of queue {t.text(url) or url!r}")


def _queues(t: Template, logical: str, props: Mapping[str, Any]) -> List[Tuple[Any, Any]]:
    urls = t.resolve(props.get("Queues", []))
    return [(_queue_arn(t, u), props.get("PolicyDocument")) for u in (urls if isinstance(urls, list) else [urls])]


def _queue_inline(t: Template, logical: str, props: Mapping[str, Any]) -> List[Tuple[Any, Any]]:
    return [(_queue_arn(t, t.resolve(props.get("Queue"))), props.get("PolicyDocument"))]


def _topics(t: Template, logical: str, props: Mapping[str, Any]) -> List[Tuple[Any, Any]]:
    arns = t.resolve(props.get("Topics", []))
    return [(a, props.get("PolicyDocument")) for a in (arns if isinstance(arns, list) else [arns])]


def _topic_inline(t: Template, logical: str, props: Mapping[str, Any]) -> List[Tuple[Any, Any]]:
    return [(t.resolve(props.get("TopicArn")), props.get("PolicyDocument"))]


def _key(t: Template, logical: str, props: Mapping[str, Any]) -> List[Tuple[Any, Any]]:
    doc = props.get("KeyPolicy")
    if doc is None:
        # CloudFormation's default key policy: the account (and so IAM policies) may use the key
        doc = LDict({"Version": "2012-10-17", "Statement": [LDict({
            "Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
            "Action": "kms:*", "Resource": "*"})]})
    return [(t.names.attr(logical, "Arn"), doc)]


def _secret(t: Template, logical: str, props: Mapping[str, Any]) -> List[Tuple[Any, Any]]:
    secret = t.resolve(props.get("SecretId"))
    return [(secret, props.get("ResourcePolicy"))]


def _logs(t: Template, logical: str, props: Mapping[str, Any]) -> List[Tuple[Any, Any]]:
    s = t.settings
    return [(f"arn:{s.partition}:logs:{s.region}:{s.account or '*'}", props.get("PolicyDocument"))]


def _rest_api(t: Template, logical: str, props: Mapping[str, Any]) -> List[Tuple[Any, Any]]:
    from ..values import concat
    s = t.settings
    arn = concat([f"arn:{s.partition}:execute-api:{s.region}:{s.account or '*'}:", t.names.ref(logical)])
    return [(arn, props.get("Policy"))] if "Policy" in props else []


def _event_bus_policy(t: Template, logical: str, props: Mapping[str, Any]) -> List[Tuple[Any, Any]]:
    from ..values import concat
    s = t.settings
    bus = t.resolve(props.get("EventBusName", "default"))
    arn = bus if isinstance(bus, str) and bus.startswith("arn:") else \
        concat([f"arn:{s.partition}:events:{s.region}:{s.account or '*'}:event-bus/", bus])
    if "Statement" in props:
        doc = LDict({"Version": "2012-10-17", "Statement": [props["Statement"]]})
        doc.line = line_of(props["Statement"], 0)
    else:
        statement = LDict({"Sid": props.get("StatementId", logical), "Effect": "Allow",
                           "Principal": {"AWS": props.get("Principal")}, "Action": props.get("Action"),
                           "Resource": arn})
        if "Condition" in props:
            cond = props["Condition"]
            statement["Condition"] = {"StringEquals": {cond.get("Key", "aws:PrincipalOrgID"): cond.get("Value")}} \
                if isinstance(cond, dict) else cond
        doc = LDict({"Version": "2012-10-17", "Statement": [statement]})
    return [(arn, doc)]


def _endpoint(t: Template, logical: str, props: Mapping[str, Any]) -> List[Tuple[Any, Any]]:
    return [(f"vpc-endpoint:{logical}", props.get("PolicyDocument"))] if "PolicyDocument" in props else []


RESOURCE_POLICIES: Dict[str, Tuple[str, Target]] = {
    "AWS::S3::BucketPolicy": ("PolicyDocument", _bucket),
    "AWS::S3::AccessPoint": ("Policy", _own_arn("Arn", "Policy")),
    "AWS::SQS::QueuePolicy": ("PolicyDocument", _queues),
    "AWS::SQS::QueueInlinePolicy": ("PolicyDocument", _queue_inline),
    "AWS::SNS::TopicPolicy": ("PolicyDocument", _topics),
    "AWS::SNS::TopicInlinePolicy": ("PolicyDocument", _topic_inline),
    "AWS::KMS::Key": ("KeyPolicy", _key),
    "AWS::SecretsManager::ResourcePolicy": ("ResourcePolicy", _secret),
    "AWS::ECR::Repository": ("RepositoryPolicyText", _own_arn("Arn", "RepositoryPolicyText")),
    "AWS::Logs::ResourcePolicy": ("PolicyDocument", _logs),
    "AWS::ApiGateway::RestApi": ("Policy", _rest_api),
    "AWS::OpenSearchService::Domain": ("AccessPolicies", _own_arn("Arn", "AccessPolicies")),
    "AWS::Elasticsearch::Domain": ("AccessPolicies", _own_arn("Arn", "AccessPolicies")),
    "AWS::Backup::BackupVault": ("AccessPolicy", _own_arn("BackupVaultArn", "AccessPolicy")),
    "AWS::CodeArtifact::Domain": ("PermissionsPolicyDocument", _own_arn("Arn", "PermissionsPolicyDocument")),
    "AWS::CodeArtifact::Repository": ("PermissionsPolicyDocument", _own_arn("Arn", "PermissionsPolicyDocument")),
    "AWS::Events::EventBusPolicy": ("Statement", _event_bus_policy),
    "AWS::Events::EventBus": ("Policy", _own_arn("Arn", "Policy")),
    "AWS::EC2::VPCEndpoint": ("PolicyDocument", _endpoint),
}


def _lambda_permission(t: Template, logical: str, res: Mapping[str, Any], props: Mapping[str, Any]
                       ) -> Optional[ResourcePolicy]:
    """An ``AWS::Lambda::Permission`` as the one-statement resource policy it adds to the function."""
    s = t.settings
    line = line_of(res)
    layer = res.get("Type") == "AWS::Lambda::LayerVersionPermission"
    if layer:
        target = t.resolve(props.get("LayerVersionArn"))
        action: Any = "lambda:GetLayerVersion"
    else:
        fn = t.resolve(props.get("FunctionName"))
        from ..values import concat
        fn_text = t.text(fn) or ""
        if fn_text.startswith("arn:"):
            target = fn
        elif ":" in fn_text:  # a partial ARN: 123456789012:function:name
            target = concat([f"arn:{s.partition}:lambda:{s.region}:", fn])
        else:
            target = concat([f"arn:{s.partition}:lambda:{s.region}:",
                             s.account or Unknown("AWS::AccountId (set settings.account in the manifest)",
                                                  synthesized=True), ":function:", fn]) \
                if isinstance(fn, (str, Partial, Unknown)) else Unknown(f"{logical}.FunctionName")
        action = props.get("Action")
    principal = t.resolve(props.get("Principal"))
    text = t.text(principal) or "*"
    if text.endswith(".amazonaws.com") or text.endswith(".amazonaws.com.cn"):
        principal_element: Any = {"Service": principal}
    else:
        principal_element = {"AWS": principal}
    statement: Dict[str, Any] = {"Sid": logical, "Effect": "Allow", "Principal": principal_element,
                                 "Action": t.resolve(action), "Resource": target}
    conditions: Dict[str, Dict[str, Any]] = {}
    for prop, op, key in (("SourceArn", "ArnLike", "aws:SourceArn"), ("SourceAccount", "StringEquals", "aws:SourceAccount"),
                          ("PrincipalOrgID", "StringEquals", "aws:PrincipalOrgID"),
                          ("OrganizationId", "StringEquals", "aws:PrincipalOrgID"),
                          ("FunctionUrlAuthType", "StringEquals", "lambda:FunctionUrlAuthType")):
        if prop in props:
            conditions.setdefault(op, {})[key] = t.resolve(props[prop])
    if conditions:
        statement["Condition"] = conditions
    st = LDict(statement)
    st.line = line or 0
    doc = LDict({"Version": "2012-10-17", "Statement": LList([st])})
    doc.line = line or 0
    where = t.loc(line)
    try:
        policy, unknowns = build_policy(doc, logical, "resource", where,
                                        lambda raw, i: (line + t.offset) if line else None)
    except PolicyError as e:
        t.problems.append(_problem("invalid-policy", f"{t.path}: {logical}: {e}", where))
        return None
    for u in unknowns:
        t.unresolved.append(Unresolved(u.expression, t.loc(u.line) if u.line else where, u.synthesized))
    policy = replace(policy, origin="properties")  # the document is ours; its values are the user's
    t.policy_documents.append(policy)
    return ResourcePolicy(resource=t.text(target) or f"({logical})", type=str(res.get("Type")), policy=policy,
                          location=where)


# ---------------------------------------------------------------------------------------------





def _unique(values: Sequence[Optional[str]]) -> Tuple[str, ...]:
    out: List[str] = []
    for v in values:
        if v and v not in out:
            out.append(v)
    return tuple(out)


def _dedupe(items: List[Unresolved]) -> List[Unresolved]:
    seen = set()
    out = []
    for u in items:
        key = (u.expression, u.location)
        if key not in seen:
            seen.add(key)
            out.append(u)
    return out


__all__ = ["read", "Template", "RESOURCE_POLICIES"]
