"""Terraform deploy permissions (issue 13): the vendored pike data, validated against the IAM
catalog; ``catalog.terraform.actions``; the S3 state backend's permissions; the build script."""
import gzip
import importlib.util
import json
from importlib import resources
from pathlib import Path

import pytest

from iamgate import catalog
from iamgate.catalog import terraform
from iamgate.catalog.deploy import DeployActions, DeployDataError

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_terraform_permissions.py"
DATA = resources.files("iamgate").joinpath("data")


def _snapshot():
    return json.loads(gzip.decompress(DATA.joinpath(terraform.DATA_FILE).read_bytes()))


def _all_actions(snapshot):
    for mode, types in snapshot["types"].items():
        for tf_type, entry in types.items():
            for op in ("plan", "apply", "modify", "destroy"):
                for action in entry.get(op, ()):
                    yield f"{mode}.{tf_type}.{op}", action
            for attr, acts in entry.get("attributes", {}).items():
                for action in acts:
                    yield f"{mode}.{tf_type}.attributes.{attr}", action


# --- the vendored data -------------------------------------------------------------------------


def test_every_action_in_the_vendored_data_is_one_the_catalog_knows():
    snapshot = _snapshot()
    seen = 0
    bad = []
    for where, action in _all_actions(snapshot):
        seen += 1
        if "*" in action or "?" in action:
            if not catalog.expand_action(action):
                bad.append((where, action))
        elif catalog.canonical_action(action) != action:  # known, and in the catalog's spelling
            bad.append((where, action))
    assert seen > 10000
    assert bad == []


def test_the_data_records_its_source_and_build():
    snapshot = _snapshot()
    assert snapshot["source"]["repository"] == "JamesWoolfenden/pike"
    assert snapshot["source"]["license"] == "Apache-2.0"
    build = snapshot["build"]
    assert build["corrected"]["iam:ListRole"] == ["iam:ListRoles"]
    assert build["corrected"]["sns:Publish sns:GetTopicAttributes"] == ["sns:Publish", "sns:GetTopicAttributes"]
    assert "evidently:CreateFeature" in build["dropped"]  # a retired service
    assert "iam:assumeRole" in build["dropped"]  # sts:AssumeRole is another service: not guessed
    assert "events:CreateRule" in build["dropped"]  # events:DeleteRule is near, but another verb
    assert build["counts"]["resource"] == len(snapshot["types"]["resource"]) > 1000
    info = terraform.data_info()
    assert info == {k: snapshot["source"][k] for k in info}
    assert {"repository", "commit", "date", "license"} <= set(info)
    notice = DATA.joinpath(terraform.NOTICE_FILE).read_text(encoding="utf-8")
    assert "https://github.com/JamesWoolfenden/pike" in notice and info["commit"] in notice
    assert "Apache License" in notice and "TERMS AND CONDITIONS" in notice
    assert "scripts/build_terraform_permissions.py" in notice


def test_s3_bucket_create_and_delete():
    a = terraform.actions("aws_s3_bucket")
    assert a.known and a.type == "aws_s3_bucket"
    assert "s3:CreateBucket" in a.create
    assert "s3:DeleteBucket" in a.delete
    assert "s3:ListBucket" in a.read and "s3:GetBucketPolicy" in a.read
    assert a.of("create") == a.create
    assert a.problems == ()


def test_an_argument_dependent_permission():
    a = terraform.actions("aws_s3_bucket")
    assert a.conditional["tags"] == ("s3:PutBucketTagging",)
    assert "s3:PutBucketObjectLockConfiguration" in a.conditional["object_lock_enabled"]
    assert "s3:PutBucketTagging" not in a.create  # only when tags are set


def test_data_sources_only_read():
    a = terraform.actions("aws_s3_bucket", mode="data")
    assert a == DeployActions(type="aws_s3_bucket", read=("s3:ListBucket",))
    assert (a.create, a.update, a.delete) == ((), (), ())
    # a data source pike maps under "apply" reads those actions too
    snapshot = _snapshot()
    applied = sorted(t for t, e in snapshot["types"]["data"].items() if e.get("apply"))
    assert applied
    entry = snapshot["types"]["data"][applied[0]]
    assert set(terraform.actions(applied[0], "data").read) == set(entry.get("plan", []) + entry["apply"])
    # a data source that calls no IAM-authorized API is known with nothing to allow
    assert terraform.actions("aws_iam_policy_document", "data") == DeployActions(type="aws_iam_policy_document")
    # ... but one pike lists without a mapping is unknown, not free
    assert terraform.actions("aws_s3_object", "data").known is False


