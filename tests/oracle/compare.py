"""Decide every case with iamgate and with iam-simulate; minimize and classify the disagreements.

Contract:

* ``run(cases, oracle)`` -> ``Report``: each case decided by both engines (iamgate through
  ``iamgate.conformance.evaluate``, the same adapter the conformance suite uses; iam-simulate
  through ``simulate.translate``). A case iam-simulate rejects, or one where it ignored a context
  key, is a *harness* problem and is reported as such, never as a disagreement.
* A disagreement is minimized greedily (whole policies, levels, documents, statements, condition
  entries, context keys, list members are removed while both engines keep disagreeing the same
  way), in batches so that the one node process does all the work.
* ``classify(case, ours, theirs)`` names the class of a minimized disagreement: a known class
  (``known.KNOWN_DEVIATIONS``) when its trigger is present, otherwise a signature of what is left
  (caller, account relation, the two decisions, the policy types and elements present).
"""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from iamgate.conformance import evaluate

from .known import KNOWN_DEVIATIONS
from .simulate import Oracle, translate

Case = Dict[str, Any]
POLICY_TYPES = ("identity", "permissions_boundary", "session", "scp", "rcp", "resource", "vpc_endpoint")


def iamgate_decision(case: Case) -> str:
    try:
        return str(evaluate(case))
    except Exception as e:  # an engine crash is a finding too
        return f"error: {type(e).__name__}: {e}"


def oracle_decisions(cases: List[Case], oracle: Oracle) -> List[Dict[str, Any]]:
    return oracle.decide([translate(c) for c in cases])


# ----------------------------------------------------------------------------- minimizing


def _copy(case: Case) -> Case:
    return json.loads(json.dumps(case))  # much faster than copy.deepcopy for plain JSON data


def _statements(doc: Dict[str, Any]) -> List[Dict[str, Any]]:
    st = doc.get("Statement")
    return st if isinstance(st, list) else [st]


def _docs(case: Case) -> Iterator[Tuple[str, Dict[str, Any]]]:
    pol = case["policies"]
    for kind in POLICY_TYPES:
        v = pol.get(kind)
        if v is None:
            continue
        if kind in ("scp", "rcp"):
            for level in v:
                for d in level:
                    yield kind, d
        elif isinstance(v, list):
            for d in v:
                yield kind, d
        else:
            yield kind, v


def _is_rcp_full(st: Dict[str, Any]) -> bool:
    return st == {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}


_KEEP_CONTEXT = {"aws:principalarn", "aws:principalaccount", "aws:principaltype", "aws:userid", "aws:username",
                 "aws:principalisawsservice", "aws:principalservicename"}


