"""The Terraform resource model shared by the HCL reader (``terraform.py``) and the plan reader
(``terraform_plan.py``): evaluated resources in, IAM principals, policies and guardrails out.

Three pure pieces:

- ``synthesize(type, name, values, options, address)`` — the attributes the AWS provider only knows
  after apply (``arn``, ``id``, ``unique_id``, queue URLs, …) in their real shape, so that a policy
  written with ``aws_sqs_queue.jobs.arn`` and a manifest resource ``${aws_sqs_queue.jobs.arn}``
  name the same thing. Names Terraform generates (``terraform-2024…``) and identifiers AWS
  generates (key IDs, API IDs) are synthesized from a hash of the resource address, so they are
  stable from run to run. A type this table does not know gives ``{}``.
- ``policy_document_json(values, line_of)`` — the ``json`` of ``data "aws_iam_policy_document"``
  rendered as the provider renders it (``internal/service/iam/policy_document_data_source.go`` and
  ``policy_model.go``): single values as strings, several as a list sorted in reverse, principals and
  conditions keyed in sorted order, ``&{…}`` turned into ``${…}``, source and override documents
  merged by ``Sid``. Unknown pieces stay ``Unknown`` inside their JSON strings (a ``Partial``), so
  that ``documents.build_policy`` marks exactly the element they stand in.
- ``build_inventory(resources, options, path)`` — the IAM meaning of a list of ``TfResource``:
  roles and users with inline, attached and managed policies, boundaries, trust policies and tags;
  the resource policies in ``RESOURCE_POLICIES``; AWS Organizations SCPs and RCPs as guardrails;
  the ``type.name.attr`` references a manifest may use.

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

import hashlib
import json
import re
import uuid
import zlib
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ..model import Finding, Inventory, Location, Policy, Principal, ResourcePolicy, Statement, Unresolved
from ..policy import PolicyError, all_unknown, unresolved_policy
from . import ReadOptions
from .documents import Attached, _from_json_string, build_policy, managed_policy_for, starred
from .grammar import about_unresolved, validate_document
from .intrinsics import Partial, Unknown, concat, unknowns_in

LineOf = Callable[[tuple], Optional[int]]
Text = Union[str, Partial, Unknown]

ACCOUNT_UNKNOWN = "data.aws_caller_identity account (set settings.account in the manifest)"


@dataclass
class TfResource:
    """One resource instance (or data source) with its evaluated attribute values.

    ``values`` hold plain data, ``Unknown`` and ``Partial``; nested blocks are lists of dicts; keys
    starting with ``__`` (a reader's bookkeeping) are ignored. ``line_of(path)`` gives the line of a
    nested path within the block (``("statement", 2)``), or None.
    """

    address: str
    mode: str
    type: str
    name: str
    module: str = ""
    index: Any = None
    values: Dict[str, Any] = field(default_factory=dict)
    location: Location = field(default_factory=lambda: Location(""))
    line_of: LineOf = field(default=lambda path: None, repr=False, compare=False)

    @property
    def relative(self) -> str:
        """The address inside its module: ``aws_iam_role.this[0]``."""
        if self.module and self.address.startswith(self.module + "."):
            return self.address[len(self.module) + 1:]
        return self.address


# ============================================================================ synthesized attributes


@dataclass(frozen=True)
class Kind:
    """How a resource type is named and what the provider computes for it.

    ``name_arg``: the argument holding the physical name; ``prefix_arg``: its ``*_prefix`` form;
    ``generated``: whether the provider makes a name up when neither is set (``terraform-…``).
    ``attrs`` are formats over ``{name}``, ``{path}``, ``{partition}``, ``{region}``, ``{account}``,
    ``{dns_suffix}`` and the stable identifiers of ``_IDENTIFIERS``; ``copy`` names arguments that
    come back unchanged as attributes.
    """

    name_arg: Optional[str]
    prefix_arg: Optional[str] = None
    generated: bool = False
    attrs: Mapping[str, str] = field(default_factory=dict)
    copy: Tuple[str, ...] = ()
    generated_base: str = "terraform-"


def _arn(service: str, rest: str) -> str:
    return f"arn:{{partition}}:{service}:{{region}}:{{account}}:{rest}"


def _iam(rest: str) -> str:
    return f"arn:{{partition}}:iam::{{account}}:{rest}"


def _named(service: str, rest: str, id_is: str = "{name}", **more: str) -> Dict[str, str]:
    arn = _arn(service, rest)
    return {"id": arn if id_is == "arn" else id_is, "arn": arn, "name": "{name}", **more}


_FN_ARN = _arn("lambda", "function:{name}")
_SECRET_ARN = _arn("secretsmanager", "secret:{name}-{suffix6}")

KINDS: Dict[str, Kind] = {
    "aws_s3_bucket": Kind("bucket", "bucket_prefix", True, {
        "id": "{name}", "bucket": "{name}", "arn": "arn:{partition}:s3:::{name}",
        "bucket_domain_name": "{name}.s3.{dns_suffix}", "region": "{region}",
        "bucket_regional_domain_name": "{name}.s3.{region}.{dns_suffix}"}),
    "aws_sqs_queue": Kind("name", "name_prefix", True, {
        "id": "https://sqs.{region}.{dns_suffix}/{account}/{name}", "arn": _arn("sqs", "{name}"),
        "url": "https://sqs.{region}.{dns_suffix}/{account}/{name}", "name": "{name}"}),
    "aws_sns_topic": Kind("name", "name_prefix", True, {
        "id": _arn("sns", "{name}"), "arn": _arn("sns", "{name}"), "name": "{name}", "owner": "{account}"}),
    "aws_iam_role": Kind("name", "name_prefix", True, {
        "id": "{name}", "name": "{name}", "arn": _iam("role{path}{name}"), "unique_id": "AROA{uid}"}),
    "aws_iam_user": Kind("name", None, False, {
        "id": "{name}", "name": "{name}", "arn": _iam("user{path}{name}"), "unique_id": "AIDA{uid}"}),
    "aws_iam_group": Kind("name", None, False, {
        "id": "{name}", "name": "{name}", "arn": _iam("group{path}{name}"), "unique_id": "AGPA{uid}"}),
    "aws_iam_policy": Kind("name", "name_prefix", True, {
        "id": _iam("policy{path}{name}"), "arn": _iam("policy{path}{name}"), "name": "{name}",
        "policy_id": "ANPA{uid}", "path": "{path}"}, copy=("policy",)),
    "aws_iam_instance_profile": Kind("name", "name_prefix", True, {
        "id": "{name}", "name": "{name}", "arn": _iam("instance-profile{path}{name}"),
        "unique_id": "AIPA{uid}"}, copy=("role",)),
    "aws_kms_key": Kind(None, attrs={"id": "{uuid}", "key_id": "{uuid}", "arn": _arn("kms", "key/{uuid}")}),
    "aws_kms_alias": Kind("name", "name_prefix", True, {
        "id": "{name}", "name": "{name}", "arn": _arn("kms", "{name}")}, copy=("target_key_id",),
        generated_base="alias/terraform-"),
    "aws_dynamodb_table": Kind("name", None, False, {
        "id": "{name}", "name": "{name}", "arn": _arn("dynamodb", "table/{name}")}),
    "aws_lambda_function": Kind("function_name", None, False, {
        "id": "{name}", "function_name": "{name}", "arn": _FN_ARN, "version": "{version}",
        "qualified_arn": _FN_ARN + ":{version}",
        "invoke_arn": "arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/"
                      + _FN_ARN + "/invocations",
        "qualified_invoke_arn": "arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/"
                                + _FN_ARN + ":{version}/invocations"}),
    "aws_secretsmanager_secret": Kind("name", "name_prefix", True, {
        "id": _SECRET_ARN, "arn": _SECRET_ARN, "name": "{name}"}),
    # the provider's arn has no ":*" (it trims it from the API's value)
    "aws_cloudwatch_log_group": Kind("name", "name_prefix", True, _named("logs", "log-group:{name}")),
    "aws_ecr_repository": Kind("name", None, False, _named(
        "ecr", "repository/{name}", registry_id="{account}",
        repository_url="{account}.dkr.ecr.{region}.{dns_suffix}/{name}")),
    "aws_kinesis_stream": Kind("name", None, False, _named("kinesis", "stream/{name}", "arn")),
    "aws_kinesis_firehose_delivery_stream": Kind("name", None, False,
                                                 _named("firehose", "deliverystream/{name}", "arn")),
    "aws_sfn_state_machine": Kind("name", "name_prefix", True, _named("states", "stateMachine:{name}", "arn")),
    "aws_sfn_activity": Kind("name", None, False, _named("states", "activity:{name}", "arn")),
    "aws_cloudwatch_event_bus": Kind("name", None, False, _named("events", "event-bus/{name}")),
    "aws_cloudwatch_event_rule": Kind("name", "name_prefix", True, _named("events", "rule/{bus}{name}")),
    "aws_ssm_parameter": Kind("name", None, False, _named("ssm", "parameter{slash}{name}")),
    "aws_ecs_cluster": Kind("name", None, False, _named("ecs", "cluster/{name}", "arn")),
    "aws_ecs_task_definition": Kind("family", None, False, {
        "id": "{name}", "family": "{name}", "revision": "1", "arn": _arn("ecs", "task-definition/{name}:1"),
        "arn_without_revision": _arn("ecs", "task-definition/{name}")}),
    "aws_codebuild_project": Kind("name", None, False, _named("codebuild", "project/{name}", "arn")),
    "aws_opensearch_domain": Kind("domain_name", None, False, {
        "id": _arn("es", "domain/{name}"), "arn": _arn("es", "domain/{name}"), "domain_name": "{name}",
        "domain_id": "{account}/{name}"}),
    "aws_elasticsearch_domain": Kind("domain_name", None, False, {
        "id": _arn("es", "domain/{name}"), "arn": _arn("es", "domain/{name}"), "domain_name": "{name}",
        "domain_id": "{account}/{name}"}),
    "aws_backup_vault": Kind("name", None, False, _named("backup", "backup-vault:{name}")),
    "aws_api_gateway_rest_api": Kind("name", None, False, {
        "id": "{api_id}", "name": "{name}", "root_resource_id": "{root_id}",
        "arn": "arn:{partition}:apigateway:{region}::/restapis/{api_id}",
        "execution_arn": _arn("execute-api", "{api_id}")}),
    "aws_apigatewayv2_api": Kind("name", None, False, {
        "id": "{api_id}", "name": "{name}", "arn": "arn:{partition}:apigateway:{region}::/apis/{api_id}",
        "execution_arn": _arn("execute-api", "{api_id}"),
        "api_endpoint": "https://{api_id}.execute-api.{region}.{dns_suffix}"}),
    "aws_efs_file_system": Kind(None, attrs={"id": "fs-{hex17}",
                                             "arn": _arn("elasticfilesystem", "file-system/fs-{hex17}")}),
    "aws_codeartifact_domain": Kind("domain", None, False, {
        "id": _arn("codeartifact", "domain/{name}"), "arn": _arn("codeartifact", "domain/{name}"),
        "owner": "{account}"}),
    "aws_cognito_user_pool": Kind("name", None, False, {
        "id": "{region}_{pool}", "name": "{name}", "arn": _arn("cognito-idp", "userpool/{region}_{pool}")}),
    "aws_organizations_policy": Kind("name", None, False, {"id": "p-{policy8}", "name": "{name}"},
                                     copy=("content", "type")),
    # data sources whose attributes come from the manifest's settings
    "aws_caller_identity": Kind(None, attrs={"account_id": "{account}", "id": "{account}"}),
    "aws_partition": Kind(None, attrs={"partition": "{partition}", "id": "{partition}",
                                       "dns_suffix": "{dns_suffix}"}),
    "aws_region": Kind(None, attrs={"name": "{region}", "id": "{region}", "region": "{region}"}),
}

DATA_KINDS = frozenset({"aws_caller_identity", "aws_partition", "aws_region"})

# identifiers AWS or the provider generate: (hash salt, alphabet, length)
_LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_MIXED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_IDENTIFIERS: Dict[str, Tuple[str, str, int]] = {
    "uid": ("unique-id", _UPPER, 17), "api_id": ("api", _LOWER, 10), "root_id": ("root", _LOWER, 10),
    "hex17": ("fs", "0123456789abcdef", 17), "suffix6": ("secret", _MIXED, 6),
    "policy8": ("org-policy", _LOWER, 8), "pool": ("user-pool", _MIXED + "0123456789", 9),
}


def _digest(address: str, salt: str) -> bytes:
    return hashlib.sha256(f"iamgate/{salt}/{address}".encode()).digest()


def stable_id(address: str, salt: str, alphabet: str, length: int) -> str:
    """A stable pseudo-random identifier for ``address`` (the same on every run)."""
    digest = _digest(address, salt)
    while len(digest) < length:
        digest += _digest(address, salt + digest.hex())
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def generated_name(address: str, prefix: str = "terraform-") -> str:
    """A name in the shape of the provider's ``id.PrefixedUniqueId``: prefix + 26 digits."""
    digits = str(int.from_bytes(_digest(address, "name"), "big"))[:26].rjust(26, "0")
    return prefix + digits


def _present(value: Any) -> bool:
    return value is not None


def _name(kind: Kind, values: Mapping[str, Any], address: str, rtype: str) -> Any:
    if kind.name_arg is None:
        return None
    given = values.get(kind.name_arg)
    if _present(given):
        return given
    prefix = values.get(kind.prefix_arg) if kind.prefix_arg else None
    if isinstance(prefix, (Unknown, Partial)):
        return concat([prefix, generated_name(address, "")])
    if isinstance(prefix, str):
        name: Any = generated_name(address, prefix)
    elif kind.generated:
        name = generated_name(address, kind.generated_base)
    else:
        return Unknown(f"{address}.{kind.name_arg} (not set)")
    if _fifo(rtype, values):
        name = concat([name, ".fifo"])
    return name


def _fifo(rtype: str, values: Mapping[str, Any]) -> bool:
    flag = {"aws_sqs_queue": "fifo_queue", "aws_sns_topic": "fifo_topic"}.get(rtype)
    return bool(flag) and values.get(flag) is True


def _fill(template: str, fields: Mapping[str, Any]) -> Any:
    parts: List[Any] = []
    for literal, key in re.findall(r"([^{]*)(?:\{(\w+)\})?", template):
        parts.append(literal)
        if key:
            v = fields.get(key)
            parts.append(v if isinstance(v, (str, Unknown, Partial)) else ("" if v is None else str(v)))
    return _whole(concat(parts))


def _whole(value: Any) -> Any:
    """A Partial that is one unknown piece, as that Unknown."""
    if isinstance(value, Partial) and len(value) == 1 and isinstance(value[0], Unknown):
        return value[0]
    return value


def _text_of(value: Any, default: str) -> Any:
    return value if isinstance(value, (str, Unknown, Partial)) else default


def synthesize(type: str, name: str, values: Mapping[str, Any], options: ReadOptions, address: str
               ) -> Dict[str, Any]:
    """The attributes the provider computes for a resource of ``type``, in their real shape.

    ``values`` are the resource's evaluated arguments; the account, region and partition come from
    ``options`` (a resource's own ``region`` argument wins). Unknown pieces propagate. A type this
    module does not know gives ``{}``.
    """
    kind = KINDS.get(type)
    if kind is None:
        return {}
    values = {k: v for k, v in values.items() if not str(k).startswith("__")}
    region = values.get("region") if isinstance(values.get("region"), str) else options.region
    fields: Dict[str, Any] = {
        "partition": options.partition, "region": region,
        "account": options.account or Unknown(ACCOUNT_UNKNOWN),
        "dns_suffix": "amazonaws.com.cn" if options.partition == "aws-cn" else "amazonaws.com",
        "uuid": str(uuid.UUID(bytes=_digest(address, "uuid")[:16], version=4)),
        "path": _text_of(values.get("path"), "/"),
        "version": "1" if values.get("publish") is True else "$LATEST",
    }
    for key, (salt, alphabet, length) in _IDENTIFIERS.items():
        fields[key] = stable_id(address, salt, alphabet, length)
    nm = _name(kind, values, address, type)
    fields["name"] = nm
    if type == "aws_ssm_parameter":
        fields["slash"] = "" if isinstance(nm, str) and nm.startswith("/") else "/"
    if type == "aws_cloudwatch_event_rule":
        bus = values.get("event_bus_name")
        fields["bus"] = concat([bus, "/"]) if _present(bus) and bus != "default" and isinstance(
            bus, (str, Partial, Unknown)) else ""
    out: Dict[str, Any] = {k: _fill(t, fields) for k, t in kind.attrs.items()}
    for arg in kind.copy:
        if _present(values.get(arg)):
            out[arg] = values[arg]
    out.update(_special(type, values, out, fields))
    return out


def _special(rtype: str, values: Mapping[str, Any], attrs: Mapping[str, Any], fields: Mapping[str, Any]
             ) -> Dict[str, Any]:
    """Attributes whose shape depends on other arguments."""
    if rtype == "aws_dynamodb_table":
        enabled = values.get("stream_enabled")
        if enabled is True:
            label = "2024-01-01T00:00:00.{:03d}".format(int.from_bytes(_digest(str(attrs.get("arn")), "s")[:2],
                                                                       "big") % 1000)
            return {"stream_label": label, "stream_arn": concat([attrs["arn"], "/stream/", label])}
        if isinstance(enabled, Unknown):
            return {"stream_arn": enabled}
        return {}
    if rtype == "aws_kms_alias":
        target = values.get("target_key_id")
        if isinstance(target, str) and target.startswith("arn:"):
            return {"target_key_arn": target}
        if _present(target):
            return {"target_key_arn": _fill(_arn("kms", "key/{t}"), {**fields, "t": target})}
    return {}


# ============================================================================ aws_iam_policy_document

_TOKEN = "\ue012TFDOC{}\ue013"
_TOKEN_RE = re.compile("\ue012TFDOC(\\d+)\ue013")
_STATEMENT_KEYS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal",
                   "NotPrincipal", "Condition")
