"""Terraform, in the order a configuration goes through it:

- ``hcl.py`` — ``.tf``/``.tf.json`` files parsed with python-hcl2, with lines (and a parse cache);
- ``tfvars.py`` — variable files, in Terraform's order;
- ``expressions.py``, ``evaluate.py``, ``functions.py`` — HCL expressions parsed and evaluated
  offline, with Terraform's built-in functions;
- ``config.py`` — the reader of a module tree (``read_modules``): modules, variables, locals,
  resource instances and data sources evaluated;
- ``plan.py`` — the reader of ``terraform show -json`` plans;
- ``resources.py`` — ``TfResource`` and the attributes the provider knows only after apply;
- ``policy_document.py`` — ``data "aws_iam_policy_document"`` as the provider renders it;
- ``inventory.py`` — evaluated resources (from either reader) -> ``Inventory``.

Nothing is imported here: python-hcl2 and the evaluator load only when Terraform files are read.
"""
