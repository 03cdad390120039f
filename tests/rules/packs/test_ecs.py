"""rules/ecs.yaml: what an ECS task definition's containers imply its task execution role must do."""
from tests.rules.packs.wiring import origin, check, missing, of_rule

ACCOUNT = "000000000000"
REPO = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/web"
ECR_REPO_ACTIONS = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]
STREAMS = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/ecs/web:log-stream:*"


def cfn(container="", resources="", grants=(), execution_role="      ExecutionRoleArn: !GetAtt ExecRole.Arn\n"):
    """A stack: the execution role (``grants``: (actions, resource) pairs), the web repository, log group,
    secret and parameter, and the task definition ``Task`` with one container (``container``: its more
    properties, indented 10)."""
    statements = "".join(f"              - Effect: Allow\n"
                         f"                Action: [{', '.join(a)}]\n"
                         f"                Resource: {r}\n" for a, r in grants) or (
        "              - Effect: Allow\n"
        "                Action: [s3:GetObject]\n"
        '                Resource: "arn:aws:s3:::unrelated/*"\n')
    return (
        'AWSTemplateFormatVersion: "2010-09-09"\n'
        "Resources:\n"
        "  Web:\n"
        "    Type: AWS::ECR::Repository\n"
        "    Properties: {RepositoryName: web}\n"
        "  WebLogs:\n"
        "    Type: AWS::Logs::LogGroup\n"
        "    Properties: {LogGroupName: /ecs/web}\n"
        "  DbPassword:\n"
        "    Type: AWS::SecretsManager::Secret\n"
        "    Properties: {Name: db-password}\n"
        "  ApiUrl:\n"
        "    Type: AWS::SSM::Parameter\n"
        "    Properties: {Name: /web/api-url, Type: String, Value: https://api.example.com}\n"
        "  ExecRole:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        "      AssumeRolePolicyDocument:\n"
        '        Version: "2012-10-17"\n'
        "        Statement:\n"
        "          - Effect: Allow\n"
        "            Principal: {Service: ecs-tasks.amazonaws.com}\n"
        "            Action: sts:AssumeRole\n"
        "      Policies:\n"
        "        - PolicyName: exec\n"
        "          PolicyDocument:\n"
        '            Version: "2012-10-17"\n'
        "            Statement:\n"
        + statements +
        "  Task:\n"
        "    Type: AWS::ECS::TaskDefinition\n"
        "    Properties:\n"
        "      Family: web\n"
        "      RequiresCompatibilities: [FARGATE]\n"
        "      NetworkMode: awsvpc\n"
        "      Cpu: '256'\n"
        "      Memory: '512'\n"
        + execution_role +
        "      ContainerDefinitions:\n"
        "        - Name: web\n"
        '          Image: !Sub "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/web:1.4"\n'
        + container + resources)


def tf(container="", grants=(('["s3:GetObject"]', '"arn:aws:s3:::unrelated/*"'),)):
    """A configuration: the execution role ``exec`` (``grants``: HCL actions and resource), the repository,
    log group, secret and parameter, and the task definition ``web`` whose container_definitions is a
    jsonencode()d list of one container (``container``: its more attributes)."""
    statements = ",\n      ".join(f'{{ Effect = "Allow", Action = {a}, Resource = {r} }}' for a, r in grants)
    return f'''
resource "aws_ecr_repository" "web" {{
  name = "web"
}}

resource "aws_cloudwatch_log_group" "web" {{
  name = "/ecs/web"
}}

resource "aws_secretsmanager_secret" "db" {{
  name = "db-password"
}}

resource "aws_ssm_parameter" "api_url" {{
  name  = "/web/api-url"
  type  = "String"
  value = "https://api.example.com"
}}

resource "aws_iam_role" "exec" {{
  name = "exec"
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{ Effect = "Allow", Principal = {{ Service = "ecs-tasks.amazonaws.com" }}, Action = "sts:AssumeRole" }}]
  }})
}}

resource "aws_iam_role_policy" "exec" {{
  role = aws_iam_role.exec.id
  policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [
      {statements}
    ]
  }})
}}

resource "aws_ecs_task_definition" "web" {{
  family                   = "web"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.exec.arn
  container_definitions = jsonencode([{{
    name  = "web"
    image = "${{aws_ecr_repository.web.repository_url}}:1.4"
{container}  }}])
}}
'''


def expect(role, actions, resource):
    return [(role, a, resource) for a in sorted(actions)]


def hcl(actions):
    return "[" + ", ".join(f'"{a}"' for a in actions) + "]"


# --------------------------------------------------------------------- IG2151 ECR

