"""InspectorEnricher against the emulator: the lookup order, batching, partial failures and the cache."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gate.aws.retry import Caller
from gate.aws.session import Clients
from gate.enrichment.answerdb import FILE
from gate.enrichment.cache import Cache
from gate.enrichment.inspector import InspectorEnricher
from gate.errors import AwsError
from gate.model import Enrichment
from tests.aws.fixtures import FakeTime, open_clients
from tests.emulator import DetailFault, Emulator, Faults, image_arn

SCOPE = image_arn()
TAGS = {"Ec2ImageBuilderArn": SCOPE}
NOW = datetime(2025, 8, 30, 12, 0, tzinfo=UTC)
DETAIL = {
    "cisaData": {"dateAdded": "2025-01-02T00:00:00+00:00", "dateDue": "2025-01-23T00:00:00+00:00",
                 "action": "Apply updates per vendor instructions."},
    "epssScore": 0.91,
    "exploitObserved": {"firstSeen": "2025-01-01T00:00:00+00:00", "lastSeen": "2025-02-01T00:00:00+00:00"},
    "riskScore": 88,
    "cwes": ["CWE-787"],
    "ttps": ["T1190"],
    "tools": ["metasploit"],
}
VULNERABILITY = {
    "source": "NVD",
    "epss": {"score": 0.12},
    "cwes": ["CWE-79"],
    "atigData": {"ttps": ["T1059"]},
}


def _now() -> datetime:
    return NOW


@pytest.fixture
def emu(aws_env: Emulator) -> Emulator:
    """Five ids: details; details gone but searchable; nothing at all; an ALAS id; a GHSA id."""
    aws_env.add_inspector_finding(vulnerability_id="CVE-2024-0001", resource_tags=TAGS, epss=0.9,
                                  exploit_available="YES", details=DETAIL)
    aws_env.add_inspector_finding(vulnerability_id="CVE-2024-0002", resource_tags=TAGS, epss=0.1,
                                  exploit_available="NO", details=None)
    aws_env.add_vulnerability("CVE-2024-0002", VULNERABILITY)
    aws_env.add_inspector_finding(vulnerability_id="ALAS2023-2024-500", resource_tags=TAGS, details=None)
    return aws_env


@pytest.fixture
def make(clients: Clients, caller: Caller) -> Iterator[Any]:
    made: list[InspectorEnricher] = []

    def factory(cache: Cache | None = None, *, scope: str | None = SCOPE, workers: int = 4,
                with_clients: Clients | None = None) -> InspectorEnricher:
        enricher = InspectorEnricher(with_clients or clients, scope_arn=scope, cache=cache, max_workers=workers,
                                     now=_now, caller=Caller(caller.backoff))
        made.append(enricher)
        return enricher

    yield factory
    for enricher in made:
        enricher.close()


IDS = ["CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003", "ALAS2023-2024-500", "GHSA-abcd-efgh-ijkl"]


def _run(enricher: InspectorEnricher, *pages: Sequence[str]) -> dict[str, Enrichment]:
    for page in pages or (IDS,):
        enricher.submit(page)
    try:
        return dict(enricher.results())
    finally:
        enricher.close()


def _asked(emu: Emulator, operation: str) -> list[str]:
    if operation == "ListFindings":
        return [f["value"] for c in emu.calls if c.operation == operation
                for f in c.params["filterCriteria"]["vulnerabilityId"]]
    return [i for c in emu.calls if c.operation == operation for i in c.params["filterCriteria"]["vulnerabilityIds"]]


def test_each_source_in_order_with_provenance(emu: Emulator, make: Any) -> None:
    answers = _run(make())
    assert set(answers) == {"CVE-2024-0001", "CVE-2024-0002", "ALAS2023-2024-500"}
    first = answers["CVE-2024-0001"]
    assert first.kev is not None
    assert first.kev.date_added == date(2025, 1, 2)
    assert first.kev.provenance is not None
    assert first.kev.provenance.source == "inspector:BatchGetFindingDetails"
    assert first.kev.provenance.as_of == NOW
    assert first.epss is not None
    assert first.epss.score == 0.91
    assert first.exploit_observed is not None
    assert first.exploit_observed.value is True
    assert first.exploit_available is not None
    assert first.exploit_available.value is True
    assert first.exploit_available.provenance.source == "inspector:ListFindings"
    assert first.risk_score is not None
    assert first.risk_score.value == 88.0
    assert first.tools is not None
    assert first.tools.value == ("metasploit",)
    second = answers["CVE-2024-0002"]
    assert second.epss is not None
    assert second.epss.provenance is not None
    assert second.epss.provenance.source == "inspector:ListFindings"
    assert second.kev is None
    assert second.kev_known_by == ("inspector:SearchVulnerabilities",)
    assert second.cwes is not None
    assert second.cwes.provenance.source == "inspector:SearchVulnerabilities"
    assert emu.violations == []


def test_list_findings_is_batched_scoped_and_filtered(emu: Emulator, make: Any) -> None:
    ids = [f"CVE-2023-{i}" for i in range(1000, 1023)]
    _run(make(), ids)
    calls = [c.params for c in emu.calls if c.operation == "ListFindings"]
    assert sorted(len(p["filterCriteria"]["vulnerabilityId"]) for p in calls) == [3, 10, 10]
    for params in calls:
        criteria = params["filterCriteria"]
        assert criteria["findingType"] == [{"comparison": "EQUALS", "value": "PACKAGE_VULNERABILITY"}]
        assert criteria["findingStatus"] == [{"comparison": "EQUALS", "value": "ACTIVE"},
                                             {"comparison": "EQUALS", "value": "CLOSED"}]
        assert criteria["resourceTags"] == [{"comparison": "EQUALS", "key": "Ec2ImageBuilderArn", "value": SCOPE}]


def test_short_groups_from_pages_are_combined(emu: Emulator, make: Any) -> None:
    pages = [[f"CVE-2023-{1000 + 10 * p + i}" for i in range(7)] for p in range(3)]
    _run(make(), *pages)
    calls = [c.params for c in emu.calls if c.operation == "ListFindings"]
    assert sorted(len(p["filterCriteria"]["vulnerabilityId"]) for p in calls) == [1, 10, 10]


def test_without_a_scope_no_resource_tag_filter(emu: Emulator, make: Any) -> None:
    _run(make(scope=None))
    assert all("resourceTags" not in c.params["filterCriteria"] for c in emu.calls if c.operation == "ListFindings")


def test_no_id_is_asked_twice(emu: Emulator, make: Any) -> None:
    _run(make(), IDS[:2], IDS[1:4], IDS, [IDS[0]])
    listed = _asked(emu, "ListFindings")
    assert sorted(listed) == sorted(IDS)
    searched = _asked(emu, "SearchVulnerabilities")
    assert sorted(searched) == ["CVE-2024-0002", "CVE-2024-0003"]
    details = [a for c in emu.calls if c.operation == "BatchGetFindingDetails" for a in c.params["findingArns"]]
    assert len(details) == len(set(details)) == 3


def test_search_is_never_called_for_non_cve_ids(emu: Emulator, make: Any) -> None:
    _run(make(), ["ALAS2023-2024-500", "GHSA-abcd-efgh-ijkl", "cve-2024-1", "CVE-24-1", "RHSA-2024:1234"])
    assert emu.count("SearchVulnerabilities") == 0


def test_a_transient_internal_error_in_details_is_retried(emu: Emulator, make: Any, fake_time: FakeTime) -> None:
    arn = emu.add_inspector_finding(vulnerability_id="CVE-2024-0010", resource_tags=TAGS, details=DETAIL)
    emu.faults = Faults(detail_errors={arn: DetailFault("INTERNAL_ERROR", attempts=2)})
    answers = _run(make(), ["CVE-2024-0010"])
    assert answers["CVE-2024-0010"].risk_score is not None
    assert emu.count("BatchGetFindingDetails") == 3
    assert len(fake_time.sleeps) == 2
    assert emu.count("SearchVulnerabilities") == 0


def test_a_persistent_internal_error_in_details_is_an_error(emu: Emulator, make: Any) -> None:
    arn = emu.add_inspector_finding(vulnerability_id="CVE-2024-0010", resource_tags=TAGS, details=DETAIL)
    emu.faults = Faults(detail_errors={arn: "INTERNAL_ERROR"})
    with pytest.raises(AwsError, match="inspector2:BatchGetFindingDetails still had INTERNAL_ERROR for 1 "
                       "findings after 4 attempts"):
        _run(make(), ["CVE-2024-0010"])
    assert emu.count("BatchGetFindingDetails") == 4


def test_access_denied_to_details_names_the_iam_action(emu: Emulator, make: Any) -> None:
    arn = emu.add_inspector_finding(vulnerability_id="CVE-2024-0010", resource_tags=TAGS, details=DETAIL)
    emu.faults = Faults(detail_errors={arn: "ACCESS_DENIED"})
    with pytest.raises(AwsError, match="AWS denied inspector2:BatchGetFindingDetails") as err:
        _run(make(), ["CVE-2024-0010"])
    assert "inspector2:BatchGetFindingDetails" in (err.value.hint or "")


@pytest.mark.parametrize("operation", ["ListFindings", "BatchGetFindingDetails", "SearchVulnerabilities"])
def test_a_forbidden_operation_names_the_iam_action(emu: Emulator, make: Any, operation: str) -> None:
    emu.faults = Faults(forbidden={operation})
    with pytest.raises(AwsError, match=f"AWS denied inspector2:{operation}: AccessDeniedException") as err:
        _run(make())
    assert err.value.hint == f"grant the IAM action inspector2:{operation} to the role or user gate runs as"


def test_throttling_is_retried_by_botocore(emu: Emulator, make: Any) -> None:
    emu.faults = Faults(throttle_first={"ListFindings": 1, "SearchVulnerabilities": 1})
    answers = _run(make(workers=1))
    assert set(answers) == {"CVE-2024-0001", "CVE-2024-0002", "ALAS2023-2024-500"}
    assert emu.count("ListFindings", status=429) == 1


def test_throttling_beyond_the_retries_names_the_operation(emu: Emulator, make: Any) -> None:
    emu.faults = Faults(throttle_first={"ListFindings": 50})
    clients = open_clients(max_attempts=2)
    try:
        with pytest.raises(AwsError, match=r"inspector2:ListFindings failed with ThrottlingException \(HTTP 429\)"):
            _run(make(with_clients=clients), ["CVE-2024-0001"])
    finally:
        clients.close()
    assert emu.count("ListFindings") == 2


def test_server_errors_are_retried_by_botocore(emu: Emulator, make: Any) -> None:
    emu.faults = Faults(error_first={"ListFindings": 1, "BatchGetFindingDetails": 1})
    assert "CVE-2024-0001" in _run(make())
    assert emu.count("ListFindings", status=500) == 1


def test_a_failure_fails_the_whole_run_and_later_submits(emu: Emulator, make: Any) -> None:
    emu.faults = Faults(forbidden={"ListFindings"})
    enricher = make(workers=1)
    enricher.submit(["CVE-2024-0001"])
    with pytest.raises(AwsError):
        enricher.results()
    with pytest.raises(AwsError):
        enricher.submit(["CVE-2024-0002"])
    enricher.close()


def test_a_second_run_with_the_cache_makes_no_inspector_call(emu: Emulator, make: Any, tmp_path: Path) -> None:
    first = _run(make(Cache(tmp_path)))
    calls = len(emu.calls)
    assert calls > 0
    enricher = make(Cache(tmp_path))
    second = _run(enricher)
    assert len(emu.calls) == calls
    assert second == first
    assert enricher.cache_hits == len(IDS)
    assert enricher.calls() == {}
    assert "5 from cache" in (enricher.feeds()[0].detail or "")


def test_an_unusable_cache_file_is_only_a_slower_run(emu: Emulator, make: Any, tmp_path: Path) -> None:
    first = _run(make(None))
    calls = len(emu.calls)
    (tmp_path / FILE).write_bytes(b"\x00garbage" * 512)  # not a database: every lookup is a miss
    enricher = make(Cache(tmp_path))
    assert _run(enricher) == first
    assert len(emu.calls) == 2 * calls and enricher.cache_hits == 0
    detail = enricher.feeds()[0].detail or ""
    assert "cache writes failed; cache not used: " in detail and "\n" not in detail


def test_negative_answers_are_scoped(emu: Emulator, make: Any, tmp_path: Path) -> None:
    _run(make(Cache(tmp_path)))
    before = Counter(c.operation for c in emu.calls)
    _run(make(Cache(tmp_path), scope=image_arn(build=2)))
    after = Counter(c.operation for c in emu.calls) - before
    assert after["ListFindings"] == 1
    assert sorted(_asked(emu, "ListFindings")[len(IDS):]) == ["CVE-2024-0003", "GHSA-abcd-efgh-ijkl"]


def test_expired_entries_are_asked_again(emu: Emulator, make: Any, tmp_path: Path) -> None:
    _run(make(Cache(tmp_path, clock=lambda: NOW - timedelta(hours=25))))
    before = emu.count("ListFindings")
    _run(make(Cache(tmp_path, clock=_now)))
    assert emu.count("ListFindings") == before + 1


def test_feeds_and_counters(emu: Emulator, make: Any) -> None:
    enricher = make()
    _run(enricher)
    assert enricher.calls() == {"inspector2:ListFindings": 1, "inspector2:BatchGetFindingDetails": 1,
                                "inspector2:SearchVulnerabilities": 2}
    (info,) = enricher.feeds()
    assert info.name == "Amazon Inspector"
    assert info.as_of == NOW
    assert info.detail == ("5 ids, 0 from cache; BatchGetFindingDetails 1, ListFindings 1, "
                           "SearchVulnerabilities 2")


def test_work_overlaps_submission(emu: Emulator, make: Any) -> None:
    """Four full groups go out together; no wall-clock bound: the emulator counts requests in flight."""
    emu.faults = Faults(latency_by_operation={"ListFindings": 0.5})
    enricher = make(workers=4)
    for i in range(4):
        enricher.submit([f"CVE-2022-{1000 + 10 * i + j}" for j in range(10)])
    enricher.results()
    assert emu.count("ListFindings") == 4
    assert emu.max_in_flight >= 2  # NOTE: one request at a time would never overlap two


def test_detail_lookups_are_batched_across_groups(aws_env: Emulator, make: Any) -> None:
    """Three groups of ten ids, four of each with details: 12 ARNs need 2 detail calls, not 3."""
    ids = [f"CVE-2025-{n:05d}" for n in range(30)]
    for n, vid in enumerate(ids):
        if n % 10 < 4:
            aws_env.add_inspector_finding(vulnerability_id=vid, resource_tags=TAGS, details=DETAIL)
    enricher = make()
    found = _run(enricher, ids[:10], ids[10:20], ids[20:])
    assert aws_env.count("ListFindings") == 3
    assert aws_env.count("BatchGetFindingDetails") == 2
    assert aws_env.count("SearchVulnerabilities") == 18  # every CVE without details, once each
    assert sorted(vid for vid, e in found.items() if e.kev is not None) == [
        vid for n, vid in enumerate(ids) if n % 10 < 4
    ]
    asked = Counter(v for c in aws_env.calls if c.operation == "SearchVulnerabilities"
                    for v in c.params["filterCriteria"]["vulnerabilityIds"])
    assert max(asked.values()) == 1


# -- search-only mode (on-demand AMI scans: their findings are not in ListFindings) -------------
def _search_only(clients: Clients, caller: Caller, cache: Cache | None) -> InspectorEnricher:
    return InspectorEnricher(clients, scope_arn=SCOPE, cache=cache, max_workers=4, now=_now,
                             caller=Caller(caller.backoff), search_only=True)


def test_search_only_asks_one_search_per_cve_and_nothing_else(emu: Emulator, clients: Clients, caller: Caller,
                                                              tmp_path: Path) -> None:
    cache = Cache(tmp_path, clock=_now)
    enricher = _search_only(clients, caller, cache)
    try:
        found = _run(enricher, IDS[:2], IDS[2:])
    finally:
        enricher.close()
    assert set(found) == {"CVE-2024-0002"}
    assert found["CVE-2024-0002"].epss is not None and found["CVE-2024-0002"].epss.score == 0.12
    assert enricher.calls() == {"inspector2:SearchVulnerabilities": 3}
    assert emu.count("ListFindings") == emu.count("BatchGetFindingDetails") == 0

    again = _search_only(clients, caller, cache)
    try:
        assert set(_run(again)) == {"CVE-2024-0002"}
    finally:
        again.close()
    assert again.calls() == {} and again.cache_hits == len(IDS)
    assert emu.violations == []


def test_a_search_only_answer_never_stands_in_for_a_full_one(emu: Emulator, clients: Clients, caller: Caller,
                                                             make: Any, tmp_path: Path) -> None:
    cache = Cache(tmp_path, clock=_now)
    enricher = _search_only(clients, caller, cache)
    try:
        _run(enricher, ["CVE-2024-0002"])
    finally:
        enricher.close()
    full = make(cache)
    found = _run(full, ["CVE-2024-0002"])
    assert full.calls().get("inspector2:ListFindings") == 1
    exploit = found["CVE-2024-0002"].exploit_available
    assert exploit is not None and exploit.value is False  # from ListFindings, which search cannot give
