"""iamgate diff rendered: how a large change (a managed policy with hundreds of actions and
wildcards) reads as text and as a pull-request comment."""
import re

from iamgate.findings.diff import PermissionDiff, compare
from iamgate.model import Inventory, Principal
from iamgate.report.diff import render_markdown, render_text

from ..diff_samples import OBJECTS, allow, one, role


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
