"""Evaluated Terraform resources in, IAM principals, policies and guardrails out: the part of the
HCL reader (``config.py``) and the plan reader (``plan.py``) that gives resources their IAM meaning.

``build_inventory(resources, options, path)`` gives the IAM meaning of a list of ``TfResource``:
roles and users with inline, attached and managed policies, boundaries, trust policies and tags;
the resource policies in ``RESOURCE_POLICIES``; AWS Organizations SCPs and RCPs as guardrails;
the ``type.name.attr`` references a manifest may use; every managed resource as a ``Resource``
(its ARN as synthesized or planned, its arguments with ``TfResource.references`` as ``ResourceRef``).

Approximations, each on the side of "unknown" rather than "allowed":

- Attachments find their role, user or group by resolved name (or ARN). An attachment whose target
  is unknown is reported as unresolved; one naming a principal not in the scanned code attaches to
  nothing here. A ``policy_arn`` that is neither a policy of the scanned code nor an AWS managed
  policy of the snapshot becomes an unresolved placeholder policy, never dropped.
- SCP/RCP levels: AWS applies the policies attached to the root, to each OU on the path and to the
  account, each level having to allow. The code does not say how its targets nest, so each
  ``target_id`` of ``aws_organizations_policy_attachment`` is taken as one level. A level of SCPs
  with no Allow statement is assumed to keep AWS's default ``FullAWSAccess`` attachment (the
  deny-list strategy); a level that attaches Allow statements is taken as an allow list (AWS's
  ``FullAWSAccess`` detached). Every RCP level keeps ``RCPFullAWSAccess``, which AWS does not let
  anyone detach. Organization policies attached to nothing are listed in ``Inventory.policies`` only.
- ``aws_iam_role_policies_exclusive`` and ``aws_iam_role_policy_attachments_exclusive`` only remove
  policies attached outside Terraform; they add nothing and are read as no-ops.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ...model import (Finding, Inventory, Location, Policy, Principal, Resource, ResourcePolicy, ResourceRef,
                      Statement, Unresolved)
from ...policy import PolicyError, all_unknown, unresolved_policy
from .. import ReadOptions
from ..documents import Attached, build_policy, from_json_string, managed_policy_for, starred
from ..grammar import about_unresolved, validate_document
from ..values import Partial, Unknown, concat, plain_data, unknowns_in
from .policy_document import policy_document_json
from .resources import ACCOUNT_UNKNOWN, DATA_KINDS, TfResource, synthesize

# ============================================================================ the inventory


_RULES = {"parse-error": "IG0001", "invalid-policy": "IG3001"}  # rules/registry.py documents them


def _where(u: Unknown, where: Location) -> Location:
    """Where an unknown value is reported: where it comes from when that is known (a variable's
    declaration, the module call that passes no value for an input), else where it is used."""
    if u.line and u.file:
        return Location(u.file, u.line)
    return replace(where, line=u.line) if u.line else where


def _problem(kind: str, message: str, location: Optional[Location], severity: str = "error") -> Finding:
    return Finding(kind=kind, rule=_RULES[kind], severity=severity,  # type: ignore[arg-type]
                   message=message, location=location)


def text(value: Any) -> Optional[str]:
    """A resolved string with unknown pieces as ``*``; None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, Partial):
        return value.text("*")
    return None


def _clean(values: Mapping[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in values.items() if not str(k).startswith("__")}


def _unique(values: Iterable[Optional[str]]) -> Tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _strip_index(address: str) -> str:
    return re.sub(r'\[(?:"(?:[^"\\]|\\.)*"|[^\]]*)\]', "", address)




def _without_empty_sids(doc: Any) -> Any:
    """The document without ``"Sid": ""``, which IAM accepts (the provider wrote it for years) but
    the policy grammar rejects."""
    raw = doc.get("Statement") if isinstance(doc, Mapping) else None
    if not isinstance(raw, (list, Mapping)):
        return doc
    statements = [{k: v for k, v in st.items() if not (k == "Sid" and v == "")} if isinstance(st, Mapping) else st
                  for st in (raw if isinstance(raw, list) else [raw])]
    return {**doc, "Statement": statements if isinstance(raw, list) else statements[0]}




# type -> (how the policy is given: "inline" document or "arn", {target kind: argument})
ATTACHMENTS: Dict[str, Tuple[str, str, Mapping[str, str]]] = {
    "aws_iam_role_policy": ("inline", "policy", {"roles": "role"}),
    "aws_iam_user_policy": ("inline", "policy", {"users": "user"}),
    "aws_iam_group_policy": ("inline", "policy", {"groups": "group"}),
    "aws_iam_role_policy_attachment": ("arn", "policy_arn", {"roles": "role"}),
    "aws_iam_user_policy_attachment": ("arn", "policy_arn", {"users": "user"}),
    "aws_iam_group_policy_attachment": ("arn", "policy_arn", {"groups": "group"}),
    "aws_iam_policy_attachment": ("arn", "policy_arn", {"roles": "roles", "users": "users", "groups": "groups"}),
}

# resources that only constrain what else may be attached: nothing to add
CONSTRAINTS = frozenset({"aws_iam_role_policies_exclusive", "aws_iam_role_policy_attachments_exclusive",
                         "aws_iam_user_policies_exclusive", "aws_iam_user_policy_attachments_exclusive",
                         "aws_iam_group_policies_exclusive", "aws_iam_group_policy_attachments_exclusive"})


def _kms_default(options: ReadOptions) -> Dict[str, Any]:
    """The key policy AWS gives a key created without one: the account (so IAM policies) may use it."""
    root = concat([f"arn:{options.partition}:iam::", options.account or Unknown(ACCOUNT_UNKNOWN), ":root"])
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": root},
        "Action": "kms:*", "Resource": "*"}]}


