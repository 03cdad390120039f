"""Terraform deploy permissions: what creating, updating, deleting and reading each AWS provider
resource or data-source type takes, from iamgate's vendored copy of pike's mappings
(``iamgate/data/terraform-permissions.json.gz``, Apache-2.0; see ``terraform-permissions.NOTICE``).

The file is built by ``scripts/build_terraform_permissions.py``, which validates every action
against the IAM catalog (spelling fixed, unambiguous misspellings corrected, unknown names dropped;
the lists are kept in the file's ``build`` object), so every action served here is one IAM knows
(or a pattern that matches some).

pike's own use of a mapping (``GetPermissionMap`` in pike's scanner) is the union of its four lists
(``apply``, ``plan``, ``modify``, ``destroy``) plus the ``attributes`` entries of the arguments the
configuration sets: a policy for the resource's whole life. Its lists split that union loosely (many
files put a resource's reads under ``apply``; ``plan`` is filled for a minority of resources), so a
check of a full ``terraform apply`` + ``destroy`` cycle should require all four operations.
pike's lists map onto :data:`iamgate.catalog.deploy.OPERATIONS` as follows:

* managed resources (``mode="managed"``): create = ``apply``, update = ``modify``, delete =
  ``destroy``, read = ``plan`` (what ``terraform plan`` needs to refresh the resource; pike lists
  many of a resource's reads under ``apply`` instead, as ``apply`` is what its tests exercise);
* data sources (``mode="data"``): a data source is only ever read (during ``plan``, and again
  during ``apply``), so read = the union of the lists, as pike uses them (pike puts a data source's
  reads under ``plan`` in most files and under ``apply`` in a few) and create/update/delete are
  empty.

``conditional`` is pike's ``attributes``: the extra actions an argument needs when it is set
(``aws_s3_bucket``'s ``tags`` -> ``s3:PutBucketTagging``). A type the data does not map is
``known=False``: its deploy requirements are unknown, not empty.

Importing this module reads nothing; the first lookup decompresses and parses the file (~20 ms),
kept for the process. :func:`backend_actions` gives what the ``s3`` state backend needs.
"""
from __future__ import annotations

import gzip
import json
import threading
from functools import lru_cache
from importlib import resources
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .deploy import DeployActions, DeployDataError

__all__ = ["actions", "backend_actions", "data_info", "known_types", "DATA_FILE", "NOTICE_FILE",
           "BACKEND_DOCS"]

DATA_FILE = "terraform-permissions.json.gz"
NOTICE_FILE = "terraform-permissions.NOTICE"
SOURCE_FILE = "terraform-permissions.source.json"
_MODES = {"managed": "resource", "resource": "resource", "data": "data"}

_lock = threading.Lock()
_snapshot: Optional[Dict[str, Any]] = None


def _load() -> Dict[str, Any]:
    global _snapshot
    if _snapshot is None:
        try:
            blob = resources.files("iamgate").joinpath("data", DATA_FILE).read_bytes()
            data = json.loads(gzip.decompress(blob).decode("utf-8"))
        except (OSError, ValueError, EOFError) as exc:
            raise DeployDataError(
                f"the Terraform deploy permissions (iamgate/data/{DATA_FILE}) cannot be read: {exc}; "
                "reinstall iamgate or rebuild it with scripts/build_terraform_permissions.py") from None
        if not isinstance(data, dict) or not isinstance(data.get("types"), dict):
            raise DeployDataError(f"iamgate/data/{DATA_FILE} has an unexpected shape")
        with _lock:
            _snapshot = _snapshot or data
    return _snapshot


def _group(mode: str) -> Mapping[str, Any]:
    try:
        key = _MODES[mode]
    except KeyError:
        raise ValueError(f"mode must be 'managed' or 'data', not {mode!r}") from None
    group = _load()["types"].get(key)
    return group if isinstance(group, dict) else {}


def _tuple(values: Any) -> Tuple[str, ...]:
    return tuple(v for v in values if isinstance(v, str)) if isinstance(values, list) else ()


def actions(type: str, mode: str = "managed") -> DeployActions:  # noqa: A002 - the Terraform word
    """What deploying one resource (``mode="managed"``) or reading one data source (``"data"``)
    of Terraform type ``type`` takes. ``known=False`` when the data has no mapping for it (or
    ``type`` is not a string).

    Raises :class:`DeployDataError` when the vendored file is missing or unreadable, ValueError
    for a mode other than ``managed`` (``resource``) or ``data``."""
    if not isinstance(type, str):
        _group(mode)  # the same errors as for a string
        return DeployActions(type=str(type), known=False)
    return _actions(type, mode)


