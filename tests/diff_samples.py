"""Principals built in the test and compared across two revisions, shared by the tests of effective
permissions (engine/test_permissions.py), of diff (findings/test_diff.py) and of its rendering
(report/test_diff_render.py)."""
from iamgate.findings.diff import compare
from iamgate.model import Inventory, Policy, Principal, Statement

BUCKET = "arn:aws:s3:::orders-data"
OBJECTS = f"{BUCKET}/*"


def changes(items):
    return {(c.action, c.grant.resource) for c in items}


def role(*statements, boundary=None, id="R"):
    return Principal(id=id, type="role", identity_policies=(Policy("p", "identity", tuple(statements)),),
                     boundary=Policy("b", "boundary", tuple(boundary)) if boundary else None)


def allow(actions, resources, **kw):
    return Statement("Allow", actions=tuple(actions), resources=tuple(resources), **kw)


def one(base, head):
    """The one principal's changes from ``base`` to ``head`` (None when nothing changed)."""
    diff = compare(Inventory(principals=(base,)), Inventory(principals=(head,)))
    return diff.principals[0] if diff.principals else None
