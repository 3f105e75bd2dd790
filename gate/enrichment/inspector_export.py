"""Inspector data saved from `aws inspector2` list-findings, batch-get-finding-details and search-vulnerabilities."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from gate.enrichment.inspector_shapes import (
    DETAILS,
    from_finding_detail,
    from_inspector_finding,
    from_vulnerability,
)
from gate.enrichment.interface import combine
from gate.errors import IncompleteError, InputError, ShapeError
from gate.fields import Source
from gate.jsondocs import read_documents
from gate.model import Enrichment, FeedInfo
from gate.timeutil import to_utc

WHAT = ("the output of `aws inspector2 list-findings`, `aws inspector2 batch-get-finding-details` or "
        "`aws inspector2 search-vulnerabilities`")
_HARMLESS = {"FINDING_DETAILS_NOT_FOUND"}


class InspectorExport:
    """Details are keyed by finding ARN only, so the list-findings output that names each ARN's CVE is needed."""

    name = "inspector-export"
    provides: frozenset[str] = frozenset({Source.INSPECTOR})

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = tuple(paths)
        self._by_id: dict[str, list[Enrichment]] = {}
        self._load()

    def _load(self) -> None:
        arn_to_id: dict[str, str] = {}
        arn_date: dict[str, Any] = {}
        details: list[tuple[Path, dict[str, Any]]] = []
        for path in self.paths:
            for doc in read_documents(path, WHAT):
                if not isinstance(doc, dict) or not any(
                    isinstance(doc.get(key), list) for key in ("findings", "findingDetails", "vulnerabilities")
                ):
                    raise InputError(f"{path}: not Inspector output (no 'findings', 'findingDetails' or "
                                     "'vulnerabilities')", hint=f"expected {WHAT}")
                for item in doc.get("vulnerabilities") or []:
                    try:
                        value = from_vulnerability(item, None) if isinstance(item, dict) else None
                    except ShapeError as e:
                        raise InputError(f"{path}: vulnerability {str(item.get('id'))[:40]}: {e}") from None
                    if value is None:
                        raise InputError(f"{path}: vulnerabilities entries must be objects", hint=f"expected {WHAT}")
                    # NOTE: a search answer ranks below what findings and their details say.
                    self._by_id.setdefault(value.vulnerability_id, []).append(value)
                for item in doc.get("findings") or []:
                    if not isinstance(item, dict) or "findingArn" not in item:
                        raise InputError(f"{path}: a finding without findingArn is not Inspector's",
                                         hint="Image Builder findings go to --findings")
                    try:
                        value = from_inspector_finding(item, to_utc(item.get("updatedAt")))
                    except ShapeError as e:
                        raise InputError(f"{path}: {item['findingArn']}: {e}") from None
                    arn_to_id[item["findingArn"]] = value.vulnerability_id
                    arn_date[item["findingArn"]] = to_utc(item.get("updatedAt"))
                    self._by_id.setdefault(value.vulnerability_id, []).append(value)
                for item in doc.get("findingDetails") or []:
                    details.append((path, item))
                for err in doc.get("errors") or []:
                    code = err.get("errorCode") if isinstance(err, dict) else None
                    if code not in _HARMLESS:
                        raise IncompleteError(
                            f"{path}: Inspector reported {code} for {err.get('findingArn')}",
                            hint="run batch-get-finding-details again; the saved answer is incomplete")
        unmapped = [d.get("findingArn") for _, d in details if d.get("findingArn") not in arn_to_id]
        if unmapped:
            raise InputError(
                f"{details[0][0]}: {len(unmapped)} finding detail(s) name ARNs with no known CVE, "
                f"e.g. {unmapped[0]}",
                hint="also pass the `aws inspector2 list-findings` output that lists those ARNs")
        for path, item in details:
            arn = item["findingArn"]
            try:
                value = from_finding_detail(item, arn_to_id[arn], arn_date.get(arn))
            except ShapeError as e:
                raise InputError(f"{path}: {arn}: {e}") from None
            # details outrank list-findings values for the same CVE
            self._by_id.setdefault(value.vulnerability_id, []).insert(0, value)

    def enrich(self, vulnerability_ids: Collection[str]) -> dict[str, Enrichment]:
        wanted = [v for v in vulnerability_ids if v in self._by_id]
        return combine(wanted, ({v.vulnerability_id: v} for vid in wanted for v in self._by_id[vid]))

    def feeds(self) -> tuple[FeedInfo, ...]:
        return (FeedInfo(name="Amazon Inspector (saved)", source=", ".join(map(str, self.paths)),
                         as_of=None, detail=f"{len(self._by_id)} vulnerabilities; {DETAILS} and ListFindings",
                         provides=(Source.INSPECTOR,)),)
