"""What it takes to deploy a resource: the IAM actions to create, update, delete and read it.

One interface over two sources of data (DESIGN.md, "Data"):

- CloudFormation and SAM resource types: the handler permissions of the resource provider schemas
  bundled inside the installed ``cfn-lint`` package, read directly (``catalog/cloudformation.py``);
- Terraform resource and data-source types: pike's mappings, vendored with their notice and
  validated against the IAM catalog when they are built (``catalog/terraform.py``).

A type the data does not know is ``known=False``: its deploy requirements are *unknown*, never
skipped. An action the data names that IAM does not know is left out and said in ``problems``
(a data warning, not a requirement).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Tuple

__all__ = ["DeployActions", "DeployDataError", "OPERATIONS"]

# the operations a deployment performs on a resource, in the order they are reported
OPERATIONS = ("create", "update", "delete", "read")


class DeployDataError(Exception):
    """The deploy data cannot be used (cfn-lint without its bundled schemas, a vendored file
    missing): an input error, exit 2, never findings."""


@dataclass(frozen=True)
class DeployActions:
    """The actions each operation on one resource type needs.

    ``conditional`` maps an argument (Terraform) to the extra actions needed when it is set
    (``tags`` -> ``s3:PutBucketTagging``); ``known`` is False when the data has nothing for the
    type; ``problems`` are the data's own faults met for this type (an action IAM does not know)."""

    type: str
    create: Tuple[str, ...] = ()
    update: Tuple[str, ...] = ()
    delete: Tuple[str, ...] = ()
    read: Tuple[str, ...] = ()
    conditional: Mapping[str, Tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)
    known: bool = True
    problems: Tuple[str, ...] = ()

    def of(self, operation: str) -> Tuple[str, ...]:
        return getattr(self, operation)
