"""Tests for iamgate.model: the hand-written ``__init__`` of the classes made by the ten thousand
is the one ``dataclass`` would write."""
from __future__ import annotations

import dataclasses
import inspect

import pytest

from iamgate.model import Condition, Location, Statement, TraceEntry

WRITTEN_OUT = [Statement, TraceEntry]


def _twin(cls: type) -> type:
    """``cls`` as ``@dataclass(frozen=True)`` makes it (with slots if it has them): same fields,
    generated ``__init__``."""
    return dataclasses.make_dataclass(cls.__name__, [(f.name, f.type, f) for f in dataclasses.fields(cls)],
                                      frozen=True, slots="__slots__" in cls.__dict__)


def _stored(value: object) -> dict:
    """What an instance holds: its ``__dict__``, or its slots' values."""
    if hasattr(value, "__dict__"):
        return vars(value)
    return {name: getattr(value, name) for name in type(value).__slots__}  # type: ignore[attr-defined]


def _shape(cls: type) -> list:
    return [(p.name, p.kind, p.default) for p in inspect.signature(cls.__init__).parameters.values()]


@pytest.mark.parametrize("cls", WRITTEN_OUT)
def test_the_written_init_takes_what_the_generated_one_takes(cls: type) -> None:
    assert _shape(cls) == _shape(_twin(cls))


SAMPLES = {
    Statement: [("Allow",), ("Deny", ("s3:*",), None, ("*",), None, {"AWS": ("*",)}, None,
                             (Condition("StringEquals", "aws:SourceVpc", ("vpc-1",)),), "S1",
                             Location("p.json", 2), frozenset({"Action"}))],
    TraceEntry: [("identity", "inline", Statement("Allow"), "applied"),
                 ("scp", "guard", Statement("Deny", ("s3:*",)), "near-miss", "condition",
                  ((Condition("StringEquals", "aws:SourceVpc", ("vpc-1",)), ("vpc-2",)),))],
}


@pytest.mark.parametrize("cls", WRITTEN_OUT)
def test_the_written_init_stores_what_the_generated_one_stores(cls: type) -> None:
    twin = _twin(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for args in SAMPLES[cls]:
        made, expected = cls(*args), twin(*args)
        assert _stored(made) == _stored(expected)
        assert cls(**dict(zip(names, args))) == made and hash(cls(*args)) == hash(made)
        assert dataclasses.replace(made) == made
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(made, names[0], None)


def test_a_deferred_location_is_found_once_when_first_read() -> None:
    """``Statement(..., location=Deferred(find))`` calls ``find`` the first time ``location`` is
    read, and is then the statement made with what it found: equal, same hash, same repr, and
    pickled, copied and replaced as that one."""
    import copy
    import pickle

    from iamgate.model import Deferred

    where = Location("export.json", 7, 9)
    calls: list = []

    def find() -> Location:
        calls.append(1)
        return where

    args = ("Allow", ("s3:GetObject",), None, ("*",))
    plain = Statement(*args, location=where)
    assert Statement.location is None  # the field's default, on the class
    made = Statement(*args, location=Deferred(find))
    assert not calls and "location" not in vars(made)
    assert made.location == where and made.location is where and calls == [1]
    assert made == plain and hash(made) == hash(plain) and repr(made) == repr(plain) and calls == [1]
    for fresh in (lambda: pickle.loads(pickle.dumps(Statement(*args, location=Deferred(find)))),
                  lambda: copy.deepcopy(Statement(*args, location=Deferred(find))),
                  lambda: dataclasses.replace(Statement(*args, location=Deferred(find))),
                  lambda: Statement(*args, location=Deferred(find))):
        other = fresh()
        assert other == plain and vars(other) == vars(Statement(*args, location=where)) | {"location": where}
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.location = None  # type: ignore[misc]