# configuration argument -> (JSON element, whether ``&{`` becomes ``${``)
_LIST_ARGS = (("actions", "Action", False), ("not_actions", "NotAction", False),
              ("resources", "Resource", True), ("not_resources", "NotResource", True))


class RenderedJson(str):
    """A rendered policy document that remembers where each of its statements was written."""

    statement_locations: Tuple[Optional[Location], ...] = ()


class RenderedPartial(Partial):
    """A rendered policy document with unknown pieces, remembering its statements' locations."""

    statement_locations: Tuple[Optional[Location], ...] = ()


def _scalar(v: Any) -> Any:
    """A configuration value as the string Terraform converts it to."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (int, float)):
        return str(v)
    return v


def _items(value: Any) -> Union[List[Any], Unknown]:
    """The elements of a list argument (a lone value counts as one)."""
    if value is None:
        return []
    if isinstance(value, Unknown):
        return value
    if isinstance(value, (list, tuple)) and not isinstance(value, Partial):
        return [_scalar(v) for v in value if v is not None]
    return [_scalar(value)]


def _dedupe(items: Iterable[Any]) -> List[Any]:
    out: List[Any] = []
    for v in items:
        if v not in out:
            out.append(v)
    return out


def _sort_key(v: Any) -> Tuple[int, str]:
    if isinstance(v, str):
        return (1, v)
    if isinstance(v, Partial):
        return (0, v.text(""))
    return (0, "")


def _descending(items: List[Any]) -> List[Any]:
    """Go's ``slices.Sort`` then ``slices.Reverse`` (unknown values go last)."""
    return sorted(items, key=_sort_key, reverse=True)