class _Builder:
    """One ``build_inventory`` call."""

    def __init__(self, resources: Sequence[TfResource], options: ReadOptions, path: str) -> None:
        self.resources = list(resources)
        self.options = options
        self.path = path
        self.problems: List[Finding] = []
        self.unresolved: List[Unresolved] = []
        self.policy_documents: List[Policy] = []  # every policy read, for Inventory.documents
        self.attrs: Dict[str, Dict[str, Any]] = {r.address: self._attributes(r) for r in self.resources}
        self.documents = self._documents()
        self.customer: Dict[Any, Policy] = {}

    # ---------------------------------------------------------------- helpers

    def _attributes(self, r: TfResource) -> Dict[str, Any]:
        values = _clean(r.values)
        computed = r.mode == "managed" or r.type in DATA_KINDS
        out = dict(synthesize(r.type, r.name, values, self.options, r.address)) if computed else {}
        out.update({k: v for k, v in values.items() if v is not None})
        return out

    def _documents(self) -> Dict[Any, Tuple[Optional[Location], ...]]:
        """Rendered policy documents of data sources in the list -> where their statements are."""
        out: Dict[Any, Tuple[Optional[Location], ...]] = {}
        for r in self.of("aws_iam_policy_document", mode="data"):
            values = _clean(r.values)
            rendered = policy_document_json(values, r.line_of, file=r.location.file)
            locations = getattr(rendered, "statement_locations", ())
            for key in (values.get("json"), rendered):
                if isinstance(key, (str, Partial)) and locations:
                    out.setdefault(key, locations)
        return out

    def of(self, *types: str, mode: str = "managed") -> List[TfResource]:
        return [r for r in self.resources if r.type in types and r.mode == mode]

    def at(self, r: TfResource, path: tuple) -> Location:
        line = r.line_of(path) if path else None
        return replace(r.location, line=line, column=None) if line else r.location

    def note(self, value: Any, where: Location) -> None:
        for u in unknowns_in(value):
            self.unresolved.append(Unresolved(u.expression, _where(u, where), u.synthesized))

    def get(self, r: TfResource, key: str) -> Any:
        return self.attrs[r.address].get(key)

    # ---------------------------------------------------------------- policies

    def policy(self, r: TfResource, value: Any, name: str, kind: str, path: tuple,
               grammar: Optional[str] = None, arn: Optional[str] = None) -> Optional[Policy]:
        """A policy argument built, located, validated; None (and a problem) when it is no policy."""
        where = self.at(r, path)
        label = f"{self.path}: {r.address}" + (f" ({name})" if name != r.address else "")

        def statement_line(raw: Any, i: int) -> Optional[int]:
            return r.line_of(path + ("Statement", i)) if path else None

        try:
            policy, unknowns = build_policy(value, name, kind, where, statement_line, arn)
        except PolicyError as e:
            self.problems.append(_problem("invalid-policy", f"{label}: {e}", where))
            return None
        for u in unknowns:
            self.unresolved.append(Unresolved(u.expression, _where(u, where), u.synthesized))
        policy = self._relocate(policy, value)
        doc = value if isinstance(value, Mapping) else self._parsed(value)
        grammar_findings: List[Finding] = []
        if isinstance(doc, Mapping):
            def locate(p: Tuple) -> Optional[Location]:
                if len(p) > 1 and p[0] == "Statement" and isinstance(p[1], int) and p[1] < len(policy.statements):
                    return policy.statements[p[1]].location
                return where
            grammar_findings = validate_document(_without_empty_sids(starred(doc)),
                                                 grammar or ("identity" if kind == "boundary" else kind), locate, label)
            grammar_findings = [f for f in grammar_findings if not about_unresolved(f, policy)]
        if not all_unknown(policy):
            self.problems.extend(grammar_findings)
        if grammar_findings:
            policy = replace(policy, grammar_rejected=True)
        self.policy_documents.append(policy)
        return policy

    @staticmethod
    def _parsed(value: Any) -> Any:
        if not isinstance(value, (str, Partial)):
            return None
        try:
            return from_json_string(value)[0]
        except ValueError:
            return None

    def _relocate(self, policy: Policy, value: Any) -> Policy:
        """Statements of a rendered ``aws_iam_policy_document`` located in its ``statement`` blocks."""
        if not isinstance(value, (str, Partial)):
            return policy
        locations = getattr(value, "statement_locations", ())
        if not any(locations):
            locations = self.documents.get(value, ())
        if not any(locations) or len(locations) != len(policy.statements):
            return policy
        statements = tuple(replace(st, location=loc) if loc else st
                           for st, loc in zip(policy.statements, locations))
        return replace(policy, statements=statements)

    def managed(self, value: Any, owner: str, where: Location, kind: str = "identity") -> Policy:
        """A policy ARN: a policy of the scanned code, an AWS managed one, or an unresolved placeholder."""
        found = managed_policy_for(value, kind, where, owner, self.customer)
        if found is not None:
            policy, why = found
            if why is not None:
                self.unresolved.append(why)
            return policy
        if unknowns_in(value):
            self.note(value, where)
        else:
            self.unresolved.append(Unresolved(f"managed policy {value!r} of {owner}", where))
        return unresolved_policy(text(value) or "managed policy", kind, where, text(value))

    def _customer_managed(self) -> List[Policy]:
        out = []
        for r in self.of("aws_iam_policy"):
            arn = self.get(r, "arn")
            name = text(self.get(r, "name")) or r.address
            p = self.policy(r, self.get(r, "policy"), name, "identity", ("policy",), arn=text(arn))
            if p is None:
                p = unresolved_policy(name, "identity", r.location, text(arn))
            out.append(p)
            for key in (arn, text(arn), self.get(r, "id")):
                if isinstance(key, (str, Partial)):
                    self.customer.setdefault(key, p)
        return out

    def _attachments(self) -> List[Attached]:
        out: List[Attached] = []
        for r in self.of(*ATTACHMENTS):
            how, arg, targets = ATTACHMENTS[r.type]
            where = self.at(r, (arg,))
            if how == "inline":
                name = text(self.get(r, "name")) or text(self.get(r, "name_prefix")) or r.address
                p = self.policy(r, self.get(r, arg), name, "identity", (arg,))
                if p is None:
                    continue
            else:
                p = self.managed(self.get(r, arg), r.address, where)
            a = Attached(p)
            for into, target_arg in targets.items():
                value = self.get(r, target_arg)
                items = value if isinstance(value, list) else ([] if value is None else [value])
                for item in items:
                    if isinstance(item, Unknown):
                        self.unresolved.append(Unresolved(
                            f"{r.address}: the {target_arg} it attaches {p.name} to ({_show(item)})",
                            self.at(r, (target_arg,))))
                    getattr(a, into).append(item)
            out.append(a)
        return out

    # ---------------------------------------------------------------- principals

    def _identity(self, r: TfResource, owner: str) -> List[Policy]:
        """Inline blocks and ``managed_policy_arns`` of a role."""
        policies: List[Policy] = []
        blocks = self.get(r, "inline_policy")
        if isinstance(blocks, Unknown):
            where = self.at(r, ("inline_policy",))
            self.note(blocks, where)
            policies.append(unresolved_policy(f"{owner} inline_policy", "identity", where))
        for i, block in enumerate(blocks if isinstance(blocks, list) else []):
            if isinstance(block, Unknown):
                where = self.at(r, ("inline_policy", i))
                self.note(block, where)
                policies.append(unresolved_policy(f"{owner} inline_policy {i}", "identity", where))
                continue
            if not isinstance(block, Mapping) or block.get("policy") is None:
                continue  # an empty inline_policy block: no inline policies
            name = text(block.get("name")) or text(block.get("name_prefix")) or f"{owner} inline_policy {i}"
            p = self.policy(r, block["policy"], name, "identity", ("inline_policy", i, "policy"))
            if p is not None:
                policies.append(p)
        arns = self.get(r, "managed_policy_arns")
        where = self.at(r, ("managed_policy_arns",))
        for arn in arns if isinstance(arns, list) else ([arns] if arns is not None else []):
            policies.append(self.managed(arn, owner, where))
        return policies

    def _boundary(self, r: TfResource, owner: str) -> Optional[Policy]:
        value = self.get(r, "permissions_boundary")
        if value in (None, ""):
            return None
        return self.managed(value, owner, self.at(r, ("permissions_boundary",)), "boundary")

    def _tags(self, r: TfResource) -> Dict[str, str]:
        tags = self.get(r, "tags")
        return {str(k): v for k, v in tags.items() if isinstance(v, str)} if isinstance(tags, Mapping) else {}

    @staticmethod
    def _matches(targets: Sequence[Any], name: Any, arn: Any) -> bool:
        keys = [k for k in (name, arn) if isinstance(k, (str, Partial))]
        return any(t == k for t in targets if isinstance(t, (str, Partial)) for k in keys)

    def _attached_to(self, attached: List[Attached], into: str, name: Any, arn: Any) -> List[Policy]:
        return [a.policy for a in attached if self._matches(getattr(a, into), name, arn)]

    def _aliases(self, r: TfResource, name: Any, arn: Any, extra: Sequence[str] = ()) -> Tuple[str, ...]:
        rel = r.relative
        return _unique([r.address, _strip_index(r.address), rel, _strip_index(rel),
                        name if isinstance(name, str) else None, arn if isinstance(arn, str) else None, *extra])

    def _profiles(self) -> Dict[Any, List[str]]:
        out: Dict[Any, List[str]] = {}
        for r in self.of("aws_iam_instance_profile"):
            role = self.get(r, "role")
            if isinstance(role, (str, Partial)):
                name = self.get(r, "name")
                out.setdefault(role, []).extend(
                    [r.address, r.relative, name if isinstance(name, str) else None])  # type: ignore[list-item]
        return out

    def _roles(self, attached: List[Attached]) -> List[Principal]:
        profiles = self._profiles()
        out = []
        for r in self.of("aws_iam_role"):
            name, arn = self.get(r, "name"), self.get(r, "arn")
            self.note(name, r.location)
            policies = self._identity(r, r.address) + self._attached_to(attached, "roles", name, arn)
            trust = None
            if self.get(r, "assume_role_policy") is not None:
                trust = self.policy(r, self.get(r, "assume_role_policy"), "assume_role_policy", "trust",
                                    ("assume_role_policy",))
            extra = [a for a in profiles.get(name, []) if a] if isinstance(name, (str, Partial)) else []
            out.append(Principal(id=r.address, type="role", source=r.type, arn=text(arn), account=self.options.account,
                                 identity_policies=tuple(policies), boundary=self._boundary(r, r.address),
                                 tags=self._tags(r), location=r.location, trust_policy=trust,
                                 aliases=self._aliases(r, name, arn, extra)))
        return out

    def _groups(self, attached: List[Attached]) -> Dict[Any, List[Policy]]:
        groups: Dict[Any, List[Policy]] = {}
        for r in self.of("aws_iam_group"):
            name, arn = self.get(r, "name"), self.get(r, "arn")
            policies = self._attached_to(attached, "groups", name, arn)
            for key in (name, text(name), r.address, r.relative):
                if isinstance(key, (str, Partial)):
                    groups[key] = policies
        return groups

    def _memberships(self) -> Dict[Any, List[Tuple[Any, Location]]]:
        """User name -> the groups it is added to by membership resources."""
        out: Dict[Any, List[Tuple[Any, Location]]] = {}
        for r in self.of("aws_iam_user_group_membership"):
            user, groups = self.get(r, "user"), self.get(r, "groups")
            for g in groups if isinstance(groups, list) else [groups]:
                out.setdefault(user, []).append((g, self.at(r, ("groups",))))
        for r in self.of("aws_iam_group_membership"):
            group, users = self.get(r, "group"), self.get(r, "users")
            for u in users if isinstance(users, list) else [users]:
                if isinstance(u, Unknown):
                    self.note(u, self.at(r, ("users",)))
                out.setdefault(u, []).append((group, self.at(r, ("group",))))
        return out

    def _users(self, attached: List[Attached], groups: Dict[Any, List[Policy]]) -> List[Principal]:
        memberships = self._memberships()
        out = []
        for r in self.of("aws_iam_user"):
            name, arn = self.get(r, "name"), self.get(r, "arn")
            self.note(name, r.location)
            policies = self._attached_to(attached, "users", name, arn)
            member_of = memberships.get(name, []) if isinstance(name, (str, Partial)) else []
            for group, where in member_of:
                if isinstance(group, (str, Partial)) and group in groups:
                    policies += [p for p in groups[group] if p not in policies]
                    continue
                shown = text(group) or _show(group)
                if isinstance(group, Unknown):
                    self.note(group, where)
                else:
                    self.unresolved.append(Unresolved(f"group {shown} of user {r.address} "
                                                      "(not defined in the scanned files)", where))
                policies.append(unresolved_policy(f"group {shown}", "identity", where))
            out.append(Principal(id=r.address, type="user", source=r.type, arn=text(arn), account=self.options.account,
                                 identity_policies=tuple(policies), boundary=self._boundary(r, r.address),
                                 tags=self._tags(r), location=r.location, aliases=self._aliases(r, name, arn)))
        return out

    # ---------------------------------------------------------------- resource policies

    def _resource_policies(self) -> List[ResourcePolicy]:
        replaced = {self._key_arn(self.get(r, "key_id")) for r in self.of("aws_kms_key_policy")}
        out: List[ResourcePolicy] = []
        for rtype, spec in RESOURCE_POLICIES.items():
            for r in self.of(rtype):
                if rtype == "aws_kms_key" and self.get(r, "arn") in replaced:
                    continue  # aws_kms_key_policy sets this key's policy
                doc = self.get(r, spec.argument)
                if doc is None or doc == "":
                    if spec.default is None:
                        continue
                    doc = spec.default(self.options)
                resource = spec.target(self, r)
                p = self.policy(r, doc, r.address, spec.kind, (spec.argument,), spec.grammar)
                if p is None:
                    continue
                self.note(resource, r.location)
                out.append(ResourcePolicy(resource=text(resource) or f"({r.address})", type=rtype, policy=p,
                                          location=r.location))
        for r in self.of("aws_lambda_permission"):
            built = self._lambda_permission(r)
            if built is not None:
                out.append(built)
        return out

    def _key_arn(self, key: Any) -> Any:
        if isinstance(key, str) and key.startswith("arn:"):
            return key
        for r in self.of("aws_kms_key"):
            if key is not None and key in (self.get(r, "key_id"), self.get(r, "arn")):
                return self.get(r, "arn")
        return self.regional("kms", ["key/", key])

    def regional(self, service: str, rest: Sequence[Any], account: bool = True) -> Any:
        o = self.options
        acct = (o.account or Unknown(ACCOUNT_UNKNOWN)) if account else "*"
        return concat([f"arn:{o.partition}:{service}:{o.region}:", acct, ":",
                       *[p if isinstance(p, (str, Partial, Unknown)) else _unknown_part(p) for p in rest]])

    def _function_arn(self, fn: Any, qualifier: Any) -> Any:
        o = self.options
        t = text(fn) or ""
        if t.startswith("arn:"):
            base = fn
        elif ":" in t:  # 123456789012:function:name
            base = concat([f"arn:{o.partition}:lambda:{o.region}:", fn])
        else:
            base = self.regional("lambda", ["function:", fn])
        return concat([base, ":", qualifier]) if isinstance(qualifier, (str, Partial, Unknown)) and qualifier \
            else base

    def _lambda_permission(self, r: TfResource) -> Optional[ResourcePolicy]:
        """An ``aws_lambda_permission`` as the one-statement policy it adds to the function."""
        target = self._function_arn(self.get(r, "function_name"), self.get(r, "qualifier"))
        principal = self.get(r, "principal")
        shown = text(principal) or ""
        element = {"Service": principal} if shown.endswith((".amazonaws.com", ".amazonaws.com.cn")) \
            else {"AWS": principal}
        statement: Dict[str, Any] = {"Sid": self.get(r, "statement_id") or r.relative, "Effect": "Allow",
                                     "Principal": element, "Action": self.get(r, "action"), "Resource": target}
        conditions: Dict[str, Dict[str, Any]] = {}
        for arg, op, key in _LAMBDA_CONDITIONS:
            v = self.get(r, arg)
            if v not in (None, ""):
                conditions.setdefault(op, {})[key] = v
        if conditions:
            statement["Condition"] = conditions
        doc = {"Version": "2012-10-17", "Statement": [statement]}
        where = r.location
        try:
            policy, unknowns = build_policy(doc, r.address, "resource", where)
        except PolicyError as e:
            self.problems.append(_problem("invalid-policy", f"{self.path}: {r.address}: {e}", where))
            return None
        for u in unknowns:
            self.unresolved.append(Unresolved(u.expression, where, u.synthesized))
        policy = replace(policy, origin="properties")  # the document is ours; its values are the user's
        self.policy_documents.append(policy)
        return ResourcePolicy(resource=text(target) or f"({r.address})", type=r.type, policy=policy, location=where)

    # ---------------------------------------------------------------- guardrails

    def _organizations(self) -> Tuple[List[Policy], Tuple[Tuple[Policy, ...], ...], Tuple[Tuple[Policy, ...], ...]]:
        by_id: Dict[Any, Tuple[str, Policy]] = {}
        standalone: List[Policy] = []
        for r in self.of("aws_organizations_policy"):
            ptype = self.get(r, "type") or "SERVICE_CONTROL_POLICY"
            kind = _GUARDRAIL_KINDS.get(ptype) if isinstance(ptype, str) else None
            if kind is None:
                if isinstance(ptype, Unknown):
                    self.note(ptype, r.location)
                continue  # tag, backup, AI opt-out policies: no IAM effect
            name = text(self.get(r, "name")) or r.address
            p = self.policy(r, self.get(r, "content"), name, kind, ("content",))
            if p is None:
                continue
            standalone.append(p)
            for key in (self.get(r, "id"), text(self.get(r, "id"))):
                if isinstance(key, (str, Partial)):
                    by_id[key] = (kind, p)
        levels: Dict[str, Dict[Any, List[Policy]]] = {"scp": {}, "rcp": {}}
        for r in self.of("aws_organizations_policy_attachment"):
            policy_id, target = self.get(r, "policy_id"), self.get(r, "target_id")
            found = by_id.get(policy_id) if isinstance(policy_id, (str, Partial)) else None
            if found is None:
                where = self.at(r, ("policy_id",))
                if isinstance(policy_id, str) and policy_id in _AWS_ORG_POLICIES:
                    continue  # FullAWSAccess: the default each level is given anyway
                self.note(policy_id, where)
                if not unknowns_in(policy_id):
                    self.unresolved.append(Unresolved(f"organization policy {policy_id} attached by {r.address} "
                                                      "(not defined in the scanned files)", where))
                kind = "scp"
                found = (kind, unresolved_policy(text(policy_id) or r.address, "scp", where))
            kind, p = found
            self.note(target, self.at(r, ("target_id",)))
            key = target if isinstance(target, (str, Partial, Unknown)) else repr(target)
            levels[kind].setdefault(key, []).append(p)
        attached = {id(p) for kinds in levels.values() for ps in kinds.values() for p in ps}
        return ([p for p in standalone if id(p) not in attached],
                tuple(_scp_level(ps) for ps in levels["scp"].values()),
                tuple(tuple(ps) + (_allow_all("RCPFullAWSAccess", "rcp"),) for ps in levels["rcp"].values()))

    # ---------------------------------------------------------------- references

    def _references(self) -> List[Tuple[str, str]]:
        out: List[Tuple[str, str]] = []
        for r in self.resources:
            prefixes = [r.address] + ([r.relative] if r.relative != r.address else [])
            for attr, value in self.attrs[r.address].items():
                if isinstance(value, str) and not isinstance(value, bool):
                    out.extend((f"{prefix}.{attr}", value) for prefix in prefixes)
        return out

    # ---------------------------------------------------------------- resources

    def _resources(self) -> List[Resource]:
        """Every managed resource instance (data sources are not resources), by its address."""
        out: List[Resource] = []
        for r in self.resources:
            if r.mode != "managed":
                continue
            arn = self.get(r, "arn")
            out.append(Resource(id=r.address, type=r.type, arn=str(arn) if isinstance(arn, str) else None,
                                properties=_properties(r.values, r.references), location=r.location))
        return out

    # ---------------------------------------------------------------- all

    def build(self) -> Inventory:
        customer = self._customer_managed()
        attached = self._attachments()
        groups = self._groups(attached)
        principals = self._roles(attached) + self._users(attached, groups)
        resource_policies = self._resource_policies()
        standalone, scp, rcp = self._organizations()
        return Inventory(principals=tuple(principals), policies=tuple(customer + standalone),
                         resource_policies=tuple(resource_policies), scp=scp, rcp=rcp,
                         unresolved=tuple(_dedupe_unresolved(self.unresolved)), problems=tuple(self.problems),
                         references=tuple(self._references()), resources=tuple(self._resources()),
                         documents=tuple(self.policy_documents))