def variants(case: Case) -> Iterator[Case]:
    """Smaller cases: each with one thing removed."""
    pol = case["policies"]
    must_keep_resource = case.get("oracle", {}).get("resource_policy_kind") in ("key", "trust") or \
        case.get("oracle", {}).get("caller") in ("service", "anonymous", "web-identity", "saml")
    # whole policy types
    for kind in POLICY_TYPES:
        if pol.get(kind) is None or (kind == "resource" and must_keep_resource):
            continue
        c = _copy(case)
        c["policies"][kind] = [] if kind == "identity" else None
        if kind == "identity" and not pol["identity"]:
            continue
        if kind == "session" and c["oracle"].get("caller") == "federated-user":
            c["oracle"]["session_policy_passed"] = False
        yield c
    # levels, documents
    for kind in ("scp", "rcp"):
        for i in range(len(pol.get(kind) or [])):
            if len(pol[kind]) > 1:
                c = _copy(case)
                del c["policies"][kind][i]
                yield c
            for j in range(len(pol[kind][i])):
                if len(pol[kind][i]) > 1:
                    c = _copy(case)
                    del c["policies"][kind][i][j]
                    yield c
    for kind in ("identity", "permissions_boundary", "vpc_endpoint"):
        docs = pol.get(kind) or []
        for i in range(len(docs)):
            if len(docs) > 1:
                c = _copy(case)
                del c["policies"][kind][i]
                yield c
    # statements and their parts
    n_docs = sum(1 for _ in _docs(case))
    for d_index in range(n_docs):
        kind, doc = list(_docs(case))[d_index]
        sts = _statements(doc)
        for s_index, st in enumerate(sts):
            if kind == "rcp" and _is_rcp_full(st):
                continue
            if len(sts) > 1:
                c = _copy(case)
                _, d2 = list(_docs(c))[d_index]
                d2["Statement"] = [s for k, s in enumerate(_statements(d2)) if k != s_index]
                yield c
            for op, entries in (st.get("Condition") or {}).items():
                for key in entries:
                    c = _copy(case)
                    _, d2 = list(_docs(c))[d_index]
                    cond = _statements(d2)[s_index]["Condition"]
                    del cond[op][key]
                    if not cond[op]:
                        del cond[op]
                    if not cond:
                        del _statements(d2)[s_index]["Condition"]
                    yield c
            for elem in ("Action", "NotAction", "Resource", "NotResource"):
                v = st.get(elem)
                if isinstance(v, list) and len(v) > 1:
                    for k in range(len(v)):
                        c = _copy(case)
                        _, d2 = list(_docs(c))[d_index]
                        vals = _statements(d2)[s_index][elem]
                        del vals[k]
                        _statements(d2)[s_index][elem] = vals[0] if len(vals) == 1 else vals
                        yield c
            if isinstance(doc, dict) and doc.get("Version") != "2012-10-17" and kind not in ("rcp", "scp"):
                c = _copy(case)
                _, d2 = list(_docs(c))[d_index]
                d2["Version"] = "2012-10-17"
                yield c
    for key in list(case["request"].get("context") or {}):
        if key.lower() in _KEEP_CONTEXT:
            continue
        c = _copy(case)
        del c["request"]["context"][key]
        yield c


def _size(case: Case) -> int:
    return len(json.dumps(case["policies"])) + len(json.dumps(case["request"]["context"]))


def minimize(cases: List[Tuple[Case, str, str]], oracle: Oracle, max_rounds: int = 40,
             batch_limit: int = 20000) -> List[Case]:
    """Greedy, batched: each round tries every one-step-smaller variant of every pending case in one
    oracle batch and keeps the smallest that disagrees the same way."""
    current = [c for c, _, _ in cases]
    want = [(ours, theirs) for _, ours, theirs in cases]
    pending = list(range(len(current)))
    for _ in range(max_rounds):
        if not pending:
            break
        batch: List[Tuple[int, Case]] = []
        for i in pending:
            for v in variants(current[i]):
                batch.append((i, v))
                if len(batch) >= batch_limit:
                    break
        if not batch:
            break
        ours_all = [iamgate_decision(v) for _, v in batch]
        # only ask the oracle about variants where iamgate still says the same
        ask = [k for k, (i, _) in enumerate(batch) if ours_all[k] == want[i][0]]
        answers = oracle_decisions([batch[k][1] for k in ask], oracle)
        best: Dict[int, Case] = {}
        for k, ans in zip(ask, answers):
            i, v = batch[k]
            if ans.get("result") == want[i][1] and not ans.get("ignored"):
                if i not in best or _size(v) < _size(best[i]):
                    best[i] = v
        still = []
        for i in pending:
            if i in best:
                current[i] = best[i]
                still.append(i)
        pending = still
    return current


# ----------------------------------------------------------------------------- classes


