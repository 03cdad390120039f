"""Input readers: one module per input format; each: (display path, text, options) -> Inventory.

A reader returns ``None`` for a file that is not of its kind, so that another may try it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Tuple


@dataclass(frozen=True)
class ReadOptions:
    """What readers need from the manifest's ``settings`` to resolve values offline."""

    account: Optional[str] = None
    region: str = "us-east-1"
    partition: str = "aws"
    parameters: Mapping[str, str] = field(default_factory=dict, hash=False)
    variables: Mapping[str, Any] = field(default_factory=dict, hash=False)
    var_files: Tuple[str, ...] = ()
    imports: Mapping[str, str] = field(default_factory=dict, hash=False)
    dynamic_references: Mapping[str, str] = field(default_factory=dict, hash=False)
    stack_name: Optional[str] = None  # AWS::StackName (default: the template file's name)


def options_from(settings: Any, resolve: Any = None) -> ReadOptions:
    """ReadOptions from a manifest's Settings (or defaults when there is no manifest); ``resolve``
    turns a path written in the manifest into one relative to the working directory."""
    if settings is None:
        return ReadOptions()
    var_files = tuple(resolve(f) if resolve else f for f in settings.var_files)
    return ReadOptions(account=settings.account, region=settings.region, partition=settings.partition,
                       parameters=dict(settings.parameters), variables=dict(settings.variables),
                       var_files=var_files, imports=dict(settings.imports),
                       dynamic_references=dict(settings.dynamic_references), stack_name=settings.stack_name)
