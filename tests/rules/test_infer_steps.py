"""(the orchestration and KMS packs' additions) rules/infer.py: the path steps and values the packs' ``infer:`` entries read."""
import pytest

from iamgate.model import Inventory, Principal, ResourceRef, Settings
from iamgate.rules.infer import _Context, _Unresolvable, values_at


# ---------------------------------------------------------------- orchestration pack: json, **, queue URLs

DEFINITION = ('{"StartAt": "A", "States": {"A": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": '
              '{"B": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish"}}}], "Next": "C"}, '
              '"C": {"Type": "Map", "ItemProcessor": {"StartAt": "D", "States": {"D": {"Type": "Pass"}}}, '
              '"End": true}}}')


def test_json_reads_a_string_as_the_document_it_holds():
    props = {"definition": DEFINITION}
    assert values_at(props, "definition.json.StartAt", {}) == ["A"]
    assert sorted(values_at(props, "definition.json.States.*.Type", {})) == ["Map", "Parallel"]


def test_json_leaves_a_mapping_with_a_json_key_alone_and_ignores_what_is_not_json():
    assert values_at({"doc": {"json": "x"}}, "doc.json", {}) == ["x"]
    assert values_at({"doc": "not json {"}, "doc.json.States", {}) == []
    assert values_at({"doc": None}, "doc.json", {}) == []
    assert values_at({"doc": 3}, "doc.json", {}) == []


def test_double_star_reaches_the_states_of_parallel_and_map_states_once_each():
    props = {"definition": DEFINITION}
    names = [n for states in values_at(props, "definition.json.**.States", {}) for n in states]
    assert names == ["A", "C", "B", "D"]  # depth first; a branch list does not give its States twice
    resources = values_at(props, "definition.json.**.States.*.Resource", {})
    assert resources == ["arn:aws:states:::sns:publish"]


def test_double_star_on_scalars_and_empty_values():
    assert values_at({"a": "x"}, "a.**", {}) == ["x"]
    assert values_at({"a": []}, "a.**", {}) == []
    assert values_at({}, "a.**", {}) == []


def _ctx(settings=Settings(account="000000000000")):
    return _Context(Inventory(), {}, settings)


def test_a_queue_url_stands_for_the_queue_arn():
    ctx = _ctx()
    assert ctx.arn("https://sqs.eu-west-1.amazonaws.com/111122223333/jobs.fifo") == \
        "arn:aws:sqs:eu-west-1:111122223333:jobs.fifo"
    assert _ctx(Settings(partition="aws-cn")).arn("https://sqs.cn-north-1.amazonaws.com.cn/111122223333/q") == \
        "arn:aws-cn:sqs:cn-north-1:111122223333:q"
    assert ctx.service_of("https://sqs.us-east-1.amazonaws.com/111122223333/jobs") == "sqs"
    for odd in ("https://sqs.us-east-1.amazonaws.com/jobs", "https://example.com/111122223333/q", "jobs"):
        with pytest.raises(_Unresolvable):
            ctx.arn(odd)
    # a reference to a queue outside the code whose value is its URL is a URL too
    assert ctx.arn(ResourceRef("Outside", None, "https://sqs.us-east-1.amazonaws.com/111122223333/q")) == \
        "arn:aws:sqs:us-east-1:111122223333:q"


def test_a_service_principal_gets_the_request_context_of_a_service():
    from iamgate.engine.request import request_context
    ctx = request_context(Principal(id="sns.amazonaws.com", type="service", arn="sns.amazonaws.com"),
                          "arn:aws:kms:eu-west-1:111122223333:key/k", "us-east-1", {"kms:ViaService": "x"})
    assert ctx["aws:PrincipalServiceName"] == "sns.amazonaws.com"
    assert ctx["aws:PrincipalIsAWSService"] == "true"
    assert ctx["aws:RequestedRegion"] == "eu-west-1" and ctx["kms:ViaService"] == "x"
    assert "aws:PrincipalArn" not in ctx and "aws:userid" not in ctx


def test_a_service_principal_template_is_rendered_with_the_settings():
    from iamgate.model import Resource
    from iamgate.rules.infer import _principal
    ctx = _ctx(Settings(account="000000000000", region="eu-central-1"))
    res = Resource(id="Logs", type="AWS::Logs::LogGroup", arn=None, properties={})
    [p] = _principal(ctx, res, None, ("service", "logs.{region}.amazonaws.com"))
    assert (p.id, p.type, p.arn) == ("logs.eu-central-1.amazonaws.com", "service", "logs.eu-central-1.amazonaws.com")
    assert _principal(ctx, res, None, ("service", "sns.amazonaws.com"))[0].id == "sns.amazonaws.com"
    assert _principal(ctx, res, None, ("service", "x.{value:Missing}.amazonaws.com")) == []


def test_arrow_follows_an_arn_or_queue_url_written_as_a_string():
    from iamgate.model import Resource
    queue = Resource(id="aws_sqs_queue.jobs", type="aws_sqs_queue", arn="arn:aws:sqs:us-east-1:000000000000:jobs",
                     properties={"kms_master_key_id": "k"})
    ctx = _Context(Inventory(resources=(queue,)), {}, Settings(account="000000000000"))
    item = {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/000000000000/jobs",
            "QueueArn": "arn:aws:sqs:us-east-1:000000000000:jobs", "Other": "arn:aws:sqs:us-east-1:000000000000:x"}
    res = Resource(id="m", type="aws_sfn_state_machine", arn=None, properties={})
    assert ctx.at(res, item, "item.QueueUrl->kms_master_key_id") == ["k"]
    assert ctx.at(res, item, "item.QueueArn->kms_master_key_id") == ["k"]
    assert ctx.at(res, item, "item.Other->kms_master_key_id") == []
    # without the resources of the code (values_at alone), a string is not followed
    assert values_at(item, "QueueUrl->kms_master_key_id", {}) == []


def test_an_arn_within_the_referenced_resource_is_kept():
    """A table's StreamArn is the stream's ARN, not the table's; a Name is never an ARN."""
    from iamgate.model import Resource
    table = Resource(id="T", type="AWS::DynamoDB::Table", arn="arn:aws:dynamodb:us-east-1:000000000000:table/t",
                     properties={})
    ctx = _Context(Inventory(resources=(table,)), {}, Settings(account="000000000000"))
    stream = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"
    assert ctx.arn(ResourceRef("T", "StreamArn", stream)) == stream
    assert ctx.arn(ResourceRef("T", "Arn", table.arn)) == table.arn
    assert ctx.arn(ResourceRef("T", None, "t")) == table.arn
    assert ctx.arn(ResourceRef("T", "Arn", "arn:aws:dynamodb:us-east-1:000000000000:table/tt")) == table.arn