def features(case: Case) -> Dict[str, Any]:
    """What a (minimized) case contains, for signatures and known-class triggers."""
    req, pol = case["request"], case["policies"]
    pa, ra = req["principal"].get("account"), req.get("resource_account")
    f: Dict[str, Any] = {
        "caller": case.get("oracle", {}).get("caller", req["principal"]["type"]),
        "account": "same" if pa is not None and pa == ra else "cross",
        "policies": tuple(k for k in POLICY_TYPES if pol.get(k) not in (None, [])),
        "session_policy_passed": case.get("oracle", {}).get("session_policy_passed"),
        "elements": set(), "operators": set(), "principals": set(),
        "resource_variables_before_fifth_colon": False, "variables_in_typed_conditions": False,
        "resource_names_caller_arn": False, "resource_names_user_of_session": False,
        "deny_not_principal_in_resource": False, "date_mixed_formats": False,
        "old_version_with_variables": False, "condition_arn_variables_before_fifth_colon": False, "not_principal_names_role_not_session": False,
        "not_principal_names_user_not_session": False, "names_account": False,
    }
    ctx = {k.lower(): v for k, v in (req.get("context") or {}).items()}
    for kind, doc in _docs(case):
        if doc.get("Version") != "2012-10-17" and "${" in json.dumps(doc):
            f["old_version_with_variables"] = True
        for st in _statements(doc):
            for elem in ("NotAction", "NotResource", "NotPrincipal"):
                if elem in st:
                    f["elements"].add(elem)
            for pat in _as_list(st.get("Resource")) + _as_list(st.get("NotResource")):
                if _variable_before_fifth_colon(pat):
                    f["resource_variables_before_fifth_colon"] = True
                if "${" in pat:
                    f["elements"].add("resource-variable")
            for op, entries in (st.get("Condition") or {}).items():
                base = re.sub(r"^(ForAllValues:|ForAnyValue:)", "", op)
                base = re.sub(r"IfExists$", "", base)
                f["operators"].add(op)
                for key, vals in entries.items():
                    if base.startswith("Date") and isinstance(ctx.get(key.lower()), str) and any(
                            _is_epoch(v) != _is_epoch(ctx[key.lower()]) for v in _as_list(vals)):
                        f["date_mixed_formats"] = True
                    if base.startswith("Arn") and any(_variable_before_fifth_colon(v) for v in _as_list(vals)):
                        f["condition_arn_variables_before_fifth_colon"] = True
                    if any("${" in v for v in _as_list(vals)):
                        if re.match(r"(Numeric|Date|Bool|IpAddress|NotIpAddress|Binary)", base):
                            f["variables_in_typed_conditions"] = True
                        f["elements"].add("condition-variable")
            if kind == "resource":
                for k in ("Principal", "NotPrincipal"):
                    p = st.get(k)
                    if p is None:
                        continue
                    vals = [("*", "*")] if p == "*" else [(t, v) for t, vs in p.items() for v in _as_list(vs)]
                    for t, v in vals:
                        f["principals"].add(f"{k}:{t}:{_principal_word(v, req)}")
                        if t == "AWS" and _principal_word(v, req) == "account":
                            f["names_account"] = True
                        if k == "Principal" and st.get("Effect") == "Allow" and v == req["principal"].get("arn"):
                            f["resource_names_caller_arn"] = True
                        if _principal_word(v, req) == "user-of-session":
                            f["resource_names_user_of_session"] = True
                    if k == "NotPrincipal" and st.get("Effect") == "Deny":
                        f["deny_not_principal_in_resource"] = True
                        words = {_principal_word(v, req) for _, v in vals}
                        if "role-of-session" in words and "caller" not in words:
                            f["not_principal_names_role_not_session"] = True
                        if "user-of-session" in words and "caller" not in words:
                            f["not_principal_names_user_not_session"] = True
    return f


def _is_epoch(v: str) -> bool:
    return re.fullmatch(r"\d+(\.\d*)?", v.strip()) is not None


def _variable_before_fifth_colon(pattern: str) -> bool:
    return pattern.startswith("arn:") and "${" in ":".join(pattern.split(":")[:5])


def _as_list(v: Any) -> List[str]:
    if v is None:
        return []
    return [v] if isinstance(v, str) else list(v)


