"""SAM through aws-sam-translator, against iamgate's own expansion (``sources/cloudformation/sam.py``).

    PYTHONPATH=src .venv/bin/python bench/bench_sam_translator.py [--runs N] [--no-timing] [-v] [PATH ...]

Issue 11 item 10 asks whether SAM's own translator (offline, sockets disabled) could replace sam.py:
only if, on every SAM template of ../shared/corpus and examples/, it gives at least the same
principals and statements with locations mapped back to the SAM resource, and a SAM template check
stays at most a third of cfn-lint's time on the same template. This measures both, per template:

(a) the template translated by ``samtranslator.translator.transform.transform`` — the bundled
    managed-policy map as the loader, no boto3 session, ``socket.socket`` raising — the way
    cfn-lint's ``_sam.py`` ran it before cfn-lint 1.x dropped the translator (local ``CodeUri`` and
    the like replaced by an S3 URI, which SAM insists on). The CloudFormation it writes is read by
    iamgate's CloudFormation reader with no SAM expansion. The translator keeps no line numbers, so
    every generated resource is located at the line of the SAM resource it came from (its logical ID
    passed through as ``Metadata``; a logical-ID prefix otherwise). The reader reads a REST API's
    ``Policy`` property, and SAM writes the resource policy into the Swagger ``Body`` as
    ``x-amazon-apigateway-policy``, so that one is lifted into ``Policy`` here (what the reader would
    need too, were the translator adopted).
(b) the template read by iamgate as today (sam.py).

Compared per template: principals by logical ID; each one's identity statements (effect, actions,
resources, principals, conditions: values sorted, Sid ignored), managed policy ARNs, trust policy,
permissions boundary and location line; resource policies (API policies, queue and topic policies,
Lambda permissions) by resource type and resource. Every difference is printed with the template,
then a summary table.

Timing (cold processes, median of ``--runs``, default 3): the translator's import and translation
alone; ``iamgate check`` on the template as today; ``iamgate check`` with sam.py's expansion swapped
for the translator (``--check-via-translator``, this file run as a child process); and the
``cfn-lint`` CLI. The machine is shared: the medians are noisy, compare ratios not milliseconds.
"""
from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
EXAMPLES = os.path.join(ROOT, "examples")
BIN = os.path.dirname(sys.executable)
ACCOUNT, REGION = "111122223333", "us-east-1"
MARKER = "IamgateBenchSamResource"  # Metadata key naming the SAM resource a generated one came from
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


# ---------------------------------------------------------------------------------------------- inputs


def sam_templates(roots: Sequence[str]) -> List[str]:
    """Every file under ``roots`` that iamgate reads as a SAM template (the Transform, or
    ``AWS::Serverless::*`` resources: SAM's translator test inputs have no Transform)."""
    from iamgate.sources.cloudformation.loader import TemplateError, load_template_text, looks_like_template
    out = []
    for root in roots:
        files = [root] if os.path.isfile(root) else sorted(
            os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs
            if f.endswith((".yaml", ".yml", ".json", ".template")))
        for path in files:
            try:
                text = open(path, encoding="utf-8").read()
            except (OSError, UnicodeDecodeError):
                continue
            if "AWS::Serverless" not in text:
                continue
            try:
                data = load_template_text(text)
            except TemplateError:
                continue
            if looks_like_template(data) and is_sam(data):
                out.append(path)
    return out


