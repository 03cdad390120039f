"""The rule registry: every finding iamgate reports carries the id of one rule here.

A rule is what cfn-lint calls a rule and ruff a code: a stable id (``IG1001``), a name users can
type (``missing-permission``), the default severity, a one-line title, a help URL, and four parts
of documentation — what it checks, why it matters, an example, the fix (ruff's headings). Reports
(SARIF's ``tool.driver.rules``, ``iamgate rules``) read them from here; the code that makes a
finding names the rule by id, and :func:`stamp` gives it the registry's kind and severity.

Id ranges: ``IG0…`` input and manifest, ``IG1…`` requirements, ``IG2…`` inferred requirements,
``IG3…`` policy lint, ``IG9…`` iamgate itself (a rule or fix writer that failed).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple

from ..model import Finding, FindingKind, Severity

DOCS = "https://docs.aws.amazon.com/IAM/latest/UserGuide"


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    kind: FindingKind
    severity: Severity
    title: str
    what: str
    why: str
    example: str
    fix: str
    url: str
    pack: Optional[str] = None  # the rule pack (rules/*.yaml) that defines it; None: built in
    infer: Tuple[Any, ...] = ()  # packs.Inference entries: the requirements it infers from resources
    check: Optional[str] = None  # the registered lint function that implements it
    sources: Tuple[str, ...] = ()  # further documentation its actions come from

    def as_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"id": self.id, "name": self.name, "kind": self.kind, "severity": self.severity,
                               "title": self.title, "url": self.url,
                               "docs": {"what": self.what, "why": self.why, "example": self.example,
                                        "fix": self.fix}}
        if self.pack:
            out["pack"] = self.pack
        if self.sources:
            out["sources"] = list(self.sources)
        return out


_BUILTIN: Tuple[Rule, ...] = (
    # ------------------------------------------------------------------ input and manifest
    Rule("IG0001", "unreadable-input", "parse-error", "error",
         "An input file cannot be read or parsed",
         "A file under the scanned paths (or named by the manifest) that iamgate cannot read: not UTF-8, "
         "too large, not valid YAML/JSON/HCL, or a document whose structure is not what its format requires.",
         "What iamgate cannot read it cannot check: every requirement that depends on the file would be "
         "decided without it. The run exits 2 so that the gate never passes on a partial view.",
         "template.yaml:12: mapping values are not allowed here",
         "Fix the syntax at the line named, or exclude the file from the scanned paths.",
         "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-formats.html"),
    Rule("IG0002", "not-an-input", "parse-error", "warning",
         "A file named on the command line is not an input iamgate reads",
         "A file given explicitly holds no IAM policy, account export, template or plan.",
         "Naming a file you expect to be checked, and having it silently ignored, hides a gap in the gate.",
         "iamgate check package.json",
         "Name the template, configuration or policy file instead, or drop the argument.",
         f"{DOCS}/access_policies.html"),
    Rule("IG0003", "sam-without-transform", "invalid-policy", "warning",
         "AWS::Serverless resources without the SAM Transform",
         "A template that defines AWS::Serverless::* resources but does not declare "
         "Transform: AWS::Serverless-2016-10-31. iamgate reads it as SAM anyway.",
         "CloudFormation rejects such a template at deploy time.",
         "Resources:\n  Fn:\n    Type: AWS::Serverless::Function",
         "Add `Transform: AWS::Serverless-2016-10-31` at the top level of the template.",
         "https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/"
         "sam-specification-template-anatomy.html"),
    Rule("IG0004", "sam-invalid", "invalid-policy", "error",
         "A SAM resource that the SAM transform cannot expand",
         "A SAM resource whose properties the transform rejects (an unknown policy template, a bad "
         "connector, a malformed event), so the IAM it generates cannot be known.",
         "The deploy fails in the transform, and iamgate cannot check the role SAM would have generated.",
         "Policies:\n  - NoSuchPolicyTemplate: {}",
         "Correct the property the message names; SAM's documentation lists what each accepts.",
         "https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/"
         "serverless-policy-templates.html"),
    Rule("IG0005", "symlink-not-followed", "parse-error", "note",
         "A symbolic link in the scanned tree that iamgate does not follow",
         "A symbolic link met while walking a scanned directory that leads outside the scanned tree "
         "(a file or a directory elsewhere on the machine), that loops, or whose target does not exist. "
         "It is not read. A link that stays inside the tree is read once, as the file it leads to; a path "
         "named explicitly on the command line is read even when it is a link (you chose it).",
         "The scanned code comes from a pull request: a link to /etc/passwd or to ~/.aws would otherwise "
         "make iamgate read, and print, a file that is not part of the change. A loop would never end.",
         "infra/policy.json -> /etc/passwd",
         "Replace the link by the file itself, or name the file explicitly on the command line if it "
         "really belongs to the check.",
         "https://docs.github.com/en/repositories/working-with-files/managing-files/"
         "about-symbolic-links"),
    Rule("IG0006", "terraform-modules-unusable", "parse-error", "note",
         "Terraform's record of installed modules cannot be used",
         "`.terraform/modules/modules.json`, which `terraform init` writes to map each module call to the "
         "folder it installed the module in, cannot be parsed, or gives a folder that leads outside the root "
         "module's folder (through `..` or a symbolic link). The registry and git modules concerned are not "
         "read; the values they give stay unresolved, and each module call says so.",
         "iamgate reads registry and git modules from where `terraform init` put them, because their "
         "policies are part of what the configuration deploys. The scanned code may come from an untrusted "
         "pull request: a record pointing at another folder on the machine would make iamgate read, and "
         "print, files that are not part of the change.",
         '.terraform/modules/modules.json: {"Modules": [{"Key": "iam", "Dir": "../../elsewhere"}]}',
         "Run `terraform init` again (it rewrites the file), or check the plan instead "
         "(`terraform show -json plan.out > plan.json`, then `iamgate check plan.json`).",
         "https://developer.hashicorp.com/terraform/cli/commands/init"),
    Rule("IG0007", "nested-template-unread", "parse-error", "warning",
         "A nested stack's template cannot be read",
         "An AWS::CloudFormation::Stack or AWS::Serverless::Application whose local TemplateURL/Location "
         "names a file that is not there, cannot be read (too large, not UTF-8) or is not a valid "
         "template, or a build output (.aws-sam/build/…, cdk.out/…) that has not been built and whose "
         "source template is not found. The enclosing template is still checked; the nested stack's "
         "roles and policies are not, and its outputs are unresolved unless the manifest gives them "
         "(settings.stack_outputs).",
         "One broken nested template should not hide every other finding of the run (it is not an input "
         "error, exit 2), but its IAM is missing from the check: a requirement on one of its roles "
         "reports the principal as not found.",
         "parent.yaml: nested stack Child: cannot read child.yaml (no such file); its IAM is not checked",
         "Correct the path (relative to the enclosing template), fix the nested template, or build the "
         "project (sam build) so that the file exists; give the outputs the parent uses in "
         "settings.stack_outputs (\"Child.Outputs.QueueArn\": arn).",
         "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-nested-stacks.html"),
    Rule("IG0101", "manifest-file-missing", "manifest-error", "error",
         "The manifest names a file that does not exist",
         "A guardrail (SCP/RCP), policy or boundary file named in iamgate.yaml is not there.",
         "A guardrail that is silently missing makes the gate allow what the organization denies.",
         "guardrails:\n  scp: [org/root.json]   # no such file",
         "Correct the path (relative to the manifest's folder) or add the file.",
         "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html"),
    Rule("IG0102", "principal-not-found", "manifest-error", "error",
         "A manifest principal is not in the scanned files",
         "A `principal:` selector that matches no role, user or function in the scanned code, and that "
         "gives no policy files of its own.",
         "Its requirements cannot be checked at all; a typo here would otherwise pass silently.",
         "principals:\n  - principal: OrderWorker   # the role is OrdersWorkerRole",
         "Use the logical ID, Terraform address, role name or ARN that `iamgate inventory` lists, or give "
         "the principal's `policies:` as files.",
         f"{DOCS}/id_roles.html"),
    Rule("IG0103", "principal-ambiguous", "manifest-error", "error",
         "A manifest principal matches more than one principal",
         "A selector that names several principals (the same role name in two templates).",
         "iamgate would have to guess which one the requirement is about.",
         "principals:\n  - principal: worker   # defined in two stacks",
         "Use a selector that names one principal: its ARN, logical ID or Terraform address.",
         f"{DOCS}/id_roles.html"),
    Rule("IG0104", "deploys-nothing", "manifest-error", "warning",
         "A manifest entry's deploys: defines nothing to deploy",
         "A principal with `deploys: [PATH ...]` whose paths hold no CloudFormation stack, no Terraform "
         "resource and no plan change among the scanned files.",
         "A deploy check that checks nothing would pass the pipeline role silently: a path that is not "
         "scanned, or a typo, must be visible.",
         "principals:\n  - principal: ci-deploy\n    deploys: [infra/]   # infra/ is not among the scanned paths",
         "Name the folders or files that hold the templates, configurations or plan, and scan them "
         "(`iamgate check infra/`).",
         "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html"),
    Rule("IG0105", "unused-suppression", "manifest-error", "warning",
         "A suppression that matches no finding",
         "A suppression — CloudFormation `Metadata: {iamgate: {ignore: [...]}}`, a Terraform "
         "`# iamgate:ignore RULE reason` comment, or a manifest `ignore:` item — that no finding of the run "
         "matches: the finding it was written for is gone (fixed), or it names another rule, principal, "
         "action, path or statement Sid than the finding's. A suppression of a rule turned off "
         "(`rules: disable:`) is not reported.",
         "A stale suppression is a hole waiting for the next finding of the same rule in the same place: "
         "it would be hidden without anyone having judged it. A misspelt one suppresses nothing while "
         "looking as if it did.",
         "Metadata:\n  iamgate:\n    ignore:\n      - {rule: IG3101, reason: \"legacy\", statement: NoSuchSid}",
         "Remove the suppression if the finding is fixed; otherwise correct the rule id (`iamgate rules`), "
         "the Sid or the selectors so that it names the finding (`iamgate check --format json` shows each "
         "finding's rule, principal, action and location).",
         "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/metadata-section-structure.html"),
    Rule("IG0107", "invalid-suppression", "parse-error", "error",
         "A suppression without a reason, or one that cannot be read",
         "A CloudFormation `Metadata: {iamgate: {ignore: ...}}` that is not a list of `{rule, reason, "
         "statement?}` mappings, or a Terraform `# iamgate:ignore` comment that does not give a rule "
         "id and a reason (`# iamgate:ignore IG3101 the legacy role is replaced in Q3`). Every suppression "
         "needs a reason.",
         "A suppression hides a finding from the gate; without a reason no reviewer can tell an accepted "
         "risk from a silenced one. An input iamgate cannot read makes the run exit 2, so the gate never "
         "passes on a suppression it did not understand.",
         "# iamgate:ignore IG3101",
         "Add the reason after the rule id (Terraform), or a `reason:` key to the item (CloudFormation).",
         "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/metadata-section-structure.html"),
    Rule("IG0201", "unresolved-value", "unresolved", "note",
         "A value in the code cannot be resolved offline",
         "An intrinsic function, import, variable or data source whose value iamgate cannot know without "
         "AWS (Fn::ImportValue, a variable with no value, the account ID when settings.account is unset). "
         "One note per file and expression, with the lines that use it. The account iamgate itself puts "
         "into a synthesized ARN (`!GetAtt Queue.Arn`, `aws_sqs_queue.q.arn`) gets no note.",
         "iamgate never guesses: a statement built from an unknown value can neither grant nor deny for "
         "certain. On its own the value fails nothing; a requirement that depends on it is unknown "
         "(IG1002), or allowed with an IG0203 error when an unresolved Deny could still block it.",
         "Resource: !Sub arn:aws:s3:::${AWS::AccountId}-logs/*",
         "Give the value in the manifest's settings (account, parameters, variables, imports).",
         "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html"),
    Rule("IG0202", "unresolved-reference", "unresolved", "error",
         "A reference in the manifest does not resolve",
         "A `${...}` reference in a requirement's resource that names nothing the readers found, or names "
         "a value that cannot be resolved.",
         "The requirement cannot be decided; it is reported as unknown.",
         "resources: \"${OrdersQueue.Arn}\"   # no OrdersQueue in the code",
         "Name a resource the code defines (see `iamgate inventory`), or write the ARN.",
         "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-sub.html"),
    Rule("IG0203", "unresolved-deny", "unresolved", "error",
         "An allowed requirement that an unresolved Deny could still block",
         "A requirement the known statements allow, while a Deny statement that could apply to it holds a "
         "value iamgate could not resolve (its Resource, Condition or Principal).",
         "Whether the workload gets AccessDenied depends on that value; the allow is not proven.",
         "Effect: Deny\nAction: s3:*\nResource: !Sub arn:aws:s3:::${LogBucket}/*   # LogBucket has no value",
         "Give the value in the manifest's settings (parameters, variables, imports, account) so the Deny "
         "can be decided.",
         f"{DOCS}/reference_policies_evaluation-logic.html"),
    # ------------------------------------------------------------------ requirements
    Rule("IG1001", "missing-permission", "missing-permission", "error",
         "A required permission is denied",
         "A requirement (from the manifest or inferred from the code) that AWS's policy evaluation logic "
         "denies: no policy allows it (implicit deny), or a Deny statement blocks it (explicit deny) — "
         "in an identity policy, a permissions boundary, an SCP/RCP, a resource or key policy.",
         "This is the AccessDeniedException the workload would meet after deployment.",
         "s3:PutObject on arn:aws:s3:::invoices/*: implicit deny (identity)",
         "Add the statement the fix shows to the policy it names; for an explicit deny, narrow the Deny "
         "or change the request so it no longer matches.",
         f"{DOCS}/reference_policies_evaluation-logic.html"),
    Rule("IG1002", "undecidable-requirement", "missing-permission", "error",
         "A requirement cannot be decided offline",
         "A requirement that known statements do not allow while a policy that could apply holds values "
         "iamgate could not resolve, or whose resource or key policy lives outside the scanned files.",
         "An allow that cannot be proven is not an allow; the gate fails unless --allow-unknown.",
         "kms:Decrypt on arn:aws:kms:…:key/…: unknown — the key policy is not in the scanned files",
         "Resolve the value (manifest settings) or scan the file that holds the policy; pass "
         "--allow-unknown to report these as warnings.",
         f"{DOCS}/reference_policies_evaluation-logic.html"),
    Rule("IG1003", "unknown-action-in-manifest", "unknown-action", "error",
         "The manifest requires an action IAM does not know",
         "An action in a requirement that is not in the IAM action catalog.",
         "A misspelt requirement checks nothing.",
         "actions: [s3:ListObjects]   # the IAM action is s3:ListBucket",
         "Use the IAM action name; the message suggests the closest one.",
         "https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"),
    Rule("IG1004", "unused-permission", "over-permissive", "note",
         "A principal is granted actions no requirement uses (check --unused)",
         "With `check --unused`: for each principal that has at least one requirement (the manifest's, or one "
         "inferred from the code), the actions its identity policies allow (wildcards and NotAction expanded "
         "through the IAM catalog; conditions and resources not considered) that none of its requirements "
         "names. One note per principal, counted per service.",
         "A permission nothing needs is one an attacker with the principal's credentials can use and the "
         "workload cannot miss. The list is where to start trimming; it is only as complete as the "
         "requirements are (an action the workload calls that no requirement states is listed too).",
         "OrdersFn: 64 allowed actions no requirement uses: dynamodb 61 (dynamodb:BatchGetItem, …), sqs 3",
         "Remove the actions from the policy, or state the requirement that needs them in the manifest.",
         f"{DOCS}/access_policies_last-accessed.html"),
    Rule("IG1101", "deploy-permission-missing", "missing-permission", "error",
         "The deploy principal cannot create, update or delete what it deploys",
         "For a principal with `deploys:`, each action deploying the resources of those paths needs: the "
         "create, update and delete handler permissions of each CloudFormation type (the provider schemas "
         "bundled in cfn-lint), the stack and change-set actions, iam:PassRole on every role passed to a "
         "service; for Terraform, pike's per-type permissions (only what a plan changes, when a plan is "
         "given) and the state backend. Denied ones are reported per resource.",
         "The pipeline fails half-way through the deploy (CloudFormation rolls back, Terraform leaves a "
         "partial apply) with AccessDenied on the first permission the new resource type needs.",
         "ci-deploy cannot sqs:CreateQueue on arn:aws:sqs:…:jobs — needed to create JobsQueue (AWS::SQS::Queue)",
         "Add the actions to the deploy role's policy (the fix shows the statement), or deploy with a "
         "CloudFormation service role that has them (`cloudformation_role:`).",
         "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-template.html"),
    Rule("IG1102", "deploy-type-unknown", "missing-permission", "error",
         "The permissions to deploy a resource type are not known",
         "A resource type in a deploys: path for which the deploy data has nothing: a CloudFormation type "
         "whose schema has no handlers (or no schema in the installed cfn-lint), a Terraform type pike does "
         "not map. Reported as unknown, never skipped.",
         "iamgate cannot say whether the deploy role can deploy it: the gate fails unless --allow-unknown.",
         "AWS::Some::NewType: the schemas bundled with cfn-lint 1.58 have no handlers for it",
         "Update cfn-lint (its bundled schemas) or iamgate's Terraform data; meanwhile state the actions "
         "under needs: and pass --allow-unknown.",
         "https://docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html"),
    Rule("IG1103", "deploy-data-warning", "unknown-action", "warning",
         "The deploy data names an action IAM does not know",
         "A resource schema's handler (or pike's mapping) lists a permission that is not in the IAM action "
         "catalog; it is left out of the requirements.",
         "The data, not your code, is wrong; the warning says which permission was not required.",
         "schema of AWS::X::Y names x:DescribeYs, which IAM does not know",
         "Nothing to change in your code; report it to the data's source if it matters to you.",
         "https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"),
    # ------------------------------------------------------------------ policy lint
    Rule("IG3001", "malformed-policy", "invalid-policy", "error",
         "A policy document cannot be read as a policy",
         "A document in a policy position that is not a policy: not an object, no Statement, a Statement "
         "that is neither an object nor a list of objects.",
         "IAM rejects it at deploy time, and iamgate cannot know what it would grant.",
         "PolicyDocument: \"s3:GetObject\"",
         "Write a policy document: {Version: 2012-10-17, Statement: [{Effect, Action, Resource}]}.",
         f"{DOCS}/reference_policies_grammar.html"),
    Rule("IG3002", "policy-grammar", "invalid-policy", "error",
         "A policy breaks the IAM policy grammar",
         "A statement or element that IAM's grammar rejects: an unknown element, a wrong type, Action and "
         "NotAction together, an Effect other than Allow or Deny.",
         "IAM rejects the policy (or, for some errors, ignores the statement) at deploy time.",
         "- Effect: allow\n  Action: s3:GetObject",
         "Correct the element the message names; it suggests the intended spelling where it can.",
         f"{DOCS}/reference_policies_grammar.html"),
    Rule("IG3003", "unknown-action", "unknown-action", "error",
         "A policy names an action IAM does not know",
         "An Action or NotAction entry that is not in the IAM action catalog, or a pattern that matches "
         "no action.",
         "A misspelt action grants nothing: the workload fails with AccessDenied on the action it meant.",
         "Action: s3:ListObjects   # the IAM action is s3:ListBucket",
         "Use the IAM action name; the message suggests the closest one.",
         "https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"),
    Rule("IG3004", "unknown-action-in-aws-policy", "unknown-action", "warning",
         "A policy that AWS writes names an action IAM no longer knows",
         "An unknown action in statements the user did not write: a SAM policy template, or an AWS managed "
         "policy (attached from the snapshot, or in an account export); the message names it.",
         "It grants nothing, but only AWS can change it; it is reported so that a permission the workload "
         "relies on is not assumed.",
         "Policies:\n  - SomeOldPolicyTemplate: {}",
         "If the workload needs that permission, add a statement of your own that grants it.",
         "https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/"
         "serverless-policy-templates.html"),
    Rule("IG3005", "principal-in-identity-policy", "invalid-policy", "error",
         "Principal or NotPrincipal in an identity-based policy",
         "A Principal or NotPrincipal element in an identity policy, permissions boundary, session policy "
         "or SCP.",
         "IAM rejects the policy: identity policies apply to the identity they are attached to.",
         "- Effect: Allow\n  Principal: {AWS: \"*\"}\n  Action: s3:GetObject",
         "Remove the element, or move the statement into the resource's policy.",
         f"{DOCS}/reference_policies_elements_principal.html"),
    Rule("IG3006", "missing-principal", "invalid-policy", "warning",
         "A resource or trust policy statement without Principal",
         "A statement of a resource-based or role trust policy that has neither Principal nor NotPrincipal.",
         "AWS rejects such a statement.",
         "BucketPolicy:\n  Statement:\n    - Effect: Allow\n      Action: s3:GetObject",
         "Name the principal the statement is for.",
         f"{DOCS}/reference_policies_elements_principal.html"),
    Rule("IG3007", "missing-version", "invalid-policy", "warning",
         "A policy without Version",
         "A policy document with no Version element.",
         "Without Version 2012-10-17, policy variables such as ${aws:username} are matched as literal text.",
         "PolicyDocument:\n  Statement: [...]",
         'Add "Version": "2012-10-17".',
         f"{DOCS}/reference_policies_elements_version.html"),
    Rule("IG3008", "invalid-version", "invalid-policy", "error",
         "A policy Version that IAM does not accept",
         "A Version other than 2012-10-17 or 2008-10-17 (often a date written without quotes, or today's "
         "date).",
         "IAM rejects the policy.",
         "Version: 2024-01-01",
         'Use "Version": "2012-10-17".',
         f"{DOCS}/reference_policies_elements_version.html"),
    Rule("IG3009", "unknown-condition-operator", "invalid-policy", "error",
         "A condition operator IAM does not know",
         "A Condition block keyed by an operator that is not one of IAM's.",
         "IAM rejects the policy.",
         "Condition:\n  StringEqual: {aws:SourceVpce: vpce-1a2b}",
         "Use the operator the message suggests (StringEquals).",
         f"{DOCS}/reference_policies_elements_condition_operators.html"),
    Rule("IG3010", "variables-in-2008-policy", "invalid-policy", "warning",
         "Policy variables in a policy of Version 2008-10-17",
         "A ${...} policy variable in a policy whose Version is 2008-10-17.",
         "That version does not substitute variables: ${aws:username} is matched as literal text.",
         "Version: 2008-10-17\nStatement:\n  - Resource: arn:aws:s3:::home/${aws:username}/*",
         'Use "Version": "2012-10-17".',
         f"{DOCS}/reference_policies_variables.html"),
    # ------------------------------------------------------------------ iamgate itself
    Rule("IG9001", "fix-failed", "rule-error", "note",
         "No fix could be written for a finding",
         "A fix writer failed on the file that holds the policy to change.",
         "The finding stands, but without the fix you would expect; the note says why so that it is not "
         "silently missing.",
         "no fix proposed for s3:PutObject: the YAML writer failed (…)",
         "Write the statement by hand; please report the file that made the writer fail.",
         "https://github.com/iamgate/iamgate/issues"),
    Rule("IG9002", "rule-failed", "rule-error", "note",
         "A check failed while it ran",
         "A rule raised an error on some input; its findings for that input are missing.",
         "The gate stays fail-closed for what it decided, but this check did not run there.",
         "rule IG3003 failed on orders.yaml: …",
         "Please report the input that made the rule fail.",
         "https://github.com/iamgate/iamgate/issues"),
)


@dataclass(frozen=True)
class RuleSet:
    """The rules in force for a run: id -> Rule, in id order."""

    rules: Tuple[Rule, ...]
    disabled: frozenset = frozenset()  # ids turned off for this run: their findings are dropped

    def __post_init__(self) -> None:
        ids = [r.id for r in self.rules]
        names = [r.name for r in self.rules]
        dupes = {x for x in ids + names if (ids + names).count(x) > 1}
        if dupes:
            raise ValueError(f"duplicate rule ids or names: {', '.join(sorted(dupes))}")
        index = {r.name: r for r in self.rules}
        index.update({r.id: r for r in self.rules})
        object.__setattr__(self, "_index", index)

    def get(self, key: str) -> Optional[Rule]:
        """A rule by id or name."""
        return self._index.get(key)  # type: ignore[attr-defined]

    def __getitem__(self, key: str) -> Rule:
        rule = self.get(key)
        if rule is None:
            raise KeyError(key)
        return rule

    def __iter__(self):
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def used_by(self, findings: Iterable[Finding]) -> Tuple[Rule, ...]:
        ids = {f.rule for f in findings}
        return tuple(r for r in self.rules if r.id in ids)


BUILTIN = RuleSet(tuple(sorted(_BUILTIN, key=lambda r: r.id)))


def from_packs(packs: Sequence[Any]) -> Tuple[Rule, ...]:
    """The rules of ``packs`` (``packs.Pack``) as registry rules."""
    return tuple(Rule(r.id, r.name, r.kind, r.severity, r.title, r.what, r.why, r.example, r.fix, r.url,
                      pack=r.pack, infer=r.infer, check=r.check, sources=r.sources)
                 for p in packs for r in p.rules)


def merged(rules: Iterable[Rule], packs: Sequence[Any], where: str = "") -> RuleSet:
    """``rules`` and those of ``packs``; a pack rule whose id or name is taken is a PackError."""
    from .packs import PackError
    out = list(rules)
    for r in from_packs(packs):
        clash = next((o for o in out if r.id == o.id or r.name == o.name), None)
        if clash is not None:
            what = "id" if clash.id == r.id else "name"
            raise PackError(f"{where or r.pack}: rule {r.id} ({r.name}): its {what} is already taken by "
                            f"{clash.id} ({clash.name}{', pack ' + clash.pack if clash.pack else ', built in'})")
        out.append(r)
    return RuleSet(tuple(sorted(out, key=lambda r: r.id)))


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    """Every rule iamgate ships: the built-in ones and those of its packs (``rules/``)."""
    from .packs import builtin_packs
    return merged(BUILTIN, builtin_packs())


def roles() -> Mapping[str, str]:
    """Resource type -> the property naming the role it runs as, from the shipped packs."""
    from .packs import builtin_packs, roles_of
    return roles_of(builtin_packs())


@dataclass(frozen=True)
class RuleConfig:
    """What a run selects: extra pack folders, rules turned off, severities overridden (the manifest's
    ``rules:``, ``--rules DIR``)."""

    packs: Tuple[str, ...] = ()
    disable: Tuple[str, ...] = ()
    severity: Mapping[str, str] = None  # type: ignore[assignment]


def configured(config: Optional[RuleConfig]) -> RuleSet:
    """The rules in force: the shipped ones, the packs of ``config.packs``, without the disabled
    ones, with the overridden severities. An id or name in ``disable``/``severity`` that names no
    rule is a PackError (a typo would otherwise leave a rule on)."""
    from .packs import PackError, load_packs
    rules = default_rules()
    if config is None:
        return rules
    if config.packs:
        rules = merged(rules, load_packs(config.packs))
    severity = dict(config.severity or {})
    for key in list(config.disable) + list(severity):
        if rules.get(key) is None:
            raise PackError(f"rules: no rule {key!r} to disable or re-rate (iamgate rules lists them)")
    off = {rules[k].id for k in config.disable}
    sev = {rules[k].id: v for k, v in severity.items()}
    return RuleSet(tuple(replace(r, severity=sev.get(r.id, r.severity)) for r in rules if r.id not in off),
                   disabled=frozenset(off))


def stamp(finding: Finding, rules: Optional[RuleSet] = None) -> Finding:
    """The finding with its rule's kind and severity (the registry decides them, not the call site).

    A finding whose rule the registry does not know is left as it is (``iamgate rules`` and the
    tests make sure none exists)."""
    rule = (rules if rules is not None else default_rules()).get(finding.rule)
    if rule is None or (finding.kind == rule.kind and finding.severity == rule.severity):
        return finding
    return replace(finding, kind=rule.kind, severity=rule.severity)