# meta-arguments: how Terraform manages a resource, not what the resource is
_META_ARGUMENTS = frozenset({"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner",
                             "connection"})


def _properties(values: Mapping[str, Any], references: Mapping[Tuple[Any, ...], Tuple[str, str]]
                ) -> Dict[str, Any]:
    """A resource's arguments as ``Resource.properties``: plain data, unknowns as None, and a
    ``ResourceRef`` where the code refers to another resource's attribute (``value``: what that
    attribute resolved to, when it is a known string)."""
    def walk(value: Any, path: Tuple[Any, ...]) -> Any:
        if path in references:
            address, attribute = references[path]
            return ResourceRef(address, attribute, str(value) if isinstance(value, str) else None)
        if isinstance(value, dict):
            return {str(k): walk(v, path + (k,)) for k, v in dict.items(value) if not str(k).startswith("__")}
        if isinstance(value, list):
            return [walk(v, path + (i,)) for i, v in enumerate(value)]
        return plain_data(value)
    return {str(k): walk(v, (k,)) for k, v in values.items()
            if not str(k).startswith("__") and k not in _META_ARGUMENTS}


def _show(value: Any) -> str:
    if isinstance(value, Unknown):
        return value.expression
    return text(value) or repr(value)


def _unknown_part(value: Any) -> Any:
    return Unknown(f"{value!r} (not a string)") if value is not None else Unknown("(not set)")