def test_unknown_type_is_unknown_not_empty():
    a = terraform.actions("aws_no_such_thing")
    assert a.known is False and a.create == a.read == ()
    assert terraform.actions("aws_iam_policy_document").known is False  # a data source, not a resource
    assert terraform.actions(None).known is False  # odd input: no crash
    with pytest.raises(ValueError):
        terraform.actions("aws_s3_bucket", mode="module")


def test_missing_vendored_file_is_a_deploy_data_error(monkeypatch, tmp_path):
    class Files:
        def joinpath(self, *parts):
            return tmp_path.joinpath(*parts)

    monkeypatch.setattr(terraform, "_snapshot", None)
    monkeypatch.setattr(terraform.resources, "files", lambda package: Files())
    terraform._actions.cache_clear()
    try:
        with pytest.raises(DeployDataError, match="terraform-permissions.json.gz"):
            terraform.actions("aws_s3_bucket")
    finally:
        terraform._actions.cache_clear()


# --- the S3 backend ----------------------------------------------------------------------------


def test_backend_state_object_and_bucket():
    assert terraform.backend_actions({"bucket": "acme-tfstate", "key": "net/terraform.tfstate",
                                      "region": "eu-west-1"}) == (
        ("s3:ListBucket", "arn:aws:s3:::acme-tfstate"),
        ("s3:GetObject", "arn:aws:s3:::acme-tfstate/net/terraform.tfstate"),
        ("s3:PutObject", "arn:aws:s3:::acme-tfstate/net/terraform.tfstate"),
    )


def test_backend_lockfile_and_dynamodb_table():
    got = terraform.backend_actions({"bucket": "acme-tfstate", "key": "net/terraform.tfstate",
                                     "region": "eu-west-1", "dynamodb_table": "tf-locks",
                                     "use_lockfile": True}, account="111122223333")
    lock = "arn:aws:s3:::acme-tfstate/net/terraform.tfstate.tflock"
    table = "arn:aws:dynamodb:eu-west-1:111122223333:table/tf-locks"
    assert got[3:] == (("s3:GetObject", lock), ("s3:PutObject", lock), ("s3:DeleteObject", lock),
                       ("dynamodb:DescribeTable", table), ("dynamodb:GetItem", table),
                       ("dynamodb:PutItem", table), ("dynamodb:DeleteItem", table))
    for action, _ in got:
        assert catalog.canonical_action(action) == action
    # no lock file unless asked for; the state object is never deleted
    plain = terraform.backend_actions({"bucket": "b", "key": "k", "use_lockfile": False})
    assert [a for a, _ in plain] == ["s3:ListBucket", "s3:GetObject", "s3:PutObject"]


def test_backend_workspaces_partition_and_odd_input():
    cfg = {"bucket": "b", "key": "app/state", "region": "cn-north-1", "workspace_key_prefix": "ws"}
    got = dict((arn, a) for a, arn in terraform.backend_actions(cfg, workspace="staging"))
    assert "arn:aws-cn:s3:::b/ws/staging/app/state" in got
    got = terraform.backend_actions({"bucket": "b", "key": "k"}, workspace="dev")
    assert got[1] == ("s3:GetObject", "arn:aws:s3:::b/env:/dev/k")  # the default prefix
    assert terraform.backend_actions({"bucket": None, "key": "k"}) == ()  # partial configuration
    assert terraform.backend_actions({"bucket": "b", "key": None}) == (("s3:ListBucket", "arn:aws:s3:::b"),)
    assert terraform.backend_actions("not a mapping") == ()
    assert terraform.backend_actions({"bucket": "b", "key": "k", "use_lockfile": "true"})[-1] == \
        ("s3:DeleteObject", "arn:aws:s3:::b/k.tflock")