def _decode(items: List[Any]) -> Any:
    """``policyDecodeConfigStrings``: one element as a string, several sorted in reverse."""
    return items[0] if len(items) == 1 else _descending(items)


def _vars(value: Any) -> Any:
    """``&{aws:username}`` in configuration becomes the policy variable ``${aws:username}``."""
    if isinstance(value, str):
        return value.replace("&{", "${")
    if isinstance(value, Partial):
        return Partial([_vars(p) for p in value])
    if isinstance(value, list):
        return [_vars(v) for v in value]
    return value


def _set_of(value: Any, replace_vars: bool) -> Any:
    """A set-of-strings argument rendered (None when empty)."""
    items = _items(value)
    if isinstance(items, Unknown):
        return items
    items = _dedupe(items)
    if not items:
        return None
    rendered = _decode(items)
    return _vars(rendered) if replace_vars else rendered


def _is_text(v: Any) -> bool:
    return isinstance(v, str)


def _principals(blocks: Any) -> Any:
    """``iamPolicyStatementPrincipalSet.MarshalJSON`` over principal blocks."""
    if isinstance(blocks, Unknown):
        return blocks
    pairs: List[Tuple[Any, Any]] = []
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, Unknown):
            return block
        if not isinstance(block, Mapping):
            continue
        ptype = block.get("type")
        if not _is_text(ptype):
            return ptype if isinstance(ptype, Unknown) else Unknown(f"principals type {ptype!r}")
        ids = _items(block.get("identifiers"))
        if isinstance(ids, Unknown):
            pairs.append((ptype, ids))
            continue
        pairs.append((ptype, _vars(_decode(_dedupe(ids))) if ids else []))
    return _principal_set(pairs)


