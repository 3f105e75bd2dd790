"""The three Inspector calls gate makes, each answer turned into `Enrichment` with its provenance."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from gate.agree import strictest
from gate.aws.retry import Caller, denied
from gate.enrichment.inspector_shapes import from_finding_detail, from_inspector_finding, from_vulnerability
from gate.errors import AwsCallError, AwsError, ShapeError, one_line
from gate.model import Enrichment
from gate.timeutil import to_utc

CVE_ID = re.compile(r"CVE-[12][0-9]{3}-[0-9]{1,10}")
"""The only ids `SearchVulnerabilities` accepts."""
BATCH = 10
"""`ListFindings` takes at most ten vulnerabilityId filters, `BatchGetFindingDetails` ten ARNs."""
LIST = "inspector2:ListFindings"
DETAILS = "inspector2:BatchGetFindingDetails"
SEARCH = "inspector2:SearchVulnerabilities"
SCOPE_TAG = "Ec2ImageBuilderArn"
NO_RETRY: tuple[str, ...] = ()
"""Inspector's throttling and 5xx are botocore's to retry; whatever is left is final."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def _equals(*values: str) -> list[dict[str, str]]:
    return [{"comparison": "EQUALS", "value": v} for v in values]


def _unreadable(action: str, what: str, error: ShapeError) -> AwsError:
    return AwsError(f"{action} returned {what} gate cannot read: {error}",
                    hint="report this to the gate maintainers")


def _tagged(finding: Mapping[str, Any], scope: str) -> bool:
    """Whether one of the finding's resources carries the tag the listing was scoped by."""
    resources = finding.get("resources")
    return isinstance(resources, list) and any(
        isinstance(r, Mapping) and isinstance(r.get("tags"), Mapping) and r["tags"].get(SCOPE_TAG) == scope
        for r in resources)


def _preference(finding: Mapping[str, Any]) -> tuple[bool, float]:
    """Prefer an ACTIVE finding, then the most recently updated: its details are the likeliest kept."""
    try:
        updated = to_utc(finding.get("updatedAt"))
    except ShapeError:
        updated = None
    return (finding.get("status") == "ACTIVE", updated.timestamp() if updated else 0.0)