def is_sam(data: Mapping[str, Any]) -> bool:
    """What ``template.py`` reads as SAM: the Transform declared, or ``AWS::Serverless::*`` resources."""
    from iamgate.sources.cloudformation.sam import is_sam_template
    resources = data.get("Resources")
    return is_sam_template(data) or (isinstance(resources, dict) and any(
        isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::Serverless::") for r in resources.values()))


# ---------------------------------------------------------------------------------------------- (a) translator


class _NoNetwork(socket.socket):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise OSError("bench_sam_translator: network disabled")


def offline() -> None:
    """No socket can be opened from here on, and boto3 finds a region without asking anyone."""
    socket.socket = _NoNetwork  # type: ignore[misc]
    logging.getLogger("samtranslator").setLevel(logging.CRITICAL)  # its metrics and feature-toggle chatter
    os.environ["AWS_DEFAULT_REGION"] = REGION
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


def _s3(props: Dict[str, Any], key: str) -> None:
    value = props.get(key)
    if isinstance(value, str) and value.startswith("s3://"):
        return
    if isinstance(value, dict) and ("Bucket" in value or not set(value) <= {"Ref", "Fn::Sub"}):
        return
    props[key] = "s3://bucket/key"


def prepare(data: Mapping[str, Any]) -> Dict[str, Any]:
    """Plain data SAM accepts offline: local code paths as S3 URIs (SAM rejects anything else, as
    ``sam package`` would have rewritten them), and each SAM resource's logical ID in its Metadata,
    which the translator passes on to what it generates from it."""
    plain = json.loads(json.dumps(data))
    for logical, res in (plain.get("Resources") or {}).items():
        if not isinstance(res, dict) or not str(res.get("Type", "")).startswith("AWS::Serverless::"):
            continue
        props = res.setdefault("Properties", {})
        if not isinstance(props, dict):
            continue
        kind = res["Type"]
        if kind == "AWS::Serverless::Function":
            if props.get("PackageType") == "Image":
                pass  # an ImageUri is an ECR image, taken as it is
            elif "InlineCode" not in props:
                _s3(props, "CodeUri")
        elif kind == "AWS::Serverless::LayerVersion" and "ContentUri" in props:
            _s3(props, "ContentUri")
        elif kind == "AWS::Serverless::Api" and "DefinitionBody" not in props and "DefinitionUri" in props:
            _s3(props, "DefinitionUri")
        elif kind == "AWS::Serverless::HttpApi" and "DefinitionBody" not in props and "DefinitionUri" in props:
            _s3(props, "DefinitionUri")
        elif kind == "AWS::Serverless::StateMachine" and "DefinitionUri" in props and "Definition" not in props:
            _s3(props, "DefinitionUri")
        elif kind == "AWS::Serverless::Application" and isinstance(props.get("Location"), str):
            props["Location"] = "https://bucket.s3.amazonaws.com/app.yaml"
        meta = res.get("Metadata")
        res["Metadata"] = dict(meta) if isinstance(meta, dict) else {}
        res["Metadata"][MARKER] = logical
    return plain


def translate(data: Mapping[str, Any]) -> Dict[str, Any]:
    """The CloudFormation SAM's translator writes for ``data``; raises what the translator raises."""
    offline()
    from samtranslator.internal.managed_policies import get_bundled_managed_policy_map
    from samtranslator.translator.transform import transform

    class BundledPolicies:  # the ManagedPolicyLoader interface, without IAM's ListPolicies
        def load(self) -> Dict[str, str]:
            return dict(get_bundled_managed_policy_map("aws") or {})

    return transform(prepare(data), {}, BundledPolicies(), passthrough_metadata=True)  # type: ignore[arg-type]


def translator_error(e: Exception) -> str:
    causes = getattr(e, "causes", None)
    if causes:
        return "; ".join(str(getattr(c, "message", c)) for c in causes)
    return f"{type(e).__name__}: {e}"


def located(translated: Mapping[str, Any], original: Mapping[str, Any]) -> Any:
    """The translator's output as loader data (``LDict``/``LList``/``LStr``), every node of a
    generated resource at the line of the SAM resource it came from, the marker removed, and an
    API's ``x-amazon-apigateway-policy`` lifted into ``Policy``."""
    from iamgate.sources.cloudformation.loader import LDict, line_of
    # SAM's own helper: the translator's output has no lines, so every node gets the SAM resource's
    from iamgate.sources.cloudformation.sam import _mk as wrap

    resources = original.get("Resources")
    sam_ids = sorted((k for k, r in (resources or {}).items()
                      if isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::Serverless::")),
                     key=len, reverse=True)

    def line_of_resource(logical: str) -> int:
        # where sam.py puts what it generates: the SAM resource's own line (its first property's,
        # one below the logical ID), so that both sides differ only where the mapping does
        return line_of((resources or {}).get(logical)) or 0

    doc = {k: v for k, v in translated.items() if k != "Resources"}
    out_resources = LDict()
    for logical, res in (translated.get("Resources") or {}).items():
        res = copy.deepcopy(res)
        meta = res.get("Metadata") if isinstance(res, dict) else None
        owner = meta.pop(MARKER, None) if isinstance(meta, dict) else None
        if isinstance(meta, dict) and not meta:
            del res["Metadata"]
        if owner is None:
            owner = logical if logical in (resources or {}) else next(
                (s for s in sam_ids if logical.startswith(s)), None)
        line = line_of_resource(owner) if owner else 0
        props = res.get("Properties") if isinstance(res, dict) else None
        if res.get("Type") == "AWS::ApiGateway::RestApi" and isinstance(props, dict) \
                and isinstance(props.get("Body"), dict) and "x-amazon-apigateway-policy" in props["Body"] \
                and "Policy" not in props:
            props["Policy"] = props["Body"]["x-amazon-apigateway-policy"]
        out_resources[logical] = wrap(res, line)
    wrapped = wrap(doc, 0)
    wrapped["Resources"] = out_resources
    return wrapped


def read_translated(path: str, translated: Mapping[str, Any], original: Mapping[str, Any]) -> Any:
    from iamgate.model import Settings
    from iamgate.sources.cloudformation.template import Template, stack_name_for
    options = Settings(account=ACCOUNT, region=REGION)
    return Template(path, located(translated, original), options, stack_name_for(path)).read()


# ---------------------------------------------------------------------------------------------- (b) sam.py


def read_sam(path: str, text: str) -> Any:
    from iamgate.model import Settings
    from iamgate.sources.cloudformation.template import read
    return read(path, text, Settings(account=ACCOUNT, region=REGION))


# ---------------------------------------------------------------------------------------------- comparing


def norm_statement(st: Any) -> Tuple:
    def t(v: Optional[Sequence[str]]) -> Optional[Tuple[str, ...]]:
        return None if v is None else tuple(sorted(set(v)))

    def p(v: Optional[Mapping[str, Sequence[str]]]) -> Optional[Tuple]:
        return None if v is None else tuple(sorted((k, t(x)) for k, x in v.items()))
    conditions = tuple(sorted((c.operator, c.key, tuple(sorted(c.values))) for c in st.conditions))
    return (st.effect, t(st.actions), t(st.not_actions), t(st.resources), t(st.not_resources),
            p(st.principals), p(st.not_principals), conditions)


def show_statement(n: Tuple) -> str:
    effect, actions, not_actions, resources, not_resources, principals, not_principals, conditions = n
    parts = [effect]
    for label, v in (("Action", actions), ("NotAction", not_actions), ("Resource", resources),
                     ("NotResource", not_resources), ("Principal", principals), ("NotPrincipal", not_principals)):
        if v is not None:
            parts.append(f"{label}={list(v)}")
    if conditions:
        parts.append("Condition=" + ", ".join(f"{o} {k} {list(vs)}" for o, k, vs in conditions))
    return " ".join(parts)


def summary(inv: Any) -> Dict[str, Any]:
    principals = {}
    for pr in inv.principals:
        identity = Counter(norm_statement(s) for pol in pr.identity_policies for s in pol.statements)
        managed = sorted(pol.arn for pol in pr.identity_policies if pol.arn and ":iam::aws:policy/" in pol.arn)
        principals[pr.id] = {
            "identity": identity,
            "managed": managed,
            "inline": sorted(pol.name for pol in pr.identity_policies if not pol.arn),
            "trust": Counter(norm_statement(s) for s in (pr.trust_policy.statements if pr.trust_policy else ())),
            "boundary": pr.boundary.arn or pr.boundary.name if pr.boundary else None,
            "line": pr.location.line if pr.location else None,
            "statement_lines": Counter(s.location.line if s.location else None
                                       for pol in pr.identity_policies for s in pol.statements
                                       if pol.origin != "aws-managed"),
        }
    resource_policies: Dict[Tuple[str, str], Counter] = {}
    for rp in inv.resource_policies:
        resource_policies.setdefault((rp.type, rp.resource), Counter()).update(
            norm_statement(s) for s in rp.policy.statements)
    errors = [f.message for f in inv.problems if f.severity == "error"]
    return {"principals": principals, "resource_policies": resource_policies, "errors": errors}


def compare(sam: Dict[str, Any], tr: Dict[str, Any]) -> List[Tuple[str, str]]:
    """(class, detail) for each difference; sam.py's side first, the translator's second."""
    out: List[Tuple[str, str]] = []
    sp, tp = sam["principals"], tr["principals"]
    for pid in sorted(set(sp) - set(tp)):
        out.append(("principal only from sam.py", pid))
    for pid in sorted(set(tp) - set(sp)):
        out.append(("principal only from translator", pid))
    for pid in sorted(set(sp) & set(tp)):
        a, b = sp[pid], tp[pid]
        for n in sorted((a["identity"] - b["identity"]).elements(), key=repr):
            out.append(("identity statement only from sam.py", f"{pid}: {show_statement(n)}"))
        for n in sorted((b["identity"] - a["identity"]).elements(), key=repr):
            out.append(("identity statement only from translator", f"{pid}: {show_statement(n)}"))
        if a["managed"] != b["managed"]:
            out.append(("managed policy ARNs differ", f"{pid}: sam.py {a['managed']} / translator {b['managed']}"))
        if a["trust"] != b["trust"]:
            out.append(("trust policy differs", f"{pid}: sam.py {[show_statement(n) for n in a['trust']]} / "
                        f"translator {[show_statement(n) for n in b['trust']]}"))
        if a["boundary"] != b["boundary"]:
            out.append(("permissions boundary differs", f"{pid}: sam.py {a['boundary']} / translator {b['boundary']}"))
        if a["line"] != b["line"]:
            out.append(("principal line differs", f"{pid}: sam.py {a['line']} / translator {b['line']}"))
    sr, trr = sam["resource_policies"], tr["resource_policies"]
    for key in sorted(set(sr) | set(trr)):
        a, b = sr.get(key, Counter()), trr.get(key, Counter())
        if key not in trr:
            out.append(("resource policy only from sam.py", f"{key[0]} {key[1]}: "
                        + "; ".join(show_statement(n) for n in a.elements())))
        elif key not in sr:
            out.append(("resource policy only from translator", f"{key[0]} {key[1]}: "
                        + "; ".join(show_statement(n) for n in b.elements())))
        else:
            for n in sorted((a - b).elements(), key=repr):
                out.append(("resource policy statement only from sam.py", f"{key[0]} {key[1]}: {show_statement(n)}"))
            for n in sorted((b - a).elements(), key=repr):
                out.append(("resource policy statement only from translator", f"{key[0]} {key[1]}: {show_statement(n)}"))
    return out


def statement_granularity(s: Dict[str, Any]) -> Tuple[int, int]:
    """(statements of the user's or SAM's documents, how many sit on a line other than their principal's)."""
    total = finer = 0
    for pr in s["principals"].values():
        for line, n in pr["statement_lines"].items():
            total += n
            if line != pr["line"]:
                finer += n
    return total, finer


# ---------------------------------------------------------------------------------------------- timing


def _median_run(cmd: List[str], runs: int) -> Tuple[float, List[str]]:
    times, outs = [], []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=ENV)
        times.append(time.perf_counter() - t)
        outs.append(proc.stdout)
    return statistics.median(times), outs


def time_template(path: str, manifest: str, runs: int) -> Dict[str, float]:
    me = os.path.abspath(__file__)
    py = sys.executable
    translate_t, outs = _median_run([py, me, "--time-translate", path], runs)
    parts = [json.loads(o) for o in outs if o.strip().startswith("{")]
    out = {
        "translate_process": translate_t,
        "import": statistics.median(p["import"] for p in parts) if parts else float("nan"),
        "translate": statistics.median(p["translate"] for p in parts) if parts else float("nan"),
    }
    out["check_sam"], _ = _median_run([py, "-m", "iamgate", "check", "--manifest", manifest,
                                       "--fail-on", "never", path], runs)
    out["check_translator"], _ = _median_run([py, me, "--check-via-translator", manifest, path], runs)
    out["cfn_lint"], _ = _median_run([os.path.join(BIN, "cfn-lint"), path], runs)
    return out


def _time_translate(path: str) -> None:
    """Child process: the translator's import and translation, measured from a cold start."""
    offline()
    from iamgate.sources.cloudformation.loader import load_template_text
    data = load_template_text(open(path, encoding="utf-8").read())
    t0 = time.perf_counter()
    import samtranslator.translator.transform  # noqa: F401
    import samtranslator.internal.managed_policies  # noqa: F401
    t1 = time.perf_counter()
    try:
        translate(data)
    except Exception:  # noqa: BLE001 - a rejected template still took this long
        pass
    t2 = time.perf_counter()
    print(json.dumps({"import": t1 - t0, "translate": t2 - t1}))


def _check_via_translator(manifest: str, path: str) -> int:
    """Child process: ``iamgate check`` with sam.py's expansion replaced by the translator's."""
    offline()
    from iamgate import cli
    from iamgate.sources.cloudformation import sam as sam_module

    def expand(data: Any) -> Any:
        try:
            translated = translate(data)
        except Exception as e:  # noqa: BLE001
            return sam_module.SamResult(template=data, aliases={},
                                        problems=(sam_module.Problem(translator_error(e), None),))
        return sam_module.SamResult(template=located(translated, data), aliases={}, problems=())
    sam_module.expand = expand  # type: ignore[assignment]
    return cli.main(["check", "--manifest", manifest, "--fail-on", "never", path]) or 0


# ---------------------------------------------------------------------------------------------- main


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", help="templates or folders (default: ../shared/corpus and examples/)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-timing", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every difference (default: 6 a class)")
    ap.add_argument("--time-translate", metavar="PATH", help=argparse.SUPPRESS)
    ap.add_argument("--check-via-translator", nargs=2, metavar=("MANIFEST", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.time_translate:
        _time_translate(args.time_translate)
        return 0
    if args.check_via_translator:
        return _check_via_translator(*args.check_via_translator)

    roots = args.paths or [r for r in (CORPUS, EXAMPLES) if os.path.isdir(r)]
    paths = sam_templates(roots)
    if not paths:
        print("no SAM template found under", ", ".join(roots))
        return 1
    from iamgate.sources.cloudformation.loader import load_template_text
    import samtranslator
    print(f"aws-sam-translator {samtranslator.__version__}; {len(paths)} SAM templates under "
          + ", ".join(os.path.relpath(r) for r in roots))
    rows = []
    classes: Dict[str, List[str]] = {}
    granularity = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        manifest = os.path.join(tmp, "iamgate.yaml")
        with open(manifest, "w") as fh:
            fh.write(f"version: 1\nsettings: {{account: '{ACCOUNT}', region: {REGION}}}\n")
        for path in paths:
            shown = os.path.relpath(path)
            text = open(path, encoding="utf-8").read()
            data = load_template_text(text)
            sam_side = summary(read_sam(shown, text))
            try:
                tr_side = summary(read_translated(shown, translate(data), data))
                diffs = compare(sam_side, tr_side)
                error = None
            except Exception as e:  # noqa: BLE001 - SAM rejects the template
                tr_side, diffs, error = None, [], translator_error(e)
            if error:
                cls = "translator rejects; sam.py reports an error" if sam_side["errors"] else \
                    "translator rejects; sam.py reads it without error"
                diffs = [(cls, error[:300])]
            for cls, detail in diffs:
                classes.setdefault(cls, []).append(f"{shown}: {detail}")
            if tr_side:
                for side, s in (("sam.py", sam_side), ("translator", tr_side)):
                    total, finer = statement_granularity(s)
                    granularity[(side, "statements")] += total
                    granularity[(side, "finer")] += finer
            timing = time_template(path, manifest, args.runs) if not args.no_timing else {}
            rows.append((shown, len(sam_side["principals"]), len(tr_side["principals"]) if tr_side else None,
                         len(diffs), error, timing))
            print(f"  {len(diffs):3d} differences  {shown}", flush=True)

    print("\nDifferences by class (sam.py / translator):")
    for cls, items in sorted(classes.items(), key=lambda kv: -len(kv[1])):
        print(f"\n== {cls}: {len(items)}")
        for item in items if args.verbose else items[:6]:
            print("   ", item)
        if not args.verbose and len(items) > 6:
            print(f"    … {len(items) - 6} more (-v)")

    print("\nPer template:")
    head = f"{'template':72} {'pr.sam':>6} {'pr.tr':>6} {'diffs':>5}"
    if not args.no_timing:
        head += f" {'import':>7} {'transl':>7} {'chk.sam':>8} {'chk.tr':>8} {'cfnlint':>8} {'sam/lint':>8} {'tr/lint':>8}"
    print(head)
    ratios_sam, ratios_tr = [], []
    for shown, n_sam, n_tr, n_diff, error, timing in rows:
        name = shown if len(shown) <= 72 else "…" + shown[-71:]
        line = f"{name:72} {n_sam:6d} {('-' if n_tr is None else n_tr):>6} {n_diff:5d}"
        if timing:
            rs, rt = timing["check_sam"] / timing["cfn_lint"], timing["check_translator"] / timing["cfn_lint"]
            ratios_sam.append(rs)
            ratios_tr.append(rt)
            line += (f" {timing['import'] * 1000:6.0f}ms {timing['translate'] * 1000:6.0f}ms"
                     f" {timing['check_sam'] * 1000:6.0f}ms {timing['check_translator'] * 1000:6.0f}ms"
                     f" {timing['cfn_lint'] * 1000:6.0f}ms {rs:8.2f} {rt:8.2f}")
        print(line)
    exact = sum(1 for r in rows if r[3] == 0)
    print(f"\n{len(rows)} templates; {exact} match exactly; "
          f"{sum(1 for r in rows if r[4])} rejected by the translator")
    if granularity:
        print(f"statement locations finer than their principal's line: sam.py "
              f"{granularity[('sam.py', 'finer')]}/{granularity[('sam.py', 'statements')]}, translator "
              f"{granularity[('translator', 'finer')]}/{granularity[('translator', 'statements')]}")
    if ratios_sam:
        print(f"check / cfn-lint (median over templates): sam.py {statistics.median(ratios_sam):.2f}, "
              f"translator {statistics.median(ratios_tr):.2f} (goal <= 0.33); "
              f"worst: sam.py {max(ratios_sam):.2f}, translator {max(ratios_tr):.2f}")
        imports = [r[5]["import"] for r in rows if r[5]]
        trans = [r[5]["translate"] for r in rows if r[5]]
        print(f"translator import {statistics.median(imports) * 1000:.0f} ms, translate "
              f"{statistics.median(trans) * 1000:.0f} ms (medians over templates of medians of {args.runs} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
