"""Nested stacks as repositories hold them: a parent and its children in one scanned tree (each child
read once, as a stack of its parent), SAM applications, TemplateURLs into build folders (sam build,
cdk synth) read from their source, outputs (``!GetAtt Child.Outputs.Name``) from the child or the
manifest, second-level paths, and unreadable children that never fail the whole run."""
import json

import pytest

from iamgate.sources import ReadOptions, read_inventory
from iamgate.sources.cloudformation.template import built_from

from ...cli import run

ACCOUNT = "111122223333"

pytestmark = pytest.mark.usefixtures("private_cache")


def write(folder, files):
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def role(logical, statements="[]", extra=""):
    return (f"  {logical}:\n    Type: AWS::IAM::Role\n    Properties:\n"
            "      AssumeRolePolicyDocument: {Version: '2012-10-17', Statement: [{Effect: Allow, "
            "Principal: {Service: lambda.amazonaws.com}, Action: 'sts:AssumeRole'}]}\n"
            f"{extra}"
            f"      Policies:\n        - PolicyName: p\n          PolicyDocument: {{Version: '2012-10-17', "
            f"Statement: {statements}}}\n")


def stack(logical, url, params=""):
    return (f"  {logical}:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: {url}\n"
            + (f"      Parameters: {params}\n" if params else ""))


HEAD = "AWSTemplateFormatVersion: '2010-09-09'\n"

# the parent publishes to the queue its child stack creates, named after the parent's Env parameter
PARENT = (HEAD + "Parameters:\n  Env: {Type: String, Default: dev}\nResources:\n"
          + stack("Jobs", "jobs/queue.yaml", "{Env: !Ref Env}")
          + role("Api", "[{Effect: Allow, Action: 'sqs:SendMessage', Resource: !GetAtt Jobs.Outputs.QueueArn}]"))

CHILD = (HEAD + "Parameters:\n  Env: {Type: String}\nResources:\n"
         "  Queue:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: !Sub 'jobs-${Env}'}\n"
         + role("Worker", "[{Effect: Allow, Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'], "
                          "Resource: !GetAtt Queue.Arn}]")
         + "Outputs:\n  QueueArn:\n    Value: !GetAtt Queue.Arn\n")

MANIFEST = """version: 1
settings: {account: "%s", region: us-east-1, parameters: {Env: prod}%s}
principals:
  - principal: %s
    needs:
      - {actions: %s, resources: "%s"}
"""

QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs-prod"


def inventory(*paths):
    return read_inventory(list(paths) or ["."], ReadOptions(account=ACCOUNT, parameters={"Env": "prod"}))


# ----------------------------------------------------------------------------- read once, as the parent's


@pytest.mark.parametrize("parent, child", [("stack.yaml", "jobs/queue.yaml"),  # the parent is walked first
                                           ("z-stack.yaml", "a/queue.yaml")])  # the child is walked first
def test_a_child_template_in_the_tree_is_read_once_as_a_stack_of_its_parent(tree, capsys, parent, child):
    write(tree, {parent: PARENT.replace("jobs/queue.yaml", child), child: CHILD})
    inv = inventory()
    assert sorted((p.id, p.location.file) for p in inv.principals) == [("Api", parent), ("Worker", child)]
    worker = next(p for p in inv.principals if p.id == "Worker")
    # read with the parent's parameter (prod), not the child's own (it has no default): one stack
    assert worker.identity_policies[0].statements[0].resources == (QUEUE,)
    assert "Jobs/Worker" in worker.aliases
    assert worker.arn.startswith(f"arn:aws:iam::{ACCOUNT}:role/{parent[:-5]}-Jobs-Worker-")

    # a manifest names the child's role by its logical ID: one principal, not "matches 2 principals"
    write(tree, {"iamgate.yaml": MANIFEST % (ACCOUNT, "", "Worker", "sqs:ReceiveMessage", QUEUE)})
    rc, out, err = run(capsys, "check", ".")
    assert rc == 0, out + err
    assert "1 of 1 requirements met" in out and "matches 2" not in out


def test_templates_that_nest_each_other_are_each_read_once(tree):
    write(tree, {"a.yaml": HEAD + "Resources:\n" + stack("B", "b.yaml") + role("RoleA"),
                 "b.yaml": HEAD + "Resources:\n" + stack("A", "a.yaml") + role("RoleB")})
    inv = inventory()
    assert sorted(p.id for p in inv.principals) == ["RoleA", "RoleB"]
    assert [u.expression for u in inv.unresolved] == [
        "nested stack A: TemplateURL a.yaml is the template itself or one that encloses it (a cycle); not read"]


