"""The AWS SAM transform, as far as IAM goes: ``AWS::Serverless::*`` resources become the plain
CloudFormation resources SAM would generate for them, so that the CloudFormation reader treats a SAM
template like any other.

``expand(template) -> SamResult`` is a pure function over template data (``LDict``/``LList``/``LStr``
from ``loader``). It never raises for bad input: what SAM would reject is reported in
``SamResult.problems`` as ``(message, line)`` and the rest is expanded. Nothing is resolved here;
intrinsics (``Ref``, ``Fn::Sub``, ``Fn::If``, pseudo parameters …) are produced and kept exactly as
SAM produces them, for ``intrinsics.Resolver`` to resolve later. Every generated node carries the
``.line`` of the SAM construct it came from: a generated role the line of its function or state
machine, an inline policy or policy-template statement the line of its entry in ``Policies``, a
managed policy ARN the line of the entry (or of ``Tracing``/``VpcConfig``/the event that added it),
a connector statement the line of its ``Permissions`` entry.

The behaviour follows aws-sam-translator (``sam_resources.py``, ``role_utils``, ``iam.py``,
``policy_template_processor``, ``plugins/globals``, ``eventsources/pull.py``, ``connector`` and
``connector_profiles``). Only SAM's JSON data files are read (policy templates, connector profiles,
the bundled managed-policy map), found with ``importlib.util.find_spec`` without importing SAM.

Covered:

- ``Globals`` (Function, Api, HttpApi, SimpleTable, StateMachine sections) merged as SAM merges
  them (dicts deep-merged, lists concatenated, ``Function.Architectures`` replaced, intrinsics
  treated as scalars), honouring ``IgnoreGlobals``; unsupported Globals properties (``Policies``,
  ``Role`` …) are reported.
- ``AWS::Serverless::Function`` -> ``AWS::Lambda::Function`` plus, unless ``Role`` is given, the
  ``<Id>Role`` ``AWS::IAM::Role``: lambda trust (or ``AssumeRolePolicyDocument``),
  AWSLambdaBasicExecutionRole (AWSLambdaBasicDurableExecutionRolePolicy with ``DurableConfig``),
  AWSXrayWriteOnlyAccess with ``Tracing`` (unless ``Disabled``), AWSLambdaVPCAccessExecutionRole
  with ``VpcConfig``, ``DeadLetterQueue`` and ``EventInvokeConfig`` destination policies, every
  form of ``Policies`` (managed policy names -> ARNs, ARNs and intrinsics as they are, inline
  documents -> ``<Id>RolePolicy<N>``, SAM policy templates, ``Fn::If`` around any of these),
  ``PermissionsBoundary``, ``RolePath``, ``Tags`` (after SAM's ``lambda:createdBy: SAM``), the
  pull event sources' permissions (SQS, Kinesis, DynamoDB and MSK managed policies; MQ, DocumentDB,
  self-managed Kafka inline policies; ``DestinationConfig.OnFailure`` SQS/SNS/S3 policies), the
  ``ScheduleV2`` event execution roles, the ``AWS::Lambda::Permission`` of each ``Api``, ``S3`` and
  ``SNS`` event (on the ``AutoPublishAlias`` alias when there is one, as SAM's) and, for an ``SNS``
  event with ``SqsSubscription``, the queue, its ``AWS::SQS::QueuePolicy`` and the SQS execution
  policy instead. A ``Role: !If [C, x, !Ref AWS::NoValue]`` creates the role
  conditionally as SAM does. ``DeploymentPreference`` adds ``CodeDeployServiceRole``.
- ``AWS::Serverless::StateMachine`` -> ``AWS::StepFunctions::StateMachine`` plus ``<Id>Role``
  (states trust, ``Policies`` in every form, AWSXrayWriteOnlyAccess when ``Tracing.Enabled``) and
  the event roles SAM generates (``Schedule``, ``CloudWatchEvent``, ``EventBridgeRule``, ``Api``,
  ``ScheduleV2``), which start the alias with ``UseAliasAsEventTarget``. SAM adds nothing for ``Logging``.
- ``AWS::Serverless::SimpleTable`` -> ``AWS::DynamoDB::Table`` with the same logical id.
- ``AWS::Serverless::Api`` -> ``AWS::ApiGateway::RestApi`` whose ``Policy`` is the resource policy
  SAM writes into the Swagger (``Auth.ResourcePolicy``: account, IP range and VPC/VPCE allow and
  block lists, ``Intrinsic*`` lists, ``CustomStatements``; also per-event ``Auth.ResourcePolicy``
  and an ``x-amazon-apigateway-policy`` already in ``DefinitionBody``), with the
  ``execute-api:/${Stage}/METHOD/path`` resources of the paths the API serves (from its inline
  ``DefinitionBody``, or from the ``Api`` events of functions and state machines). The implicit
  ``ServerlessRestApi`` is generated when functions have ``Api`` events without ``RestApiId``.
  ``AWS::Serverless::HttpApi`` -> ``AWS::ApiGatewayV2::Api`` (HTTP APIs have no resource policy).
- ``AWS::Serverless::Connector`` and ``Connectors`` embedded in any resource, from SAM's connector
  profiles: ``AWS::IAM::ManagedPolicy`` attached to the source's (or destination's) role — exactly
  what SAM generates, rather than an ``AWS::IAM::Policy`` — ``AWS::SQS::QueuePolicy``,
  ``AWS::SNS::TopicPolicy`` and ``AWS::Lambda::Permission``, with the ``%{Destination.Arn}``-style
  placeholders replaced by ``Ref``/``Fn::GetAtt``/``Fn::Sub`` of the resources.
- Other ``AWS::Serverless::*`` types (LayerVersion, Application, GraphQLApi, …) stay as they are.

Not covered (no IAM identity permissions, or left to the reader to report): the
``AWS::Lambda::Permission`` resource policies SAM adds for the other push events (Schedule,
CloudWatchEvent, EventBridgeRule, CloudWatchLogs, Cognito, IoTRule, AlexaSkill, HttpApi, Lambda
authorizers, WebSocket APIs); the dead-letter queue policies of EventBridge rules; implicit HTTP APIs;
``AutoPublishAlias`` versions and aliases (besides the two cases above, permissions and targets
refer to the function itself); the GraphQLApi's and CapacityProvider's generated roles; SAM resource
references such as ``!Ref MyFunction.Alias``. Where SAM resolves a value from parameters at
transform time (``Tracing: !Ref Mode``), the generated IAM is the one for any value other than
``Disabled``. ``bench/bench_sam_translator.py`` measures what is left against SAM's own translator.

``SamResult.aliases`` maps the logical id of a role to the extra selectors it answers to: a
generated ``<Id>Role`` to ``<Id>``; a template role given as ``Role: !GetAtt R.Arn`` (or
``!Ref R``) to the functions and state machines that use it.

What the reader (``template.py``) lists in ``Inventory.resources`` for a SAM template: first every
resource as written, an ``AWS::Serverless::*`` one with its own type and its ``Properties`` with
Globals merged in (``SamResult.properties``), not as the ``AWS::Lambda::Function``,
``AWS::StepFunctions::StateMachine``, ``AWS::DynamoDB::Table`` or API it becomes under the same
logical id (its ARN, where it has one, is that resource's); then what the expansion generates under
new logical ids: ``<Id>Role`` and event roles, ``CodeDeployServiceRole``, the queues and topics SAM
creates for ``EventInvokeConfig`` and ``ScheduleV2`` dead-letter destinations, the implicit
``ServerlessRestApi``, each connector's ``AWS::IAM::ManagedPolicy``, ``AWS::SQS::QueuePolicy``,
``AWS::SNS::TopicPolicy`` or ``AWS::Lambda::Permission``, each ``Api``, ``S3`` and ``SNS`` event's
``AWS::Lambda::Permission`` and an ``SNS`` event's ``SqsSubscription`` queue and queue policy. Not
listed, because the expansion does not generate them: the ``AWS::Lambda::EventSourceMapping`` of pull
events (SQS, Kinesis, DynamoDB, MQ, MSK …: they are in the function's ``Events``), what the other
push events add (permissions, rules, subscriptions, notifications), ``AutoPublishAlias`` versions
and aliases, API deployments and stages, log groups, and what nested ``AWS::Serverless::Application``
stacks hold.
"""
from __future__ import annotations

import copy
import difflib
import hashlib
import importlib.util
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from .loader import LDict, LList, LStr, line_of

SERVERLESS_TRANSFORM = "AWS::Serverless-2016-10-31"



class Problem(tuple):
    """Something SAM's transform would reject, as ``(message, line)``, with the rule it breaks in
    ``rule``: ``IG0004`` a resource the transform cannot expand, ``IG0003`` the missing Transform."""

    rule: str

    def __new__(cls, message: str, line: Optional[int], rule: str = "IG0004") -> "Problem":
        self = super().__new__(cls, (message, line))
        self.rule = rule
        return self

    @property
    def message(self) -> str:
        return self[0]

    @property
    def line(self) -> Optional[int]:
        return self[1]


@dataclass(frozen=True)
class SamResult:
    """A SAM template expanded into CloudFormation (as far as IAM goes)."""

    template: LDict
    aliases: Mapping[str, Tuple[str, ...]]
    problems: Tuple[Problem, ...]
    # role policies written from SAM's policy templates (not by the user): PolicyName -> template name(s)
    from_templates: Mapping[str, str] = field(default_factory=dict)
    # the Properties of each AWS::Serverless::* resource, Globals merged in, as the transform read them
    properties: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------- data


def _samtranslator_dir() -> Optional[str]:
    try:
        spec = importlib.util.find_spec("samtranslator")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


