"""A reference to a variable the module does not declare (a module's main.tf scanned without its
variables.tf) says so and how to give the value, never ``no attribute "x"``."""
import json

from ...cli import run


def test_undeclared_variable_names_the_module_and_the_setting(tree, capsys):
    (tree / "iam").mkdir()
    (tree / "iam" / "main.tf").write_text('''
resource "aws_iam_role" "this" {
  count                = var.create ? 1 : 0
  name                 = "worker"
  permissions_boundary = var.permissions_boundary
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}
''')
    rc, out, _ = run(capsys, "check", "--format", "json", "iam/main.tf")
    messages = [f["message"] for f in json.loads(out)["findings"]]
    assert rc == 0 and messages
    assert not any("no attribute" in m for m in messages)
    assert any('no variable "create" is declared in iam' in m and "settings: variables:" in m for m in messages)
    # given in the manifest, the value resolves and the role exists
    (tree / "iamgate.yaml").write_text("version: 1\nsettings:\n  variables: {create: true, permissions_boundary: null}\n")
    rc, out, _ = run(capsys, "inventory", "--format", "json", "iam/main.tf")
    assert [p["id"] for p in json.loads(out)["principals"]] == ["aws_iam_role.this[0]"]