def _principal_word(v: str, req: Dict[str, Any]) -> str:
    arn = req["principal"].get("arn")
    if v == "*":
        return "*"
    if v == arn:
        return "caller"
    if re.fullmatch(r"\d{12}", v) or v.endswith(":root"):
        return "account" if (req["principal"].get("account") or "") in v else "other-account"
    if ":role/" in v and arn and ":assumed-role/" in arn:
        return "role-of-session"
    if ":user/" in v and arn and ":federated-user/" in arn and v.rsplit("/", 1)[-1] == arn.rsplit("/", 1)[-1]:
        return "user-of-session"
    return "other"


def signature(case: Case, ours: str, theirs: str) -> str:
    f = features(case)
    parts = [f["caller"], f["account"], f"iamgate={ours}", f"iam-simulate={theirs}",
             "+".join(f["policies"]) or "no-policies"]
    extra = sorted(f["elements"]) + sorted(f["principals"]) + sorted(f["operators"])
    if extra:
        parts.append(",".join(extra))
    return " | ".join(parts)


def classify(case: Case, ours: str, theirs: str) -> str:
    f = features(case)
    for dev in KNOWN_DEVIATIONS:
        if dev.trigger(f, ours, theirs):
            return dev.cls
    return "unclassified: " + signature(case, ours, theirs)


# ----------------------------------------------------------------------------- the run


@dataclass
class Report:
    total: int = 0
    agreed: int = 0
    harness: Counter = field(default_factory=Counter)           # problem -> count
    by_caller: Dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    by_policy: Dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    classes: Counter = field(default_factory=Counter)
    examples: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    false_allows: Counter = field(default_factory=Counter)       # class -> iamgate allow, oracle deny

    def agreement(self) -> float:
        compared = self.total - sum(self.harness.values())
        return 100.0 * self.agreed / compared if compared else 100.0


def run(cases: List[Case], oracle: Oracle, minimize_limit: int = 400,
        progress: Optional[Callable[[str], None]] = None) -> Report:
    rep = Report(total=len(cases))
    ours = [iamgate_decision(c) for c in cases]
    theirs = oracle_decisions(cases, oracle)
    disagreements: List[Tuple[Case, str, str]] = []
    for c, o, t in zip(cases, ours, theirs):
        if "error" in t:
            rep.harness["iam-simulate rejected the case: " + t["error"][:160]] += 1
            continue
        if t.get("ignored"):
            rep.harness["iam-simulate ignored context keys: " + ",".join(sorted(t["ignored"]))] += 1
            continue
        ok = o == t["result"]
        caller = c["oracle"]["caller"]
        rep.by_caller[caller]["agree" if ok else "disagree"] += 1
        for k in POLICY_TYPES:
            if c["policies"].get(k) not in (None, []):
                rep.by_policy[k]["agree" if ok else "disagree"] += 1
        if ok:
            rep.agreed += 1
        else:
            disagreements.append((c, o, t["result"]))
    if progress:
        progress(f"{len(disagreements)} disagreements; minimizing up to {minimize_limit}")
    # minimize a bounded, representative sample (round robin over coarse signatures), classify all
    coarse: Dict[str, List[int]] = defaultdict(list)
    for i, (c, o, t) in enumerate(disagreements):
        coarse[signature(c, o, t)].append(i)
    order: List[int] = []
    queues = [list(v) for v in coarse.values()]
    while queues and len(order) < minimize_limit:
        for q in queues:
            if q and len(order) < minimize_limit:
                order.append(q.pop(0))
        queues = [q for q in queues if q]
    minimized = minimize([disagreements[i] for i in order], oracle)
    small: Dict[int, Case] = dict(zip(order, minimized))
    for i, (c, o, t) in enumerate(disagreements):
        m = small.get(i)
        cls = classify(m, o, t) if m is not None else classify(c, o, t)
        rep.classes[cls] += 1
        if o == "allow" and t != "allow":
            rep.false_allows[cls] += 1
        ex = m if m is not None else c
        if cls not in rep.examples or _size(ex) < _size(rep.examples[cls]["case"]):
            rep.examples[cls] = {"iamgate": o, "iam-simulate": t, "minimized": m is not None, "case": ex,
                                 "iam_simulate_input": translate(ex)}
    return rep
