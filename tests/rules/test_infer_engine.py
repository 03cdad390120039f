"""rules/infer.py over hand-built inventories: paths, references, for_each, when, principals and
templates, independent of any reader."""
from iamgate.model import Inventory, Location, Principal, Resource, ResourceRef, Settings
from iamgate.rules.infer import infer, values_at
from iamgate.rules.packs import Inference, Need, When
from iamgate.rules.registry import Rule

SETTINGS = Settings(account="111122223333", region="eu-west-1")
QUEUE = Resource("Jobs", "AWS::SQS::Queue", "arn:aws:sqs:eu-west-1:111122223333:jobs",
                 {"KmsMasterKeyId": ResourceRef("Key", "Arn", "arn:aws:kms:eu-west-1:111122223333:key/k1")},
                 Location("t.yaml", 3))
KEY = Resource("Key", "AWS::KMS::Key", "arn:aws:kms:eu-west-1:111122223333:key/k1", {}, Location("t.yaml", 5))
ROLE = Principal("FnRole", "role", "arn:aws:iam::111122223333:role/fn", "111122223333", aliases=("FnRole", "Fn"))
OTHER = Principal("Exec", "role", "arn:aws:iam::111122223333:role/exec", "111122223333",
                  aliases=("Exec", "exec", "arn:aws:iam::111122223333:role/exec"))


def rule(*entries: Inference, id: str = "IG2999") -> Rule:
    return Rule(id, "test-rule", "missing-permission", "error", "t", "w", "y", "e", "f", "https://x", infer=entries)


def fn(**props) -> Resource:
    return Resource("Fn", "AWS::Serverless::Function", "arn:aws:lambda:eu-west-1:111122223333:function:fn", props,
                    Location("t.yaml", 9))


def test_paths_follow_references_and_fan_out():
    by_id = {"Jobs": QUEUE, "Key": KEY}
    props = {"Events": {"A": {"Queue": ResourceRef("Jobs", "Arn")}, "B": {"Queue": "arn:aws:sqs:x"}}}
    assert values_at(props, "Events.*.Queue", by_id) == [ResourceRef("Jobs", "Arn"), "arn:aws:sqs:x"]
    assert values_at(props, "Events.A.Queue->KmsMasterKeyId", by_id) == [QUEUE.properties["KmsMasterKeyId"]]
    assert values_at(props, "Events.B.Queue->KmsMasterKeyId", by_id) == []  # a literal ARN: nothing to follow
    assert values_at({"x": [{"y": 1}, {"y": 2}, "z"]}, "x.y", by_id) == [1, 2]  # Terraform blocks are lists
    assert values_at({"x": "s"}, "x.y.z", by_id) == []


def test_for_each_item_when_and_self_principal():
    entry = Inference(types=("AWS::Serverless::Function",), principal=("self", True), for_each="Events.*",
                      when=(When("item.Type", equals=("SQS",)),),
                      needs=(Need(("sqs:ReceiveMessage",), "{arn:item.Properties.Queue}"),))
    f = fn(Events={"Jobs": {"Type": "SQS", "Properties": {"Queue": ResourceRef("Jobs", "Arn")}},
                   "Api": {"Type": "Api", "Properties": {}}})
    [got] = infer(Inventory(principals=(ROLE,), resources=(QUEUE, KEY, f)), [rule(entry)], {}, SETTINGS)
    assert got.principal == ROLE and not got.unknown
    r = got.requirement
    assert (r.action, r.resource, r.rule, r.source, r.origin) == (
        "sqs:ReceiveMessage", QUEUE.arn, "IG2999", "Fn", Location("t.yaml", 9))
    assert r.via == "Events.Jobs"