def _principal_set(pairs: List[Tuple[str, Any]]) -> Any:
    if not pairs:
        return None
    if len(pairs) == 1 and pairs[0][0] == "*" and pairs[0][1] in ("*", ["*"]):
        return "*"
    raw: Dict[str, Any] = {}
    for ptype, ids in pairs:
        current = raw.get(ptype)
        if isinstance(ids, list):
            base = [] if current is None else (current if isinstance(current, list) else [current])
            raw[ptype] = base + _descending(list(ids))
        elif current is None:
            raw[ptype] = ids
        elif isinstance(current, list):
            current.append(ids)
        else:
            raw[ptype] = [current, ids]
    return {k: raw[k] for k in sorted(raw)}


def _unknown_condition(u: Unknown, test: Any = None, variable: Any = None) -> Dict[str, Any]:
    """A stand-in for a condition whose operator or key is unknown: marked unresolved, so it never
    decides on its own."""
    op = test if _is_text(test) else "StringLike"
    key = variable if _is_text(variable) else "iamgate:unresolved"
    return {op: {key: u}}


def _conditions(blocks: Any) -> Any:
    """``iamPolicyStatementConditionSet.MarshalJSON`` over condition blocks."""
    if isinstance(blocks, Unknown):
        return _unknown_condition(blocks)
    triples: List[Tuple[str, str, Any]] = []
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, Unknown):
            return _unknown_condition(block)
        if not isinstance(block, Mapping):
            continue
        test, variable = block.get("test"), block.get("variable")
        if not (_is_text(test) and _is_text(variable)):
            u = next((x for x in (test, variable) if isinstance(x, Unknown)), None) or \
                Unknown(f"condition {test!r} {variable!r}")
            return _unknown_condition(u, test, variable)
        values = _items(block.get("values"))
        triples.append((test, variable, values if isinstance(values, Unknown) else _vars(values)))
    return _condition_set(triples)