class InspectorApi:
    """Thread-safe wrappers over one inspector2 client; raise `AwsError` rather than answer partly.

    `client` gives the client when the first call needs it (it may still be being created).
    """

    def __init__(self, client: Callable[[], Any], caller: Caller, scope: str | None,
                 now: Callable[[], datetime] = utcnow) -> None:
        self._client_of = client
        self._call = caller
        self._scope = scope
        self._now = now
        self._lock = threading.Lock()
        self.last_response: datetime | None = None

    @property
    def _client(self) -> Any:
        return self._client_of()

    def stamp(self) -> datetime:
        as_of = self._now()
        with self._lock:
            if self.last_response is None or as_of > self.last_response:
                self.last_response = as_of
        return as_of

    def list_findings(self, ids: Sequence[str]) -> tuple[dict[str, Enrichment], dict[str, str]]:
        criteria: dict[str, Any] = {
            "vulnerabilityId": _equals(*ids),
            "findingType": _equals("PACKAGE_VULNERABILITY"),
            "findingStatus": _equals("ACTIVE", "CLOSED"),
        }
        if self._scope:
            criteria["resourceTags"] = [{"comparison": "EQUALS", "key": SCOPE_TAG, "value": self._scope}]
        wanted = set(ids)
        listed: dict[str, Enrichment] = {}
        best: dict[str, Mapping[str, Any]] = {}
        params = {"filterCriteria": criteria, "maxResults": 100}
        for response in self._call.pages(LIST, self._client.list_findings, params, retry_codes=NO_RETRY):
            as_of = self.stamp()
            for finding in response["findings"]:
                if self._scope and not _tagged(finding, self._scope):
                    # NOTE: another build's finding would lend this build its (clean) details.
                    raise AwsError(f"{LIST} answered a finding of another resource than {self._scope} "
                                   f"({one_line(finding.get('findingArn'), 200)}): it has no tag {SCOPE_TAG} "
                                   "naming this build", hint="Inspector answered outside the scope asked; retry later")
                try:
                    value = from_inspector_finding(finding, as_of)
                except ShapeError as e:
                    raise _unreadable(LIST, "a finding", e) from e
                vid = value.vulnerability_id
                if vid not in wanted:
                    continue
                # NOTE: one CVE in two packages is two findings; the first used to win, whatever the second said.
                listed[vid] = strictest(listed[vid], value) if vid in listed else value
                if vid not in best or _preference(finding) > _preference(best[vid]):
                    best[vid] = finding
        arns = {vid: str(f["findingArn"]) for vid, f in best.items() if f.get("findingArn")}
        return listed, arns

    def details(self, cve_of: Mapping[str, str]) -> dict[str, Enrichment]:
        """Details for up to ten finding ARNs (ARN → CVE id); INTERNAL_ERROR entries are asked again."""
        out: dict[str, Enrichment] = {}
        pending = list(cve_of)
        pauses = self._call.backoff.delays()
        attempts = 0
        while pending:
            attempts += 1
            response = self._call(DETAILS, partial(self._client.batch_get_finding_details,
                                                   findingArns=pending), retry_codes=NO_RETRY)
            as_of = self.stamp()
            answered: set[str] = set()
            for detail in response.get("findingDetails") or []:
                arn = detail.get("findingArn")
                if arn in cve_of and arn in pending:
                    try:
                        out[cve_of[arn]] = from_finding_detail(detail, cve_of[arn], as_of)
                    except ShapeError as e:
                        raise _unreadable(DETAILS, f"details for {arn}", e) from e
                    answered.add(arn)
            retry: list[str] = []
            for error in response.get("errors") or []:
                arn = error.get("findingArn", "")
                code = error.get("errorCode", "")
                if arn not in pending:
                    continue
                answered.add(arn)
                message = one_line(error.get("errorMessage") or code)
                if code == "FINDING_DETAILS_NOT_FOUND":
                    continue
                if code == "INTERNAL_ERROR":
                    retry.append(arn)
                    continue
                if code == "ACCESS_DENIED":
                    raise denied(DETAILS, f"{arn}: {message}")
                raise AwsCallError(f"{DETAILS} failed with {code} for {arn}: {message}", action=DETAILS,
                                   code=str(code), hint="report this to the gate maintainers")
            unanswered = [arn for arn in pending if arn not in answered]
            if unanswered:
                raise AwsError(f"{DETAILS} answered neither details nor an error for {len(unanswered)} "
                               f"findings (e.g. {unanswered[0]})", hint="retry later")
            if retry:
                pause = next(pauses, None)
                if pause is None:
                    raise AwsCallError(
                        f"{DETAILS} still had INTERNAL_ERROR for {len(retry)} findings after {attempts} "
                        "attempts", action=DETAILS, code="INTERNAL_ERROR",
                        hint="Inspector is having trouble; retry later")
                self._call.backoff.sleep(pause)
            pending = retry
        return out

    def search(self, vid: str) -> Enrichment | None:
        kwargs: dict[str, Any] = {"filterCriteria": {"vulnerabilityIds": [vid]}}
        response = self._call(SEARCH, partial(self._client.search_vulnerabilities, **kwargs),
                              retry_codes=NO_RETRY)
        as_of = self.stamp()
        found = response["vulnerabilities"]
        for vulnerability in found:
            if str(vulnerability.get("id", "")).upper() == vid.upper():
                try:
                    return from_vulnerability({**vulnerability, "id": vid}, as_of)
                except ShapeError as e:
                    raise _unreadable(SEARCH, f"data for {vid}", e) from e
        if found:
            # NOTE: an answer about another CVE is no answer about this one ("knows nothing" could pass it).
            other = one_line(found[0].get("id"), 60)
            raise AwsError(f"{SEARCH} for {vid} answered about another vulnerability ({other})",
                           hint="Inspector answered another question; run gate again")
        return None
