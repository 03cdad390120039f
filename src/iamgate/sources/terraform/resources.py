"""The Terraform resource model shared by the HCL reader (``config.py``) and the plan reader
(``plan.py``): ``TfResource``, one evaluated resource instance, and what the provider adds to it.

- ``synthesize(type, name, values, options, address)`` — the attributes the AWS provider only knows
  after apply (``arn``, ``id``, ``unique_id``, queue URLs, …) in their real shape, so that a policy
  written with ``aws_sqs_queue.jobs.arn`` and a manifest resource ``${aws_sqs_queue.jobs.arn}``
  name the same thing. Names Terraform generates (``terraform-2024…``) and identifiers AWS
  generates (key IDs, API IDs) are synthesized from a hash of the resource address, so they are
  stable from run to run. A type this table does not know gives ``{}``.
"""
from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from ...model import Location
from .. import ReadOptions
from ..values import Partial, Unknown, concat

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
    # path into ``values`` -> (address, attribute) where the code writes a reference to another
    # resource's attribute (``aws_sqs_queue.jobs.arn``): Resource.properties keeps it as a ResourceRef
    references: Dict[Tuple[Any, ...], Tuple[str, str]] = field(default_factory=dict, repr=False, compare=False)

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
    "aws_msk_cluster": Kind("cluster_name", None, False, _named("kafka", "cluster/{name}/{uuid}", "arn")),
    "aws_mq_broker": Kind("broker_name", None, False, {
        "id": "b-{uuid}", "arn": _arn("mq", "broker:{name}:b-{uuid}")}),
    "aws_docdb_cluster": Kind("cluster_identifier", "cluster_identifier_prefix", True, {
        "id": "{name}", "cluster_identifier": "{name}", "arn": _arn("rds", "cluster:{name}")}),
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
    "aws_lb_target_group": Kind("name", "name_prefix", True, _named(
        "elasticloadbalancing", "targetgroup/{name}/{tg16}", "arn", arn_suffix="targetgroup/{name}/{tg16}"),
        generated_base="tf-"),
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

KINDS["aws_alb_target_group"] = KINDS["aws_lb_target_group"]  # the provider's older name of the same resource

DATA_KINDS = frozenset({"aws_caller_identity", "aws_partition", "aws_region"})

# identifiers AWS or the provider generate: (hash salt, alphabet, length)
_LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_MIXED = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_IDENTIFIERS: Dict[str, Tuple[str, str, int]] = {
    "uid": ("unique-id", _UPPER, 17), "api_id": ("api", _LOWER, 10), "root_id": ("root", _LOWER, 10),
    "hex17": ("fs", "0123456789abcdef", 17), "suffix6": ("secret", _MIXED, 6),
    "tg16": ("targetgroup", "0123456789abcdef", 16),
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
        "account": options.account or Unknown(ACCOUNT_UNKNOWN, synthesized=True),
        "dns_suffix": "amazonaws.com.cn" if options.partition == "aws-cn" else "amazonaws.com",
        "uuid": str(uuid.UUID(bytes=_digest(address, "uuid")[:16], version=4)),
        "path": _text_of(values.get("path"), "/"),
        "version": "1" if values.get("publish") is True else "$LATEST",
    }
    for key, (salt, alphabet, length) in _IDENTIFIERS.items():
        fields[key] = stable_id(address, salt, alphabet, length)
    # a letter every eighth character: twelve digits in a row would read as an account number
    fields["tg16"] = "".join("abcdef"[int(c) % 6] if i % 8 == 7 and c.isdigit() else c
                             for i, c in enumerate(fields["tg16"]))
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


__all__ = ["TfResource", "Kind", "KINDS", "DATA_KINDS", "ACCOUNT_UNKNOWN", "synthesize", "generated_name", "stable_id"]
