"""``iamgate.cache``: a result computed once per distinct source, read back as JSON after."""
from __future__ import annotations

import os

import pytest

from iamgate.cache import cached_json


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("IAMGATE_NO_CACHE", raising=False)
    return tmp_path


def test_a_result_is_computed_once_per_source_and_read_back_equal(cache_dir):
    calls = []

    def compute():
        calls.append(1)
        return {"rules": [{"id": "IG2001", "n": 1.5, "ok": True, "none": None}]}

    first = cached_json("t", "source-a", compute)
    assert cached_json("t", "source-a", compute) == first and len(calls) == 1
    cached_json("t", "source-b", compute)
    assert len(calls) == 2
    assert len(os.listdir(cache_dir / "t")) == 2


def test_what_would_not_read_back_the_same_is_not_stored(cache_dir):
    value = {"pair": (1, 2)}
    assert cached_json("t", "s", lambda: value) is value
    assert not (cache_dir / "t").exists() or os.listdir(cache_dir / "t") == []


def test_a_damaged_entry_is_computed_again_and_no_cache_means_no_files(cache_dir, monkeypatch):
    cached_json("t", "s", lambda: [1])
    (entry,) = (cache_dir / "t").iterdir()
    entry.write_text("{broken")
    assert cached_json("t", "s", lambda: [2]) == [2]
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    assert cached_json("u", "s", lambda: [3]) == [3]
    assert not (cache_dir / "u").exists()


def test_the_shipped_packs_read_through_the_cache_equal_the_packs_read_from_yaml(cache_dir):
    from iamgate.rules.packs import REPO_PACKS, builtin_packs, load_pack, pack_files

    builtin_packs.cache_clear()
    try:
        cold = builtin_packs()
        builtin_packs.cache_clear()
        warm = builtin_packs()  # every pack now from its JSON entry
        assert len(os.listdir(cache_dir / "packs")) == len(pack_files(REPO_PACKS))
        assert warm == cold == tuple(load_pack(f) for f in pack_files(REPO_PACKS))
    finally:
        builtin_packs.cache_clear()


def test_a_wildcards_actions_read_back_from_the_cache_are_those_computed(cache_dir):
    """IG3104's expansion of ``*`` and ``s3:*`` (thousands of catalog look-ups) is kept per catalog
    version and pattern; what the next run reads back is what it would have computed."""
    from iamgate.rules import lint

    for pattern in ("*", "s3:*", "ec2:Describe*", "iam:*Role*"):
        lint._taking_resources.cache_clear()
        computed = lint._taking_resources(pattern)
        lint._taking_resources.cache_clear()
        assert lint._taking_resources(pattern) == computed
    assert len(os.listdir(cache_dir / "wildcards")) == 4
    s3 = lint._taking_resources("s3:*")  # from the cache now
    assert "s3:PutObject" in s3 and "s3:ListAllMyBuckets" not in s3  # that one takes no resource
    lint._taking_resources.cache_clear()


def test_the_unknown_actions_of_an_aws_managed_policy_read_back_equal(cache_dir):
    """IG3004 on an AWS managed policy (thousands of actions) is kept per catalog version: the next
    run's findings are this run's, message and path included."""
    from iamgate.model import Statement
    from iamgate.rules import builtin

    statement = Statement(effect="Allow", actions=("s3:GetObject", "nosuchservice:Get*", "s3:GetObjekt"),
                          resources=("*",))
    computed = [(a, m, p) for a, m, p in builtin._unknown_actions(2, statement)]
    assert builtin._unknown_aws_actions(2, statement) == computed and len(computed) == 2
    assert builtin._unknown_aws_actions(2, statement) == computed  # now from the cache
    assert len(os.listdir(cache_dir / "aws-unknown-actions")) == 1
    assert computed[1][2] == ("Statement", 2, "Action") and "GetObject" in computed[1][1]  # did you mean


def test_the_aws_managed_policy_names_read_back_from_the_cache_are_the_snapshots(cache_dir):
    from iamgate.catalog.managed import policy_names
    from iamgate.rules import lint

    expected = frozenset(policy_names())
    for _ in ("computed and stored", "read back"):
        lint._managed_names.cache_clear()
        assert lint._managed_names() == expected and len(expected) > 1000
    assert [p.name for p in (cache_dir / "aws-managed-names").iterdir()]
    lint._managed_names.cache_clear()