def _condition_set(triples: List[Tuple[str, str, Any]]) -> Any:
    if not triples:
        return None
    raw: Dict[str, Dict[str, Any]] = {}
    for test, variable, values in triples:
        slot = raw.setdefault(test, {})
        if isinstance(values, Unknown) or isinstance(slot.get(variable), Unknown):
            slot[variable] = values if isinstance(values, Unknown) else slot[variable]
            continue
        slot.setdefault(variable, []).extend(values if isinstance(values, list) else [values])
    return {t: {v: (vals[0] if isinstance(vals, list) and len(vals) == 1 else vals)
                for v, vals in sorted(raw[t].items())} for t in sorted(raw)}


def _config_statement(st: Mapping[str, Any]) -> Dict[str, Any]:
    """One ``statement`` block as the provider writes it."""
    out: Dict[str, Any] = {}
    sid = st.get("sid")
    if sid not in (None, ""):
        out["Sid"] = sid
    effect = st.get("effect")
    out["Effect"] = "Allow" if effect is None else effect
    for arg, element, replace_vars in _LIST_ARGS:
        v = _set_of(st.get(arg), replace_vars)
        if v is not None:
            out[element] = v
    for arg, element in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        v = _principals(st.get(arg))
        if v is not None:
            out[element] = v
    cond = _conditions(st.get("condition"))
    if cond is not None:
        out["Condition"] = cond
    return out