def test_ecr_image_cloudformation(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": cfn()})
    assert rc == 1
    assert missing(found, "IG2151") == sorted(expect("ExecRole", ECR_REPO_ACTIONS, REPO)
                                              + [("ExecRole", "ecr:GetAuthorizationToken", "*")])
    assert origin(of_rule(found, "IG2151")[0]) == "Task (ContainerDefinitions[0])"
    rc, found = check(capsys, tree, {"stack.yaml": cfn(grants=[(ECR_REPO_ACTIONS, "!GetAtt Web.Arn"),
                                                               (["ecr:GetAuthorizationToken"], '"*"')])})
    assert of_rule(found, "IG2151") == []
    # a repository of another name is not this one
    rc, found = check(capsys, tree, {"stack.yaml": cfn(grants=[
        (ECR_REPO_ACTIONS, f'"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/api"'), (["ecr:GetAuthorizationToken"], '"*"')])})
    assert missing(found, "IG2151") == expect("ExecRole", ECR_REPO_ACTIONS, REPO)


def test_images_outside_ecr_and_tasks_without_execution_role_need_nothing(tree, capsys):
    public = cfn().replace('!Sub "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/web:1.4"',
                           "public.ecr.aws/nginx/nginx:1.27")
    rc, found = check(capsys, tree, {"stack.yaml": public})
    assert of_rule(found, "IG2151") == []
    rc, found = check(capsys, tree, {"stack.yaml": cfn(execution_role="")})
    assert of_rule(found, "IG2151") == []


def test_ecr_image_of_another_account_and_region(tree, capsys):
    other = cfn().replace('!Sub "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/web:1.4"',
                          "111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/web@sha256:abc")
    rc, found = check(capsys, tree, {"stack.yaml": other})
    assert ("ExecRole", "ecr:BatchGetImage", "arn:aws:ecr:eu-west-1:111122223333:repository/team/web") \
        in missing(found, "IG2151")


def test_ecr_image_terraform_container_definitions_json(tree, capsys):
    rc, found = check(capsys, tree, {"main.tf": tf()})
    assert rc == 1
    assert missing(found, "IG2151") == sorted(expect("aws_iam_role.exec", ECR_REPO_ACTIONS, REPO)
                                              + [("aws_iam_role.exec", "ecr:GetAuthorizationToken", "*")])
    assert origin(of_rule(found, "IG2151")[0]) == "aws_ecs_task_definition.web (container_definitions.json[0])"
    rc, found = check(capsys, tree, {"main.tf": tf(grants=[(hcl(ECR_REPO_ACTIONS), "aws_ecr_repository.web.arn"),
                                                           ('["ecr:GetAuthorizationToken"]', '"*"')])})
    assert of_rule(found, "IG2151") == []


# --------------------------------------------------------------------- IG2152 awslogs

CFN_LOGS = """\
          LogConfiguration:
            LogDriver: awslogs
            Options: {awslogs-group: !Ref WebLogs, awslogs-region: eu-west-1, awslogs-stream-prefix: web}
"""


def test_awslogs_cloudformation(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": cfn(container=CFN_LOGS)})
    assert missing(found, "IG2152") == expect("ExecRole", LOG_ACTIONS, STREAMS)
    rc, found = check(capsys, tree, {"stack.yaml": cfn(container=CFN_LOGS, grants=[
        (LOG_ACTIONS, f'"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/ecs/web:*"')])})
    assert of_rule(found, "IG2152") == []
    # another driver: nothing
    rc, found = check(capsys, tree, {"stack.yaml": cfn(container=CFN_LOGS.replace("awslogs\n", "fluentd\n"))})
    assert of_rule(found, "IG2152") == []


def test_awslogs_terraform(tree, capsys):
    logs = '''    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.web.name
        "awslogs-region"        = "eu-west-1"
        "awslogs-stream-prefix" = "web"
      }
    }
'''
    rc, found = check(capsys, tree, {"main.tf": tf(container=logs)})
    assert missing(found, "IG2152") == expect("aws_iam_role.exec", LOG_ACTIONS, STREAMS)
    rc, found = check(capsys, tree, {"main.tf": tf(container=logs, grants=[
        (hcl(LOG_ACTIONS), f'"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/ecs/web:*"')])})
    assert of_rule(found, "IG2152") == []


# --------------------------------------------------------------------- IG2153 secrets, IG2154 registry credentials

CFN_SECRETS = """\
          Secrets:
            - {Name: DB_PASSWORD, ValueFrom: !Ref DbPassword}
            - {Name: API_URL, ValueFrom: !Ref ApiUrl}
            - {Name: FLAGS, ValueFrom: web/flags}
"""
PARAM = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/web/api-url"
FLAGS = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/web/flags"


def test_container_secrets_cloudformation(tree, capsys):
    rc, found = check(capsys, tree, {"stack.yaml": cfn(container=CFN_SECRETS)})
    got = missing(found, "IG2153")
    [secret] = [r for _, a, r in got if a == "secretsmanager:GetSecretValue"]
    assert secret.startswith(f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:db-password-")
    assert got == [("ExecRole", "secretsmanager:GetSecretValue", secret),
                   ("ExecRole", "ssm:GetParameters", PARAM), ("ExecRole", "ssm:GetParameters", FLAGS)]
    rc, found = check(capsys, tree, {"stack.yaml": cfn(container=CFN_SECRETS, grants=[
        (["secretsmanager:GetSecretValue"], "!Ref DbPassword"),
        (["ssm:GetParameters"], f'"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/web/*"')])})
    assert of_rule(found, "IG2153") == []


def test_secret_json_key_reads_the_secret(tree, capsys):
    """``ARN:json-key:version-stage:version-id`` names the secret before the key."""
    secret = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:db-AbCdEf"
    container = f"          Secrets:\n            - {{Name: DB_USER, ValueFrom: '{secret}:username::'}}\n"
    rc, found = check(capsys, tree, {"stack.yaml": cfn(container=container)})
    assert missing(found, "IG2153") == [("ExecRole", "secretsmanager:GetSecretValue", secret)]


def test_container_secrets_terraform(tree, capsys):
    secrets = '''    secrets = [
      { name = "DB_PASSWORD", valueFrom = aws_secretsmanager_secret.db.arn },
      { name = "API_URL", valueFrom = aws_ssm_parameter.api_url.arn },
    ]
'''
    rc, found = check(capsys, tree, {"main.tf": tf(container=secrets)})
    got = missing(found, "IG2153")
    [secret] = [r for _, a, r in got if a == "secretsmanager:GetSecretValue"]
    assert got == [("aws_iam_role.exec", "secretsmanager:GetSecretValue", secret),
                   ("aws_iam_role.exec", "ssm:GetParameters", PARAM)]
    rc, found = check(capsys, tree, {"main.tf": tf(container=secrets, grants=[
        ('["secretsmanager:GetSecretValue"]', "aws_secretsmanager_secret.db.arn"),
        ('["ssm:GetParameters"]', "aws_ssm_parameter.api_url.arn")])})
    assert of_rule(found, "IG2153") == []


def test_repository_credentials_cloudformation(tree, capsys):
    container = "          RepositoryCredentials: {CredentialsParameter: !Ref DbPassword}\n"
    private = cfn(container=container).replace(
        '!Sub "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/web:1.4"', "registry.example.com/web:1.4")
    rc, found = check(capsys, tree, {"stack.yaml": private})
    [(role, action, secret)] = missing(found, "IG2154")
    assert (role, action) == ("ExecRole", "secretsmanager:GetSecretValue")
    assert secret.startswith(f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:db-password-")
    rc, found = check(capsys, tree, {"stack.yaml": private.replace(
        "                Action: [s3:GetObject]\n                Resource: \"arn:aws:s3:::unrelated/*\"\n",
        "                Action: [secretsmanager:GetSecretValue]\n                Resource: !Ref DbPassword\n")})
    assert of_rule(found, "IG2154") == []


def test_repository_credentials_terraform(tree, capsys):
    creds = "    repositoryCredentials = { credentialsParameter = aws_secretsmanager_secret.db.arn }\n"
    config = tf(container=creds).replace('"${aws_ecr_repository.web.repository_url}:1.4"', '"registry.example.com/web:1.4"')
    rc, found = check(capsys, tree, {"main.tf": config})
    assert [(p, a) for p, a, _ in missing(found, "IG2154")] == [("aws_iam_role.exec", "secretsmanager:GetSecretValue")]
    rc, found = check(capsys, tree, {"main.tf": config.replace(
        'Action = ["s3:GetObject"], Resource = "arn:aws:s3:::unrelated/*"',
        'Action = ["secretsmanager:GetSecretValue"], Resource = aws_secretsmanager_secret.db.arn')})
    assert of_rule(found, "IG2154") == []


def test_odd_container_definitions_do_not_crash(tree, capsys):
    config = tf().replace("container_definitions = jsonencode([{", 'container_definitions = "not json" # [{')
    config = config.replace("  }])\n}", "\n}")
    rc, found = check(capsys, tree, {"main.tf": config})
    assert [f for f in found if f["rule"].startswith("IG215")] == []
    odd = cfn(container="          Secrets: DB_PASSWORD\n          LogConfiguration: awslogs\n").replace(
        '!Sub "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/web:1.4"', "[1, 2]")
    rc, found = check(capsys, tree, {"stack.yaml": odd})
    assert [f for f in found if f["rule"].startswith("IG215")] == []