def test_a_template_nested_by_two_parents_is_a_stack_of_each(tree):
    write(tree, {"blue.yaml": HEAD + "Resources:\n" + stack("Jobs", "shared/queue.yaml", "{Env: blue}"),
                 "green.yaml": HEAD + "Resources:\n" + stack("Jobs", "shared/queue.yaml", "{Env: green}"),
                 "shared/queue.yaml": CHILD})
    inv = inventory()
    workers = sorted(p.arn.split("/")[-1].rsplit("-", 1)[0] for p in inv.principals)
    assert workers == ["blue-Jobs-Worker", "green-Jobs-Worker"]


# ----------------------------------------------------------------------------- paths of deeper levels


def test_second_level_principals_and_resources_keep_the_whole_path(tree, capsys):
    write(tree, {"root.yaml": HEAD + "Resources:\n" + stack("Net", "net/net.yaml") + role("Worker"),
                 "net/net.yaml": HEAD + "Resources:\n" + stack("Jobs", "../jobs/queue.yaml", "{Env: prod}")
                 + role("Worker"),
                 "jobs/queue.yaml": CHILD})
    inv = inventory()
    by_file = {p.location.file: p for p in inv.principals}
    assert "Net/Worker" in by_file["net/net.yaml"].aliases
    deep = by_file["jobs/queue.yaml"]
    assert "Net/Jobs/Worker" in deep.aliases and "Jobs/Worker" not in deep.aliases
    assert deep.arn.startswith(f"arn:aws:iam::{ACCOUNT}:role/root-Net-Jobs-Worker-")
    assert "Net/Jobs/Queue" in [r.id for r in inv.resources]
    assert ("Net/Jobs/Queue.Arn", QUEUE) in inv.references

    # "Worker" is defined at three levels; the message says which selector picks each
    write(tree, {"iamgate.yaml": MANIFEST % (ACCOUNT, "", "Worker", "sqs:ReceiveMessage", QUEUE)})
    rc, out, _ = run(capsys, "check", ".")
    assert rc == 2
    assert ('principal "Worker" matches 3 principals: Worker (root.yaml:7), Worker (net/net.yaml:8), Worker '
            '(jobs/queue.yaml:8); select one with "root.yaml:Worker" or "Net/Worker" or "Net/Jobs/Worker"') in out
    write(tree, {"iamgate.yaml": MANIFEST % (ACCOUNT, "", "Net/Jobs/Worker", "sqs:ReceiveMessage",
                                             "${Net/Jobs/Queue.Arn}")})
    rc, out, err = run(capsys, "check", ".")
    assert rc == 0, out + err
    assert "1 of 1 requirements met" in out


# ----------------------------------------------------------------------------- outputs


def test_an_output_of_a_child_that_is_read_resolves_the_parents_policy(tree, capsys):
    write(tree, {"stack.yaml": PARENT, "jobs/queue.yaml": CHILD,
                 "iamgate.yaml": MANIFEST % (ACCOUNT, "", "Api", "sqs:SendMessage", "${Jobs/Queue.Arn}")})
    api = next(p for p in inventory().principals if p.id == "Api")
    assert api.identity_policies[0].statements[0].resources == (QUEUE,)
    rc, out, err = run(capsys, "check", ".")
    assert rc == 0, out + err
    assert "1 of 1 requirements met" in out and "could not resolve" not in out


REMOTE = (HEAD + "Resources:\n"
          + stack("Jobs", "https://s3.amazonaws.com/artifacts/queue.yaml")
          + role("Api", "[{Effect: Allow, Action: 'sqs:SendMessage', Resource: !GetAtt Jobs.Outputs.QueueArn}]"))