def _unknown_statement(u: Unknown) -> Dict[str, Any]:
    return {"Effect": u, "Action": u, "Resource": u}


# ---------------------------------------------------------------- documents given as JSON (source/override)


def _json_principal(value: Any) -> Any:
    """A Principal element read back as the provider's Go code reads it, then rendered."""
    if isinstance(value, (Unknown, Partial)):
        return value if isinstance(value, Unknown) else Unknown(f"Principal {value.text()}")
    if isinstance(value, str):
        return "*"
    if not isinstance(value, Mapping):
        return None
    pairs: List[Tuple[str, Any]] = []
    for ptype, ids in value.items():
        if isinstance(ids, list):
            pairs.append((ptype, sorted(ids, key=_sort_key)))
        else:
            pairs.append((ptype, ids))
    return _principal_set(pairs)


def _json_condition(value: Any) -> Any:
    if isinstance(value, Unknown):
        return _unknown_condition(value)
    if not isinstance(value, Mapping):
        return None
    triples: List[Tuple[str, str, Any]] = []
    for test, block in value.items():
        if isinstance(block, Unknown):
            triples.append((test, "iamgate:unresolved", block))
            continue
        for variable, values in (block.items() if isinstance(block, Mapping) else ()):
            if isinstance(values, bool):
                values = "true" if values else "false"
            if isinstance(values, (str, Partial, Unknown)):
                triples.append((test, variable, values if isinstance(values, Unknown) else [values]))
            elif isinstance(values, list):
                triples.append((test, variable, list(values)))
            # the provider drops numbers and nulls here (no case for them in its Go switch)
    return _condition_set(triples)