@lru_cache(maxsize=None)
def _actions(type: str, mode: str) -> DeployActions:  # noqa: A002
    entry = _group(mode).get(type)
    if not isinstance(entry, dict):
        return DeployActions(type=str(type), known=False)
    attributes = entry.get("attributes")
    conditional = {str(k): _tuple(v) for k, v in attributes.items()} if isinstance(attributes, dict) else {}
    if _MODES[mode] == "data":
        read = tuple(sorted({a for op in ("plan", "apply", "modify", "destroy") for a in _tuple(entry.get(op))}))
        return DeployActions(type=type, read=read, conditional=conditional)
    # pike lists most of a type's calls under apply (its own scanner grants the union): an update is
    # modify plus apply's calls that neither create nor delete, a refresh plan plus apply's reads
    apply, modify, plan = _tuple(entry.get("apply")), _tuple(entry.get("modify")), _tuple(entry.get("plan"))
    update = tuple(dict.fromkeys(modify + tuple(a for a in apply if not _verb(a, ("Create", "Delete")))))
    read = tuple(dict.fromkeys(plan + tuple(a for a in apply if _verb(a, _READS))))
    return DeployActions(type=type, create=apply, update=update, delete=_tuple(entry.get("destroy")), read=read,
                         conditional=conditional)


_READS = ("Get", "Describe", "List", "Head")


def _verb(action: str, verbs: Tuple[str, ...]) -> bool:
    return action.partition(":")[2].startswith(verbs)


def known_types(mode: str = "managed") -> Tuple[str, ...]:
    """Every type of that mode the data maps, sorted."""
    return tuple(sorted(_group(mode)))


def data_info() -> Dict[str, str]:
    """Which data is vendored, for reports: ``{"repository", "path", "commit", "date", "license",
    "line"}`` (read from the small file written beside the data, so the data need not be loaded)."""
    try:
        text = resources.files("iamgate").joinpath("data", SOURCE_FILE).read_text("utf-8")
        info = json.loads(text)
        if isinstance(info, dict):
            return {str(k): str(v) for k, v in info.items()}
    except (OSError, ValueError):
        pass
    return {str(k): str(v) for k, v in dict(_load().get("source") or {}).items()}


# ---------------------------------------------------------------------------------------------
# The S3 state backend

BACKEND_DOCS = "https://developer.hashicorp.com/terraform/language/backend/s3"

_REGION_PARTITIONS = (("us-isob-", "aws-iso-b"), ("us-iso-", "aws-iso"), ("us-gov-", "aws-us-gov"),
                      ("cn-", "aws-cn"))


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() == "true"


def backend_actions(config: Mapping[str, Any], workspace: str = "default",
                    account: Optional[str] = None) -> Tuple[Tuple[str, str], ...]:
    """The ``(action, resource ARN)`` pairs Terraform needs on a ``backend "s3"`` block's state
    storage (``config``: its arguments; ``Resource.properties`` of the HCL reader's
    ``terraform.backend`` pseudo-resource), as the Terraform S3 backend documentation lists them
    (:data:`BACKEND_DOCS`, "Permissions Required"):

    * ``s3:ListBucket`` on the bucket;
    * ``s3:GetObject``, ``s3:PutObject`` on the state object (never ``s3:DeleteObject``: Terraform
      does not delete the state);
    * with ``use_lockfile = true`` (S3-native locking): ``s3:GetObject``, ``s3:PutObject``,
      ``s3:DeleteObject`` on the lock file, the state object's key + ``.tflock``;
    * with ``dynamodb_table`` (DynamoDB locking, deprecated but supported): ``dynamodb:DescribeTable``,
      ``dynamodb:GetItem``, ``dynamodb:PutItem``, ``dynamodb:DeleteItem`` on the table, in the
      backend's region (``dynamodb_table`` may also be a table ARN) and ``account`` (default: the
      stand-in ``model.ASSUMED_ACCOUNT``).

    The state object is ``key`` in the ``default`` workspace; in any other workspace it is
    ``<workspace_key_prefix>/<workspace>/<key>`` (prefix ``env:`` unless set), as the backend
    stores it. A configuration file does not say which workspace runs, so ``workspace`` defaults to
    ``default``. The partition follows ``region`` (``cn-…`` -> ``aws-cn``…). Without a bucket
    (partial configuration given at ``terraform init``), nothing is returned; without a key, only
    the bucket permission.
    """
    if not isinstance(config, Mapping):
        return ()
    bucket = _text(config.get("bucket"))
    if bucket is None:
        return ()
    region = _text(config.get("region")) or "us-east-1"
    partition = next((p for prefix, p in _REGION_PARTITIONS if region.startswith(prefix)), "aws")
    out: List[Tuple[str, str]] = [("s3:ListBucket", f"arn:{partition}:s3:::{bucket}")]
    key = _text(config.get("key"))
    if key is not None:
        if workspace and workspace != "default":
            prefix = _text(config.get("workspace_key_prefix")) or "env:"
            key = f"{prefix}/{workspace}/{key}"
        state = f"arn:{partition}:s3:::{bucket}/{key}"
        out += [("s3:GetObject", state), ("s3:PutObject", state)]
        if _flag(config.get("use_lockfile")):
            lock = state + ".tflock"
            out += [("s3:GetObject", lock), ("s3:PutObject", lock), ("s3:DeleteObject", lock)]
    table = _text(config.get("dynamodb_table"))
    if table is not None:
        if table.startswith("arn:"):
            table_arn = table
        else:
            from ..model import ASSUMED_ACCOUNT
            table_arn = f"arn:{partition}:dynamodb:{region}:{account or ASSUMED_ACCOUNT}:table/{table}"
        out += [(a, table_arn) for a in ("dynamodb:DescribeTable", "dynamodb:GetItem",
                                         "dynamodb:PutItem", "dynamodb:DeleteItem")]
    return tuple(out)
