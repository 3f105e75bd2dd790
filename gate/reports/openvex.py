"""OpenVEX v0.2.0 out: the run's accepted risks, for scanners downstream (and for `gate check --vex`).

Policy exceptions become `affected` statements whose `action_statement` carries the reason, owner and
expiry: an accepted risk is still a risk, so gate never turns one into `not_affected`. Statements
read from VEX documents that covered findings are passed on with their original status, timestamp and
products, and `status_notes` naming the document, statement and author they came from.

A run that accepted nothing writes a document with an empty `statements` list: the OpenVEX schema asks
for at least one, but there is no true statement to make, and gate reads such a document as empty.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote

from gate import __version__
from gate.declared import PolicyException, VexStatement
from gate.model import VulnerablePackage
from gate.outcome import Evaluation, FindingResult
from gate.reports.interface import ReportOptions
from gate.timeutil import utc
from gate.vocab import OPENVEX_CONTEXT

JsonObject = dict[str, Any]


def package_url(package: VulnerablePackage) -> str:
    """`pkg:generic/openssl-libs@1%3A3.0.8-1.amzn2023?arch=x86_64`: the package exactly as installed."""
    purl = f"pkg:generic/{quote(package.name, safe='')}@{quote(package.installed, safe='')}"
    return f"{purl}?arch={quote(package.arch, safe='')}" if package.arch else purl


def _image(evaluation: Evaluation) -> list[str]:
    """This build's names: its version ARN and AMIs (not the pipeline's: an exception is judged per build)."""
    names = [p for p in evaluation.products if ":image-pipeline/" not in p]
    return names or [evaluation.target or "unknown-image"]


def _stamp(evaluation: Evaluation) -> str:
    when = utc(evaluation.evaluated_at) if evaluation.evaluated_at else None
    return when.isoformat().replace("+00:00", "Z") if when else "1970-01-01T00:00:00Z"


def _exception_statement(exc: PolicyException, covered: list[FindingResult], evaluation: Evaluation) -> JsonObject:
    packages = sorted({package_url(p) for r in covered for p in r.finding.packages})
    subcomponents = [{"@id": p} for p in packages] if exc.packages else []
    products = [{"@id": name, **({"subcomponents": subcomponents} if subcomponents else {})}
                for name in _image(evaluation)]
    owner = f", owner {exc.owner}" if exc.owner else ""
    stamp = _stamp(evaluation)
    return {
        "vulnerability": {"name": exc.vulnerability},
        "timestamp": stamp,
        "products": products,
        "status": "affected",
        "action_statement": f"Risk accepted until {exc.expires.isoformat()} (gate policy {evaluation.policy_name}, "
                            f"exception {exc.id}{owner}): {exc.reason}",
        "action_statement_timestamp": stamp,
        "status_notes": f"gate policy exception {exc.id} in {evaluation.policy_source}; "
                        f"expires {exc.expires.isoformat()}" + (f"; until {exc.until}" if exc.until else ""),
    }


def _vex_statement(statement: VexStatement) -> JsonObject:
    products = []
    for ids, subs in zip(statement.products, statement.subcomponents, strict=True):
        product: JsonObject = {"@id": ids.split("\n")[0]}
        if subs:
            product["subcomponents"] = [{"@id": s.split("\n")[0]} for s in subs]
        products.append(product)
    vulnerability: JsonObject = {"name": statement.vulnerability}
    if statement.aliases:
        vulnerability["aliases"] = list(dict.fromkeys(statement.aliases))
    out: JsonObject = {
        "vulnerability": vulnerability,
        "timestamp": statement.timestamp.isoformat().replace("+00:00", "Z"),
        "products": products,
        "status": statement.status,
    }
    for key, value in (("justification", statement.justification), ("impact_statement", statement.impact_statement),
                       ("action_statement", statement.action_statement)):
        if value is not None:
            out[key] = value
    source = (f"from VEX document {statement.document_id} ({statement.document}), statement "
              f"{statement.index + 1}, by {statement.author}")
    out["status_notes"] = source + (f"; {statement.status_notes}" if statement.status_notes else "")
    return out


def document(evaluation: Evaluation) -> JsonObject:
    covered: dict[str, list[FindingResult]] = {}
    applied: dict[str, VexStatement] = {}
    for result in evaluation.results:
        for exc_id in dict.fromkeys(m.excepted_by for m in result.matches if m.excepted_by):
            if result.vex is not None and exc_id == result.vex.cover_id:
                applied[exc_id] = result.vex
            else:
                covered.setdefault(exc_id, []).append(result)
    statements = [_exception_statement(exc, covered[exc.id], evaluation)
                  for exc in evaluation.exceptions if exc.id in covered]
    statements += [_vex_statement(s) for _, s in sorted(applied.items())]
    body = json.dumps([evaluation.target, _stamp(evaluation), statements], sort_keys=True)
    return {
        "@context": OPENVEX_CONTEXT,
        "@id": "urn:gate:vex:" + hashlib.sha256(body.encode("utf-8", "backslashreplace")).hexdigest(),
        "author": f"gate release gate (policy {evaluation.policy_name})",
        "role": "release gate",
        "timestamp": _stamp(evaluation),
        "version": 1,
        "tooling": f"gate {__version__}",
        "statements": statements,
    }


class OpenVexReport:
    name = "openvex"

    def render(self, evaluation: Evaluation, options: ReportOptions) -> str:
        text = json.dumps(document(evaluation), indent=2, ensure_ascii=False) + "\n"
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