@lru_cache(maxsize=None)
def _sam_json(*parts: str) -> Optional[Dict[str, Any]]:
    base = _samtranslator_dir()
    if base is None:
        return None
    try:
        with open(os.path.join(base, *parts), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def policy_templates() -> Optional[Dict[str, Any]]:
    """SAM's policy templates by name (``Parameters``, ``Definition``), or None without SAM's data."""
    data = _sam_json("policy_templates_data", "policy_templates.json")
    templates = data.get("Templates") if data else None
    return templates if isinstance(templates, dict) else None


def connector_profiles() -> Optional[Dict[str, Any]]:
    """SAM's connector profiles (``Permissions``, ``CfnResourceProperties``), or None."""
    return _sam_json("model", "connector_profiles", "profiles.json")


def _bundled_managed_map() -> Dict[str, str]:
    data = _sam_json("internal", "data", "aws_managed_policies.json")
    m = data.get("aws") if data else None
    return m if isinstance(m, dict) else {}


_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"


@lru_cache(maxsize=None)
def _managed_path(name: str) -> Optional[str]:
    """``path/Name`` after ``arn:<partition>:iam::aws:policy/`` of the AWS managed policy ``name``."""
    arn: Optional[str] = None
    try:
        from ...catalog import managed

        policy = managed.managed_policy(name)
        arn = getattr(policy, "arn", None) if policy is not None else None
    except Exception:  # noqa: BLE001 - the snapshot is optional here; SAM's own map is the fallback
        arn = None
    if not arn:
        arn = _bundled_managed_map().get(name)
    if isinstance(arn, str) and arn.startswith(_MANAGED_PREFIX):
        return arn[len(_MANAGED_PREFIX):]
    return None


# ---------------------------------------------------------------------------------------------- nodes


def _mk(value: Any, line: Optional[int]) -> Any:
    """A deep copy of ``value`` as LDict/LList/LStr. Nodes that already carry a line (the user's)
    keep it; plain nodes (generated) get the line of the nearest ancestor that has one, else
    ``line``."""
    own = line_of(value) or line
    if isinstance(value, dict):
        out: Any = LDict((k, _mk(v, own)) for k, v in value.items())
    elif isinstance(value, list):
        out = LList(_mk(v, own) for v in value)
    elif isinstance(value, str):
        out = LStr(value)
    else:
        return value
    out.line = own or 0
    return out


def _is_intrinsic(v: Any) -> bool:
    if isinstance(v, dict) and len(v) == 1:
        key = next(iter(v))
        return isinstance(key, str) and (key in ("Ref", "Condition") or key.startswith("Fn::"))
    return False


def _is_if(v: Any) -> bool:
    return isinstance(v, dict) and len(v) == 1 and "Fn::If" in v


def _if_items(v: Any) -> Optional[List[Any]]:
    items = v.get("Fn::If") if isinstance(v, dict) else None
    if isinstance(items, list) and len(items) == 3 and isinstance(items[0], str):
        return items
    return None


def _is_no_value(v: Any) -> bool:
    return isinstance(v, dict) and len(v) == 1 and v.get("Ref") == "AWS::NoValue"


def _logical_id_of(v: Any) -> Optional[str]:
    """The logical id a ``Ref``/``Fn::GetAtt`` refers to (SAM's get_logical_id_from_intrinsic)."""
    if not _is_intrinsic(v):
        return None
    ref = v.get("Ref")
    if isinstance(ref, str):
        return ref
    att = v.get("Fn::GetAtt")
    if isinstance(att, list) and len(att) == 2 and isinstance(att[0], str):
        return att[0]
    if isinstance(att, str) and len(att.split(".")) == 2:
        return att.split(".")[0]
    return None


def _ref(logical: str, line: Optional[int]) -> LDict:
    return _mk({"Ref": logical}, line)


def _getatt(logical: str, attribute: str, line: Optional[int]) -> LDict:
    return _mk({"Fn::GetAtt": [logical, attribute]}, line)


def _managed_arn(path_and_name: str, line: Optional[int]) -> LDict:
    """``arn:${AWS::Partition}:iam::aws:policy/<path/name>`` as SAM's ArnGenerator writes it (SAM
    writes the partition of the region it runs in; the Fn::Sub keeps it for the resolver)."""
    return _mk({"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/" + path_and_name}, line)


def _tag_list(first: Mapping[str, Any], tags: Any, line: Optional[int]) -> LList:
    out = [{"Key": k, "Value": v} for k, v in first.items()]
    if isinstance(tags, dict) and not _is_intrinsic(tags):
        out += [{"Key": k, "Value": v if v is not None else ""} for k, v in tags.items()]
    return _mk(out, line)


def _trust(service: str) -> Dict[str, Any]:
    return {"Version": "2012-10-17",
            "Statement": [{"Action": ["sts:AssumeRole"], "Effect": "Allow",
                           "Principal": {"Service": [service]}}]}


def _event_order(item: Tuple[str, Any]) -> str:
    """SAM's SamFunction.order_events: by the event's Path, else its name."""
    name, event = item
    if not isinstance(event, dict) or not isinstance(event.get("Properties"), dict):
        return str(name)
    return str(event["Properties"].get("Path", name))


def _as_list(v: Any) -> List[Any]:
    if v is None:
        return []
    return list(v) if isinstance(v, list) else [v]


def _str(v: Any) -> Optional[str]:
    return str(v) if isinstance(v, str) else None


# ---------------------------------------------------------------------------------------------- Globals

_GLOBALS_SUPPORTED: Dict[str, Tuple[str, ...]] = {
    "Function": (
        "Handler", "Runtime", "CodeUri", "DeadLetterQueue", "Description", "MemorySize", "Timeout",
        "VpcConfig", "Environment", "Tags", "PropagateTags", "Tracing", "KmsKeyArn", "AutoPublishAlias",
        "AutoPublishAliasAllProperties", "Layers", "DeploymentPreference", "RolePath", "PermissionsBoundary",
        "ReservedConcurrentExecutions", "ProvisionedConcurrencyConfig", "AssumeRolePolicyDocument",
        "EventInvokeConfig", "FileSystemConfigs", "CodeSigningConfigArn", "Architectures", "SnapStart",
        "EphemeralStorage", "FunctionUrlConfig", "RuntimeManagementConfig", "LoggingConfig", "RecursiveLoop",
        "SourceKMSKeyArn", "TenancyConfig", "DurableConfig", "CapacityProviderConfig", "FunctionScalingConfig",
        "PublishToLatestPublished", "VersionDeletionPolicy"),
    "Api": (
        "Auth", "Name", "DefinitionUri", "CacheClusterEnabled", "CacheClusterSize", "MergeDefinitions",
        "Variables", "EndpointConfiguration", "MethodSettings", "BinaryMediaTypes", "MinimumCompressionSize",
        "Cors", "GatewayResponses", "AccessLogSetting", "CanarySetting", "TracingEnabled", "OpenApiVersion",
        "Domain", "AlwaysDeploy", "PropagateTags", "SecurityPolicy", "EndpointAccessMode"),
    "HttpApi": (
        "Auth", "AccessLogSettings", "StageVariables", "Tags", "CorsConfiguration", "DefaultRouteSettings",
        "Domain", "RouteSettings", "FailOnWarnings", "PropagateTags"),
    "SimpleTable": ("SSESpecification",),
    "StateMachine": ("PropagateTags",),
    "LayerVersion": ("PublishLambdaVersion",),
    "CapacityProvider": (
        "VpcConfig", "OperatorRole", "Tags", "InstanceRequirements", "ScalingConfig", "KmsKeyArn",
        "PropagateTags", "LoggingConfig", "ManagedResourceTags"),
    "MicroVMImage": (
        "BuildRoleArn", "BaseImageArn", "BaseImageVersion", "Logging", "EgressNetworkConnectors",
        "CpuConfigurations", "Resources", "AdditionalOsCapabilities", "Hooks", "EnvironmentVariables", "Tags",
        "PropagateTags"),
    "NetworkConnector": ("OperatorRole", "Tags", "PropagateTags"),
    "WebSocketApi": (
        "AccessLogSettings", "ApiKeySelectionExpression", "DefaultRouteSettings", "DisableExecuteApiEndpoint",
        "DisableSchemaValidation", "Domain", "FailOnWarnings", "IpAddressType", "PropagateTags",
        "RouteSelectionExpression", "RouteSettings", "StageVariables", "Tags"),
}
# Paths (within a section) that SAM replaces instead of merging.
_GLOBALS_REPLACE = {"Function": {"Architectures"}, "CapacityProvider": {"InstanceRequirements.Architectures"}}


def _token(v: Any) -> str:
    if isinstance(v, dict):
        return "primitive" if _is_intrinsic(v) else "dict"
    if isinstance(v, list):
        return "list"
    return "primitive"


def _merge_globals(g: Any, local: Any, replace: Iterable[str], path: str = "") -> Any:
    """SAM's GlobalProperties merge: local scalars win, dicts merge key by key, lists concatenate."""
    tg, tl = _token(g), _token(local)
    if tg != tl or tg == "primitive":
        return local
    if path in replace:
        return local
    if tg == "dict":
        out = LDict(g)
        out.line = line_of(local) or line_of(g) or 0
        for key, value in local.items():
            child = f"{path}.{key}".lstrip(".")
            out[key] = _merge_globals(g[key], value, replace, child) if key in g else value
        return out
    merged = LList(list(g) + list(local))
    merged.line = line_of(local) or line_of(g) or 0
    return merged


# ---------------------------------------------------------------------------------------------- expander


_PULL_MANAGED = {
    "SQS": "service-role/AWSLambdaSQSQueueExecutionRole",
    "Kinesis": "service-role/AWSLambdaKinesisExecutionRole",
    "DynamoDB": "service-role/AWSLambdaDynamoDBExecutionRole",
    "MSK": "service-role/AWSLambdaMSKExecutionRole",
}
_DLQ_ACTIONS = {"SQS": "sqs:SendMessage", "SNS": "sns:Publish"}
_VPC_ACTIONS = ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
                "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"]
_SAM_TO_CFN = {
    "AWS::Serverless::Function": "AWS::Lambda::Function",
    "AWS::Serverless::StateMachine": "AWS::StepFunctions::StateMachine",
    "AWS::Serverless::Api": "AWS::ApiGateway::RestApi",
    "AWS::Serverless::HttpApi": "AWS::ApiGatewayV2::Api",
    "AWS::Serverless::SimpleTable": "AWS::DynamoDB::Table",
}
_ATTRIBUTES = ("Condition", "DependsOn", "Metadata", "DeletionPolicy", "UpdateReplacePolicy")
_PASSTHROUGH_ATTRIBUTES = ("Condition", "DeletionPolicy", "UpdateReplacePolicy")
_LAMBDA_PASSTHROUGH = (
    "FunctionName", "Handler", "Runtime", "Description", "MemorySize", "Timeout", "VpcConfig", "Environment",
    "KmsKeyArn", "ReservedConcurrentExecutions", "Layers", "FileSystemConfigs", "ImageConfig", "PackageType",
    "Architectures", "SnapStart", "EphemeralStorage", "CodeSigningConfigArn", "RuntimeManagementConfig",
    "LoggingConfig", "TenancyConfig", "RecursiveLoop", "DurableConfig")
_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "any",
                 "x-amazon-apigateway-any-method"}
_S3_URI = re.compile(r"^s3://([^/]+)/(.+?)(?:\?versionId=(.*))?$")