def _dedupe_unresolved(items: List[Unresolved]) -> List[Unresolved]:
    return list(dict.fromkeys(items))


_LAMBDA_CONDITIONS = (("source_arn", "ArnLike", "aws:SourceArn"), ("source_account", "StringEquals", "aws:SourceAccount"),
                      ("principal_org_id", "StringEquals", "aws:PrincipalOrgID"),
                      ("event_source_token", "StringEquals", "lambda:EventSourceToken"),
                      ("function_url_auth_type", "StringEquals", "lambda:FunctionUrlAuthType"))

_GUARDRAIL_KINDS = {"SERVICE_CONTROL_POLICY": "scp", "RESOURCE_CONTROL_POLICY": "rcp"}
_AWS_ORG_POLICIES = frozenset({"p-FullAWSAccess", "p-RCPFullAWSAccess"})


def _allow_all(name: str, kind: str) -> Policy:
    st = Statement(effect="Allow", actions=("*",), resources=("*",),
                   principals={"*": ("*",)} if kind == "rcp" else None, sid=name)
    return Policy(name=f"{name} (AWS default, assumed attached)", kind=kind, statements=(st,),  # type: ignore[arg-type]
                  arn=f"arn:aws:organizations::aws:policy/"
                      f"{'resource' if kind == 'rcp' else 'service'}_control_policy/p-{name}", origin="aws-managed")


