"""Deploy requirements: what a principal with ``deploys: [PATH ...]`` must be able to do to create,
update and delete what those paths define (issue 13).

- CloudFormation and SAM: per resource, the create, update and delete handler permissions of its
  type (``catalog/cloudformation.py``: the provider schemas inside the installed cfn-lint); per stack,
  the stack and change-set actions (and, for SAM, ``cloudformation:CreateChangeSet`` on the
  transform); ``iam:PassRole`` on every role the template passes to a service, with
  ``iam:PassedToService``. With ``cloudformation_role:`` the service role needs the resource
  permissions and the principal the stack actions and ``iam:PassRole`` on the service role.
- Terraform: per resource and data source, pike's mappings (``catalog/terraform.py``): create,
  update and delete (and the reads of a refresh) for HCL; for plan JSON only what each
  ``resource_changes[].change.actions`` does (create, update, delete, replace = delete + create,
  read), plus reads for the refresh of every resource the plan knows; the state backend's bucket,
  key and lock table.

Each action is required on the resource's ARN when it acts on that resource type (the catalog's
ARN formats say so), else on ``*``: the data does not say which other resource it acts on, so a
deploy role that grants it only on some resources is ``unknown`` there, never a guessed allow or a
certain deny. A type the data does not know is ``unknown``, never skipped. Pure: the data modules
read files of installed packages only, lazily.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .. import catalog
from ..catalog.deploy import DeployActions
from ..model import Change, Inventory, Location, Manifest, PrincipalEntry, Resource, ResourceRef, Settings

__all__ = ["DeployNeed", "deploy_needs", "PASSED_ROLES", "in_paths"]

# resource type -> (the properties that name a role the resource passes to a service, the service)
PASSED_ROLES: Mapping[str, Tuple[Tuple[str, ...], str]] = {
    "AWS::Lambda::Function": (("Role",), "lambda.amazonaws.com"),
    "AWS::Serverless::Function": (("Role",), "lambda.amazonaws.com"),
    "aws_lambda_function": (("role",), "lambda.amazonaws.com"),
    "AWS::ECS::TaskDefinition": (("TaskRoleArn", "ExecutionRoleArn"), "ecs-tasks.amazonaws.com"),
    "aws_ecs_task_definition": (("task_role_arn", "execution_role_arn"), "ecs-tasks.amazonaws.com"),
    "AWS::StepFunctions::StateMachine": (("RoleArn",), "states.amazonaws.com"),
    "AWS::Serverless::StateMachine": (("Role",), "states.amazonaws.com"),
    "aws_sfn_state_machine": (("role_arn",), "states.amazonaws.com"),
    "AWS::Events::Rule": (("RoleArn", "Targets.*.RoleArn"), "events.amazonaws.com"),
    "aws_cloudwatch_event_target": (("role_arn",), "events.amazonaws.com"),
    "AWS::Scheduler::Schedule": (("Target.RoleArn",), "scheduler.amazonaws.com"),
    "aws_scheduler_schedule": (("target.role_arn",), "scheduler.amazonaws.com"),
    "AWS::Pipes::Pipe": (("RoleArn",), "pipes.amazonaws.com"),
    "aws_pipes_pipe": (("role_arn",), "pipes.amazonaws.com"),
    "AWS::CodeBuild::Project": (("ServiceRole",), "codebuild.amazonaws.com"),
    "aws_codebuild_project": (("service_role",), "codebuild.amazonaws.com"),
    "AWS::Glue::Job": (("Role",), "glue.amazonaws.com"),
    "aws_glue_job": (("role_arn",), "glue.amazonaws.com"),
}

SAM_TRANSFORM = "aws:transform/Serverless-2016-10-31"


@dataclass(frozen=True)
class DeployNeed:
    """One action a deploy needs: by whom (``deployer`` — the manifest's principal — or
    ``service-role`` — its ``cloudformation_role``), on what, for which resource and operation.
    ``unknown`` says why it cannot be decided (a type the data does not know)."""

    who: str
    action: str
    resource: str
    source: str  # the resource (logical ID, address) or stack that needs it
    type: str
    operations: Tuple[str, ...]
    location: Optional[Location]
    context: Mapping[str, Tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)
    unknown: str = ""
    also: int = 0  # how many other resources need the same request


def in_paths(file: Optional[str], paths: Sequence[str]) -> bool:
    """Whether ``file`` (relative to the working directory) is one of ``paths`` or under one."""
    if not file:
        return False
    f = os.path.normpath(os.path.abspath(file))
    for p in paths:
        root = os.path.normpath(os.path.abspath(p))
        if f == root or f.startswith(root + os.sep):
            return True
    return False


@lru_cache(maxsize=4096)
def _arn_patterns(action: str) -> Tuple["re.Pattern[str]", ...]:
    info = catalog.action_info(action)
    if info is None:
        return ()
    out = []
    for rt in info.resource_types:
        for pattern in rt.arn_patterns:
            parts = re.split(r"\$\{[^}]+\}", pattern)
            out.append(re.compile(".+".join(re.escape(p) for p in parts)))
    return tuple(out)


def target(action: str, *arns: Optional[str]) -> str:
    """The resource ``action`` is required on when it deploys a resource: the first of ``arns`` (the
    resource's own, then those of the resources it refers to: a bucket policy's bucket) of a type
    the action acts on, else ``*``."""
    for arn in arns:
        if arn and any(p.fullmatch(arn) for p in _arn_patterns(action)):
            return arn
    return "*"


def _referenced_arns(resource: Resource, by_id: Mapping[str, Resource]) -> List[str]:
    """The ARNs of the resources ``resource`` refers to, in the order its properties name them."""
    out: List[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, ResourceRef):
            t = by_id.get(value.target)
            if t is not None and t.arn and t.arn not in out:
                out.append(t.arn)
        elif isinstance(value, Mapping):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
    walk(resource.properties)
    return out


def _operations(resource: Resource, changes: Mapping[str, Change]) -> Tuple[str, ...]:
    """What deploying ``resource`` does to it: from the plan when there is one, else everything."""
    change = changes.get(resource.id)
    if change is None:
        if resource.type.startswith("AWS::") or resource.type.startswith("Alexa::"):
            return ("create", "update", "delete")
        return ("create", "update", "delete", "read")
    return _plan_operations(change)


def _plan_operations(change: Change) -> Tuple[str, ...]:
    ops = ["read"]  # the refresh before the plan reads every resource in the state
    for a in change.actions:
        if a in ("create", "update", "delete") and a not in ops:
            ops.append(a)
    return tuple(ops)


def _names_a_role(value: Any, by_id: Mapping[str, Resource]) -> bool:
    """Whether a property value names an IAM role: a reference to a role of the code, a role ARN, or
    something unresolved (which might be one)."""
    if isinstance(value, ResourceRef):
        t = by_id.get(value.target)
        return t is None or t.type in ("AWS::IAM::Role", "aws_iam_role") or ":role/" in (value.value or "")
    if isinstance(value, str):
        return ":role/" in value
    if isinstance(value, Mapping):
        return any(_names_a_role(v, by_id) for v in value.values())
    if isinstance(value, list):
        return any(_names_a_role(v, by_id) for v in value)
    return value is None


def _role_arns(resource: Resource, by_id: Mapping[str, Resource]) -> List[str]:
    from ..rules.infer import values_at
    out: List[str] = []
    props, _ = PASSED_ROLES.get(resource.type, ((), ""))
    for path in props:
        for v in values_at(resource.properties, path, by_id):
            arn = None
            if isinstance(v, ResourceRef):
                t = by_id.get(v.target)
                arn = (t.arn if t is not None and t.arn else None) or (v.value if v.value and
                                                                        v.value.startswith("arn:") else None)
            elif isinstance(v, str) and v.startswith("arn:"):
                arn = v
            if arn and arn not in out:
                out.append(arn)
    generated = by_id.get(resource.id + "Role")  # SAM's <Function>Role, when the template gives none
    if not out and resource.type.startswith("AWS::Serverless::") and generated is not None and generated.arn:
        out.append(generated.arn)
    return out


def deploy_needs(inventory: Inventory, entry: PrincipalEntry, manifest: Manifest, settings: Settings,
                 cfn: Any = None, tf: Any = None) -> Tuple[Tuple[DeployNeed, ...], Tuple[Tuple[str, Optional[Location]], ...]]:
    """Every action the entry's ``deploys:`` paths need, deduplicated (the first resource that needs
    a request names it; ``also`` counts the others), and the data's own faults met on the way
    (message, where the type is used; once per message). ``cfn``/``tf``: the data modules (tests
    pass their own); the installed data by default."""
    if cfn is None:
        from ..catalog import cloudformation as cfn
    if tf is None:
        from ..catalog import terraform as tf
    paths = [manifest.resolve(p) for p in entry.deploys]
    region, account, partition = settings.region, settings.account or "*", settings.partition
    builder = entry.cloudformation_role and "service-role" or "deployer"
    changes = {c.address: c for c in inventory.changes if in_paths(c.location.file if c.location else None, paths)}
    out: Dict[Tuple[Any, ...], DeployNeed] = {}
    warnings: Dict[str, Optional[Location]] = {}
    sources: Dict[Tuple[Any, ...], set] = {}

    def add(need: DeployNeed) -> None:
        key = (need.who, need.action, need.resource, tuple(sorted(need.context.items())), need.unknown and need.type)
        if key in out:
            first = out[key]
            other = need.source != first.source and need.source not in sources[key]
            sources[key].add(need.source)
            ops = first.operations + (need.operations if need.source == first.source else ())
            out[key] = DeployNeed(first.who, first.action, first.resource, first.source, first.type,
                                  tuple(dict.fromkeys(ops)), first.location, first.context, first.unknown,
                                  first.also + (1 if other else 0))
        else:
            out[key] = need
            sources[key] = {need.source}

    for stack in inventory.stacks:
        if not in_paths(stack.file, paths):
            continue
        where = Location(stack.file, None)
        arn = f"arn:{partition}:cloudformation:{region}:{account}:stack/{stack.name}/*"
        for action in cfn.stack_actions():
            add(DeployNeed("deployer", action, arn, f"stack {stack.name}", "AWS::CloudFormation::Stack",
                           ("deploy",), where))
        if stack.sam:
            add(DeployNeed("deployer", "cloudformation:CreateChangeSet",
                           f"arn:{partition}:cloudformation:{region}:aws:transform/Serverless-2016-10-31",
                           f"stack {stack.name}", "AWS::Serverless", ("deploy",), where))
        if entry.cloudformation_role:
            add(DeployNeed("deployer", "iam:PassRole", entry.cloudformation_role, f"stack {stack.name}",
                           "AWS::CloudFormation::Stack", ("deploy",), where,
                           {"iam:PassedToService": ("cloudformation.amazonaws.com",)}))

    from ..rules.infer import ById
    by_id = ById(inventory.resources)  # a reference means the resource of its own file (two stacks, one ID)

    def deploy(resource: Resource, ops: Tuple[str, ...]) -> None:
        where = resource.location
        by_id.here = where.file if where is not None else ""
        is_cfn = resource.type.startswith(("AWS::", "Alexa::", "Custom::"))
        if resource.type.startswith("Custom::") or resource.type == "AWS::CloudFormation::CustomResource":
            return  # a custom resource's handler is the user's own Lambda function, called by CloudFormation
        if resource.type == "terraform_backend_s3":
            for action, arn in tf.backend_actions(resource.properties):
                add(DeployNeed("deployer", action, arn, "terraform backend", resource.type, ("state",), where))
            return
        who = builder if is_cfn else "deployer"
        data: DeployActions = cfn.actions(resource.type, region) if is_cfn else tf.actions(resource.type, "managed")
        if data.known:
            for problem in data.problems:
                warnings.setdefault(problem, where)
        if not data.known:
            add(DeployNeed(who, f"({resource.type})", "*", resource.id, resource.type, ops, where,
                           unknown=(data.problems[0] if data.problems else
                                    f"the deploy data has no permissions for {resource.type}")))
            return
        arns = [resource.arn] + _referenced_arns(resource, by_id)
        roles = _role_arns(resource, by_id)
        passes = bool(roles) or _names_a_role(resource.properties, by_id)
        for op in ops:
            for action in data.of(op):
                if action == "iam:PassRole" and (roles or not passes):
                    # required below on the roles themselves, with the service they go to; a resource
                    # whose properties name no role passes none, whatever its handler may call
                    continue
                add(DeployNeed(who, action, target(action, *arns), resource.id, resource.type, (op,), where))
        writes = tuple(o for o in ops if o in ("create", "update"))
        if not is_cfn and writes:
            for attribute, actions in data.conditional.items():
                if resource.properties.get(attribute) not in (None, "", [], {}):
                    for action in actions:
                        add(DeployNeed(who, action, target(action, *arns), resource.id, resource.type, writes, where))
        if writes:
            _, service = PASSED_ROLES.get(resource.type, ((), ""))
            for role in roles:
                add(DeployNeed(who, "iam:PassRole", role, resource.id, resource.type, writes, where,
                               {"iam:PassedToService": (service,)}))

    for change in changes.values():  # a plan: only what it changes (and the refresh's reads)
        if change.mode == "managed":
            by_id.here = change.location.file if change.location is not None else ""
            deploy(by_id.get(change.address) or Resource(change.address, change.type, location=change.location),
                   _plan_operations(change))
        else:
            data = tf.actions(change.type, "data")
            for action in data.read if data.known else ():
                add(DeployNeed("deployer", action, "*", change.address, change.type, ("read",), change.location))
    for address, rtype, where in inventory.data_sources:  # HCL: every data source is read at every plan
        if address in changes or not in_paths(where.file if where else None, paths):
            continue
        data = tf.actions(rtype, "data")
        if not data.known:
            add(DeployNeed("deployer", f"({rtype})", "*", address, rtype, ("read",), where,
                           unknown=f"the deploy data has no permissions for the data source {rtype}"))
        for action in data.read if data.known else ():
            add(DeployNeed("deployer", action, "*", address, rtype, ("read",), where))
    for resource in inventory.resources:  # templates and HCL: everything they define
        if resource.id not in changes and in_paths(resource.location.file if resource.location else None, paths):
            deploy(resource, _operations(resource, {}))
    return tuple(out.values()), tuple(warnings.items())
