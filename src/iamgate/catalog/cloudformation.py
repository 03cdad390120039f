"""Deploy actions of CloudFormation and SAM resource types, from the resource provider schemas
bundled inside the installed ``cfn-lint`` package (issue 13; interface in ``catalog/deploy.py``).

Where the data is: ``<cfnlint>/data/schemas/`` (``schema_dir()``), found with
``importlib.util.find_spec("cfnlint")`` — cfn-lint itself is never imported (that costs more than
a second), its per-user schema cache in the home directory is never read and nothing is
downloaded, so a check is reproducible from the installed package alone:

- ``providers/<region>.json`` maps each resource type available in the region to a hash;
  ``providers/sam.json`` does the same for ``AWS::Serverless::*`` (whose schemas have no handlers);
- ``resources/<hash>.json`` is the type's provider schema; ``handlers.{create,update,delete,read}
  .permissions`` are the IAM actions CloudFormation needs to run each handler — what the stack's
  service role (or, without one, the deploying principal) needs for that operation;
- ``version.json`` holds the ``schema_date`` the data was taken on (stamped in reports).

``actions(type, region)`` reads the region's providers file once (falling back to ``us-east-1``
when the region has no file or its file lacks the type) and the one schema file of the type: at
most two files for a type. Each permission is checked against the IAM catalog: a known action is
given in the catalog's spelling (``Batch:TagResource`` -> ``batch:TagResource``), a valid
wildcard pattern (``ec2:Describe*``: a handful of schemas use them) is kept as written, anything
else (a misspelt name, a service prefix IAM does not have such as ``efs:``, an empty string) is
left out and said in ``problems``. A type with no schema or a schema without handlers (custom
resources, ``AWS::CloudFormation::WaitConditionHandle``, the App Mesh types …) is
``known=False`` with the reason in ``problems``: its deploy requirements are unknown, not empty.

SAM: ``AWS::Serverless::*`` types are deployed as the resources the transform generates.
``generated_types(type, properties)`` gives the types generated for one Serverless resource that
the SAM reader does NOT list in ``Inventory.resources`` on their own: the resource it becomes
under the same logical id (``AWS::Lambda::Function`` for a function …) and what else SAM generates
that the reader leaves out (``AutoPublishAlias`` versions and aliases, event source mappings, event
rules, API deployments and stages …). What the reader does list separately — the ``<Id>Role`` and
event roles, ``CodeDeployServiceRole``, the implicit ``ServerlessRestApi``, the
``AWS::Lambda::Permission`` of ``Api``/``S3``/``SNS`` events, connector policies, dead-letter
queues and topics — is left out here so that it is not counted twice. ``actions()`` of a
Serverless type is the union of ``generated_types(type)`` without properties (the types SAM always
generates). From aws-sam-translator (``model/sam_resources.py``) and
https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-specification-generated-resources.html

Stack actions (``stack_actions()``): what ``aws cloudformation deploy`` and ``sam deploy`` call —
DescribeStacks (does the stack exist; outputs; waiters), GetTemplateSummary (``sam deploy``, on an
update), CreateChangeSet, DescribeChangeSet (waiter and change listing), ExecuteChangeSet,
DescribeStackEvents (``sam deploy`` streams events). From aws-cli
``awscli/customizations/cloudformation/deployer.py``, aws-sam-cli ``samcli/lib/deploy/deployer.py``
and https://docs.aws.amazon.com/cli/latest/reference/cloudformation/deploy/index.html ("Deploys the
specified AWS CloudFormation template by creating and then executing a change set"). Without
change sets (``create-stack``/``update-stack``): CreateStack, UpdateStack, DescribeStacks,
DescribeStackEvents. Uploading packaged artifacts or templates to S3 (``--s3-bucket``) is not a
CloudFormation action and not listed here; nor is ``iam:PassRole`` of a stack service role.
"""
from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

