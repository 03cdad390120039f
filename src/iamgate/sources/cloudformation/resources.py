"""What ``Ref`` and ``Fn::GetAtt`` return for CloudFormation resource types, synthesized offline.

A resource that names itself (``BucketName``, ``RoleName``, …) keeps that name; one that does not
gets a stable synthesized name in CloudFormation's shape, ``<stack>-<LogicalId>-<SUFFIX>``, so that
a policy written with ``!GetAtt Queue.Arn`` and a manifest resource ``${Queue.Arn}`` name the same
thing. An attribute this table does not know is ``Unknown``, never guessed.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional

from ..values import Partial, Unknown, concat
from .intrinsics import Settings
from .loader import line_of

_P, _R, _A = "{partition}", "{region}", "{account}"


@dataclass(frozen=True)
class Kind:
    """How a resource type is named and what its Ref and attributes are.

    Formats use ``{partition}``, ``{region}``, ``{account}``, ``{name}``, ``{path}`` and ``{id}``
    (a synthesized identifier for types whose Ref is a generated ID).
    """

    name_prop: Optional[str]
    ref: str
    attrs: Mapping[str, str] = field(default_factory=dict)
    lower: bool = False
    max_len: int = 128


def _arn(service: str, rest: str, regional: bool = True) -> str:
    return f"arn:{_P}:{service}:{_R if regional else ''}:{_A}:{rest}"


KINDS: Dict[str, Kind] = {
    "AWS::S3::Bucket": Kind("BucketName", "{name}", {"Arn": "arn:{partition}:s3:::{name}",
                                                      "DomainName": "{name}.s3.amazonaws.com",
                                                      "RegionalDomainName": "{name}.s3.{region}.amazonaws.com"},
                            lower=True, max_len=63),
    "AWS::S3::AccessPoint": Kind("Name", "{name}", {"Arn": _arn("s3", "accesspoint/{name}"), "Name": "{name}"},
                                 lower=True, max_len=50),
    "AWS::SQS::Queue": Kind("QueueName", "https://sqs.{region}.amazonaws.com/{account}/{name}",
                            {"Arn": _arn("sqs", "{name}"), "QueueName": "{name}",
                             "QueueUrl": "https://sqs.{region}.amazonaws.com/{account}/{name}"}, max_len=80),
    "AWS::SNS::Topic": Kind("TopicName", _arn("sns", "{name}"), {"TopicArn": _arn("sns", "{name}"),
                                                                 "TopicName": "{name}"}, max_len=256),
    "AWS::KMS::Key": Kind(None, "{id}", {"Arn": _arn("kms", "key/{id}"), "KeyId": "{id}"}),
    "AWS::KMS::Alias": Kind("AliasName", "{name}", {}),
    "AWS::DynamoDB::Table": Kind("TableName", "{name}", {"Arn": _arn("dynamodb", "table/{name}"),
                                                        "StreamArn": _arn("dynamodb", "table/{name}/stream/iamgate")},
                                 max_len=255),
    "AWS::DynamoDB::GlobalTable": Kind("TableName", "{name}", {"Arn": _arn("dynamodb", "table/{name}")}),
    "AWS::Lambda::Function": Kind("FunctionName", "{name}", {"Arn": _arn("lambda", "function:{name}")}, max_len=64),
    "AWS::Lambda::LayerVersion": Kind("LayerName", _arn("lambda", "layer:{name}:1"),
                                      {"LayerVersionArn": _arn("lambda", "layer:{name}:1")}),
    "AWS::IAM::Role": Kind("RoleName", "{name}", {"Arn": "arn:{partition}:iam::{account}:role{path}{name}",
                                                  "RoleId": "AROA{id}"}, max_len=64),
    "AWS::IAM::User": Kind("UserName", "{name}", {"Arn": "arn:{partition}:iam::{account}:user{path}{name}"}),
    "AWS::IAM::Group": Kind("GroupName", "{name}", {"Arn": "arn:{partition}:iam::{account}:group{path}{name}"}),
    "AWS::IAM::ManagedPolicy": Kind("ManagedPolicyName", "arn:{partition}:iam::{account}:policy{path}{name}",
                                    {"PolicyArn": "arn:{partition}:iam::{account}:policy{path}{name}"}),
    "AWS::IAM::Policy": Kind("PolicyName", "{name}", {}),
    "AWS::IAM::InstanceProfile": Kind("InstanceProfileName", "{name}",
                                      {"Arn": "arn:{partition}:iam::{account}:instance-profile{path}{name}"}),
    "AWS::SecretsManager::Secret": Kind("Name", _arn("secretsmanager", "secret:{name}-{suffix6}"),
                                        {"Id": _arn("secretsmanager", "secret:{name}-{suffix6}")}),
    "AWS::Logs::LogGroup": Kind("LogGroupName", "{name}", {"Arn": _arn("logs", "log-group:{name}:*")}, max_len=512),
    "AWS::ECR::Repository": Kind("RepositoryName", "{name}", {"Arn": _arn("ecr", "repository/{name}"),
                                                             "RepositoryUri": "{account}.dkr.ecr.{region}.amazonaws.com/{name}"},
                                 lower=True),
    "AWS::Kinesis::Stream": Kind("Name", "{name}", {"Arn": _arn("kinesis", "stream/{name}")}),
    "AWS::KinesisFirehose::DeliveryStream": Kind("DeliveryStreamName", "{name}",
                                                 {"Arn": _arn("firehose", "deliverystream/{name}")}),
    "AWS::Events::EventBus": Kind("Name", "{name}", {"Arn": _arn("events", "event-bus/{name}"), "Name": "{name}"}),
    "AWS::Events::Rule": Kind("Name", "{name}", {"Arn": _arn("events", "rule/{name}")}),
    "AWS::StepFunctions::StateMachine": Kind("StateMachineName", _arn("states", "stateMachine:{name}"),
                                             {"Arn": _arn("states", "stateMachine:{name}"), "Name": "{name}"}),
    "AWS::StepFunctions::Activity": Kind("Name", _arn("states", "activity:{name}"), {"Name": "{name}"}),
    "AWS::SSM::Parameter": Kind("Name", "{name}", {}),
    "AWS::MSK::Cluster": Kind("ClusterName", _arn("kafka", "cluster/{name}/{id}"),
                              {"Arn": _arn("kafka", "cluster/{name}/{id}")}),
    "AWS::DocDB::DBCluster": Kind("DBClusterIdentifier", "{name}", {}, lower=True, max_len=63),
    "AWS::AmazonMQ::Broker": Kind("BrokerName", "b-{id}", {"Arn": _arn("mq", "broker:{name}:b-{id}"),
                                                         "Id": "b-{id}"}),
    "AWS::ECS::Cluster": Kind("ClusterName", "{name}", {"Arn": _arn("ecs", "cluster/{name}")}),
    "AWS::ECS::TaskDefinition": Kind("Family", _arn("ecs", "task-definition/{name}:1"),
                                     {"TaskDefinitionArn": _arn("ecs", "task-definition/{name}:1")}),
    "AWS::CodeCommit::Repository": Kind("RepositoryName", "{id}", {"Arn": _arn("codecommit", "{name}"),
                                                                   "Name": "{name}"}),
    "AWS::CodeBuild::Project": Kind("Name", "{name}", {"Arn": _arn("codebuild", "project/{name}")}),
    "AWS::Glue::Database": Kind(None, "{name}", {}),
    "AWS::Cognito::UserPool": Kind(None, "{region}_{id}", {"Arn": _arn("cognito-idp", "userpool/{region}_{id}")}),
    "AWS::OpenSearchService::Domain": Kind("DomainName", "{name}", {"Arn": _arn("es", "domain/{name}"),
                                                                   "DomainArn": _arn("es", "domain/{name}")},
                                           lower=True, max_len=28),
    "AWS::Elasticsearch::Domain": Kind("DomainName", "{name}", {"Arn": _arn("es", "domain/{name}"),
                                                               "DomainArn": _arn("es", "domain/{name}")},
                                       lower=True, max_len=28),
    "AWS::Backup::BackupVault": Kind("BackupVaultName", "{name}", {"BackupVaultArn": _arn("backup", "backup-vault:{name}"),
                                                                   "BackupVaultName": "{name}"}),
    "AWS::CodeArtifact::Domain": Kind("DomainName", _arn("codeartifact", "domain/{name}"),
                                      {"Arn": _arn("codeartifact", "domain/{name}"), "Name": "{name}"}, lower=True),
    "AWS::CodeArtifact::Repository": Kind("RepositoryName", _arn("codeartifact", "repository/{domain}/{name}"),
                                          {"Arn": _arn("codeartifact", "repository/{domain}/{name}"), "Name": "{name}"}),
    "AWS::ApiGateway::RestApi": Kind(None, "{id}", {"RootResourceId": "{id}root"}),
    "AWS::ElasticLoadBalancingV2::TargetGroup": Kind("Name", _arn("elasticloadbalancing", "targetgroup/{name}/{tgid}"),
                                                     {"TargetGroupArn": _arn("elasticloadbalancing",
                                                                             "targetgroup/{name}/{tgid}"),
                                                      "TargetGroupName": "{name}"}, max_len=32),
    "AWS::ApiGatewayV2::Api": Kind(None, "{id}", {"ApiId": "{id}"}),
    "AWS::EFS::FileSystem": Kind(None, "fs-{id}", {"Arn": _arn("elasticfilesystem", "file-system/fs-{id}"),
                                                   "FileSystemId": "fs-{id}"}),
    "AWS::AppSync::GraphQLApi": Kind("Name", _arn("appsync", "apis/{id}"), {"Arn": _arn("appsync", "apis/{id}"),
                                                                            "ApiId": "{id}"}),
    "AWS::SNS::Subscription": Kind(None, _arn("sns", "{id}"), {}),
}


def no_account_run(hex_id: str) -> str:
    """A hex ID with a letter every eighth character: twelve digits in a row would read as an account
    number (``findings/check.py`` makes a statement naming another account unknown)."""
    return "".join("abcdef"[int(c) % 6] if i % 8 == 7 and c.isdigit() else c for i, c in enumerate(hex_id))


def _suffix(seed: str, n: int) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest().upper()
    return "".join(c for c in digest if c.isalnum())[:n]


class Names:
    """Ref and GetAtt for the resources of one template."""

    def __init__(self, resources: Mapping[str, Any], settings: Settings,
                 resolve: Callable[[Any], Any]) -> None:
        self.resources = resources
        self.settings = settings
        self.resolve = resolve
        self._busy: set = set()

    def _resource(self, logical: str) -> Optional[Mapping[str, Any]]:
        r = self.resources.get(logical)
        return r if isinstance(r, dict) else None

    def name(self, logical: str) -> Any:
        """The physical name: the naming property's value, or a stable synthesized one."""
        r = self._resource(logical)
        kind = KINDS.get(str(r.get("Type"))) if r else None
        props = (r.get("Properties") or {}) if r else {}
        if kind and kind.name_prop and isinstance(props, dict) and kind.name_prop in props:
            if logical in self._busy:
                return Unknown(f"{logical} (its name refers to itself)", line_of(r))
            self._busy.add(logical)
            try:
                return self.resolve(props[kind.name_prop])
            finally:
                self._busy.discard(logical)
        stack = self.settings.stack_name
        suffix = _suffix(f"{stack}/{logical}", 12)
        name = f"{stack}-{logical}-{suffix}"
        if kind is not None:
            if kind.lower:
                name = name.lower()
            if len(name) > kind.max_len:
                keep = kind.max_len - len(suffix) - 2
                name = f"{name[:keep // 2]}-{name[-(keep - keep // 2):]}" if keep > 2 else suffix
                name = name[: kind.max_len]
        if r is not None and str(r.get("Type")) == "AWS::SQS::Queue" and isinstance(props, dict) \
                and str(props.get("FifoQueue", "")).lower() == "true":
            name += ".fifo"
        return name

    def _fill(self, template: str, logical: str) -> Any:
        r = self._resource(logical) or {}
        props = r.get("Properties") or {}
        s = self.settings
        values: Dict[str, Any] = {
            "partition": s.partition, "region": s.region,
            "account": s.account or Unknown("AWS::AccountId (set settings.account in the manifest)", line_of(r),
                                            synthesized=True),
            "id": _suffix(f"{s.stack_name}/{logical}/id", 16).lower(),
            "suffix6": _suffix(f"{s.stack_name}/{logical}/secret", 6),
            "tgid": no_account_run(_suffix(f"{s.stack_name}/{logical}/id", 16).lower()),
        }
        if "{name}" in template:
            values["name"] = self.name(logical)
        if "{path}" in template:
            path = self.resolve(props.get("Path", "/")) if isinstance(props, dict) else "/"
            values["path"] = path if isinstance(path, (str, Partial, Unknown)) else "/"
        if "{domain}" in template:
            values["domain"] = self.resolve(props.get("DomainName")) if isinstance(props, dict) else None
            if values["domain"] is None:
                values["domain"] = Unknown(f"{logical}.DomainName", line_of(r))
        parts = []
        pos = 0
        while True:
            start = template.find("{", pos)
            if start < 0:
                parts.append(template[pos:])
                break
            end = template.index("}", start)
            parts.append(template[pos:start])
            v = values.get(template[start + 1:end])
            parts.append(v if isinstance(v, (str, Unknown, Partial)) else str(v))
            pos = end + 1
        return concat(parts)

    def ref(self, logical: str) -> Any:
        r = self._resource(logical)
        if r is None:
            return Unknown(f"Ref {logical} (no such parameter or resource)")
        kind = KINDS.get(str(r.get("Type")))
        if kind is None:
            return Unknown(f"Ref {logical} (the physical ID of a {r.get('Type')})", line_of(r))
        return self._fill(kind.ref, logical)

    def attr(self, logical: str, attribute: str) -> Any:
        r = self._resource(logical)
        if r is None:
            return Unknown(f"Fn::GetAtt {logical}.{attribute} (no such resource)")
        kind = KINDS.get(str(r.get("Type")))
        fmt = kind.attrs.get(attribute) if kind else None
        if fmt is None:
            return Unknown(f"Fn::GetAtt {logical}.{attribute}", line_of(r))
        return self._fill(fmt, logical)

    def arn(self, logical: str) -> Optional[str]:
        """The resource's ARN as its ``Arn`` attribute (or another ARN-valued attribute, or its
        ``Ref`` where that is the ARN) synthesizes it; None when the type has none here or a piece of
        it is not known."""
        r = self._resource(logical)
        kind = KINDS.get(str(r.get("Type"))) if r else None
        if kind is None:
            return None
        found: Any = None
        for attribute in ["Arn"] + [a for a in kind.attrs if a.endswith("Arn") and a not in ("Arn", "StreamArn")]:
            if kind.attrs.get(attribute, "").startswith("arn:"):
                found = self.attr(logical, attribute)
                break
        else:
            if kind.ref.startswith("arn:"):
                found = self.ref(logical)
        return found if isinstance(found, str) else None