def test_outputs_of_a_child_that_is_not_read_are_unresolved_until_the_manifest_gives_them(tree, capsys):
    write(tree, {"stack.yaml": REMOTE,
                 "iamgate.yaml": MANIFEST % (ACCOUNT, "", "Api", "sqs:SendMessage", QUEUE)})
    rc, out, err = run(capsys, "check", "--format", "json", ".")
    doc = json.loads(out)
    said = [f["message"] for f in doc["findings"] if f["rule"] == "IG0201"]
    assert ("could not resolve nested stack Jobs: TemplateURL https://s3.amazonaws.com/artifacts/queue.yaml is "
            "not a local file; not read (give the outputs used from it in the manifest's settings.stack_outputs: "
            '"Jobs.Outputs.<Name>")') in said
    assert ("could not resolve Fn::GetAtt Jobs.Outputs.QueueArn (nested stack Jobs: TemplateURL "
            "https://s3.amazonaws.com/artifacts/queue.yaml is not a local file; give its value in the manifest's "
            'settings.stack_outputs as "Jobs.Outputs.QueueArn")') in said
    assert rc == 1 and (doc["summary"]["requirements"], doc["summary"]["satisfied"]) == (1, 0)

    given = f', stack_outputs: {{"Jobs.Outputs.QueueArn": "{QUEUE}"}}'
    write(tree, {"iamgate.yaml": MANIFEST % (ACCOUNT, given, "Api", "sqs:SendMessage", QUEUE)})
    rc, out, err = run(capsys, "check", ".")
    assert rc == 0, out + err
    assert "1 of 1 requirements met" in out and "Fn::GetAtt Jobs.Outputs.QueueArn" not in out
    assert "nested stack Jobs: TemplateURL https://s3.amazonaws.com/artifacts/queue.yaml is not a local file" in out


def test_a_sam_application_is_a_nested_stack(tree):
    write(tree, {"template.yaml": "Transform: AWS::Serverless-2016-10-31\nResources:\n"
                                  "  Jobs:\n    Type: AWS::Serverless::Application\n    Properties:\n"
                                  "      Location: jobs/queue.yaml\n      Parameters: {Env: prod}\n"
                                  "  Store:\n    Type: AWS::Serverless::Application\n    Properties:\n"
                                  "      Location: {ApplicationId: 'arn:aws:serverlessrepo:us-east-1:"
                                  "077246666028:applications/store', SemanticVersion: 1.0.0}\n"
                                  "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                                  "      Runtime: python3.12\n      Handler: app.handler\n      CodeUri: src/\n"
                                  "      Policies:\n        - SQSSendMessagePolicy:\n"
                                  "            QueueName: !Select [5, !Split [':', !GetAtt Jobs.Outputs.QueueArn]]\n",
                 "jobs/queue.yaml": CHILD})
    inv = inventory()
    assert sorted((p.id, p.location.file) for p in inv.principals) == [
        ("FnRole", "template.yaml"), ("Worker", "jobs/queue.yaml")]
    fn = next(p for p in inv.principals if p.id == "FnRole")
    assert QUEUE in [r for pol in fn.identity_policies for s in pol.statements for r in s.resources or ()]
    assert [u.expression for u in inv.unresolved] == [
        "nested application Store: Location is the Serverless Application Repository application "
        "arn:aws:serverlessrepo:us-east-1:077246666028:applications/store; not read (give the outputs used from "
        "it in the manifest's settings.stack_outputs: \"Store.Outputs.<Name>\")"]


# ----------------------------------------------------------------------------- build folders


SAM_ROOT = ("Transform: AWS::Serverless-2016-10-31\nResources:\n"
            "  OrdersApp:\n    Type: AWS::Serverless::Application\n    Properties:\n"
            "      Location: apps/orders/template.yaml\n")
SAM_ORDERS = (HEAD + "Transform: AWS::Serverless-2016-10-31\nResources:\n"
              "  JobsStack:\n    Type: AWS::Serverless::Application\n    Properties:\n"
              "      Location: ../jobs/queue.yaml\n      Parameters: {Env: prod}\n" + role("OrdersRole"))


def test_sam_build_layout_maps_a_build_output_to_its_source(tree):
    write(tree, {"template.yaml": SAM_ROOT, "apps/orders/template.yaml": SAM_ORDERS, "apps/jobs/queue.yaml": CHILD})
    assert built_from(".aws-sam/build/template.yaml") == "template.yaml"
    assert built_from(".aws-sam/build/OrdersApp/template.yaml") == "apps/orders/template.yaml"
    assert built_from(".aws-sam/build/OrdersApp/JobsStack/template.yaml") == "apps/jobs/queue.yaml"
    assert built_from(".aws-sam/build/NoSuchApp/template.yaml") is None
    assert built_from("apps/orders/template.yaml") is None  # not a build output


