"""Inspector data saved from `aws inspector2 list-findings`, `batch-get-finding-details` and `search-vulnerabilities`.

Files hold one document, an array of pages, or documents back to back, in any mix of the three
operations. Each operation's pages must be complete (no last page with a token) and no finding ARN
or vulnerability may appear twice, so a dry run sees what a live run saw, or is refused.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from gate.agree import one_per_id
from gate.enrichment.inspector_shapes import (
    DETAILS,
    from_finding_detail,
    from_inspector_finding,
    from_vulnerability,
)
from gate.enrichment.interface import combine
from gate.errors import IncompleteError, InputError, ShapeError
from gate.fields import DataKind
from gate.jsondocs import Page, pages_of, require_complete, require_unique
from gate.model import Enrichment, FeedInfo
from gate.timeutil import to_utc

WHAT = ("the output of `aws inspector2 list-findings`, `batch-get-finding-details` or "
        "`search-vulnerabilities`")
_KEYS = ("findingDetails", "findings", "vulnerabilities")
"""One list per operation, in the live enricher's order of priority."""
_HARMLESS = {"FINDING_DETAILS_NOT_FOUND"}


def _is_page(obj: Any) -> bool:
    return isinstance(obj, dict) and any(isinstance(obj.get(k), list) for k in _KEYS)


def _items(page: Page, key: str) -> list[tuple[str, Mapping[str, Any]]]:
    out = []
    for i, item in enumerate(page.value.get(key) or []):
        if not isinstance(item, Mapping):
            raise InputError(f"{page.where}: {key}[{i}] is not an object", hint=f"expected {WHAT}")
        out.append((f"{page.where}, {key}[{i}]", item))
    return out


def _arn(where: str, item: Mapping[str, Any], hint: str) -> str:
    arn = item.get("findingArn")
    if not isinstance(arn, str) or not arn:
        raise InputError(f"{where}: no findingArn, so not Inspector's", hint=hint)
    return arn


class InspectorExport:
    """Details are keyed by finding ARN only, so the list-findings output that names each ARN's CVE is needed."""

    name = "inspector-export"
    provides: frozenset[str] = frozenset({DataKind.INSPECTOR})

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = tuple(paths)
        self._by_id: dict[str, list[Enrichment]] = {}
        self._load()

    def _load(self) -> None:
        pages = pages_of(self.paths, _is_page, kind="Inspector output",
                         needs="'findings', 'findingDetails' or 'vulnerabilities' list", what=WHAT)
        by_key = {key: [p for p in pages if isinstance(p.value.get(key), list)] for key in _KEYS}
        for key in ("findings", "vulnerabilities"):
            require_complete(by_key[key])
        listed = [(w, i) for p in by_key["findings"] for w, i in _items(p, "findings")]
        details = [(w, i) for p in by_key["findingDetails"] for w, i in _items(p, "findingDetails")]
        vulns = [(w, i) for p in by_key["vulnerabilities"] for w, i in _items(p, "vulnerabilities")]
        listed_arns = [(w, _arn(w, i, "Image Builder findings go to --findings")) for w, i in listed]
        require_unique(listed_arns, "Inspector finding")
        require_unique(((w, _arn(w, i, f"expected {WHAT}")) for w, i in details), "finding detail")
        require_unique(((w, str(i.get("id"))) for w, i in vulns), "vulnerability")
        for page in by_key["findingDetails"]:
            self._check_errors(page)

        arn_to_id: dict[str, str] = {}
        arn_date: dict[str, Any] = {}
        from_list: list[Enrichment] = []
        for where, item in listed:
            try:
                updated = to_utc(item.get("updatedAt"))
                value = from_inspector_finding(item, updated)
            except ShapeError as e:
                raise InputError(f"{where}: {e}") from None
            arn_to_id[item["findingArn"]] = value.vulnerability_id
            arn_date[item["findingArn"]] = updated
            from_list.append(value)
        unmapped = [(w, i["findingArn"]) for w, i in details if i["findingArn"] not in arn_to_id]
        if unmapped:
            raise InputError(
                f"{unmapped[0][0]}: {len(unmapped)} finding detail(s) name ARNs with no known CVE, "
                f"e.g. {unmapped[0][1]}",
                hint="also pass the `aws inspector2 list-findings` output that lists those ARNs")
        # NOTE: the order is the live enricher's priority: details, then list-findings, then search.
        answers: list[Enrichment] = []
        detailed: list[tuple[str, Enrichment]] = []
        for where, item in details:
            arn = item["findingArn"]
            try:
                detailed.append((where, from_finding_detail(item, arn_to_id[arn], arn_date.get(arn))))
            except ShapeError as e:
                raise InputError(f"{where}: {e}") from None
        hint = "save Inspector's answers again, whole, in one run"
        answers.extend(one_per_id(detailed, hint=hint).values())
        answers.extend(one_per_id(zip((w for w, _ in listed), from_list, strict=True), hint=hint).values())
        for where, item in vulns:
            try:
                answers.append(from_vulnerability(item, None))
            except ShapeError as e:
                raise InputError(f"{where}: {e}") from None
        for value in answers:
            self._by_id.setdefault(value.vulnerability_id, []).append(value)

    @staticmethod
    def _check_errors(page: Page) -> None:
        for err in page.value.get("errors") or []:
            code = err.get("errorCode") if isinstance(err, Mapping) else None
            if code not in _HARMLESS:
                arn = err.get("findingArn") if isinstance(err, Mapping) else None
                raise IncompleteError(
                    f"{page.where}: Inspector reported {code} for {arn}",
                    hint="run batch-get-finding-details again; the saved answer is incomplete")

    def enrich(self, vulnerability_ids: Collection[str]) -> dict[str, Enrichment]:
        wanted = [v for v in vulnerability_ids if v in self._by_id]
        return combine(wanted, ({v.vulnerability_id: v} for vid in wanted for v in self._by_id[vid]))

    def feeds(self) -> tuple[FeedInfo, ...]:
        return (FeedInfo(name="Amazon Inspector (saved)", source=", ".join(map(str, self.paths)),
                         as_of=None, detail=f"{len(self._by_id)} vulnerabilities; {DETAILS} and ListFindings",
                         provides=(DataKind.INSPECTOR,)),)