def _scp_level(policies: List[Policy]) -> Tuple[Policy, ...]:
    """One SCP level: deny-list levels keep AWS's ``FullAWSAccess``; allow lists replace it."""
    allows = any(st.effect == "Allow" for p in policies for st in p.statements)
    return tuple(policies) if allows else tuple(policies) + (_allow_all("FullAWSAccess", "scp"),)


# ---------------------------------------------------------------------------- resource policy table


@dataclass(frozen=True)
class ResourcePolicySpec:
    """Where a resource type keeps its policy and which resource the policy belongs to."""

    argument: str
    target: Callable[[_Builder, TfResource], Any]
    kind: str = "resource"
    grammar: Optional[str] = None
    default: Optional[Callable[[ReadOptions], Any]] = None


def _attr(attr: str) -> Callable[[_Builder, TfResource], Any]:
    """The resource is named by one of its attributes (its own ``arn``, or an argument)."""
    return lambda b, r: b.get(r, attr)


def _bucket(b: _Builder, r: TfResource) -> Any:
    bucket = b.get(r, "bucket")
    if isinstance(bucket, str) and bucket.startswith("arn:"):
        return bucket
    return concat([f"arn:{b.options.partition}:s3:::", bucket if isinstance(bucket, (str, Partial, Unknown))
                   else Unknown(f"{r.address}.bucket")])


