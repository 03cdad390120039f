"""Deploy actions of CloudFormation and SAM types from cfn-lint's bundled provider schemas."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from iamgate import pipeline
from iamgate.catalog import canonical_action, check_action
from iamgate.catalog import cloudformation as cfn
from iamgate.catalog.deploy import OPERATIONS, DeployActions, DeployDataError


@pytest.fixture(autouse=True)
def _fresh_caches():
    cfn._clear_caches()
    yield
    cfn._clear_caches()


# --- the data and where it is ------------------------------------------------------------------


def test_importing_and_using_the_module_does_not_import_cfnlint():
    code = ("import sys, iamgate.catalog.cloudformation as c; "
            "assert c.actions('AWS::SQS::Queue').known; c.schema_date(); "
            "sys.exit(1 if 'cfnlint' in sys.modules else 0)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_schema_dir_is_inside_the_installed_package_not_the_user_cache():
    d = Path(cfn.schema_dir())
    assert d.parts[-3:] == ("cfnlint", "data", "schemas")
    assert (d / "providers" / "us-east-1.json").is_file()
    assert ".cache" not in d.parts


def test_schema_date_is_an_iso_timestamp():
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", cfn.schema_date())


def test_missing_bundled_schemas_is_a_deploy_data_error(monkeypatch, tmp_path):
    (tmp_path / "data" / "schemas").mkdir(parents=True)  # an install whose schemas were stripped
    monkeypatch.setattr(cfn, "_cfnlint_dir", lambda: str(tmp_path))
    with pytest.raises(DeployDataError) as exc:
        cfn.schema_dir()
    message = str(exc.value)
    assert "is installed without its bundled resource schemas" in message
    assert str(tmp_path / "data" / "schemas" / "providers") in message
    assert message.endswith("reinstall cfn-lint")
    with pytest.raises(DeployDataError):
        cfn.actions("AWS::SQS::Queue")


def test_cfnlint_not_installed_is_a_deploy_data_error(monkeypatch):
    monkeypatch.setattr(cfn, "_cfnlint_dir", lambda: None)
    with pytest.raises(DeployDataError, match="cfn-lint is not installed"):
        cfn.actions("AWS::SQS::Queue")


def test_corrupt_providers_file_is_a_deploy_data_error(monkeypatch, tmp_path):
    providers = tmp_path / "data" / "schemas" / "providers"
    providers.mkdir(parents=True)
    (tmp_path / "data" / "schemas" / "resources").mkdir()
    (providers / "us-east-1.json").write_text("{not json")
    monkeypatch.setattr(cfn, "_cfnlint_dir", lambda: str(tmp_path))
    with pytest.raises(DeployDataError, match="cannot be read"):
        cfn.actions("AWS::SQS::Queue")


def test_one_type_reads_at_most_two_files_and_is_cached(monkeypatch):
    read = []
    real = cfn._read_json
    monkeypatch.setattr(cfn, "_read_json", lambda *parts: read.append(parts) or real(*parts))
    first = cfn.actions("AWS::SQS::Queue", "eu-west-1")
    assert [p[0] for p in read] == ["providers", "resources"]
    assert cfn.actions("AWS::SQS::Queue", "eu-west-1") is first
    cfn.actions("AWS::SNS::Topic", "eu-west-1")
    assert len(read) == 3  # the region's providers file is read once


# --- real types --------------------------------------------------------------------------------


def test_sqs_queue():
    a = cfn.actions("AWS::SQS::Queue")
    assert isinstance(a, DeployActions) and a.known and a.problems == ()
    assert a.type == "AWS::SQS::Queue"
    assert "sqs:CreateQueue" in a.create and "sqs:TagQueue" in a.create
    assert "sqs:SetQueueAttributes" in a.update
    assert "sqs:DeleteQueue" in a.delete
    assert "sqs:GetQueueAttributes" in a.read
    assert "sqs:ListQueues" not in a.create + a.update + a.delete + a.read  # the list handler is not deployed


def test_lambda_function_create_needs_pass_role_and_reports_an_unknown_action():
    a = cfn.actions("AWS::Lambda::Function")
    assert a.known
    assert {"lambda:CreateFunction", "iam:PassRole", "s3:GetObject"} <= set(a.create)
    assert {"lambda:UpdateFunctionCode", "iam:PassRole"} <= set(a.update)
    assert "lambda:AssociateRuntimeAlias" not in a.create + a.update
    assert ("schema for AWS::Lambda::Function names lambda:AssociateRuntimeAlias, which IAM does not know"
            in a.problems)


def test_iam_role():
    a = cfn.actions("AWS::IAM::Role")
    assert a.known and a.problems == ()
    assert {"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"} <= set(a.create)
    assert "iam:UpdateAssumeRolePolicy" in a.update
    assert "iam:DeleteRole" in a.delete
    assert "iam:GetRole" in a.read


def test_every_action_given_is_in_the_catalogs_spelling_or_a_valid_pattern():
    for rtype in ("AWS::Batch::SchedulingPolicy", "AWS::Amplify::Webhook", "AWS::AutoScaling::AutoScalingGroup",
                  "AWS::S3::Bucket", "AWS::Lambda::Function"):
        a = cfn.actions(rtype)
        for op in OPERATIONS:
            for name in a.of(op):
                assert canonical_action(name) == name or ("*" in name and check_action(name).ok), (rtype, name)
    # the schemas write Batch:TagResource and amplify:CreateWebhook
    assert "batch:TagResource" in cfn.actions("AWS::Batch::SchedulingPolicy").create
    assert "amplify:CreateWebHook" in cfn.actions("AWS::Amplify::Webhook").create


def test_wildcard_patterns_are_kept_and_unknown_services_reported():
    a = cfn.actions("AWS::AutoScaling::AutoScalingGroup")
    assert "ec2:Describe*" in a.create
    assert "schema for AWS::AutoScaling::AutoScalingGroup names managed-fleets:Get*, which IAM does not know" in a.problems
    assert not any(x.startswith("managed-fleets:") for op in OPERATIONS for x in a.of(op))


def test_empty_permission_string_is_reported_not_kept():
    a = cfn.actions("AWS::CloudFormation::ResourceDefaultVersion")
    assert "" not in a.create + a.update + a.delete + a.read
    assert "schema for AWS::CloudFormation::ResourceDefaultVersion names '', which IAM does not know" in a.problems


def test_type_without_handlers_is_unknown():
    a = cfn.actions("AWS::CloudFormation::WaitConditionHandle")
    assert a.known is False
    assert a.create == a.update == a.delete == a.read == ()
    assert a.problems == ("the schema for AWS::CloudFormation::WaitConditionHandle states no handler permissions",)


@pytest.mark.parametrize("rtype", ["Custom::Thing", "AWS::CloudFormation::CustomResource", "AWS::Nope::Nope", "", "x",
                                   None, {"Ref": "T"}, ["AWS::SQS::Queue"]])
def test_type_without_schema_or_handlers_is_unknown(rtype):
    a = cfn.actions(rtype)
    assert a.known is False and a.problems


# --- regions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["xx-nowhere-9", "../../etc", "", "US-EAST-1", None, {"Ref": "AWS::Region"}])
def test_region_without_a_file_falls_back_to_us_east_1(region):
    assert cfn.actions("AWS::SQS::Queue", region).create == cfn.actions("AWS::SQS::Queue").create


def test_region_file_without_the_type_falls_back_to_us_east_1():
    assert "AWS::AIOps::InvestigationGroup" not in cfn._providers("cn-north-1")
    a = cfn.actions("AWS::AIOps::InvestigationGroup", "cn-north-1")
    assert a.known and a.create == cfn.actions("AWS::AIOps::InvestigationGroup").create


# --- the whole bundled data --------------------------------------------------------------------


def scan_unknown_names():
    """Every permission name in the bundled us-east-1 schemas that IAM does not know -> the types
    naming it (the numbers in the cfndeploy report come from here)."""
    found = {}
    for rtype in sorted(cfn._providers("us-east-1")):
        for problem in cfn._resource_actions(rtype, "us-east-1").problems:
            m = re.fullmatch(r"schema for (\S+) names (.*), which IAM does not know", problem)
            if m:
                found.setdefault(m.group(2), set()).add(m.group(1))
    return found


def test_scan_of_all_bundled_schemas_reports_the_names_iam_does_not_know():
    found = scan_unknown_names()
    cfn._clear_caches()
    assert "lambda:AssociateRuntimeAlias" in found
    assert "efs:CreateFileSystem" in found  # IAM's prefix is elasticfilesystem
    assert found["s3:PutBucketReplication"] == {"AWS::S3::Bucket"}  # IAM: s3:PutReplicationConfiguration
    assert 100 < len(found) < 1000
    assert not any("*" in name and check_action(name).ok for name in found)


# --- SAM ---------------------------------------------------------------------------------------


def test_every_generated_type_is_a_type_the_schemas_know():
    names = set(cfn._providers("us-east-1"))
    generated = {t for ts in cfn._SAM_ALWAYS.values() for t in ts}
    generated |= {t for rules in cfn._SAM_IF_PROPERTY.values() for _, ts in rules for t in ts}
    generated |= {t for by_event in cfn._SAM_EVENTS.values() for ts in by_event.values() for t in ts}
    assert generated - names == set()
    assert set(cfn._SAM_ALWAYS) | cfn._SAM_NOTHING_OWN == set(cfn._providers("sam"))


def test_serverless_function_is_deployed_as_a_lambda_function():
    assert cfn.generated_types("AWS::Serverless::Function") == ("AWS::Lambda::Function",)
    a = cfn.actions("AWS::Serverless::Function")
    b = cfn.actions("AWS::Lambda::Function")
    assert a.type == "AWS::Serverless::Function" and a.known
    assert (a.create, a.update, a.delete, a.read) == (b.create, b.update, b.delete, b.read)
    assert a.problems == b.problems


def test_serverless_api_unions_rest_api_deployment_and_stage():
    a = cfn.actions("AWS::Serverless::Api")
    assert {"apigateway:POST", "apigateway:PATCH"} <= set(a.create) | set(a.update)
    assert cfn.generated_types("AWS::Serverless::Api") == (
        "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage")


def test_generated_types_with_properties():
    props = {
        "AutoPublishAlias": "live",
        "DeploymentPreference": {"Type": "Canary10Percent5Minutes"},
        "Events": {
            "Q": {"Type": "SQS", "Properties": {"Queue": "arn:aws:sqs:us-east-1:1:q"}},
            "Nightly": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 day)"}},
            "Get": {"Type": "Api", "Properties": {"Path": "/", "Method": "get"}},
        },
    }
    assert cfn.generated_types("AWS::Serverless::Function", props) == (
        "AWS::Lambda::Function", "AWS::Lambda::Version", "AWS::Lambda::Alias",
        "AWS::CodeDeploy::Application", "AWS::CodeDeploy::DeploymentGroup",
        "AWS::Lambda::EventSourceMapping", "AWS::Events::Rule", "AWS::Lambda::Permission",
    )
    assert cfn.generated_types("AWS::Serverless::WebFunction", {}) == (
        "AWS::Lambda::WebFunction", "AWS::Lambda::WebFunctionRevision", "AWS::Lambda::WebFunctionEndpoint",
        "AWS::IAM::Role")
    assert "AWS::IAM::Role" not in cfn.generated_types(
        "AWS::Serverless::WebFunction", {"ExecutionRoleArn": "arn:aws:iam::1:role/r"})


@pytest.mark.parametrize("props", [None, "x", [], {"Events": "SQS"}, {"Events": {"A": "x", "B": {"Type": 3}}},
                                   {"AutoPublishAlias": None}, {"AutoPublishAlias": {"Ref": "AWS::NoValue"}}])
def test_generated_types_never_crash_on_odd_properties(props):
    assert cfn.generated_types("AWS::Serverless::Function", props) == ("AWS::Lambda::Function",)


def test_connector_and_unknown_serverless_types():
    assert cfn.actions("AWS::Serverless::Connector") == DeployActions("AWS::Serverless::Connector")
    a = cfn.actions("AWS::Serverless::Teleporter")
    assert a.known is False and "iamgate does not know which resources SAM generates" in a.problems[0]
    assert cfn.generated_types("AWS::Serverless::Teleporter") == ()
    assert cfn.generated_types("AWS::SQS::Queue") == ()


SAM_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: s3://artifacts-bucket/worker.zip
      AutoPublishAlias: live
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
        Get:
          Type: Api
          Properties:
            Path: /jobs
            Method: get
  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}
"""