from iamgate.catalog.actions import canonical_action, check_action
from iamgate.catalog.deploy import OPERATIONS, DeployActions, DeployDataError

__all__ = [
    "schema_dir",
    "schema_date",
    "actions",
    "generated_types",
    "stack_actions",
    "SERVERLESS_PREFIX",
]

DEFAULT_REGION = "us-east-1"
SERVERLESS_PREFIX = "AWS::Serverless::"
_REGION = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")
_HASH = re.compile(r"^[0-9A-Za-z_-]+$")

# What `aws cloudformation deploy` / `sam deploy` call (module docstring), in call order.
_CHANGE_SET_ACTIONS = (
    "cloudformation:DescribeStacks",
    "cloudformation:GetTemplateSummary",
    "cloudformation:CreateChangeSet",
    "cloudformation:DescribeChangeSet",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:DescribeStackEvents",
)
_DIRECT_ACTIONS = (
    "cloudformation:DescribeStacks",
    "cloudformation:CreateStack",
    "cloudformation:UpdateStack",
    "cloudformation:DescribeStackEvents",
)


# --------------------------------------------------------------------------------------- files


def _cfnlint_dir() -> Optional[str]:
    """The installed cfnlint package's directory, without importing it; None if not installed."""
    try:
        spec = importlib.util.find_spec("cfnlint")
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    locations = list(spec.submodule_search_locations or ())
    if locations:
        return str(locations[0])
    if spec.origin:
        return os.path.dirname(spec.origin)
    return None


def _cfnlint_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8
        return "?"
    try:
        return version("cfn-lint")
    except PackageNotFoundError:
        return "?"


@functools.lru_cache(maxsize=1)
def schema_dir() -> str:
    """``data/schemas`` inside the installed cfn-lint; DeployDataError when it cannot be used."""
    package = _cfnlint_dir()
    if package is None:
        raise DeployDataError(
            "cfn-lint is not installed: deploy checks of CloudFormation and SAM templates need the "
            "resource schemas bundled with it; install cfn-lint"
        )
    schemas = os.path.join(package, "data", "schemas")
    providers = os.path.join(schemas, "providers")
    if not os.path.isfile(os.path.join(providers, DEFAULT_REGION + ".json")) or not os.path.isdir(
        os.path.join(schemas, "resources")
    ):
        raise DeployDataError(
            f"cfn-lint {_cfnlint_version()} is installed without its bundled resource schemas "
            f"({providers}): deploy checks need them; reinstall cfn-lint"
        )
    return schemas


