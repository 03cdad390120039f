"""Effective permissions (engine/permissions.py): what a principal's policies and boundary grant,
which grants cover which, and the keys that match principals across revisions — seen through
compare(), on principals built in the test."""
from iamgate.engine.permissions import effective_permissions, principal_keys
from iamgate.findings.diff import PermissionDiff, compare
from iamgate.model import Condition, Inventory, Principal, Statement
from iamgate.report.diff import render_text

from ..diff_samples import BUCKET, OBJECTS, allow, changes, one, role


def test_service_wildcard_expands_through_the_catalog():
    d = one(role(allow(["s3:GetObject"], [OBJECTS])), role(allow(["s3:*"], [OBJECTS])))
    gained = {c.action for c in d.gained}
    assert "s3:PutObject" in gained and "s3:GetObject" not in gained and len(gained) > 50
    assert [(w.element, w.pattern, w.broad) for w in d.new_wildcards] == [("Action", "s3:*", True)]
    assert "s3:* except s3:GetObject" in render_text(PermissionDiff("a", "b", (d,)))


def test_narrowing_is_a_loss_and_not_a_new_wildcard():
    d = one(role(allow(["s3:GetObject"], ["*"])), role(allow(["s3:GetObject"], [OBJECTS])))
    assert d.gained == () and changes(d.lost) == {("s3:GetObject", "*")} and d.new_wildcards == ()


def test_not_action_is_everything_except():
    d = one(role(allow(["s3:GetObject"], [OBJECTS])),
            role(Statement("Allow", not_actions=("iam:*",), resources=("*",))))
    assert [(c.action, c.grant.except_actions, c.grant.resource) for c in d.gained] == [("*", ("iam:*",), "*")]
    assert {w.element for w in d.new_wildcards} == {"NotAction", "Resource"}
    d = one(role(Statement("Allow", not_actions=("iam:*",), resources=("*",))),
            role(allow(["s3:GetObject", "iam:PassRole"], [OBJECTS])))
    assert changes(d.gained) == {("iam:PassRole", OBJECTS)}  # s3:GetObject was covered by NotAction


def test_boundary_limits_what_counts():
    boundary = [allow(["s3:Get*"], [OBJECTS])]
    d = one(role(allow(["s3:GetObject"], ["*"])), role(allow(["s3:GetObject"], ["*"]), boundary=boundary))
    assert d.gained == () and changes(d.lost) == {("s3:GetObject", "*")}
    perms = effective_permissions(Inventory(principals=(role(allow(["s3:GetObject", "sqs:SendMessage"], ["*"]),
                                                             boundary=boundary),)))
    assert perms["R"] == {("Allow", "s3:GetObject"): perms["R"][("Allow", "s3:GetObject")]}
    assert {g.resource for g in perms["R"][("Allow", "s3:GetObject")]} == {OBJECTS}


def test_conditions_are_a_marker():
    vpc = (Condition("StringEquals", "aws:SourceVpc", ("vpc-1",)),)
    d = one(role(allow(["s3:GetObject"], ["*"], conditions=vpc)), role(allow(["s3:GetObject"], ["*"])))
    assert changes(d.gained) == {("s3:GetObject", "*")} and d.lost == ()
    d = one(role(allow(["s3:GetObject"], ["*"])), role(allow(["s3:GetObject"], ["*"], conditions=vpc)))
    assert d.gained == () and [c.grant.conditional for c in d.lost] == [False]
    added = compare(Inventory(), Inventory(principals=(role(allow(["s3:GetObject"], ["*"], conditions=vpc)),)))
    assert "(conditional: aws:SourceVpc)" in render_text(added)


def test_spelling_and_redundant_grants_are_not_changes():
    assert one(role(allow(["S3:getobject"], [OBJECTS])), role(allow(["s3:GetObject"], [OBJECTS]))) is None
    assert one(role(allow(["s3:GetObject"], [OBJECTS])),
               role(allow(["s3:GetObject"], [OBJECTS]), allow(["s3:GetObject"], [f"{BUCKET}/x/*"]))) is None
    var = f"{BUCKET}/${{aws:username}}/*"
    assert one(role(allow(["s3:GetObject"], [var])), role(allow(["s3:GetObject"], [var]))) is None


def test_principal_keys_are_ids_disambiguated_by_file():
    from iamgate.model import Location
    a = Principal(id="WorkerRole", type="role", location=Location("a.yaml", 3))
    b = Principal(id="WorkerRole", type="role", location=Location("b.yaml", 3))
    c = Principal(id="aws_iam_role.x", type="role", aliases=("aws_iam_role.x", "x"))
    assert list(principal_keys([a, b, c])) == ["WorkerRole (a.yaml)", "WorkerRole (b.yaml)", "aws_iam_role.x"]
