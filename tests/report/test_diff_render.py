"""iamgate diff rendered: how a large change (a managed policy with hundreds of actions and
wildcards) reads as text and as a pull-request comment."""
import re

from iamgate.findings.diff import PermissionDiff, compare
from iamgate.model import Inventory, Policy, Principal, Statement
from iamgate.report.diff import render_markdown, render_text

BUCKET = "arn:aws:s3:::orders-data"
OBJECTS = f"{BUCKET}/*"


def role(*statements, boundary=None, id="R"):
    return Principal(id=id, type="role", identity_policies=(Policy("p", "identity", tuple(statements)),),
                     boundary=Policy("b", "boundary", tuple(boundary)) if boundary else None)


def allow(actions, resources, **kw):
    return Statement("Allow", actions=tuple(actions), resources=tuple(resources), **kw)


def one(base, head):
    diff = compare(Inventory(principals=(base,)), Inventory(principals=(head,)))
    return diff.principals[0] if diff.principals else None


def test_wildcards_are_shown_as_written_and_a_managed_policy_is_named():
    from iamgate.catalog.managed import managed_policy
    send = allow(["sqs:SendMessage"], ["*"])
    d = one(role(send), role(allow(["s3:Get*"], [OBJECTS]), send))
    assert "  + s3:Get* (" in render_text(PermissionDiff("a", "b", (d,)))

    read_only = managed_policy("arn:aws:iam::aws:policy/ReadOnlyAccess")
    head = Principal(id="R", type="role", identity_policies=(read_only,))
    diff = compare(Inventory(principals=(role(),)), Inventory(principals=(head,)))
    (p,) = diff.principals
    assert p.policies_added == ("ReadOnlyAccess",) and p.policies_removed == ("p",)
    assert len(p.gained) > 1000
    md = render_markdown(diff)
    assert len(md) < 65536  # fits a pull-request comment
    assert "- Policy added: `ReadOnlyAccess`" in md
    assert "- **⚠️ New wildcard: Resource `*` for actions of" in md
    assert "new wildcard actions</summary>" in md
    assert set(re.findall(r"</?([a-zA-Z]+)", md)) <= {"details", "summary"}
