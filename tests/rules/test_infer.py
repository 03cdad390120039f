"""rules/infer.py: the paths, conditions and templates the ``infer:`` entries of the packs are written in."""
from iamgate.model import Inventory, Principal, Resource, ResourceRef, Settings
from iamgate.rules.infer import infer, values_at
from iamgate.rules.packs import PackError, load_pack

import pytest

SETTINGS = Settings(account="000000000000")
ROLE = Principal(id="ExecRole", type="role", arn="arn:aws:iam::000000000000:role/exec")


def rules(entries: str):
    """The rules of a one-rule pack whose ``infer:`` is ``entries`` (YAML, indented 6)."""
    text = ("pack: t\nroles: {T::Fn: Role}\nrules:\n  - id: IG9990\n    name: t\n    severity: error\n"
            "    title: t\n    url: https://example.com\n"
            "    docs: {what: w, why: w, example: e, fix: f}\n    infer:\n" + entries)
    return load_pack("t.yaml", text).rules


def inferred(entries: str, *resources: Resource):
    found = infer(Inventory(principals=(ROLE,), resources=resources), rules(entries), {"T::Fn": "Role"}, SETTINGS)
    return sorted((i.requirement.action, i.requirement.resource, i.unknown) for i in found)


# ------------------------------------------------------------------ lambda helper: json step, matches,
# {match:NAME}, the path ``self``, ARN-valued attributes

def test_json_step_reads_a_json_string_and_nothing_else():
    props = {"defs": '[{"image": "a"}, {"image": "b"}]', "bad": "[not json", "json": {"x": 1}}
    assert values_at(props, "defs.json.*.image", {}) == ["a", "b"]
    assert values_at(props, "bad.json", {}) == []
    assert values_at(props, "json.x", {}) == [1]  # a property named json is still a property
    assert values_at({"defs": None}, "defs.json", {}) == []


TASK = """\
      - types: [T::Task]
        for_each: defs.json.*
        when: [{path: item.image, matches: '^(?P<account>[0-9]{12})[.]dkr[.]ecr[.](?P<region>[a-z0-9-]+)[.]amazonaws[.]com/(?P<repo>[^:@]+)'}]
        principal: {role: role}
        needs:
          - {actions: [ecr:BatchGetImage], resource: "arn:{partition}:ecr:{match:region}:{match:account}:repository/{match:repo}"}
"""


def test_matches_groups_are_template_fields_per_item():
    task = Resource("task", "T::Task", properties={
        "role": ResourceRef("ExecRole", "Arn", ROLE.arn),
        "defs": '[{"image": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/web:1"},'
                ' {"image": "nginx:1.27"}, {"image": 7},'
                ' {"image": "000000000000.dkr.ecr.us-east-1.amazonaws.com/api@sha256:00"}]'})
    assert inferred(TASK, task) == [
        ("ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:111122223333:repository/team/web", ""),
        ("ecr:BatchGetImage", "arn:aws:ecr:us-east-1:000000000000:repository/api", "")]


def test_matches_reads_the_value_a_reference_resolves_to():
    entry = TASK.replace("defs.json.*", "items.*").replace("item.image", "item")
    ref = Resource("task", "T::Task", properties={"role": ResourceRef("ExecRole", "Arn", ROLE.arn), "items": [
        ResourceRef("repo", "RepositoryUri", "000000000000.dkr.ecr.us-east-1.amazonaws.com/web"),
        ResourceRef("unknown", "RepositoryUri", None)]})
    assert inferred(entry, ref) == [("ecr:BatchGetImage", "arn:aws:ecr:us-east-1:000000000000:repository/web", "")]


def test_a_match_field_without_its_condition_is_unknown():
    entry = """\
      - types: [T::Fn]
        principal: {self: true}
        needs: [{actions: [logs:PutLogEvents], resource: "log-group:{match:name}"}]
"""
    fn = Resource("fn", "T::Fn", arn="arn:aws:lambda:us-east-1:000000000000:function:worker",
                  properties={"Role": ResourceRef("ExecRole", "Arn", ROLE.arn)})
    [(action, resource, unknown)] = inferred(entry, fn)
    assert resource == "*" and "{match:name}" in unknown


def test_self_is_the_resources_own_arn():
    entry = """\
      - types: [T::Fn]
        when: [{path: self, matches: ':function:(?P<name>[^:]+)$'}]
        principal: {self: true}
        needs: [{actions: [logs:PutLogEvents], resource: "arn:{partition}:logs:{region}:{account}:log-group:/aws/lambda/{match:name}:*"}]
"""
    fn = Resource("fn", "T::Fn", arn="arn:aws:lambda:us-east-1:000000000000:function:stack-Worker-1A2B",
                  properties={"Role": ResourceRef("ExecRole", "Arn", ROLE.arn)})
    assert inferred(entry, fn) == [
        ("logs:PutLogEvents", "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/stack-Worker-1A2B:*", "")]
    assert inferred(entry, Resource("fn", "T::Fn", properties=fn.properties)) == []  # no ARN: nothing


def test_an_arn_valued_attribute_is_that_arn_not_the_resources():
    entry = """\
      - types: [T::Mapping]
        principal: {role: role}
        needs: [{actions: [dynamodb:GetRecords], resource: "{arn:source}"}]
"""
    table = Resource("orders", "T::Table", arn="arn:aws:dynamodb:us-east-1:000000000000:table/orders")
    stream = "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2024"
    mapping = Resource("m", "T::Mapping", properties={"role": ResourceRef("ExecRole", "Arn", ROLE.arn),
                                                      "source": ResourceRef("orders", "StreamArn", stream)})
    assert inferred(entry, table, mapping) == [("dynamodb:GetRecords", stream, "")]
    by_ref = Resource("m", "T::Mapping", properties={"role": mapping.properties["role"],
                                                     "source": ResourceRef("orders", None, "orders")})
    assert inferred(entry, table, by_ref) == [("dynamodb:GetRecords", table.arn, "")]


def test_a_pack_with_a_bad_regular_expression_is_refused():
    with pytest.raises(PackError, match="not a regular expression"):
        rules("""\
      - types: [T::Fn]
        when: [{path: x, matches: '(unclosed'}]
        principal: {self: true}
        needs: [{actions: [logs:PutLogEvents], resource: "*"}]
""")