def test_a_template_url_into_the_sam_build_folder_is_read_from_the_source_tree(tree, capsys):
    # the pipeline's parent stack deploys what `sam build` made; the repository holds the sources
    write(tree, {"template.yaml": SAM_ROOT, "apps/orders/template.yaml": SAM_ORDERS, "apps/jobs/queue.yaml": CHILD,
                 "pipeline/release.yaml": HEAD + "Resources:\n"
                 + stack("Orders", "../.aws-sam/build/OrdersApp/template.yaml")
                 + stack("Jobs", "../.aws-sam/build/OrdersApp/JobsStack/template.yaml", "{Env: prod}")})
    rc, out, err = run(capsys, "inventory", "--format", "json", ".")
    assert rc == 0, err
    doc = json.loads(out)
    # each stack that deploys a template has its principals: the SAM root's application, and the
    # release stack's two nested stacks (their templates are not also stacks of their own)
    paths = sorted(next(a for a in p["aliases"] if a.count("/") and ":" not in a) for p in doc["principals"])
    assert paths == ["Jobs/Worker", "Orders/JobsStack/Worker", "Orders/OrdersRole",
                     "OrdersApp/JobsStack/Worker", "OrdersApp/OrdersRole"]
    files = {p["location"]["file"] for p in doc["principals"]}
    assert files == {"apps/orders/template.yaml", "apps/jobs/queue.yaml"}  # the sources, never .aws-sam
    assert not doc["problems"] and not [u for u in doc["unresolved"] if "nested" in u["expression"]]


def test_a_build_output_with_no_source_is_a_warning_and_the_parent_is_still_checked(tree, capsys):
    write(tree, {"infra/app.yaml": HEAD + "Resources:\n"
                 + stack("Api", "../cdk.out/ApiNested.template.json")
                 + stack("Same", "../cdk.out/shared/queue.yaml", "{Env: prod}")
                 + role("Deployer", "[{Effect: Allow, Action: 'sqs:SendMessage', Resource: '*'}]"),
                 "shared/queue.yaml": CHILD,  # cdk.out/shared/queue.yaml without the build folder
                 "iamgate.yaml": MANIFEST % (ACCOUNT, "", "Deployer", "sqs:SendMessage", QUEUE)})
    rc, out, err = run(capsys, "check", "--format", "json", ".")
    doc = json.loads(out)
    warnings = [f for f in doc["findings"] if f["rule"] == "IG0007"]
    assert [(w["severity"], w["message"]) for w in warnings] == [(
        "warning", "infra/app.yaml: nested stack Api: TemplateURL ../cdk.out/ApiNested.template.json is a build "
        "output that is not there, and no template it was built from was found (run the build, or point "
        "TemplateURL at the source template); its IAM is not checked (give the outputs used from it in the "
        "manifest's settings.stack_outputs: \"Api.Outputs.<Name>\")")]
    assert warnings[0]["location"]["line"] == 3
    assert rc == 0, out + err
    assert doc["summary"]["satisfied"] == doc["summary"]["requirements"] == 1
    # the same path without cdk.out is the source: read, as a stack of the parent only
    assert sorted(a for p in inventory().principals for a in p.aliases if a.endswith("/Worker")) == ["Same/Worker"]


# ----------------------------------------------------------------------------- unreadable children


@pytest.mark.parametrize("name, text, said", [
    ("missing.yaml", None, "infra/app.yaml: nested stack Child: cannot read infra/missing.yaml (no such file); "
                           "its IAM is not checked"),
    ("broken.yaml", HEAD + "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n   bad: [\n",
     "infra/app.yaml: nested stack Child: infra/broken.yaml:"),
    ("huge.yaml", HEAD + "Resources:\n" + role("Big") + "#" + "x" * 3000 + "\n",
     "infra/app.yaml: nested stack Child: infra/huge.yaml: larger than 2 KiB; not read"),
])
def test_one_unreadable_nested_template_is_a_warning_not_an_input_error(tree, capsys, monkeypatch, name, text, said):
    monkeypatch.setenv("IAMGATE_MAX_FILE_SIZE", "2K")
    write(tree, {"infra/app.yaml": HEAD + "Resources:\n" + stack("Child", name)
                 + role("Deployer", "[{Effect: Allow, Action: 'sqs:SendMessage', Resource: '*'}]"),
                 "iamgate.yaml": MANIFEST % (ACCOUNT, "", "Deployer", "sqs:SendMessage", QUEUE)})
    if text is not None:
        write(tree, {f"infra/{name}": text})
    rc, out, err = run(capsys, "check", "--format", "json", "infra")
    assert rc == 0, out + err  # not 2: the parent is checked, its requirement is met
    doc = json.loads(out)
    warnings = [f["message"] for f in doc["findings"] if f["rule"] == "IG0007"]
    assert len(warnings) == 1 and warnings[0].startswith(said), warnings
    assert not [f for f in doc["findings"] if f["rule"] == "IG0001"]  # the walk does not read it on its own
    assert doc["summary"]["satisfied"] == doc["summary"]["requirements"] == 1
