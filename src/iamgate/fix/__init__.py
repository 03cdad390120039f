"""Fixes: for a missing permission, the smallest change that grants it, in the syntax of the file
that holds the policy.

``add_fixes`` decides, for every implicit-deny finding, which policy must change — the principal's
identity policy, its permissions boundary, an SCP or RCP level, the resource, key or trust policy —
and groups what each policy must gain: one statement per resource (several actions together), or
the actions added to an existing statement with the same resources. A writer per syntax places it:

- CloudFormation YAML (block style): an item appended to the ``Statement`` list (a single
  statement mapping becomes a list), or actions added to a statement's ``Action`` (scalar, flow or
  block list); resources and principals as ``!GetAtt Bucket.Arn`` / ``!Sub "${Bucket.Arn}/*"`` /
  ``!Ref Topic`` where the ARN is a reference into the template; for a policy SAM generates
  (``<Function>RolePolicy<N>`` of a Serverless function or state machine) a new inline-statement
  entry appended to the resource's block-style ``Policies`` list;
- CloudFormation JSON and JSON policy files: an object in the ``Statement`` array (a single object
  becomes an array), with ``{"Fn::GetAtt": …}`` / ``{"Fn::Sub": …}`` in templates;
- Terraform ``aws_iam_policy_document``: a ``statement`` block after the last one, or actions
  added to a statement's ``actions``; resources written the way the module can name them
  (``aws_s3_bucket.invoices.arn``, ``"${var.bucket_arn}/2026/*"``, ``module.worker.role_arn``);
- Terraform ``jsonencode({...})``: an object in the ``Statement`` tuple, in HCL object syntax.

What cannot be placed safely — a policy held in an account export or an encoded document, AWS CLI
output, a ``.tf.json`` file or a plan, a flow-style list, a document built by an expression — gets
a Fix with its text (the snippet and where it belongs) and no edits. Explicit denies get a text
naming the Deny statement to narrow, never an edit; unknown decisions get no fix. A writer that
fails (an exception, not a refusal) leaves the finding without a fix and adds a note finding
(IG9001) naming the writer and the file: never a failed check, never a silent gap.

``unified_diff`` writes every edit as one diff that ``git apply`` accepts, ``apply_fixes`` the new
file texts. Pure: the callers do the I/O through ``read_text`` and ``write_text``.

The package is the mirror image of ``sources/``, one writer per syntax:

- ``plan``: which policy must change and how, grouped per policy; picks the writer;
- ``writer``: the ``Writer`` base, the change vocabulary, ``WriterContext`` (what a writer may ask
  of the planner), references (writing an ARN the way the file names it);
- ``yaml``, ``json``, ``terraform``: one writer each;
- ``spans``: JSON and HCL with character spans, for the JSON and Terraform writers;
- ``typos``: a malformed action (``"ec2:CreateImage,"``) corrected where it is written
  (``add_typo_fixes``), for its unknown-action finding and the missing permission it causes;
- ``edits``: applying edits, the unified diff.

This module is the public API only, and lazy: importing ``iamgate.fix`` loads neither the planner
nor any writer or parser; each name loads its module on first use.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .edits import apply_fixes, unified_diff
    from .plan import add_fixes
    from .typos import add_typo_fixes

__all__ = ["add_fixes", "add_typo_fixes", "apply_fixes", "unified_diff"]

_HOME = {"add_fixes": ".plan", "add_typo_fixes": ".typos", "apply_fixes": ".edits", "unified_diff": ".edits"}


def __getattr__(name: str) -> Any:
    """``add_fixes``, ``add_typo_fixes``, ``apply_fixes``, ``unified_diff``: imported from their module on first use."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value