def _json_statement(raw: Any) -> Dict[str, Any]:
    if isinstance(raw, Unknown):
        return _unknown_statement(raw)
    if not isinstance(raw, Mapping):
        return _unknown_statement(Unknown(f"statement {raw!r} (not an object)"))
    fields = {str(k).lower(): v for k, v in raw.items()}
    out: Dict[str, Any] = {}
    for element in _STATEMENT_KEYS:
        v = fields.get(element.lower())
        if element in ("Principal", "NotPrincipal"):
            v = _json_principal(v) if v is not None else None
        elif element == "Condition":
            v = _json_condition(v) if v is not None else None
        elif element in ("Sid", "Effect") and v == "":
            v = None
        if v is not None:
            out[element] = v
    return out


Origin = Optional[Location]


@dataclass
class _Doc:
    version: Any = ""
    id: Any = ""
    statements: List[Tuple[Dict[str, Any], Origin]] = field(default_factory=list)

    def merge(self, other: "_Doc") -> None:
        """``iamPolicyDoc.Merge``: adopt Id, upgrade Version, replace statements by Sid."""
        if other.id:
            self.id = other.id
        if isinstance(other.version, str) and isinstance(self.version, str) and other.version > self.version:
            self.version = other.version
        elif isinstance(other.version, (Unknown, Partial)):
            self.version = other.version
        for st, origin in other.statements:
            sid = st.get("Sid")
            if not sid:
                self.statements.append((st, origin))
                continue
            for i, (existing, _) in enumerate(self.statements):
                if existing.get("Sid") == sid:
                    self.statements[i] = (st, origin)
                    break
            else:
                self.statements.append((st, origin))

    def value(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        if self.version:
            out["Version"] = self.version
        if self.id:
            out["Id"] = self.id
        if self.statements:
            out["Statement"] = [st for st, _ in self.statements]
        return out


def _json_doc(given: Any) -> Union[_Doc, Unknown]:
    """A source or override document (a JSON string, possibly with unknown pieces)."""
    if isinstance(given, Unknown):
        return given
    if not isinstance(given, (str, Partial)):
        return Unknown(f"policy document {given!r} (not a JSON string)")
    try:
        data, _ = _from_json_string(given)
    except ValueError:
        return Unknown("policy document (not JSON)" if isinstance(given, str) else
                       f"policy document with unknown pieces ({'; '.join(u.expression for u in given.unknowns())})")
    if not isinstance(data, Mapping):
        return Unknown("policy document (not a JSON object)")
    fields = {str(k).lower(): v for k, v in data.items()}
    raw = fields.get("statement") or []
    raw = raw if isinstance(raw, list) else [raw]
    origins = list(getattr(given, "statement_locations", ()) or ())
    statements = [(_json_statement(s), origins[i] if i < len(origins) else None) for i, s in enumerate(raw)]
    return _Doc(version=fields.get("version") or "", id=fields.get("id") or "", statements=statements)


def _document(values: Mapping[str, Any], line_of: Optional[LineOf], file: Optional[str]) -> Union[_Doc, Unknown]:
    merged = _Doc()
    sources = _items(values.get("source_policy_documents"))
    for given in [sources] if isinstance(sources, Unknown) else sources:
        doc = _json_doc(given)
        if isinstance(doc, Unknown):  # unknown statements added; the current document still wins by Sid
            merged.statements.append((_unknown_statement(doc), None))
        else:
            merged.merge(doc)
    version = values.get("version")
    current = _Doc(version="2012-10-17" if version in (None, "") else version, id=values.get("policy_id") or "")
    statements = values.get("statement")
    if isinstance(statements, Unknown):
        current.statements.append((_unknown_statement(statements), None))
    for i, st in enumerate(statements if isinstance(statements, list) else []):
        line = line_of(("statement", i)) if line_of else None
        origin = Location(file, line) if file and line else None
        rendered = _unknown_statement(st) if isinstance(st, Unknown) else \
            _config_statement(st) if isinstance(st, Mapping) else None
        if rendered is not None:
            current.statements.append((rendered, origin))
    merged.merge(current)
    overrides = values.get("override_policy_documents")
    if isinstance(overrides, Unknown):
        return overrides  # it could replace any statement, a Deny included
    for given in _items(overrides):  # type: ignore[union-attr]
        doc = _json_doc(given)
        if isinstance(doc, Unknown):
            return doc
        merged.merge(doc)
    return merged


def policy_document_value(values: Mapping[str, Any], line_of: Optional[LineOf] = None) -> Any:
    """The document ``data "aws_iam_policy_document"`` renders, as a dict (``Unknown`` pieces kept),
    or ``Unknown`` when an override document is unknown."""
    doc = _document(values, line_of, None)
    return doc if isinstance(doc, Unknown) else doc.value()


def _encode(value: Any, holes: List[Unknown]) -> Any:
    if isinstance(value, Unknown):
        holes.append(value)
        return _TOKEN.format(len(holes) - 1)
    if isinstance(value, Partial):
        return "".join(p if isinstance(p, str) else _encode(p, holes) for p in value)
    if isinstance(value, Mapping):
        return {str(k): _encode(v, holes) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v, holes) for v in value]
    return value