def queue_arn(url: Any, partition: str) -> Any:
    """The ARN of a queue from its URL (``https://sqs.<region>.amazonaws.com/<account>/<name>``)."""
    if isinstance(url, str) and url.startswith("arn:"):
        return url
    t = text(url) or ""
    m = re.match(r"^https://(?:sqs\.)?([a-z0-9-]+)\.(?:queue\.)?amazonaws\.com(?:\.cn)?/([^/]+)/([^/]+)$", t)
    if m and isinstance(url, str):
        region, account, name = m.groups()
        return f"arn:{partition}:sqs:{region}:{account}:{name}"
    if isinstance(url, Partial):
        pieces = _split_url(url)
        if pieces is not None:
            region, account, name = pieces
            return concat([f"arn:{partition}:sqs:", region, ":", account, ":", name])
    return Unknown(f"the ARN of queue {t or _show(url)}")


def _split_url(url: Partial) -> Optional[Tuple[Any, Any, Any]]:
    """Region, account and name of a queue URL with unknown pieces (each a whole path segment)."""
    out: List[Any] = []
    segment: List[Any] = []
    for piece in list(url) + ["/"]:
        if isinstance(piece, Unknown):
            segment.append(piece)
            continue
        chunks = piece.split("/")
        for i, chunk in enumerate(chunks):
            if chunk:
                segment.append(chunk)
            if i < len(chunks) - 1:
                out.append(concat(segment) if segment else "")
                segment = []
    parts = [p for p in out if p != ""]
    if len(parts) != 4 or parts[0] != "https:":
        return None
    host = parts[1]
    if not isinstance(host, str):
        return None
    m = re.match(r"^(?:sqs\.)?([a-z0-9-]+)\.(?:queue\.)?amazonaws\.com(?:\.cn)?$", host)
    return (m.group(1), parts[2], parts[3]) if m else None