def _read_json(*parts: str) -> Any:
    path = os.path.join(schema_dir(), *parts)
    try:
        with open(path, "r", encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise DeployDataError(
            f"cfn-lint {_cfnlint_version()}'s bundled schema file {path} cannot be read ({exc}); "
            "reinstall cfn-lint"
        ) from exc


@functools.lru_cache(maxsize=1)
def schema_date() -> str:
    """The ``schema_date`` of the bundled schemas (``2026-10-20T22:11:15Z``); "unknown" if unstamped."""
    try:
        data = _read_json("version.json")
    except FileNotFoundError:
        return "unknown"
    value = data.get("schema_date") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else "unknown"


@functools.lru_cache(maxsize=None)
def _providers(region: str) -> Optional[Dict[str, str]]:
    """type -> schema hash for a region (``sam`` for the Serverless types); None if no such file."""
    if region != "sam" and not _REGION.match(region):
        return None  # never build a path from an odd region string
    try:
        data = _read_json("providers", region + ".json")
    except FileNotFoundError:
        return None
    if not isinstance(data, dict):
        raise DeployDataError(f"cfn-lint's providers/{region}.json is not a mapping; reinstall cfn-lint")
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def _schema(schema_hash: str) -> Optional[Dict[str, Any]]:
    """One type's provider schema (not cached: ``_resource_actions`` keeps only what it needs)."""
    if not _HASH.match(schema_hash):
        return None
    try:
        data = _read_json("resources", schema_hash + ".json")
    except FileNotFoundError:
        return None
    return data if isinstance(data, dict) else None


def _clear_caches() -> None:
    for cached in (schema_dir, schema_date, _providers, _actions, _resource_actions):
        cached.cache_clear()


# ------------------------------------------------------------------------------------- actions


def _validated(rtype: str, names: Any, problems: List[str]) -> Tuple[str, ...]:
    out: List[str] = []
    for name in names if isinstance(names, list) else ():
        if not isinstance(name, str) or not name.strip():
            problems.append(f"schema for {rtype} names {name!r}, which IAM does not know")
            continue
        canonical = canonical_action(name)
        if canonical is None:
            if ("*" in name or "?" in name) and check_action(name).ok:
                canonical = name  # a valid wildcard pattern, kept as the schema writes it
            else:
                problems.append(f"schema for {rtype} names {name}, which IAM does not know")
                continue
        out.append(canonical)
    return tuple(dict.fromkeys(out))


@functools.lru_cache(maxsize=4096)
def _resource_actions(rtype: str, region: str) -> DeployActions:
    table = _providers(region)
    if table is None or rtype not in table:
        table = _providers(DEFAULT_REGION) or {}
    schema_hash = table.get(rtype)
    if schema_hash is None:
        return DeployActions(
            rtype, known=False,
            problems=(f"cfn-lint's schemas (of {schema_date()}) have no resource type {rtype}",),
        )
    schema = _schema(schema_hash)
    if schema is None:
        return DeployActions(
            rtype, known=False,
            problems=(f"cfn-lint's schema file for {rtype} (resources/{schema_hash}.json) is missing",),
        )
    handlers = schema.get("handlers")
    if not isinstance(handlers, dict) or not any(
        isinstance(handlers.get(op), dict) for op in OPERATIONS
    ):
        return DeployActions(
            rtype, known=False,
            problems=(f"the schema for {rtype} states no handler permissions",),
        )
    problems: List[str] = []
    found: Dict[str, Tuple[str, ...]] = {}
    for op in OPERATIONS:
        handler = handlers.get(op)
        perms = handler.get("permissions") if isinstance(handler, dict) else None
        found[op] = _validated(rtype, perms, problems)
    return DeployActions(rtype, problems=tuple(dict.fromkeys(problems)), **found)


def actions(type: str, region: str = DEFAULT_REGION) -> DeployActions:  # noqa: A002 - the brief's name
    """The IAM actions CloudFormation needs to create, update, delete and read a resource of ``type``
    in ``region`` (cached per type and region).

    ``AWS::Serverless::*``: the union over ``generated_types(type)`` (what SAM always generates and
    the reader does not list on its own). Raises DeployDataError when cfn-lint's schemas are
    missing; an unknown type (or a type that is not a string) is ``known=False``, never an error."""
    rtype = type if isinstance(type, str) else str(type)
    region = region if isinstance(region, str) and region else DEFAULT_REGION
    return _actions(rtype, region)


@functools.lru_cache(maxsize=4096)
def _actions(rtype: str, region: str) -> DeployActions:
    if not rtype.startswith(SERVERLESS_PREFIX):
        return _resource_actions(rtype, region)
    parts = generated_types(rtype)
    if not parts:
        if rtype in _SAM_NOTHING_OWN:
            return DeployActions(rtype)  # generates nothing the reader does not list itself
        return DeployActions(
            rtype, known=False,
            problems=(f"iamgate does not know which resources SAM generates for {rtype}",),
        )
    merged: Dict[str, List[str]] = {op: [] for op in OPERATIONS}
    problems: List[str] = []
    known = True
    for part in parts:
        got = _resource_actions(part, region)
        known = known and got.known
        problems.extend(got.problems)
        for op in OPERATIONS:
            merged[op].extend(got.of(op))
    return DeployActions(
        rtype, known=known, problems=tuple(dict.fromkeys(problems)),
        **{op: tuple(dict.fromkeys(v)) for op, v in merged.items()},
    )


def stack_actions(change_set: bool = True) -> Tuple[str, ...]:
    """The CloudFormation stack actions a deployment calls: with change sets (``aws cloudformation
    deploy``, ``sam deploy``; the default) or directly (``create-stack``/``update-stack``)."""
    return _CHANGE_SET_ACTIONS if change_set else _DIRECT_ACTIONS


# ----------------------------------------------------------------------------------------- SAM

# Always generated, under the Serverless resource's logical id or beside it, and not listed by the
# SAM reader on its own (its generated roles, permissions and policies are listed; see module doc).
_SAM_ALWAYS: Dict[str, Tuple[str, ...]] = {
    "AWS::Serverless::Function": ("AWS::Lambda::Function",),
    "AWS::Serverless::StateMachine": ("AWS::StepFunctions::StateMachine",),
    "AWS::Serverless::Api": ("AWS::ApiGateway::RestApi", "AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage"),
    "AWS::Serverless::HttpApi": ("AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Stage"),
    "AWS::Serverless::WebSocketApi": ("AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Stage"),
    "AWS::Serverless::SimpleTable": ("AWS::DynamoDB::Table",),
    "AWS::Serverless::LayerVersion": ("AWS::Lambda::LayerVersion",),
    "AWS::Serverless::Application": ("AWS::CloudFormation::Stack",),
    "AWS::Serverless::GraphQLApi": ("AWS::AppSync::GraphQLApi", "AWS::AppSync::GraphQLSchema"),
    "AWS::Serverless::CapacityProvider": ("AWS::Lambda::CapacityProvider",),
    "AWS::Serverless::NetworkConnector": ("AWS::Lambda::NetworkConnector",),
    "AWS::Serverless::MicrovmImage": ("AWS::Lambda::MicrovmImage",),
    "AWS::Serverless::WebFunction": (
        "AWS::Lambda::WebFunction", "AWS::Lambda::WebFunctionRevision", "AWS::Lambda::WebFunctionEndpoint"),
}
# everything a connector generates (managed policies, queue and topic policies, permissions) is
# listed by the reader
_SAM_NOTHING_OWN = frozenset({"AWS::Serverless::Connector"})

# property present -> extra generated types (not listed by the reader)
_SAM_IF_PROPERTY: Dict[str, Tuple[Tuple[str, Tuple[str, ...]], ...]] = {
    "AWS::Serverless::Function": (
        ("AutoPublishAlias", ("AWS::Lambda::Version", "AWS::Lambda::Alias")),
        ("DeploymentPreference", ("AWS::CodeDeploy::Application", "AWS::CodeDeploy::DeploymentGroup")),
        ("FunctionUrlConfig", ("AWS::Lambda::Url",)),
        ("EventInvokeConfig", ("AWS::Lambda::EventInvokeConfig",)),
    ),
    "AWS::Serverless::StateMachine": (
        ("AutoPublishAlias", ("AWS::StepFunctions::StateMachineVersion", "AWS::StepFunctions::StateMachineAlias")),
    ),
    "AWS::Serverless::Api": (
        ("Domain", ("AWS::ApiGateway::DomainName", "AWS::ApiGateway::BasePathMapping")),
    ),
    "AWS::Serverless::HttpApi": (
        ("Domain", ("AWS::ApiGatewayV2::DomainName", "AWS::ApiGatewayV2::ApiMapping")),
    ),
}
# role property absent -> SAM generates an AWS::IAM::Role the reader does not list
_SAM_ROLE_UNLESS: Dict[str, str] = {
    "AWS::Serverless::CapacityProvider": "OperatorRole",
    "AWS::Serverless::NetworkConnector": "OperatorRole",
    "AWS::Serverless::MicrovmImage": "BuildRoleArn",
    "AWS::Serverless::WebFunction": "ExecutionRoleArn",
}
_PULL = ("AWS::Lambda::EventSourceMapping",)
_RULE = ("AWS::Events::Rule",)
# event type -> generated types the reader does not list (Api, S3 and SNS permissions, event roles
# and the implicit ServerlessRestApi are listed by the reader)
_SAM_EVENTS: Dict[str, Dict[str, Tuple[str, ...]]] = {
    "AWS::Serverless::Function": {
        "SQS": _PULL, "Kinesis": _PULL, "DynamoDB": _PULL, "MSK": _PULL, "MQ": _PULL,
        "SelfManagedKafka": _PULL, "DocumentDB": _PULL,
        "Schedule": _RULE + ("AWS::Lambda::Permission",),
        "CloudWatchEvent": _RULE + ("AWS::Lambda::Permission",),
        "EventBridgeRule": _RULE + ("AWS::Lambda::Permission",),
        "ScheduleV2": ("AWS::Scheduler::Schedule",),
        "SNS": ("AWS::SNS::Subscription",),
        "CloudWatchLogs": ("AWS::Logs::SubscriptionFilter", "AWS::Lambda::Permission"),
        "IoTRule": ("AWS::IoT::TopicRule", "AWS::Lambda::Permission"),
        "HttpApi": ("AWS::Lambda::Permission",),
        "Cognito": ("AWS::Lambda::Permission",),
        "AlexaSkill": ("AWS::Lambda::Permission",),
    },
    "AWS::Serverless::StateMachine": {
        "Schedule": _RULE, "CloudWatchEvent": _RULE, "EventBridgeRule": _RULE,
        "ScheduleV2": ("AWS::Scheduler::Schedule",),
    },
}


def _present(properties: Mapping[str, Any], name: str) -> bool:
    value = properties.get(name)
    return value is not None and value != "" and not (
        isinstance(value, dict) and value.get("Ref") == "AWS::NoValue"
    )


def generated_types(serverless_type: str, properties: Optional[Mapping[str, Any]] = None) -> Tuple[str, ...]:
    """The resource types SAM generates for one ``AWS::Serverless::*`` resource that the SAM reader
    does not list in ``Inventory.resources`` on its own (module docstring), in a stable order.

    Without ``properties``: what SAM always generates (``AWS::Serverless::Function`` ->
    ``AWS::Lambda::Function``). With the resource's ``Properties`` (Globals merged, as the reader's
    ``Resource.properties``): also ``AutoPublishAlias`` versions and aliases, ``DeploymentPreference``
    CodeDeploy application and group, ``FunctionUrlConfig`` URL, ``EventInvokeConfig``, each event's
    mapping, rule, schedule, subscription or permission, API domains, and the roles SAM generates
    for the newer types when no role is given. Odd property values are ignored. Not covered: what
    GraphQLApi resolvers, data sources and API keys, API usage plans, ``Domain.Route53`` records,
    WebSocket routes and HttpApi events' implicit API add. () for a non-Serverless or unknown type.
    """
    if not isinstance(serverless_type, str):
        return ()
    out: List[str] = list(_SAM_ALWAYS.get(serverless_type, ()))
    if not out or not isinstance(properties, Mapping):
        return tuple(out)
    for name, types in _SAM_IF_PROPERTY.get(serverless_type, ()):
        if _present(properties, name):
            out.extend(types)
    role_property = _SAM_ROLE_UNLESS.get(serverless_type)
    if role_property is not None and not _present(properties, role_property):
        out.append("AWS::IAM::Role")
    events = properties.get("Events")
    by_event = _SAM_EVENTS.get(serverless_type, {})
    if isinstance(events, Mapping):
        for event in events.values():
            kind = event.get("Type") if isinstance(event, Mapping) else None
            if isinstance(kind, str):
                out.extend(by_event.get(kind, ()))
    return tuple(dict.fromkeys(out))