_GO_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def to_go_json(value: Any, indent: bool = True) -> Any:
    """``value`` written as Go's ``json.MarshalIndent(v, "", "  ")`` (or ``json.Marshal``) writes it;
    a ``Partial`` when it holds unknown pieces (each inside its JSON string)."""
    holes: List[Unknown] = []
    text = json.dumps(_encode(value, holes), ensure_ascii=False, indent=2 if indent else None,
                      separators=(",", ": ") if indent else (",", ":"))
    for char, escaped in _GO_ESCAPES:
        text = text.replace(char, escaped)
    if not holes:
        return text
    parts: List[Any] = []
    pos = 0
    for m in _TOKEN_RE.finditer(text):
        parts.append(text[pos:m.start()])
        parts.append(holes[int(m.group(1))])
        pos = m.end()
    parts.append(text[pos:])
    return concat(parts)


def policy_document_json(values: Mapping[str, Any], line_of: Optional[LineOf] = None, *,
                         file: Optional[str] = None, minified: bool = False) -> Any:
    """The ``json`` (or ``minified_json``) attribute of ``data "aws_iam_policy_document"``.

    ``values`` are the block's evaluated arguments (``statement`` blocks expanded, ``dynamic`` ones
    included). Returns a str, a ``Partial`` when unknown values went into it, or ``Unknown`` when
    an override document is unknown. With ``file`` (where the block is written) the result also
    remembers each statement's location (``statement_locations``), which ``build_inventory`` uses.
    """
    doc = _document(values, line_of, file)
    if isinstance(doc, Unknown):
        return doc
    rendered = to_go_json(doc.value(), indent=not minified)
    out: Any = RenderedJson(rendered) if isinstance(rendered, str) else RenderedPartial(rendered)
    out.statement_locations = tuple(origin for _, origin in doc.statements)
    return out


def policy_document_id(json_text: str) -> str:
    """The data source's ``id``: the provider's ``StringHashcode`` (CRC-32) of its ``json``."""
    return str(zlib.crc32(json_text.encode("utf-8")))


# ============================================================================ the inventory


_RULES = {"parse-error": "IG0001", "invalid-policy": "IG3001"}  # rules/registry.py documents them


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
            self.unresolved.append(Unresolved(u.expression, replace(where, line=u.line) if u.line else where))

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
            self.unresolved.append(Unresolved(u.expression, replace(where, line=u.line) if u.line else where))
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
            return _from_json_string(value)[0]
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
            self.unresolved.append(Unresolved(u.expression, where))
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
                         references=tuple(self._references()), documents=tuple(self.policy_documents))


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


__all__ = ["TfResource", "Kind", "KINDS", "synthesize", "policy_document_json", "policy_document_value",
           "policy_document_id", "to_go_json", "build_inventory", "RESOURCE_POLICIES", "ATTACHMENTS",
           "CONSTRAINTS", "RenderedJson", "RenderedPartial", "queue_arn", "generated_name", "stable_id", "text"]