# --- the build script --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("build_terraform_permissions", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _tiny_source(path: Path) -> Path:
    path.write_text(json.dumps({
        "license": "Apache-2.0",
        "source": "JamesWoolfenden/pike src/mapping/aws @0123456789ab (2026-01-02)",
        "types": {
            "resource": {
                "aws_sqs_queue": {
                    "apply": ["sqs:CreateQueue", "SQS:getqueueattributes", "sqs:DeleteQueue"],
                    "attributes": {"tags": ["sqs:TagQueue"], "policy": []},
                    "destroy": ["sqs:DeleteQueue"],
                    "modify": ["sqs:SetQueueAtributes"],  # misspelt: corrected
                    "plan": ["sqs:GetQueueAttributes", "sqs:Frobnicate", "ec2:Describe*"],  # impossible: dropped
                },
                "aws_unmapped_thing": [],
                "template": {"apply": ["sqs:CreateQueue"]},
            },
            "data": {"aws_region": [], "aws_sqs_queue": {"plan": ["sqs:GetQueueUrl"], "apply": []}},
        },
    }))
    return path


def test_build_corrects_a_misspelling_and_drops_the_impossible(build, tmp_path, capsys):
    src = _tiny_source(tmp_path / "src.json")
    out = tmp_path / "out" / "terraform-permissions.json.gz"
    assert build.main([str(src), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "corrected (1):\n  sqs:SetQueueAtributes -> sqs:SetQueueAttributes\n" in printed
    assert "dropped (1):\n  sqs:Frobnicate\n" in printed
    assert "types: 1 resource, 2 data" in printed
    snap = json.loads(gzip.decompress(out.read_bytes()))
    assert snap["types"]["resource"] == {"aws_sqs_queue": {
        "apply": ["sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes"],  # case fixed, sorted
        "attributes": {"tags": ["sqs:TagQueue"]},
        "destroy": ["sqs:DeleteQueue"],
        "modify": ["sqs:SetQueueAttributes"],
        "plan": ["ec2:Describe*", "sqs:GetQueueAttributes"],
    }}
    assert snap["types"]["data"] == {"aws_region": {}, "aws_sqs_queue": {"plan": ["sqs:GetQueueUrl"]}}
    assert snap["build"]["corrected"] == {"sqs:SetQueueAtributes": ["sqs:SetQueueAttributes"]}
    assert snap["build"]["dropped"] == ["sqs:Frobnicate"]
    assert snap["build"]["case_fixed"] == 1
    assert snap["build"]["unknown_types"] == ["resource.aws_unmapped_thing", "resource.template"]
    assert snap["source"] == {"line": "JamesWoolfenden/pike src/mapping/aws @0123456789ab (2026-01-02)",
                              "repository": "JamesWoolfenden/pike", "path": "src/mapping/aws",
                              "commit": "0123456789ab", "date": "2026-01-02", "license": "Apache-2.0"}
    assert json.loads((out.parent / "terraform-permissions.source.json").read_text()) == snap["source"]
    notice = (out.parent / "terraform-permissions.NOTICE").read_text()
    assert "0123456789ab" in notice and "Apache License" in notice


def test_build_is_deterministic(build, tmp_path):
    src = _tiny_source(tmp_path / "src.json")
    first, _ = build.build(src)
    second, _ = build.build(src)
    assert first == second
    assert first[4:8] == b"\0\0\0\0"  # gzip mtime 0


def test_correction_rule_is_conservative(build):
    assert build.validate("ec2:DeleteVpcEndpoint") == ("corrected", ("ec2:DeleteVpcEndpoints",))
    assert build.validate("lambda:Invoke") == ("corrected", ("lambda:InvokeFunction",))  # curated alias
    assert build.validate("ec2:createvpc") == ("case", ("ec2:CreateVpc",))
    assert build.validate("s3:GetObject*") == ("ok", ("s3:GetObject*",))
    for impossible in ("events:CreateRule", "iam:CreateServiceLinked", "TagResource", "nosuch:Thing",
                       "s3:GetBucketAnalyticsConfiguration", 7, "", None):
        assert build.validate(impossible) == ("dropped", ()), impossible
    assert build.distance("ab", "ba") == 1 and build.distance("Kitten", "sitting") == 3


def test_the_vendored_file_is_what_the_script_builds_from_the_shared_source(build):
    src = Path("/work/shared/data/terraform-permissions.json")
    if not src.is_file():
        pytest.skip("pike's gathered mappings are not on this machine")
    blob, snap = build.build(src)
    if snap["build"]["catalog"] != _snapshot()["build"]["catalog"]:
        pytest.skip("another IAM catalog version: the build may differ")
    assert blob == DATA.joinpath(terraform.DATA_FILE).read_bytes()