def test_role_property_and_key_of_the_destination_with_context():
    entry = Inference(types=("AWS::Lambda::EventSourceMapping",), principal=("role_of", "FunctionName"),
                      when=(When("EventSourceArn->KmsMasterKeyId", refers_to=("AWS::KMS::Key",)),),
                      needs=(Need(("kms:Decrypt",), "{arn:EventSourceArn->KmsMasterKeyId}",
                                  (("kms:ViaService", "sqs.{region}.amazonaws.com"),)),))
    lam = Resource("Fn", "AWS::Lambda::Function", None, {"Role": ResourceRef("Exec", "Arn")})
    mapping = Resource("M", "AWS::Lambda::EventSourceMapping", None,
                       {"FunctionName": ResourceRef("Fn"), "EventSourceArn": ResourceRef("Jobs", "Arn")})
    [got] = infer(Inventory(principals=(OTHER,), resources=(QUEUE, KEY, lam, mapping)), [rule(entry)],
                  {"AWS::Lambda::Function": "Role"}, SETTINGS)
    assert got.principal == OTHER
    assert got.requirement.resource == KEY.arn
    assert dict(got.requirement.context) == {"kms:ViaService": ("sqs.eu-west-1.amazonaws.com",)}
    # an AWS managed key (an alias, no key of the code) gives nothing
    managed = QUEUE.__class__(QUEUE.id, QUEUE.type, QUEUE.arn, {"KmsMasterKeyId": "alias/aws/sqs"})
    assert infer(Inventory(principals=(OTHER,), resources=(managed, lam, mapping)), [rule(entry)],
                 {"AWS::Lambda::Function": "Role"}, SETTINGS) == ()


def test_service_principal_and_unresolvable_destination():
    entry = Inference(types=("AWS::SNS::Subscription",), principal=("service", "sns.amazonaws.com"),
                      when=(When("Protocol", equals=("sqs",)),),
                      needs=(Need(("sqs:SendMessage",), "{arn:Endpoint}", (("aws:SourceArn", "{arn:TopicArn}"),)),))
    topic = Resource("T", "AWS::SNS::Topic", "arn:aws:sns:eu-west-1:111122223333:t")
    sub = Resource("S", "AWS::SNS::Subscription", None,
                   {"Protocol": "SQS", "Endpoint": ResourceRef("Jobs", "Arn"), "TopicArn": ResourceRef("T")})
    [got] = infer(Inventory(resources=(QUEUE, topic, sub)), [rule(entry)], {}, SETTINGS)
    assert got.principal.type == "service" and got.principal.id == "sns.amazonaws.com"
    assert dict(got.requirement.context) == {"aws:SourceArn": (topic.arn,)}
    unresolved = Resource("S", "AWS::SNS::Subscription", None,
                          {"Protocol": "sqs", "Endpoint": None, "TopicArn": ResourceRef("T")})
    [got] = infer(Inventory(resources=(topic, unresolved)), [rule(entry)], {}, SETTINGS)
    assert got.unknown.endswith("could not be resolved offline") and got.requirement.resource == "*"


def test_a_role_outside_the_code_infers_nothing_and_duplicates_are_dropped():
    entry = Inference(types=("AWS::Lambda::Function",), principal=("self", True),
                      needs=(Need(("xray:PutTraceSegments",), "*"), Need(("xray:PutTraceSegments",), "*")))
    lam = Resource("Fn", "AWS::Lambda::Function", None, {"Role": "arn:aws:iam::999988887777:role/elsewhere"})
    assert infer(Inventory(principals=(ROLE,), resources=(lam,)), [rule(entry)],
                 {"AWS::Lambda::Function": "Role"}, SETTINGS) == ()
    lam = Resource("Fn", "AWS::Lambda::Function", None, {"Role": "arn:aws:iam::111122223333:role/exec"})
    got = infer(Inventory(principals=(OTHER,), resources=(lam,)), [rule(entry), rule(entry, id="IG2998")],
                {"AWS::Lambda::Function": "Role"}, SETTINGS)
    assert [(g.rule, g.principal.id) for g in got] == [("IG2999", "Exec")]