class _Expander:
    def __init__(self, template: Mapping[str, Any]) -> None:
        self.src = template
        self.problems: List[Problem] = []
        self.from_templates: Dict[str, str] = {}
        self.aliases: Dict[str, List[str]] = {}
        src_resources = template.get("Resources")
        self.src_resources: Mapping[str, Any] = src_resources if isinstance(src_resources, dict) else {}
        self.out: Dict[str, Any] = {}
        self.new_conditions: Dict[str, Any] = {}
        self.globals: Dict[str, Dict[str, Any]] = {}
        self.merged: Dict[str, Mapping[str, Any]] = {}  # logical id -> properties after Globals
        self.api_paths: Dict[str, Dict[str, List[str]]] = {}  # api logical id -> path -> methods
        self.api_policies: Dict[str, "_ApiPolicy"] = {}
        self.implicit_api = False
        self.implicit_api_conditions: List[Optional[str]] = []
        self.deployment_roles_needed: List[Tuple[str, Optional[int]]] = []

    # ------------------------------------------------------------------ helpers

    def problem(self, message: str, line: Optional[int], rule: str = "IG0004") -> None:
        self.problems.append(Problem(message, line, rule))

    def alias(self, role: str, selector: str) -> None:
        names = self.aliases.setdefault(role, [])
        if selector not in names and selector != role:
            names.append(selector)

    def add(self, logical: str, resource: LDict, line: Optional[int], owner: str) -> bool:
        if logical in self.out or (logical in self.src_resources and logical != owner):
            self.problem(f"{owner}: SAM would generate resource '{logical}', but the template already has a "
                         "resource with that logical id", line)
            return False
        self.out[logical] = resource
        return True

    @staticmethod
    def resource(rtype: str, properties: Mapping[str, Any], line: Optional[int],
                 attributes: Optional[Mapping[str, Any]] = None) -> LDict:
        res: Dict[str, Any] = {"Type": rtype}
        for k, v in (attributes or {}).items():
            res[k] = v
        res["Properties"] = properties
        return _mk(res, line)

    @staticmethod
    def attributes(res: Mapping[str, Any], names: Sequence[str] = _PASSTHROUGH_ATTRIBUTES) -> Dict[str, Any]:
        return {k: res[k] for k in names if k in res}

    # ------------------------------------------------------------------ driver

    def run(self) -> SamResult:
        template = self.src
        transforms = template.get("Transform")
        listed = transforms if isinstance(transforms, list) else [transforms]
        has_transform = SERVERLESS_TRANSFORM in [t for t in listed if isinstance(t, str)]
        serverless = [k for k, r in self.src_resources.items()
                      if isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::Serverless::")]
        if serverless and not has_transform:
            first = self.src_resources[serverless[0]]
            self.problem(f"{serverless[0]}: AWS::Serverless resources need 'Transform: {SERVERLESS_TRANSFORM}'; "
                         "without it CloudFormation rejects the template", line_of(first), "IG0003")

        self.parse_globals(template.get("Globals"))

        # Globals first, for every SAM resource
        for logical, res in self.src_resources.items():
            if isinstance(res, dict) and str(res.get("Type", "")).startswith("AWS::Serverless::"):
                self.merged[logical] = self.merge_globals(logical, res)

        handlers = {
            "AWS::Serverless::Function": self.function,
            "AWS::Serverless::StateMachine": self.state_machine,
        }
        later = {
            "AWS::Serverless::Api": self.api,
            "AWS::Serverless::HttpApi": self.http_api,
            "AWS::Serverless::SimpleTable": self.simple_table,
        }
        # In SAM's order: functions and state machines (their Api events add paths to the APIs), then
        # APIs and tables, then connectors once every resource is plain CloudFormation.
        for phase in (handlers, later):
            for logical, res in self.src_resources.items():
                if not isinstance(res, dict):
                    continue
                handler = phase.get(str(res.get("Type")))
                if handler is None:
                    continue
                try:
                    handler(logical, res, self.merged.get(logical, LDict()))
                except Exception as e:  # noqa: BLE001 - bad input is reported, never raised
                    self.problem(f"{logical}: could not expand {res.get('Type')}: {type(e).__name__}: {e}",
                                 line_of(res))
        # Everything else stays as it is (minus the Connectors attribute, which becomes resources). A
        # SAM resource whose expansion failed (reported above) is kept as it was.
        for logical, res in self.src_resources.items():
            if logical in self.out or (isinstance(res, dict) and res.get("Type") == "AWS::Serverless::Connector"):
                continue
            if isinstance(res, dict) and "Connectors" in res:
                self.out[logical] = _mk({k: v for k, v in res.items() if k != "Connectors"}, line_of(res))
            else:
                self.out[logical] = _mk(res, line_of(res))
        try:
            self.implicit_rest_api()
        except Exception as e:  # noqa: BLE001
            self.problem(f"ServerlessRestApi: could not expand: {type(e).__name__}: {e}", None)
        self.code_deploy_role()
        try:
            self.connectors()
        except Exception as e:  # noqa: BLE001
            self.problem(f"connectors: could not expand: {type(e).__name__}: {e}", None)

        out = LDict()
        out.line = line_of(template, 0) or 0
        for key, value in template.items():
            if key == "Globals":
                continue
            if key == "Transform":
                rest = [t for t in listed if t != SERVERLESS_TRANSFORM]
                if isinstance(transforms, list) and rest:
                    out[key] = _mk(rest, line_of(transforms))
                elif not isinstance(transforms, list) and transforms != SERVERLESS_TRANSFORM:
                    out[key] = _mk(transforms, line_of(template))
                continue
            if key == "Resources":
                out[key] = self.ordered_resources(line_of(value))
                continue
            out[key] = _mk(value, line_of(value) or line_of(template))
        if "Resources" not in out and self.out:
            out["Resources"] = self.ordered_resources(None)
        if self.new_conditions:
            conditions = out.get("Conditions")
            merged = LDict(conditions) if isinstance(conditions, dict) else LDict()
            merged.line = line_of(conditions, 0) or 0
            for name, value in self.new_conditions.items():
                merged.setdefault(name, value)
            out["Conditions"] = merged
        aliases = {role: tuple(names) for role, names in self.aliases.items() if names}
        return SamResult(template=out, aliases=aliases, problems=tuple(self.problems),
                         from_templates=dict(self.from_templates), properties=dict(self.merged))

    def ordered_resources(self, line: Optional[int]) -> LDict:
        """The resources in the template's order, each SAM resource's generated ones after the rest."""
        resources = LDict()
        resources.line = line or 0
        for logical in self.src_resources:
            if logical in self.out:
                resources[logical] = self.out[logical]
        for logical, res in self.out.items():
            if logical not in resources:
                resources[logical] = res
        return resources

    # ------------------------------------------------------------------ Globals

    def parse_globals(self, section: Any) -> None:
        if section is None:
            return
        if not isinstance(section, dict):
            self.problem("Globals: must be a map of resource types to properties", line_of(section))
            return
        for name, props in section.items():
            supported = _GLOBALS_SUPPORTED.get(str(name))
            if supported is None:
                self.problem(f"Globals: '{name}' is not supported; must be one of "
                             f"{sorted(_GLOBALS_SUPPORTED)}", line_of(props) or line_of(section))
                continue
            if not isinstance(props, dict):
                self.problem(f"Globals: the value of '{name}' must be a map", line_of(props) or line_of(section))
                continue
            kept: Dict[str, Any] = {}
            for key, value in props.items():
                if key not in supported:
                    hint = (" (SAM does not allow it in Globals; set it on each resource)"
                            if key in ("Policies", "Role", "FunctionName", "Events") else "")
                    self.problem(f"Globals: '{key}' is not a supported property of '{name}'{hint}",
                                 line_of(value) or line_of(props))
                    continue
                kept[key] = value
            self.globals["AWS::Serverless::" + str(name)] = kept

    def merge_globals(self, logical: str, res: Mapping[str, Any]) -> Mapping[str, Any]:
        props = res.get("Properties")
        if props is not None and (not isinstance(props, dict) or _is_intrinsic(props)):
            self.problem(f"{logical}: Properties must be a map", line_of(props) or line_of(res))
        props = props if isinstance(props, dict) and not _is_intrinsic(props) else LDict()
        rtype = str(res.get("Type"))
        g = self.globals.get(rtype)
        if not g:
            return props
        g = dict(g)
        ignore = res.get("IgnoreGlobals")
        if ignore == "*":
            return props
        if isinstance(ignore, list):
            for key in ignore:
                if key in g:
                    del g[key]
                else:
                    self.problem(f"{logical}: IgnoreGlobals names '{key}', which is not in Globals",
                                 line_of(key) or line_of(res))
        elif ignore is not None:
            self.problem(f"{logical}: IgnoreGlobals must be \"*\" or a list of property names", line_of(res))
        section = rtype.replace("AWS::Serverless::", "")
        merged = _merge_globals(LDict(g), props, _GLOBALS_REPLACE.get(section, set()))
        if not isinstance(merged, LDict):
            merged = LDict(merged) if isinstance(merged, dict) else LDict()
        merged.line = line_of(props) or line_of(res) or 0
        return merged

    # ------------------------------------------------------------------ Policies

    def policy_kind(self, entry: Any, owner: str, index: int, line: Optional[int]) -> Optional[str]:
        """``managed``, ``statement``, ``template`` or ``unknown`` (SAM's ResourcePolicies._get_type
        with the policy-template processor); None after reporting a mixed Fn::If."""
        if isinstance(entry, str):
            return "managed"
        if _is_if(entry):
            items = _if_items(entry)
            if items is None:
                self.problem(f"{owner}: Policies[{index}]: Fn::If needs [condition, value if true, value if false]",
                             line)
                return None
            a = "novalue" if _is_no_value(items[1]) else self.policy_kind(items[1], owner, index, line)
            b = "novalue" if _is_no_value(items[2]) else self.policy_kind(items[2], owner, index, line)
            if a is None or b is None:
                return None
            if a == b or b == "novalue":
                return a
            if a == "novalue":
                return b
            if "unknown" in (a, b):
                return "unknown"
            self.problem(f"{owner}: Policies[{index}]: different policy types within the same Fn::If are not "
                         "supported by SAM; separate them into different Fn::If entries", line)
            return None
        if _is_intrinsic(entry):
            return "managed"
        if isinstance(entry, dict) and "Statement" in entry:
            return "statement"
        templates = policy_templates()
        if isinstance(entry, dict) and len(entry) == 1 and templates is not None and next(iter(entry)) in templates:
            return "template"
        return "unknown"

    def template_document(self, name: str, values: Any, owner: str, line: Optional[int]) -> Optional[LDict]:
        templates = policy_templates() or {}
        spec = templates.get(name)
        if not isinstance(spec, dict):
            self.problem(f"{owner}: unknown SAM policy template '{name}'", line)
            return None
        params = spec.get("Parameters") or {}
        if not isinstance(values, dict) or _is_intrinsic(values):
            self.problem(f"{owner}: policy template '{name}' needs a map of parameter values "
                         f"({', '.join(params) or 'an empty map {}'})", line_of(values) or line)
            return None
        missing = sorted(set(params) - set(values))
        if missing:
            self.problem(f"{owner}: policy template '{name}' is missing parameter"
                         f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}", line_of(values) or line)
            return None

        def substitute(node: Any) -> Any:
            if isinstance(node, dict):
                ref = node.get("Ref") if len(node) == 1 else None
                if isinstance(ref, str) and ref in params:
                    return _mk(values[ref], line)
                return {k: substitute(v) for k, v in node.items()}
            if isinstance(node, list):
                return [substitute(v) for v in node]
            return node

        document = _mk(substitute(copy.deepcopy(spec.get("Definition") or {})), line)
        return document if isinstance(document, LDict) else None

    def managed_entry(self, name: Any, owner: str, line: Optional[int]) -> Any:
        """A ``Policies`` string entry as SAM turns it into a ManagedPolicyArns item."""
        if not isinstance(name, str):
            return _mk(name, line)
        entry_line = line_of(name) or line
        if name.startswith("arn:") or "{{resolve:" in name:
            return _mk(name, entry_line)
        path = _managed_path(name)
        if path is not None:
            return _managed_arn(path, entry_line)
        self.problem(f"{owner}: '{name}' in Policies is neither an AWS managed policy name nor an ARN; SAM passes "
                     "it through unchanged and CloudFormation expects a policy ARN", entry_line)
        return _mk(name, entry_line)

    def role_policies(self, owner: str, role_id: str, policies: Any, line: Optional[int],
                      managed: List[Any], inline: List[Any]) -> None:
        """Append the ``Policies`` property to ``managed`` (ARNs) and ``inline`` (role Policies)."""
        entries = policies if isinstance(policies, list) else ([] if policies is None else [policies])
        if isinstance(policies, dict) and not policies:
            entries = []
        for index, entry in enumerate(entries):
            entry_line = line_of(entry) or line_of(policies) or line
            kind = self.policy_kind(entry, owner, index, entry_line)
            if kind is None:
                continue
            if kind == "template":
                names = ", ".join(k for k in (entry if isinstance(entry, dict) else {}) if not k.startswith("Fn::"))
                entry = self.convert_templates(entry, owner, entry_line)
                if entry is None:
                    continue
                self.from_templates[f"{role_id}Policy{index}"] = names or "a SAM policy template"
                kind = "statement"
            if kind == "statement":
                name = f"{role_id}Policy{index}"
                if _is_if(entry):
                    cond, a, b = entry["Fn::If"]
                    inline.append(_mk({"Fn::If": [cond] + [
                        v if _is_no_value(v) else {"PolicyName": name, "PolicyDocument": v} for v in (a, b)]},
                        entry_line))
                else:
                    inline.append(_mk({"PolicyName": name, "PolicyDocument": entry}, entry_line))
            elif kind == "managed":
                if isinstance(entry, str):
                    arn = self.managed_entry(entry, owner, entry_line)
                elif _is_if(entry):
                    cond, a, b = entry["Fn::If"]
                    branches = [self.managed_entry(v, owner, entry_line)
                                if isinstance(v, str) and not _is_no_value(v) else _mk(v, entry_line)
                                for v in (a, b)]
                    arn = _mk({"Fn::If": [cond] + branches}, entry_line)
                else:
                    arn = _mk(entry, entry_line)
                if arn not in managed:
                    managed.append(arn)
            else:
                self.report_unknown(entry, owner, index, entry_line)

    def report_unknown(self, entry: Any, owner: str, index: int, line: Optional[int]) -> None:
        items = _if_items(entry)
        if items is not None:
            for v in items[1:]:
                if not _is_no_value(v) and self.policy_kind(v, owner, index, line) == "unknown":
                    self.report_unknown(v, owner, index, line_of(v) or line)
            return
        key = next(iter(entry)) if isinstance(entry, dict) and len(entry) == 1 else None
        templates = policy_templates()
        if key is not None and templates is None:
            self.problem(f"{owner}: Policies[{index}] ('{key}') looks like a SAM policy template, but SAM's policy "
                         "templates are not available (aws-sam-translator is not installed)", line)
        elif key is not None:
            close = difflib.get_close_matches(str(key), list(templates or ()), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            self.problem(f"{owner}: unknown SAM policy template '{key}' in Policies[{index}]{hint}", line)
        else:
            hint = (" (this is an AWS::IAM::Role Policies entry: give the PolicyDocument itself, with its Statement)"
                    if isinstance(entry, dict) and "PolicyDocument" in entry else "")
            self.problem(f"{owner}: Policies[{index}] is not valid: expected a managed policy name or ARN, a policy "
                         f"document with 'Statement', or a SAM policy template{hint}", line)

    def convert_templates(self, entry: Any, owner: str, line: Optional[int]) -> Any:
        """A template entry (possibly inside Fn::If) as the policy document(s) SAM makes of it."""
        if _is_if(entry):
            cond, a, b = entry["Fn::If"]
            out = []
            for v in (a, b):
                if _is_no_value(v):
                    out.append(v)
                    continue
                converted = self.convert_templates(v, owner, line_of(v) or line)
                if converted is None:
                    return None
                out.append(converted)
            return _mk({"Fn::If": [cond] + out}, line)
        (name, values), = entry.items()
        return self.template_document(str(name), values, owner, line)

    # ------------------------------------------------------------------ roles

    def role_resource(self, owner: str, res: Mapping[str, Any], trust: Any, managed: List[Any],
                      inline: List[Any], props: Mapping[str, Any], tags: LList, line: Optional[int],
                      attributes: Optional[Mapping[str, Any]] = None) -> LDict:
        properties: Dict[str, Any] = {"AssumeRolePolicyDocument": _mk(trust, line_of(trust) or line),
                                      "ManagedPolicyArns": LList(managed)}
        properties["ManagedPolicyArns"].line = line or 0
        if inline:
            properties["Policies"] = LList(inline)
            properties["Policies"].line = line or 0
        if props.get("RolePath") is not None:
            properties["Path"] = props["RolePath"]
        if props.get("PermissionsBoundary") is not None:
            properties["PermissionsBoundary"] = props["PermissionsBoundary"]
        properties["Tags"] = tags
        attrs = self.attributes(res) if attributes is None else attributes
        return self.resource("AWS::IAM::Role", properties, line, attrs)

    def user_role_alias(self, owner: str, role: Any) -> None:
        logical = _logical_id_of(role)
        if logical and isinstance(self.src_resources.get(logical), dict) \
                and self.src_resources[logical].get("Type") == "AWS::IAM::Role":
            self.alias(logical, owner)

    # ------------------------------------------------------------------ Function

    def function(self, logical: str, res: Mapping[str, Any], props: Mapping[str, Any]) -> None:
        line = line_of(res)
        role_id = logical + "Role"
        lam: Dict[str, Any] = {k: props[k] for k in _LAMBDA_PASSTHROUGH if k in props}
        code = self.lambda_code(props)
        if code is not None:
            lam["Code"] = code
        tracing = props.get("Tracing")
        if tracing and tracing != "Disabled":
            lam["TracingConfig"] = {"Mode": tracing}
        dlq = props.get("DeadLetterQueue")
        dlq_ok = False
        if dlq is not None:
            if not isinstance(dlq, dict) or not dlq.get("Type") or not dlq.get("TargetArn"):
                self.problem(f"{logical}: 'DeadLetterQueue' requires Type and TargetArn properties",
                             line_of(dlq) or line)
            elif dlq.get("Type") not in _DLQ_ACTIONS:
                self.problem(f"{logical}: 'DeadLetterQueue' requires Type of {sorted(_DLQ_ACTIONS)}",
                             line_of(dlq.get("Type")) or line_of(dlq) or line)
            else:
                dlq_ok = True
                lam["DeadLetterConfig"] = {"TargetArn": dlq["TargetArn"]}
        lam["Tags"] = _tag_list({"lambda:createdBy": "SAM"}, props.get("Tags"), line_of(props.get("Tags")) or line)

        role = props.get("Role")
        create = role is None
        role_condition: Optional[str] = None
        role_value: Any = _getatt(role_id, "Arn", line)
        if _is_if(role):
            items = _if_items(role)
            if items is None:
                self.problem(f"{logical}: malformed 'Role' property: Fn::If needs [condition, if true, if false]",
                             line_of(role) or line)
            else:
                cond, a, b = items
                if _is_no_value(a) and _is_no_value(b):
                    create = True
                elif _is_no_value(a):
                    create, role_condition = True, cond
                    role_value = _mk({"Fn::If": [cond, role_value, b]}, line_of(role))
                elif _is_no_value(b):
                    create, role_condition = True, "NOT" + cond
                    role_value = _mk({"Fn::If": [cond, a, role_value]}, line_of(role))
                    self.new_conditions[role_condition] = _mk({"Fn::Not": [{"Condition": cond}]}, line_of(role))
        if role is not None and not create:
            lam["Role"] = role
            self.user_role_alias(logical, role)
            if props.get("Policies"):
                self.problem(f"{logical}: 'Policies' is ignored because 'Role' is given: SAM attaches nothing to a "
                             "role it does not create", line_of(props.get("Policies")) or line)
        else:
            lam["Role"] = role_value

        attrs = self.attributes(res, _ATTRIBUTES)
        self.out[logical] = self.resource("AWS::Lambda::Function", lam, line, attrs)

        if create:
            managed: List[Any] = []
            basic = ("service-role/AWSLambdaBasicDurableExecutionRolePolicy" if props.get("DurableConfig")
                     else "service-role/AWSLambdaBasicExecutionRole")
            managed.append(_managed_arn(basic, line))
            if tracing and tracing != "Disabled":
                managed.append(_managed_arn("AWSXrayWriteOnlyAccess", line_of(tracing) or line))
            if props.get("VpcConfig"):
                managed.append(_managed_arn("service-role/AWSLambdaVPCAccessExecutionRole",
                                            line_of(props.get("VpcConfig")) or line))
            inline: List[Any] = []
            if dlq_ok:
                dline = line_of(dlq) or line
                inline.append(_mk({"PolicyName": "DeadLetterQueuePolicy", "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{"Action": _DLQ_ACTIONS[str(dlq["Type"])], "Resource": dlq["TargetArn"],
                                   "Effect": "Allow"}]}}, dline))
            inline += self.event_invoke_policies(logical, props.get("EventInvokeConfig"), res, line)
            self.role_policies(logical, role_id, props.get("Policies"), line, managed, inline)
            self.pull_event_policies(logical, props.get("Events"), managed, inline, line)
            trust = props.get("AssumeRolePolicyDocument")
            trust = trust if trust is not None else _trust("lambda.amazonaws.com")
            attributes = self.attributes(res)
            if role_condition is not None:
                attributes["Condition"] = role_condition
            tags = _tag_list({"lambda:createdBy": "SAM"}, props.get("Tags"), line_of(props.get("Tags")) or line)
            role_res = self.role_resource(logical, res, trust, managed, inline, props, tags, line, attributes)
            if self.add(role_id, role_res, line, logical):
                self.alias(role_id, logical)

        self.function_events(logical, res, props, line)
        dp = props.get("DeploymentPreference")
        if isinstance(dp, dict) and dp.get("Enabled", True) not in (False, "false", "False") and not dp.get("Role"):
            self.deployment_roles_needed.append((logical, line_of(dp) or line))

    @staticmethod
    def lambda_code(props: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
        if props.get("InlineCode") is not None:
            return {"ZipFile": props["InlineCode"]}
        if props.get("ImageUri") is not None:
            return {"ImageUri": props["ImageUri"]}
        uri = props.get("CodeUri")
        if isinstance(uri, dict) and not _is_intrinsic(uri):
            code = {"S3Bucket": uri.get("Bucket"), "S3Key": uri.get("Key")}
            if "Version" in uri:
                code["S3ObjectVersion"] = uri["Version"]
            return code
        if isinstance(uri, str):
            m = _S3_URI.match(uri)
            if m:
                code = {"S3Bucket": m.group(1), "S3Key": m.group(2)}
                if m.group(3):
                    code["S3ObjectVersion"] = m.group(3)
                return code
        return None

    def event_invoke_policies(self, logical: str, config: Any, res: Mapping[str, Any],
                              line: Optional[int]) -> List[Any]:
        """The SQS/SNS/EventBridge/Lambda/S3 destination policies of ``EventInvokeConfig``."""
        out: List[Any] = []
        if not isinstance(config, dict):
            return out
        destinations = config.get("DestinationConfig")
        if not isinstance(destinations, dict):
            return out
        for which in ("OnSuccess", "OnFailure"):
            dest = destinations.get(which)
            if not isinstance(dest, dict):
                continue
            dline = line_of(dest) or line
            dtype = dest.get("Type")
            prefix = f"{logical}EventInvokeConfig{which}"
            if dtype not in ("SQS", "SNS", "EventBridge", "Lambda", "S3Bucket"):
                self.problem(f"{logical}: EventInvokeConfig {which} 'Type: {dtype}' must be one of "
                             "['SQS', 'SNS', 'EventBridge', 'Lambda', 'S3Bucket']", dline)
                continue
            arn = dest.get("Destination")
            if arn is None or (_is_if(arn) and any(_is_no_value(v) for v in (_if_items(arn) or [])[1:])):
                if dtype not in ("SQS", "SNS"):
                    self.problem(f"{logical}: EventInvokeConfig {which}: Destination is required if Type is not "
                                 "['SQS', 'SNS']", dline)
                    continue
                # SAM creates the queue or topic (and the policy refers to it)
                created = prefix + ("Queue" if dtype == "SQS" else "Topic")
                rtype = "AWS::SQS::Queue" if dtype == "SQS" else "AWS::SNS::Topic"
                self.add(created, self.resource(rtype, {}, dline, self.attributes(res)), dline, logical)
                created_arn = _getatt(created, "Arn", dline) if dtype == "SQS" else _ref(created, dline)
                items = _if_items(arn) if arn is not None else None
                if items is not None:
                    cond, a, b = items
                    arn = _mk({"Fn::If": [cond, created_arn if _is_no_value(a) else a,
                                          created_arn if _is_no_value(b) else b]}, dline)
                else:
                    arn = created_arn
            action, suffix, resources = {
                "SQS": ("sqs:SendMessage", "SQSPolicy", [arn]),
                "SNS": ("sns:publish", "SNSPolicy", [arn]),
                "EventBridge": ("events:PutEvents", "EventBridgePolicy", [arn]),
                "Lambda": ("lambda:InvokeFunction", "LambdaPolicy", [arn]),
                "S3Bucket": ("s3:PutObject", "S3Policy", [arn]),
            }[str(dtype)]
            statements = [{"Action": action, "Effect": "Allow", "Resource": resources[0]}]
            if dtype == "S3Bucket":
                statements = [{"Action": "s3:PutObject", "Effect": "Allow",
                               "Resource": {"Fn::Join": ["/", [arn, "*"]]}},
                              {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": arn}]
            out.append(_mk({"PolicyName": prefix + suffix, "PolicyDocument": {"Statement": statements}}, dline))
        return out

    def pull_event_policies(self, logical: str, events: Any, managed: List[Any], inline: List[Any],
                            line: Optional[int]) -> None:
        """What SAM's pull event sources add to the generated role (PullEventSource._link_policy)."""
        if not isinstance(events, dict):
            return
        for name, event in sorted(events.items(), key=_event_order):
            if not isinstance(event, dict):
                continue
            etype = event.get("Type")
            props = event.get("Properties")
            props = props if isinstance(props, dict) else {}
            eline = line_of(event) or line
            event_id = f"{logical}{name}"
            policies: List[Dict[str, Any]] = []
            arn_path = _PULL_MANAGED.get(str(etype)) if isinstance(etype, str) else None
            if etype == "SNS" and props.get("SqsSubscription"):
                # SNS -> SQS -> Lambda: SAM adds an SQS event source mapping, with the SQS policy
                arn_path = _PULL_MANAGED["SQS"]
            if arn_path is not None:
                arn = _managed_arn(arn_path, eline)
                if arn not in managed:
                    managed.append(arn)
            if etype == "MSK":
                statements = self.schema_registry_statements(props)
                for conf in _as_list(props.get("SourceAccessConfigurations")):
                    if isinstance(conf, dict) and conf.get("Type") == "CLIENT_CERTIFICATE_TLS_AUTH" and conf.get("URI"):
                        statements.append({"Action": ["secretsmanager:GetSecretValue"], "Effect": "Allow",
                                           "Resource": conf["URI"]})
                if statements:
                    policies.append({"PolicyName": "MSKExecutionRolePolicy",
                                     "PolicyDocument": {"Statement": statements}})
            elif etype == "MQ":
                uri = self.access_uri(logical, name, props, ["BASIC_AUTH", "VIRTUAL_HOST"], "BASIC_AUTH", eline)
                if uri is not None:
                    statements = [{"Action": ["secretsmanager:GetSecretValue"], "Effect": "Allow", "Resource": uri},
                                  {"Action": ["mq:DescribeBroker"], "Effect": "Allow", "Resource": props.get("Broker")}]
                    if props.get("SecretsManagerKmsKeyId"):
                        statements.append(self.kms_statement(props["SecretsManagerKmsKeyId"], list_action=False))
                    pname = (f"{event_id}AMQPolicy" if props.get("DynamicPolicyName") is True
                             else "SamAutoGeneratedAMQPolicy")
                    policies.append({"PolicyName": pname, "PolicyDocument": {"Statement": statements}})
            elif etype == "DocumentDB":
                uri = self.access_uri(logical, name, props, ["BASIC_AUTH"], "BASIC_AUTH", eline)
                if uri is not None:
                    sub = "arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:"
                    statements = [
                        {"Action": ["secretsmanager:GetSecretValue"], "Effect": "Allow", "Resource": uri},
                        {"Action": ["rds:DescribeDBClusterParameters"], "Effect": "Allow",
                         "Resource": {"Fn::Sub": sub + "cluster-pg:*"}},
                        {"Action": ["rds:DescribeDBSubnetGroups"], "Effect": "Allow",
                         "Resource": {"Fn::Sub": sub + "subgrp:*"}},
                        {"Action": ["rds:DescribeDBClusters"], "Effect": "Allow", "Resource": props.get("Cluster")},
                        {"Action": list(_VPC_ACTIONS), "Effect": "Allow", "Resource": "*"}]
                    if props.get("SecretsManagerKmsKeyId"):
                        statements.append(self.kms_statement(props["SecretsManagerKmsKeyId"]))
                    policies.append({"PolicyName": "SamAutoGeneratedDocumentDBPolicy",
                                     "PolicyDocument": {"Statement": statements}})
            elif etype == "SelfManagedKafka":
                statements = self.kafka_statements(logical, name, props, eline)
                if statements:
                    policies.append({"PolicyName": "SelfManagedKafkaExecutionRolePolicy",
                                     "PolicyDocument": {"Statement": statements, "Version": "2012-10-17"}})
            policies += self.on_failure_policy(logical, name, event_id, props, eline)
            for policy in policies:
                node = _mk(policy, eline)
                documents = [p.get("PolicyDocument") for p in inline if isinstance(p, dict)]
                if node not in inline and node.get("PolicyDocument") not in documents:
                    inline.append(node)

    def on_failure_policy(self, logical: str, name: str, event_id: str, props: Mapping[str, Any],
                          line: Optional[int]) -> List[Dict[str, Any]]:
        config = props.get("DestinationConfig")
        if not isinstance(config, dict):
            return []
        on_failure = config.get("OnFailure")
        if not isinstance(on_failure, dict):
            return []
        dtype = on_failure.get("Type")
        if dtype is None or dtype == "Kafka":
            return []
        dest = on_failure.get("Destination")
        if dtype == "SQS":
            return [{"PolicyName": event_id + "SQSPolicy", "PolicyDocument": {
                "Statement": [{"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": dest}]}}]
        if dtype == "SNS":
            return [{"PolicyName": event_id + "SNSPolicy", "PolicyDocument": {
                "Statement": [{"Action": "sns:publish", "Effect": "Allow", "Resource": dest}]}}]
        if dtype == "S3":
            return [{"PolicyName": event_id + "S3Policy", "PolicyDocument": {"Statement": [
                {"Action": "s3:PutObject", "Effect": "Allow", "Resource": {"Fn::Join": ["/", [dest, "*"]]}},
                {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": dest}]}}]
        self.problem(f"{logical}: event {name}: the only valid values for DestinationConfig.OnFailure 'Type' are "
                     "'SQS', 'SNS', 'S3', and 'Kafka'", line_of(dtype) or line)
        return []

    @staticmethod
    def kms_statement(key_id: Any, list_action: bool = True) -> Dict[str, Any]:
        prefix = "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/"
        resource = {"Fn::Sub": prefix + key_id} if isinstance(key_id, str) else \
            {"Fn::Join": ["", [{"Fn::Sub": prefix}, key_id]]}
        return {"Action": ["kms:Decrypt"] if list_action else "kms:Decrypt", "Effect": "Allow", "Resource": resource}

    def access_uri(self, logical: str, name: str, props: Mapping[str, Any], supported: List[str], required: str,
                   line: Optional[int]) -> Any:
        confs = props.get("SourceAccessConfigurations")
        if not isinstance(confs, list) or not confs:
            self.problem(f"{logical}: event {name}: no SourceAccessConfigurations provided", line)
            return None
        uri = None
        for conf in confs:
            if not isinstance(conf, dict) or conf.get("Type") not in supported:
                self.problem(f"{logical}: event {name}: invalid Type in SourceAccessConfigurations; supported: "
                             f"{supported}", line_of(conf) or line)
                return None
            if conf.get("Type") == required:
                uri = conf.get("URI")
        if not uri:
            self.problem(f"{logical}: event {name}: no {required} URI in SourceAccessConfigurations", line)
            return None
        return uri

    def kafka_statements(self, logical: str, name: str, props: Mapping[str, Any],
                         line: Optional[int]) -> List[Dict[str, Any]]:
        confs = props.get("SourceAccessConfigurations")
        if not isinstance(confs, list):
            self.problem(f"{logical}: event {name}: SourceAccessConfigurations for self managed kafka should be a "
                         "list", line)
            return []
        statements: List[Dict[str, Any]] = []
        subnet = group = False
        auth = {"SASL_SCRAM_256_AUTH", "SASL_SCRAM_512_AUTH", "BASIC_AUTH", "CLIENT_CERTIFICATE_TLS_AUTH",
                "OAUTHBEARER_AUTH"}
        uris: List[Any] = []
        for conf in confs:
            if not isinstance(conf, dict):
                continue
            ctype = conf.get("Type")
            if ctype == "VPC_SUBNET":
                subnet = True
            elif ctype == "VPC_SECURITY_GROUP":
                group = True
            elif ctype in auth and conf.get("URI"):
                uris.insert(0, conf["URI"])
            elif ctype == "SERVER_ROOT_CA_CERTIFICATE" and conf.get("URI"):
                uris.append(conf["URI"])
        for uri in uris:
            statements.append({"Action": ["secretsmanager:GetSecretValue"], "Effect": "Allow", "Resource": uri})
        if subnet and group:
            statements.append({"Action": list(_VPC_ACTIONS), "Effect": "Allow", "Resource": "*"})
        elif subnet or group:
            self.problem(f"{logical}: event {name}: VPC_SUBNET and VPC_SECURITY_GROUP in SourceAccessConfigurations "
                         "must both be provided", line)
        if props.get("SecretsManagerKmsKeyId"):
            statements.append(self.kms_statement(props["SecretsManagerKmsKeyId"]))
        statements += self.schema_registry_statements(props)
        return statements

    @staticmethod
    def schema_registry_statements(props: Mapping[str, Any]) -> List[Dict[str, Any]]:
        config = props.get("SchemaRegistryConfig")
        if not isinstance(config, dict):
            return []
        statements: List[Dict[str, Any]] = []
        for access in _as_list(config.get("AccessConfigs")):
            if isinstance(access, dict) and "URI" in access:
                statements.append({"Action": ["secretsmanager:GetSecretValue"], "Effect": "Allow",
                                   "Resource": access["URI"]})
        uri = config.get("SchemaRegistryURI")
        text = uri if isinstance(uri, str) else (uri.get("Fn::Sub") if isinstance(uri, dict) else None)
        if isinstance(text, str):
            # SAM splits the ARN after resolving the pseudo parameters it knows (partition and
            # region), so that their "::" does not split it; ${AWS::AccountId} it leaves, as SAM does
            text = re.sub(r"\$\{AWS::(Partition|Region)\}", "pseudo", text)
        if isinstance(text, str) and text.startswith("arn"):
            parts = text.split(":")
            if len(parts) >= 6 and parts[5].startswith("registry/"):
                registry = parts[5][len("registry/"):]
                statements.append({"Action": ["glue:GetRegistry"], "Effect": "Allow", "Resource": uri})
                statements.append({"Action": ["glue:GetSchemaVersion"], "Effect": "Allow", "Resource": [
                    {"Fn::Sub": "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:schema/"
                                + registry + "/*"}]})
        return statements

    def function_events(self, logical: str, res: Mapping[str, Any], props: Mapping[str, Any],
                        line: Optional[int]) -> None:
        events = props.get("Events")
        if not isinstance(events, dict):
            return

        for name, event in sorted(events.items(), key=_event_order):
            if not isinstance(event, dict):
                continue
            eprops = event.get("Properties")
            eprops = eprops if isinstance(eprops, dict) else {}
            eline = line_of(event) or line
            if event.get("Type") == "Api":
                self.api_event(logical, name, eprops, eline, implicit_ok=True, condition=res.get("Condition"))
                self.api_permission(logical, name, res, eprops, eline, props.get("AutoPublishAlias"))
            elif event.get("Type") == "SNS" and eprops.get("SqsSubscription"):
                self.sns_queue(logical, name, res, eprops, eline)
            elif event.get("Type") == "SNS":
                self.push_permission(logical, name, res, eline, props.get("AutoPublishAlias"), "sns.amazonaws.com",
                                     source_arn=eprops.get("Topic"))
            elif event.get("Type") == "S3":
                bucket = eprops.get("Bucket")
                if isinstance(bucket, dict) and isinstance(bucket.get("Ref"), str) \
                        and bucket["Ref"] in self.src_resources:  # else SAM rejects the event
                    self.push_permission(logical, name, res, eline, props.get("AutoPublishAlias"), "s3.amazonaws.com",
                                         source_account=_ref("AWS::AccountId", eline))
            elif event.get("Type") == "ScheduleV2":
                self.schedule_v2_role(logical, name, res, eprops, eline,
                                      ("lambda:InvokeFunction", "LambdaPolicy", _getatt(logical, "Arn", eline)))

    def schedule_v2_role(self, owner: str, name: str, res: Mapping[str, Any], eprops: Mapping[str, Any],
                         line: Optional[int], grant: Tuple[str, str, Any]) -> None:
        if eprops.get("RoleArn"):
            return
        event_id = owner + name
        action, suffix, target = grant
        policies: List[Any] = [{"PolicyName": event_id + suffix, "PolicyDocument": {
            "Statement": [{"Action": action, "Effect": "Allow", "Resource": target}]}}]
        dlq = eprops.get("DeadLetterConfig")
        if isinstance(dlq, dict):
            arn = dlq.get("Arn")
            if arn is None and dlq.get("Type") == "SQS":
                queue = dlq.get("QueueLogicalId") if isinstance(dlq.get("QueueLogicalId"), str) else event_id + "Queue"
                self.add(str(queue), self.resource("AWS::SQS::Queue", {}, line_of(dlq) or line,
                                                   self.attributes(res)), line, owner)
                arn = _getatt(str(queue), "Arn", line_of(dlq) or line)
            if arn is not None:
                policies.append({"PolicyName": event_id + "SQSPolicy", "PolicyDocument": {
                    "Statement": [{"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": arn}]}})
        properties: Dict[str, Any] = {"AssumeRolePolicyDocument": _trust("scheduler.amazonaws.com"),
                                      "Policies": policies}
        if eprops.get("PermissionsBoundary"):
            properties["PermissionsBoundary"] = eprops["PermissionsBoundary"]
        self.add(event_id + "Role", self.resource("AWS::IAM::Role", properties, line, self.attributes(res)),
                 line, owner)

    def code_deploy_role(self) -> None:
        if not self.deployment_roles_needed or "CodeDeployServiceRole" in self.out:
            return
        owner, line = self.deployment_roles_needed[0]
        properties = {"AssumeRolePolicyDocument": _trust("codedeploy.amazonaws.com"),
                      "ManagedPolicyArns": [_managed_arn("service-role/AWSCodeDeployRoleForLambda", line)]}
        self.add("CodeDeployServiceRole", self.resource("AWS::IAM::Role", properties, line), line, owner)

    # ------------------------------------------------------------------ StateMachine

    def state_machine(self, logical: str, res: Mapping[str, Any], props: Mapping[str, Any]) -> None:
        line = line_of(res)
        role_id = logical + "Role"
        sm: Dict[str, Any] = {}
        if "Name" in props:
            sm["StateMachineName"] = props["Name"]
        if "Type" in props:
            sm["StateMachineType"] = props["Type"]
        if props.get("Definition") is not None:
            sm["Definition"] = props["Definition"]
            if props.get("DefinitionUri") is not None:
                self.problem(f"{logical}: specify either 'Definition' or 'DefinitionUri', not both",
                             line_of(props.get("DefinitionUri")) or line)
        elif props.get("DefinitionUri") is not None:
            uri = props["DefinitionUri"]
            m = _S3_URI.match(uri) if isinstance(uri, str) else None
            if m:
                sm["DefinitionS3Location"] = {"Bucket": m.group(1), "Key": m.group(2)}
            elif isinstance(uri, dict):
                sm["DefinitionS3Location"] = uri
        if props.get("DefinitionSubstitutions") is not None:
            sm["DefinitionSubstitutions"] = props["DefinitionSubstitutions"]
        if props.get("Logging") is not None:
            sm["LoggingConfiguration"] = props["Logging"]
        if props.get("Tracing") is not None:
            sm["TracingConfiguration"] = props["Tracing"]
        tags = _tag_list({"stateMachine:createdBy": "SAM"}, props.get("Tags"), line_of(props.get("Tags")) or line)
        sm["Tags"] = tags

        role = props.get("Role")
        policies = props.get("Policies")
        if role is not None:
            sm["RoleArn"] = role
            self.user_role_alias(logical, role)
            if policies:
                self.problem(f"{logical}: specify either 'Role' or 'Policies' (but not both at the same time) or "
                             "neither of them; SAM rejects the state machine", line_of(policies) or line)
        else:
            sm["RoleArn"] = _getatt(role_id, "Arn", line)
        self.out[logical] = self.resource("AWS::StepFunctions::StateMachine", sm, line,
                                          self.attributes(res, _ATTRIBUTES))
        if role is None:
            managed: List[Any] = []
            inline: List[Any] = []
            entries = list(policies) if isinstance(policies, list) else ([] if not policies else [policies])
            tracing = props.get("Tracing")
            if isinstance(tracing, dict) and tracing.get("Enabled") is True:
                xray = LStr("AWSXrayWriteOnlyAccess")
                xray.line = line_of(tracing) or line or 0
                entries.append(xray)
            self.role_policies(logical, role_id, entries, line, managed, inline)
            role_res = self.role_resource(logical, res, _trust("states.amazonaws.com"), managed, inline,
                                          {"RolePath": props.get("RolePath"),
                                           "PermissionsBoundary": props.get("PermissionsBoundary")},
                                          _tag_list({"stateMachine:createdBy": "SAM"}, props.get("Tags"),
                                                    line_of(props.get("Tags")) or line), line)
            if self.add(role_id, role_res, line, logical):
                self.alias(role_id, logical)
        self.state_machine_events(logical, res, props, line)

    def state_machine_events(self, logical: str, res: Mapping[str, Any], props: Mapping[str, Any],
                             line: Optional[int]) -> None:
        events = props.get("Events")
        if not isinstance(events, dict):
            return
        principals = {"Schedule": "events.amazonaws.com", "CloudWatchEvent": "events.amazonaws.com",
                      "EventBridgeRule": "events.amazonaws.com", "Api": "apigateway.amazonaws.com"}
        alias = props.get("AutoPublishAlias")
        for name, event in events.items():
            if not isinstance(event, dict):
                continue
            etype = event.get("Type")
            eprops = event.get("Properties")
            eprops = eprops if isinstance(eprops, dict) else {}
            eline = line_of(event) or line
            # the events start the alias SAM publishes when told to (its Ref is the alias's ARN)
            target: Any = _ref(logical, eline)
            if alias is not None and props.get("UseAliasAsEventTarget") is True:
                target = _mk({"Fn::Sub": ["${StateMachine}:${Alias}", {"StateMachine": target, "Alias": alias}]},
                             eline)
            if etype == "ScheduleV2":
                self.schedule_v2_role(logical, name, res, eprops, eline,
                                      ("states:StartExecution", "StartExecutionPolicy", target))
                continue
            principal = principals.get(str(etype)) if isinstance(etype, str) else None
            if principal is None:
                continue
            if etype == "Schedule" and eprops.get("RoleArn") is not None:
                continue
            if etype == "Api":
                self.api_event(logical, name, eprops, eline, implicit_ok=False)
            role_id = f"{logical}{name}Role"
            properties: Dict[str, Any] = {
                "AssumeRolePolicyDocument": _trust(principal),
                "Policies": [{"PolicyName": role_id + "StartExecutionPolicy", "PolicyDocument": {
                    "Statement": [{"Action": "states:StartExecution", "Effect": "Allow",
                                   "Resource": target}]}}]}
            if props.get("PermissionsBoundary"):
                properties["PermissionsBoundary"] = props["PermissionsBoundary"]
            self.add(role_id, self.resource("AWS::IAM::Role", properties, eline, self.attributes(res)), eline,
                     logical)

    # ------------------------------------------------------------------ SimpleTable

    def simple_table(self, logical: str, res: Mapping[str, Any], props: Mapping[str, Any]) -> None:
        line = line_of(res)
        table: Dict[str, Any] = {}
        key = props.get("PrimaryKey")
        conversions = {"String": "S", "Number": "N", "Binary": "B"}
        if isinstance(key, dict):
            kname, ktype = key.get("Name"), key.get("Type")
            if kname is None or ktype is None:
                self.problem(f"{logical}: PrimaryKey needs Name and Type", line_of(key) or line)
            elif ktype not in conversions:
                self.problem(f"{logical}: invalid PrimaryKey 'Type' \"{ktype}\"", line_of(ktype) or line)
            primary = {"AttributeName": kname, "AttributeType": conversions.get(str(ktype), "S")}
        else:
            primary = {"AttributeName": "id", "AttributeType": "S"}
        table["AttributeDefinitions"] = [primary]
        table["KeySchema"] = [{"AttributeName": primary["AttributeName"], "KeyType": "HASH"}]
        if props.get("PointInTimeRecoverySpecification"):
            table["PointInTimeRecoverySpecification"] = props["PointInTimeRecoverySpecification"]
        if props.get("ProvisionedThroughput"):
            table["ProvisionedThroughput"] = props["ProvisionedThroughput"]
        else:
            table["BillingMode"] = "PAY_PER_REQUEST"
        if props.get("SSESpecification"):
            table["SSESpecification"] = props["SSESpecification"]
        if props.get("TableName"):
            table["TableName"] = props["TableName"]
        if props.get("Tags"):
            table["Tags"] = _tag_list({}, props["Tags"], line_of(props["Tags"]) or line)
        self.out[logical] = self.resource("AWS::DynamoDB::Table", table, line, self.attributes(res, _ATTRIBUTES))

    # ------------------------------------------------------------------ APIs

    def api_event(self, owner: str, name: str, eprops: Mapping[str, Any], line: Optional[int],
                  implicit_ok: bool, condition: Any = None) -> None:
        """Record the path and method an ``Api`` event adds to its REST API (and its own ResourcePolicy)."""
        api_ref = eprops.get("RestApiId")
        if api_ref is None:
            if not implicit_ok:
                return
            api = "ServerlessRestApi"
            self.implicit_api = True
            self.implicit_api_conditions.append(condition if isinstance(condition, str) else None)
        else:
            api = _logical_id_of(api_ref) if isinstance(api_ref, dict) else _str(api_ref)
            if not api or not isinstance(self.src_resources.get(api), dict) \
                    or self.src_resources[api].get("Type") != "AWS::Serverless::Api":
                return
            api_props = self.merged.get(api, {})
            if api_props.get("DefinitionBody") is not None and not api_props.get("MergeDefinitions"):
                return  # SAM leaves a user-provided DefinitionBody alone
        path, method = eprops.get("Path"), eprops.get("Method")
        if not isinstance(path, str) or not isinstance(method, str):
            return
        method = method.lower()
        method = "x-amazon-apigateway-any-method" if method == "any" else method
        methods = self.api_paths.setdefault(api, {}).setdefault(path, [])
        if method not in methods:
            methods.append(method)
        auth = eprops.get("Auth")
        policy = auth.get("ResourcePolicy") if isinstance(auth, dict) else None
        if policy:
            if not isinstance(policy, dict):
                self.problem(f"{owner}: event {name}: Auth.ResourcePolicy must be a map", line_of(policy) or line)
                return
            builder = self.api_policies.setdefault(api, _ApiPolicy(self, api))
            builder.add_resource_policy(policy, path, methods, self.api_stage(api), line_of(policy) or line)
            if policy.get("CustomStatements"):
                builder.add_custom_statements(policy["CustomStatements"], line_of(policy) or line)

    def api_permission(self, owner: str, name: str, res: Mapping[str, Any], eprops: Mapping[str, Any],
                       line: Optional[int], alias: Any = None) -> None:
        """The ``AWS::Lambda::Permission`` SAM adds for a function's ``Api`` event (``push.py``
        ``Api._get_permission``): API Gateway may invoke the function from any stage (``__Stage__`` is
        ``*``) of the event's API, for its method and path. Without it the function's resource policy
        would grant API Gateway nothing. SAM adds it whatever the API's ``DefinitionBody``; the logical
        ID ends with the API's literal ``StageName`` (``Prod`` for the implicit API, ``Stage`` when it is
        an intrinsic, ``AllStages`` when the API is not a ``Ref``; a stage with other than letters and
        digits becomes SAM's hash of it). With ``AutoPublishAlias`` the permission is the alias's, as
        SAM's is (its ``FunctionName`` is the alias's ARN)."""
        path, method = eprops.get("Path"), eprops.get("Method")
        if not isinstance(path, str) or not isinstance(method, str):
            return
        api_ref = eprops.get("RestApiId")
        api_id: Any = _ref("ServerlessRestApi", line) if api_ref is None else api_ref
        suffix = "Prod"
        if api_ref is not None:
            target = api_ref.get("Ref") if isinstance(api_ref, dict) and "Ref" in api_ref else api_ref
            if isinstance(target, str):
                api = self.src_resources.get(target)
                if not isinstance(api, dict):
                    return  # SAM rejects the event: RestApiId must name a resource of the template
                api_props = self.merged.get(target) or api.get("Properties")
                stage = api_props.get("StageName") if isinstance(api_props, dict) else None
                suffix = stage if isinstance(stage, str) and stage else "Stage"
            else:
                suffix = "AllStages"
        path = re.sub(r"^(.+)/$", r"\1", path)  # API Gateway drops a trailing slash
        path = re.sub(r"{([a-zA-Z0-9._-]+|[a-zA-Z0-9._-]+\+|proxy\+)}", "*", path)  # path parameters
        verb = "*" if method.lower() == "any" else method.upper()
        if not suffix.isalnum():
            suffix = hashlib.sha1(suffix.encode("utf-8")).hexdigest()[:10]  # noqa: S324 - SAM's logical ID
        source = _mk({"Fn::Sub": ["arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                                  "${__ApiId__}/${__Stage__}/" + verb + path,
                                  {"__ApiId__": api_id, "__Stage__": "*"}]}, line)
        self.push_permission(owner, name, res, line, alias, "apigateway.amazonaws.com", source_arn=source,
                             suffix=suffix)

    def push_permission(self, owner: str, name: str, res: Mapping[str, Any], line: Optional[int], alias: Any,
                        principal: str, source_arn: Any = None, source_account: Any = None, suffix: str = "") -> None:
        """The ``AWS::Lambda::Permission`` a push event makes SAM add (``PushEventSource._construct_permission``):
        ``<Id><Event>Permission<suffix>``, letting ``principal`` invoke the function — the alias SAM
        publishes when ``AutoPublishAlias`` is set, whose ARN is the function's with the alias name."""
        function: Any = _ref(owner, line)
        if alias is not None:
            function = _mk({"Fn::Sub": ["arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
                                        "${Function}:${Alias}", {"Function": function, "Alias": alias}]}, line)
        properties: Dict[str, Any] = {"Action": "lambda:InvokeFunction", "FunctionName": function,
                                      "Principal": principal}
        if source_arn is not None:
            properties["SourceArn"] = source_arn
        if source_account is not None:
            properties["SourceAccount"] = source_account
        self.add(f"{owner}{name}Permission{suffix}",
                 self.resource("AWS::Lambda::Permission", properties, line, self.attributes(res)), line, owner)

    def sns_queue(self, owner: str, name: str, res: Mapping[str, Any], eprops: Mapping[str, Any],
                  line: Optional[int]) -> None:
        """An ``SNS`` event with ``SqsSubscription`` (``push.py`` ``SNS.to_cloudformation``): the topic
        delivers to a queue the function polls. ``true`` makes SAM create ``<Id><Event>Queue`` (FIFO for
        a FIFO topic of the template); a map names an existing queue (``QueueArn``, ``QueueUrl``). Either
        way SAM writes the queue policy that lets the topic send to it (``<Id><Event>QueuePolicy`` or
        ``QueuePolicyLogicalId``); the SQS execution policy goes on the role (``pull_event_policies``)."""
        event_id = owner + name
        subscription = eprops.get("SqsSubscription")
        topic = eprops.get("Topic")
        policy_id: Any = None
        if isinstance(subscription, dict):
            queue_arn, queue_url = subscription.get("QueueArn"), subscription.get("QueueUrl")
            if not queue_arn or not queue_url:
                self.problem(f"{owner}: event {name}: SqsSubscription needs QueueArn and QueueUrl",
                             line_of(subscription) or line)
                return
            policy_id = subscription.get("QueuePolicyLogicalId")
        else:
            queue_props: Dict[str, Any] = {}
            topic_id = _logical_id_of(topic) if isinstance(topic, dict) else None
            topic_res = self.src_resources.get(topic_id) if topic_id else None
            topic_props = topic_res.get("Properties") if isinstance(topic_res, dict) else None
            if isinstance(topic_props, dict) and str(topic_props.get("FifoTopic")).lower() == "true":
                queue_props["FifoQueue"] = True
            if not self.add(event_id + "Queue", self.resource("AWS::SQS::Queue", queue_props, line,
                                                              self.attributes(res)), line, owner):
                return
            queue_arn, queue_url = _getatt(event_id + "Queue", "Arn", line), _ref(event_id + "Queue", line)
        document = {"Version": "2012-10-17", "Statement": [
            {"Action": "sqs:SendMessage", "Effect": "Allow", "Principal": "*", "Resource": queue_arn,
             "Condition": {"ArnEquals": {"aws:SourceArn": topic}}}]}
        policy_id = policy_id if isinstance(policy_id, str) and policy_id else event_id + "QueuePolicy"
        self.add(policy_id, self.resource("AWS::SQS::QueuePolicy", {"PolicyDocument": document, "Queues": [queue_url]},
                                          line, self.attributes(res)), line, owner)

    def api_stage(self, api: str) -> Any:
        if api == "ServerlessRestApi":
            return "Prod"
        stage = self.merged.get(api, {}).get("StageName")
        return stage if stage is not None else "Prod"

    def api(self, logical: str, res: Mapping[str, Any], props: Mapping[str, Any]) -> None:
        line = line_of(res)
        body = props.get("DefinitionBody")
        paths = self.api_paths.setdefault(logical, {})
        if isinstance(body, dict) and isinstance(body.get("paths"), dict):
            for path, item in body["paths"].items():
                for content in self.conditional_contents(item):
                    if isinstance(content, dict):
                        methods = paths.setdefault(str(path), [])
                        for m in content:
                            if str(m).lower() in _HTTP_METHODS and str(m).lower() not in methods:
                                methods.append(str(m).lower())
        builder = self.api_policies.setdefault(logical, _ApiPolicy(self, logical))
        existing = body.get("x-amazon-apigateway-policy") if isinstance(body, dict) else None
        if isinstance(existing, dict):
            builder.seed(existing)
        auth = props.get("Auth")
        policy = auth.get("ResourcePolicy") if isinstance(auth, dict) else None
        if policy:
            self.apply_api_policy(logical, props, policy, paths, builder, line)
        rest: Dict[str, Any] = {}
        if props.get("Name") is not None:
            rest["Name"] = props["Name"]
        if props.get("EndpointConfiguration") is not None:
            endpoint = props["EndpointConfiguration"]
            if isinstance(endpoint, dict) and not _is_intrinsic(endpoint):
                converted: Dict[str, Any] = {}
                if "Type" in endpoint:
                    converted["Types"] = [endpoint["Type"]]
                if "VPCEndpointIds" in endpoint:
                    converted["VpcEndpointIds"] = endpoint["VPCEndpointIds"]
                rest["EndpointConfiguration"] = converted
            else:
                rest["EndpointConfiguration"] = {"Types": [endpoint]}
        if builder.statements:
            rest["Policy"] = builder.document()
        self.out[logical] = self.resource("AWS::ApiGateway::RestApi", rest, line, self.attributes(res, _ATTRIBUTES))

    def apply_api_policy(self, logical: str, props: Mapping[str, Any], policy: Any,
                         paths: Mapping[str, List[str]], builder: "_ApiPolicy", line: Optional[int]) -> None:
        pline = line_of(policy) or line
        if not isinstance(policy, dict):
            self.problem(f"{logical}: ResourcePolicy must be a map (ResourcePolicyStatement)", pline)
            return
        if logical != "ServerlessRestApi" and props.get("DefinitionBody") is None \
                and props.get("DefinitionUri") is not None:
            self.problem(f"{logical}: Auth works only with inline Swagger specified in 'DefinitionBody'; the "
                         "ResourcePolicy is not applied", pline)
            return
        stage = self.api_stage(logical)
        for path, methods in paths.items():
            builder.add_resource_policy(policy, path, methods, stage, pline)
        if policy.get("CustomStatements"):
            builder.add_custom_statements(policy["CustomStatements"], pline)

    @staticmethod
    def conditional_contents(item: Any) -> List[Any]:
        items = _if_items(item)
        if items is not None:
            return [v for v in items[1:] if not _is_no_value(v)]
        return [item]

    def implicit_rest_api(self) -> None:
        if not self.implicit_api or "ServerlessRestApi" in self.out:
            return
        props = dict(self.globals.get("AWS::Serverless::Api", {}))
        builder = self.api_policies.setdefault("ServerlessRestApi", _ApiPolicy(self, "ServerlessRestApi"))
        auth = props.get("Auth")
        policy = auth.get("ResourcePolicy") if isinstance(auth, dict) else None
        line = line_of(policy) if policy is not None else None
        if policy:
            self.apply_api_policy("ServerlessRestApi", props, policy, self.api_paths.get("ServerlessRestApi", {}),
                                  builder, line)
        rest: Dict[str, Any] = {}
        if builder.statements:
            rest["Policy"] = builder.document()
        # As SAM's implicit API plugin: conditional only when every event's function is conditional.
        attributes: Dict[str, Any] = {}
        conditions = self.implicit_api_conditions
        if conditions and None not in conditions:
            distinct = list(dict.fromkeys(c for c in conditions if c))
            if len(distinct) == 1:
                attributes["Condition"] = distinct[0]
            elif len(distinct) <= 10:
                attributes["Condition"] = "ServerlessRestApiCondition"
                self.new_conditions["ServerlessRestApiCondition"] = _mk(
                    {"Fn::Or": [{"Condition": c} for c in distinct]}, line)
        self.out["ServerlessRestApi"] = self.resource("AWS::ApiGateway::RestApi", rest, line, attributes)

    def http_api(self, logical: str, res: Mapping[str, Any], props: Mapping[str, Any]) -> None:
        line = line_of(res)
        api: Dict[str, Any] = {"ProtocolType": "HTTP"}
        if props.get("Name") is not None:
            api["Name"] = props["Name"]
        auth = props.get("Auth")
        if isinstance(auth, dict) and auth.get("ResourcePolicy") is not None:
            self.problem(f"{logical}: HTTP APIs have no resource policy; Auth.ResourcePolicy is not supported",
                         line_of(auth.get("ResourcePolicy")) or line)
        self.out[logical] = self.resource("AWS::ApiGatewayV2::Api", api, line, self.attributes(res, _ATTRIBUTES))

    # ------------------------------------------------------------------ connectors

    def connectors(self) -> None:
        profiles = connector_profiles()
        todo: List[Tuple[str, Mapping[str, Any], Mapping[str, Any], Optional[int]]] = []
        for logical, res in self.src_resources.items():
            if not isinstance(res, dict):
                continue
            if res.get("Type") == "AWS::Serverless::Connector":
                props = res.get("Properties")
                todo.append((logical, res, props if isinstance(props, dict) else {}, line_of(res)))
            if "Connectors" not in res:
                continue
            embedded = res.get("Connectors")
            if not isinstance(embedded, dict):
                self.problem(f"{logical}: Connectors must be a map", line_of(embedded) or line_of(res))
                continue
            for name, conn in embedded.items():
                full = f"{logical}{name}"
                cline = line_of(conn) or line_of(res)
                if not isinstance(conn, dict) or not isinstance(conn.get("Properties"), dict):
                    self.problem(f"{logical}: connector {name} must be a map with Properties", cline)
                    continue
                if full in self.src_resources:
                    self.problem(f"{logical}: embedded connector {name} would generate '{full}', which already "
                                 "exists in the template", cline)
                    continue
                props = dict(conn["Properties"])
                source: Dict[str, Any] = {"Id": logical}
                reference = props.pop("SourceReference", None)
                if reference is not None:
                    if not isinstance(reference, dict):
                        self.problem(f"{logical}: connector {name}: SourceReference must be a map", cline)
                        continue
                    if "Id" in reference:
                        self.problem(f"{logical}: connector {name}: 'Id' shouldn't be defined in 'SourceReference'",
                                     line_of(reference) or cline)
                        continue
                    source.update(reference)
                props["Source"] = source
                attrs = {k: conn[k] for k in ("Condition", "DependsOn") if k in conn}
                todo.append((full, attrs, props, cline))
        for logical, res, props, line in todo:
            if profiles is None:
                self.problem(f"{logical}: connector not expanded: SAM's connector profiles are not available "
                             "(aws-sam-translator is not installed)", line)
                continue
            try:
                self.connector(logical, res, props, line, profiles)
            except Exception as e:  # noqa: BLE001
                self.problem(f"{logical}: could not expand connector: {type(e).__name__}: {e}", line)

    def reference(self, obj: Any, connecting: Any, profiles: Mapping[str, Any], owner: str,
                  line: Optional[int]) -> Optional[Dict[str, Any]]:
        if not isinstance(obj, dict):
            self.problem(f"{owner}: connector Source and Destination must be maps", line)
            return None
        has_id = "Id" in obj
        others = [k for k in obj if k not in ("Id", "Qualifier")]
        if has_id == bool(others):
            self.problem(f"{owner}: must provide 'Id' (with optional 'Qualifier') or a supported combination of "
                         "other properties", line_of(obj) or line)
            return None
        if not has_id:
            rtype = obj.get("Type")
            if not isinstance(rtype, str) or not rtype:
                self.problem(f"{owner}: 'Type' is missing or not a string", line_of(obj) or line)
                return None
            return {"logical_id": None, "type": _SAM_TO_CFN.get(rtype, rtype), "arn": obj.get("Arn"),
                    "role_name": obj.get("RoleName"), "queue_url": obj.get("QueueUrl"),
                    "resource_id": obj.get("ResourceId"), "name": obj.get("Name"),
                    "qualifier": obj.get("Qualifier")}
        logical = obj.get("Id")
        if not isinstance(logical, str) or not logical:
            self.problem(f"{owner}: 'Id' is missing or not a string", line_of(obj) or line)
            return None
        resource = self.out.get(logical)
        if not isinstance(resource, dict):
            self.problem(f"{owner}: unable to find resource with logical ID '{logical}'", line_of(logical) or line)
            return None
        rtype = resource.get("Type")
        if not isinstance(rtype, str):
            self.problem(f"{owner}: resource '{logical}' has no Type", line_of(logical) or line)
            return None
        cfn = _profile_replace(copy.deepcopy((profiles.get("CfnResourceProperties") or {}).get(rtype, {})),
                               {"logicalId": logical})
        outputs = cfn.get("Outputs", {}) if isinstance(cfn, dict) else {}
        properties = resource.get("Properties")
        properties = properties if isinstance(properties, dict) else {}
        role_name = None
        role_input = (cfn.get("Inputs") or {}).get("Role") if isinstance(cfn, dict) else None
        role = None
        if isinstance(role_input, str):
            role = properties.get(role_input)
        elif isinstance(role_input, dict) and role_input.get("Function") == "GetEventsRuleRole":
            other_id = connecting.get("Id") if isinstance(connecting, dict) else None
            other_arn = connecting.get("Arn") if isinstance(connecting, dict) else None
            for target in _as_list(properties.get("Targets")):
                if not isinstance(target, dict):
                    continue
                target_id = _logical_id_of(target.get("Arn"))
                if (target_id and target_id == other_id) or (other_arn and target.get("Arn") == other_arn):
                    role = target.get("RoleArn")
                    break
        role_logical = _logical_id_of(role) if role else None
        if role_logical:
            role_name = {"Ref": role_logical}
        return {"logical_id": logical, "type": rtype, "arn": outputs.get("Arn"), "role_name": role_name,
                "queue_url": outputs.get("Url"), "resource_id": outputs.get("Id"), "name": outputs.get("Name"),
                "qualifier": obj["Qualifier"] if "Qualifier" in obj else outputs.get("Qualifier")}

    def connector(self, logical: str, res: Mapping[str, Any], props: Mapping[str, Any], line: Optional[int],
                  profiles: Mapping[str, Any]) -> None:
        destinations = props.get("Destination")
        multi = isinstance(destinations, list)
        dest_list = destinations if multi else [destinations]
        if multi and not destinations:
            self.problem(f"{logical}: 'Destination' is an empty list", line_of(destinations) or line)
            return
        permissions = props.get("Permissions")
        if not isinstance(permissions, list) or not permissions:
            self.problem(f"{logical}: 'Permissions' must be a non-empty list (Read, Write)",
                         line_of(permissions) or line)
            return
        perm_lines: Dict[str, Optional[int]] = {}
        for p in permissions:
            if isinstance(p, str):
                perm_lines.setdefault(str(p), line_of(p) or line_of(permissions) or line)
        wanted = set(perm_lines)
        attrs = self.attributes(res, ("Condition", "DependsOn"))
        for index, dest in enumerate(dest_list):
            destination = self.reference(dest, props.get("Source"), profiles, logical, line)
            source = self.reference(props.get("Source"), dest, profiles, logical, line)
            if destination is None or source is None:
                continue
            profile = ((profiles.get("Permissions") or {}).get(source["type"]) or {}).get(destination["type"])
            if not isinstance(profile, dict):
                self.problem(f"{logical}: unable to create connector from {source['type']} to {destination['type']}; "
                             "it's not supported or the template is invalid", line)
                continue
            ptype, pprops = profile.get("Type"), copy.deepcopy(profile.get("Properties") or {})
            categories = pprops.get("AccessCategories") or {}
            bad = sorted(p for p in wanted if p not in categories)
            if bad:
                self.problem(f"{logical}: unsupported 'Permissions' {bad} for a connector from {source['type']} to "
                             f"{destination['type']}; valid values are: {', '.join(categories)}",
                             perm_lines.get(bad[0]) or line)
                continue
            combos = pprops.get("ValidAccessCategories")
            if combos and sorted(wanted) not in [sorted(c) for c in combos]:
                valid = ", ".join(" + ".join(sorted(c)) for c in combos)
                self.problem(f"{logical}: unsupported 'Permissions' combination for a connector from "
                             f"{source['type']} to {destination['type']}; valid combinations are: {valid}",
                             line_of(permissions) or line)
                continue
            replacement = {
                "Source.Arn": source["arn"], "Destination.Arn": destination["arn"],
                "Source.ResourceId": source["resource_id"], "Destination.ResourceId": destination["resource_id"],
                "Source.Name": source["name"], "Destination.Name": destination["name"],
                "Source.Qualifier": source["qualifier"], "Destination.Qualifier": destination["qualifier"],
            }
            try:
                pprops = _profile_replace(pprops, replacement)
            except ValueError as e:
                self.problem(f"{logical}: {e}", line)
                continue
            left = re.findall(r"%{[\w\.]+}", json.dumps(pprops, default=str))
            if left:
                self.problem(f"{logical}: the following variables have not been replaced: {left}", line)
                continue
            categories = pprops.get("AccessCategories") or {}
            on_source = bool(pprops.get("SourcePolicy"))
            side = source if on_source else destination
            side_name = "Source" if on_source else "Destination"
            metadata = {"aws:sam:connectors": {logical: {
                "Source": {"Type": self.original_type(source)},
                "Destination": {"Type": self.original_type(destination)}}}}
            suffix = f"Destination{index}" if multi else ""
            res_attrs = dict(attrs)
            res_attrs["Metadata"] = metadata

            def statements() -> List[Any]:
                out: List[Any] = []
                for cat, spec in categories.items():
                    if cat in wanted and isinstance(spec, dict):
                        out += [_mk(s, perm_lines.get(cat) or line) for s in _as_list(spec.get("Statement"))]
                return out

            def document() -> LDict:
                doc = LDict({"Version": _mk("2012-10-17", line), "Statement": LList(statements())})
                doc["Statement"].line = line or 0
                doc.line = line or 0
                return doc

            if ptype == "AWS_IAM_ROLE_MANAGED_POLICY":
                if not side["role_name"]:
                    self.problem(f"{logical}: unable to get IAM role name from '{side_name}' resource (give it a "
                                 "role defined in this template, or RoleName)", line)
                    continue
                self.add(f"{logical}Policy{suffix}", self.resource("AWS::IAM::ManagedPolicy", {
                    "PolicyDocument": document(), "Roles": [_mk(side["role_name"], line)]}, line, res_attrs),
                    line, logical)
            elif ptype == "AWS_SQS_QUEUE_POLICY":
                if not side["queue_url"]:
                    self.problem(f"{logical}: unable to get SQS queue URL from '{side_name}' resource", line)
                    continue
                self.add(f"{logical}QueuePolicy{suffix}", self.resource("AWS::SQS::QueuePolicy", {
                    "PolicyDocument": document(), "Queues": [_mk(side["queue_url"], line)]}, line, res_attrs),
                    line, logical)
            elif ptype == "AWS_SNS_TOPIC_POLICY":
                if not side["arn"]:
                    self.problem(f"{logical}: unable to get SNS topic ARN from '{side_name}' resource", line)
                    continue
                self.add(f"{logical}TopicPolicy{suffix}", self.resource("AWS::SNS::TopicPolicy", {
                    "PolicyDocument": document(), "Topics": [_mk(side["arn"], line)]}, line, res_attrs),
                    line, logical)
            elif ptype == "AWS_LAMBDA_PERMISSION":
                if not side["arn"]:
                    self.problem(f"{logical}: unable to get Lambda function ARN from '{side_name}' resource", line)
                    continue
                for cat, spec in categories.items():
                    if cat not in wanted or not isinstance(spec, dict):
                        continue
                    permission = {"Action": spec.get("Action"), "FunctionName": side["arn"],
                                  "Principal": spec.get("Principal"), "SourceArn": spec.get("SourceArn")}
                    if spec.get("SourceAccount") is not None:
                        permission["SourceAccount"] = spec["SourceAccount"]
                    pid = f"{logical}{cat}LambdaPermission{suffix}"
                    self.add(pid, self.resource("AWS::Lambda::Permission", permission,
                                                perm_lines.get(cat) or line, res_attrs), line, logical)
            else:
                self.problem(f"{logical}: connector profile type {ptype} is not supported", line)

    def original_type(self, ref: Mapping[str, Any]) -> str:
        logical = ref.get("logical_id")
        original = self.src_resources.get(logical) if logical else None
        if isinstance(original, dict) and isinstance(original.get("Type"), str):
            return str(original["Type"])
        return str(ref.get("type"))


class _ApiPolicy:
    """The resource policy SAM writes into a REST API's Swagger (SwaggerEditor.add_resource_policy)."""

    def __init__(self, expander: _Expander, api: str) -> None:
        self.expander = expander
        self.api = api
        self.statements: List[Any] = []
        self.line: Optional[int] = None

    def seed(self, existing: Mapping[str, Any]) -> None:
        self.line = line_of(existing) or self.line
        self.statements += _as_list(existing.get("Statement"))

    def document(self) -> LDict:
        doc = _mk({"Version": "2012-10-17"}, self.line)
        statements = LList(self.statements)
        statements.line = self.line or 0
        doc["Statement"] = statements
        return doc

    def _append(self, statement: Any, dedup: bool) -> None:
        if dedup and statement in self.statements:
            return
        self.statements.append(statement)

    @staticmethod
    def resources(path: str, methods: Sequence[str], stage: Any, line: Optional[int]) -> List[Any]:
        path = re.sub(r"{([a-zA-Z0-9._-]+|[a-zA-Z0-9._-]+\+|proxy\+)}", "*", path)
        out = []
        for m in methods:
            method = "*" if m.lower() in ("x-amazon-apigateway-any-method", "any") else m.upper()
            out.append(_mk({"Fn::Sub": ["execute-api:/${__Stage__}/" + method + path, {"__Stage__": stage}]}, line))
        return out

    def add_resource_policy(self, policy: Mapping[str, Any], path: str, methods: Sequence[str], stage: Any,
                            line: Optional[int]) -> None:
        self.line = self.line or line
        resources = self.resources(path, methods, stage, line)
        for key, effect in (("AwsAccountWhitelist", "Allow"), ("AwsAccountBlacklist", "Deny")):
            accounts = policy.get(key)
            if not accounts:
                continue
            if not isinstance(accounts, (dict, list)):
                self.expander.problem(f"{self.api}: ResourcePolicy {key} must be a list", line_of(accounts) or line)
                continue
            self._append(_mk({"Effect": effect, "Action": "execute-api:Invoke", "Resource": resources,
                              "Principal": {"AWS": _as_list(accounts)}}, line_of(accounts) or line), dedup=False)
        for key, operator in (("IpRangeWhitelist", "NotIpAddress"), ("IpRangeBlacklist", "IpAddress")):
            ips = policy.get(key)
            if ips:
                self.allow_deny(resources, {operator: {"aws:SourceIp": _as_list(ips)}}, line_of(ips) or line)
        for prefix, operator in (("Blacklist", "StringEquals"), ("Whitelist", "StringNotEquals")):
            strings = policy.get("SourceVpc" + prefix)
            if strings is not None and (not isinstance(strings, list)
                                        or not all(isinstance(s, str) for s in strings)):
                self.expander.problem(f"{self.api}: SourceVpc{prefix} must be a list of strings; use "
                                      f"IntrinsicVpc{prefix} for values that use intrinsic functions",
                                      line_of(strings) or line)
                strings = None
            condition: Dict[str, List[Any]] = {}
            for s in strings or []:
                if s.startswith("vpc-"):
                    condition.setdefault("aws:SourceVpc", []).append(s)
                if s.startswith("vpce-"):
                    condition.setdefault("aws:SourceVpce", []).append(s)
            vpcs, vpces = policy.get("IntrinsicVpc" + prefix), policy.get("IntrinsicVpce" + prefix)
            if vpcs is not None:
                condition.setdefault("aws:SourceVpc", []).extend(_as_list(vpcs))
            if vpces is not None:
                condition.setdefault("aws:SourceVpce", []).extend(_as_list(vpces))
            if condition.get("aws:SourceVpc") or condition.get("aws:SourceVpce"):
                where = strings if strings is not None else (vpcs if vpcs is not None else vpces)
                self.allow_deny(resources, {operator: condition}, line_of(where) or line)

    def allow_deny(self, resources: List[Any], condition: Mapping[str, Any], line: Optional[int]) -> None:
        allow = _mk({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": resources, "Principal": "*"},
                    line)
        deny = _mk({"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": resources, "Principal": "*",
                    "Condition": condition}, line)
        self._append(allow, dedup=True)
        self._append(deny, dedup=True)

    def add_custom_statements(self, custom: Any, line: Optional[int]) -> None:
        self.line = self.line or line
        if not self.statements and _is_intrinsic(custom):
            self.statements.append(_mk(custom, line))  # e.g. an Fn::If around the statement(s)
            return
        for statement in _as_list(custom):
            statement = _mk(statement, line)
            if statement not in self.statements:
                self.statements.append(statement)


# ---------------------------------------------------------------------------------------------- profiles


def _sanitize(s: str) -> str:
    return "".join(c for c in s if c.isalnum())


def _profile_replace(obj: Any, replacements: Mapping[str, Any]) -> Any:
    """SAM's connector profile_replace: ``%{Key}`` becomes the value (the whole string) or an
    ``Fn::Sub`` variable (part of a string); a needed value that is None is an error."""
    if isinstance(obj, dict):
        return {k: _profile_replace(v, replacements) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_profile_replace(v, replacements) for v in obj]
    if not isinstance(obj, str):
        return obj
    s = obj
    variables: Dict[str, Any] = {}
    for key, value in replacements.items():
        pattern = "%{" + key + "}"
        if pattern in s and value is None:
            raise ValueError(f"{key} is missing")
        if pattern == s:
            return value
        if pattern in s:
            name = _sanitize(key)
            s = s.replace(pattern, "${" + name + "}")
            variables[name] = value
    if re.search(r"\${.+}", s):
        return {"Fn::Sub": [s, variables]} if variables else {"Fn::Sub": s}
    return s


# ---------------------------------------------------------------------------------------------- API


def is_sam_template(template: Any) -> bool:
    """Whether the template declares the SAM transform (alone or in a list of transforms)."""
    if not isinstance(template, dict):
        return False
    t = template.get("Transform")
    return SERVERLESS_TRANSFORM in (t if isinstance(t, list) else [t])


def expand(template: LDict) -> SamResult:
    """The CloudFormation SAM would generate from ``template`` (as far as IAM goes); see the module
    docstring. The input is not modified."""
    if not isinstance(template, dict):
        empty = LDict()
        return SamResult(template=empty, aliases={}, problems=(("the template is not a map", line_of(template)),))
    return _Expander(template).run()


__all__ = ["SamResult", "expand", "is_sam_template", "policy_templates", "connector_profiles",
           "SERVERLESS_TRANSFORM"]