def test_generated_types_do_not_count_twice_what_the_sam_reader_lists(tmp_path):
    (tmp_path / "template.yaml").write_text(SAM_TEMPLATE)
    resources = pipeline.gather([str(tmp_path)]).inventory.resources
    listed = {r.id: r.type for r in resources}
    # the reader lists the generated roles, the Api event's permission and the implicit API itself
    assert listed["WorkerRole"] == listed["FlowRole"] == "AWS::IAM::Role"
    assert listed["ServerlessRestApi"] == "AWS::ApiGateway::RestApi"
    assert "AWS::Lambda::Permission" in {t for i, t in listed.items() if i.startswith("Worker")}
    worker = next(r for r in resources if r.id == "Worker")
    assert worker.type == "AWS::Serverless::Function"
    gen = cfn.generated_types(worker.type, worker.properties)
    assert gen == ("AWS::Lambda::Function", "AWS::Lambda::Version", "AWS::Lambda::Alias",
                   "AWS::Lambda::EventSourceMapping")
    assert not set(gen) & {"AWS::IAM::Role", "AWS::Lambda::Permission", "AWS::ApiGateway::RestApi"}
    assert "AWS::Lambda::EventSourceMapping" not in listed.values()  # so it is counted here


# --- stack actions -----------------------------------------------------------------------------


def test_stack_actions_are_what_cloudformation_deploy_calls():
    with_change_set = cfn.stack_actions()
    assert with_change_set == cfn.stack_actions(change_set=True)
    assert {"cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet",
            "cloudformation:ExecuteChangeSet", "cloudformation:DescribeStacks"} <= set(with_change_set)
    assert "cloudformation:CreateStack" not in with_change_set
    direct = cfn.stack_actions(change_set=False)
    assert {"cloudformation:CreateStack", "cloudformation:UpdateStack"} <= set(direct)
    assert "cloudformation:ExecuteChangeSet" not in direct
    for name in with_change_set + direct:
        assert canonical_action(name) == name
