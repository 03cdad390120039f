"""The plan cache (sources/terraform/plancache.py): a warm run reads no plan again and reports exactly
what a cold run reports; a plan read with other settings, changed, or shown under another path is
read again; a damaged or foreign entry means reading again, never an error."""
from __future__ import annotations

import json

import pytest

from iamgate.sources import ReadOptions, read_inventory
from iamgate.sources.terraform import plan as plan_module, plancache

from ...cli import run
from .test_rootcache import CORPUS, check, same
from .test_terraform_plan import TRUST, plan, policy_json, resource

PLAN_FOLDERS = [f for f in ("checkov", "terraform-iam-policy-validator") if (CORPUS / f).is_dir()]


@pytest.fixture
def reads(monkeypatch):
    """The plans read (not answered by the plan cache) since the test began, by the path shown."""
    calls = []
    real = plan_module.read

    def counting(path, text, options=None):
        calls.append(path)
        return real(path, text, options)
    monkeypatch.setattr(plan_module, "read", counting)
    return calls


def small_plan(action: str = "sqs:SendMessage") -> str:
    role = resource("aws_iam_role.worker", {"name": "worker", "assume_role_policy": TRUST})
    inline = resource("aws_iam_role_policy.send", {"name": "send", "role": "worker", "policy": policy_json(action)})
    return plan([role, inline])


def test_a_warm_read_is_the_cold_one_without_reading_the_plan(tmp_path, monkeypatch, reads):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plan.json").write_text(small_plan())
    options = ReadOptions(account="111122223333", region="eu-west-1")
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    uncached = read_inventory(["plan.json"], options)
    monkeypatch.delenv("IAMGATE_NO_CACHE")
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "cache"))
    cold = read_inventory(["plan.json"], options)
    warm = read_inventory(["plan.json"], options)
    assert reads == ["plan.json", "plan.json"]  # uncached, cold; the warm read came from the entry
    same(warm, cold)
    same(cold, uncached)
    assert [p.id for p in warm.principals] == ["aws_iam_role.worker"]
    assert len(list((tmp_path / "cache" / plancache.NAMESPACE).iterdir())) == 1


def test_what_the_reading_depends_on_makes_another_entry(tmp_path, monkeypatch, reads):
    """The text, the settings and the path the plan is shown as are in the key; the folder it is
    found in is not (a plan named the same way with the same text is the same reading)."""
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plan.json").write_text(small_plan())
    options = ReadOptions(account="111122223333", region="eu-west-1")
    first = read_inventory(["plan.json"], options)
    read_inventory(["plan.json"], options)
    assert len(reads) == 1
    other_account = read_inventory(["plan.json"], ReadOptions(account="444455556666", region="eu-west-1"))
    assert len(reads) == 2
    (tmp_path / "plan.json").write_text(small_plan("sqs:DeleteMessage"))
    changed = read_inventory(["plan.json"], options)
    assert len(reads) == 3
    assert [s.actions for s in changed.principals[0].identity_policies[-1].statements] == [("sqs:DeleteMessage",)]
    assert first != changed and other_account.principals[0].arn == "arn:aws:iam::444455556666:role/worker"
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "plan.json").write_text(small_plan())
    moved = read_inventory(["sub/plan.json"], options)
    assert len(reads) == 4 and moved.principals[0].location.file == "sub/plan.json"


def test_a_file_that_is_not_a_plan_is_remembered_as_none(tmp_path, monkeypatch, reads):
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "cache"))
    state = json.dumps({"format_version": "1.0", "values": {"root_module": {}}})
    from iamgate.sources.terraform import read_plan
    looks = json.dumps({"format_version": "1.0", "planned_values": "none"})
    for _ in range(2):
        assert read_plan("state.json", state) is None and read_plan("odd.json", looks) is None
    assert reads == ["state.json", "odd.json"]


def test_a_damaged_or_foreign_entry_is_read_again(tmp_path, monkeypatch, reads):
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plan.json").write_text(small_plan())
    before = read_inventory(["plan.json"])
    (entry,) = (tmp_path / "cache" / plancache.NAMESPACE).iterdir()
    good = entry.read_bytes()
    for damage in (b"", b"{not json", json.dumps({"format": plancache.FORMAT, "key": "other", "value": None}).encode(),
                   good.replace(b'"c":"Principal"', b'"c":"Popen"'), json.dumps({"format": plancache.FORMAT,
                   "key": entry.stem, "value": {"c": "Location", "v": ["x", 1, None]}}).encode()):
        entry.write_bytes(damage)
        count = len(reads)
        same(read_inventory(["plan.json"]), before)
        assert len(reads) == count + 1
    assert entry.read_bytes() == good  # written again as it was


def test_a_revision_checked_out_elsewhere_keeps_no_plan(tmp_path, monkeypatch, reads):
    """``diff`` reads the base revision from a new temporary folder at every run, shown under it:
    entries for its plans would never be read again, only pile up."""
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "cache"))
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "plan.json").write_text(small_plan())
    for _ in range(2):
        inv = read_inventory([str(checkout / "plan.json")], cwd=str(checkout))
        assert [p.id for p in inv.principals] == ["aws_iam_role.worker"]
    assert len(reads) == 2 and not (tmp_path / "cache" / plancache.NAMESPACE).exists()


def test_no_cache_means_no_plan_entries(tmp_path, monkeypatch, reads):
    monkeypatch.setenv("IAMGATE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plan.json").write_text(small_plan())
    read_inventory(["plan.json"])
    read_inventory(["plan.json"])
    assert len(reads) == 2 and not (tmp_path / "cache").exists()


@pytest.mark.skipif(not PLAN_FOLDERS, reason="../shared/corpus is not available")
@pytest.mark.parametrize("folder", PLAN_FOLDERS)
def test_a_warm_check_of_the_corpus_plans_reads_none_again(folder, tmp_path, monkeypatch, capsys, reads):
    argv = [str(CORPUS / folder)]
    monkeypatch.setenv("IAMGATE_NO_CACHE", "1")
    uncached = run(capsys, "check", *argv, "--format", "json")[:2]
    cold = check(capsys, monkeypatch, tmp_path / "cache", *argv)
    count = len(reads)
    assert count >= 2
    warm = check(capsys, monkeypatch, tmp_path / "cache", *argv)
    assert warm == cold == uncached
    assert len(reads) == count, "the warm run read plans again"
