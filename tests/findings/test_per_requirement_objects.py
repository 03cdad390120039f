"""The objects ``check`` makes for every requirement (issue 15: 100,000 requirements under 300 MB)
have slots, not a dict each: a requirement, its decision, the trace entries that explain a denial
and its outcome were 30 MB more at 100,000 requirements with one."""
import pytest

from iamgate.model import Decision, Outcome, Requirement, TraceEntry


@pytest.mark.parametrize("cls", [Requirement, TraceEntry, Decision, Outcome])
def test_made_per_requirement_without_a_dict(cls: type) -> None:
    assert "__dict__" not in dir(cls) and hasattr(cls, "__slots__")


def test_still_frozen_hashable_and_equal_by_value() -> None:
    a = Requirement("R", "s3:GetObject", "arn:aws:s3:::b/*", {"aws:SourceIp": ("10.0.0.1",)})
    b = Requirement("R", "s3:GetObject", "arn:aws:s3:::b/*", {"aws:SourceIp": ("10.0.0.1",)})
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    with pytest.raises(AttributeError):
        a.action = "s3:PutObject"  # type: ignore[misc]
    d = Decision("implicit_deny", ("identity",))
    assert d == Decision("implicit_deny", ("identity",)) and not d.allowed