def _queue(b: _Builder, r: TfResource) -> Any:
    return queue_arn(b.get(r, "queue_url"), b.options.partition)


def _named_arn(service: str, fmt: str, attr: str) -> Callable[[_Builder, TfResource], Any]:
    def target(b: _Builder, r: TfResource) -> Any:
        value = b.get(r, attr)
        if isinstance(value, str) and value.startswith("arn:"):
            return value
        head, _, tail = fmt.partition("{}")
        return b.regional(service, [head, value, tail])
    return target


def _logs(b: _Builder, r: TfResource) -> Any:
    o = b.options
    return f"arn:{o.partition}:logs:{o.region}:{o.account or '*'}"


def _event_bus(b: _Builder, r: TfResource) -> Any:
    bus = b.get(r, "event_bus_name") or "default"
    if isinstance(bus, str) and bus.startswith("arn:"):
        return bus
    return b.regional("events", ["event-bus/", bus])


def _vpc_endpoint(b: _Builder, r: TfResource) -> Any:
    return f"vpc-endpoint:{r.address}"


def _rest_api(b: _Builder, r: TfResource) -> Any:
    return b.regional("execute-api", [b.get(r, "rest_api_id")])


RESOURCE_POLICIES: Dict[str, ResourcePolicySpec] = {
    "aws_s3_bucket_policy": ResourcePolicySpec("policy", _bucket),
    "aws_s3_bucket": ResourcePolicySpec("policy", _attr("arn")),
    "aws_sqs_queue_policy": ResourcePolicySpec("policy", _queue),
    "aws_sqs_queue": ResourcePolicySpec("policy", _attr("arn")),
    "aws_sns_topic_policy": ResourcePolicySpec("policy", _attr("arn")),
    "aws_sns_topic": ResourcePolicySpec("policy", _attr("arn")),
    "aws_kms_key": ResourcePolicySpec("policy", _attr("arn"), default=_kms_default),
    "aws_kms_key_policy": ResourcePolicySpec("policy", lambda b, r: b._key_arn(b.get(r, "key_id"))),
    "aws_ecr_repository_policy": ResourcePolicySpec("policy", _named_arn("ecr", "repository/{}", "repository"),
                                                    grammar="ecr"),
    "aws_secretsmanager_secret_policy": ResourcePolicySpec("policy", _attr("secret_arn")),
    "aws_secretsmanager_secret": ResourcePolicySpec("policy", _attr("arn")),
    "aws_cloudwatch_log_resource_policy": ResourcePolicySpec("policy_document", _logs),
    "aws_api_gateway_rest_api_policy": ResourcePolicySpec("policy", _rest_api),
    "aws_api_gateway_rest_api": ResourcePolicySpec("policy", _attr("execution_arn")),
    "aws_opensearch_domain_policy": ResourcePolicySpec("access_policies",
                                                       _named_arn("es", "domain/{}", "domain_name")),
    "aws_opensearch_domain": ResourcePolicySpec("access_policies", _attr("arn")),
    "aws_elasticsearch_domain_policy": ResourcePolicySpec("access_policies",
                                                          _named_arn("es", "domain/{}", "domain_name")),
    "aws_elasticsearch_domain": ResourcePolicySpec("access_policies", _attr("arn")),
    "aws_backup_vault_policy": ResourcePolicySpec("policy", _named_arn("backup", "backup-vault:{}",
                                                                       "backup_vault_name")),
    "aws_cloudwatch_event_bus_policy": ResourcePolicySpec("policy", _event_bus),
    "aws_cloudwatch_event_bus": ResourcePolicySpec("policy", _attr("arn")),
    "aws_dynamodb_resource_policy": ResourcePolicySpec("policy", _attr("resource_arn")),
    "aws_kinesis_resource_policy": ResourcePolicySpec("policy", _attr("resource_arn")),
    "aws_codeartifact_domain_permissions_policy": ResourcePolicySpec(
        "policy_document", _named_arn("codeartifact", "domain/{}", "domain")),
    "aws_s3tables_table_bucket_policy": ResourcePolicySpec("resource_policy", _attr("table_bucket_arn")),
    "aws_efs_file_system_policy": ResourcePolicySpec(
        "policy", _named_arn("elasticfilesystem", "file-system/{}", "file_system_id")),
    "aws_glacier_vault": ResourcePolicySpec("access_policy", _named_arn("glacier", "vaults/{}", "name")),
    "aws_vpc_endpoint": ResourcePolicySpec("policy", _vpc_endpoint, kind="vpc_endpoint"),
}


def build_inventory(resources: Sequence[TfResource], options: ReadOptions, path_for_problems: str) -> Inventory:
    """The IAM principals, policies, resource policies and guardrails a list of resources deploys.

    ``path_for_problems`` names the configuration (or plan) in finding messages; locations come
    from each resource.
    """
    return _Builder(resources, options, path_for_problems).build()


__all__ = ["build_inventory", "RESOURCE_POLICIES", "ATTACHMENTS", "CONSTRAINTS", "queue_arn", "text"]
