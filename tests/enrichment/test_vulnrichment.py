"""SSVC decision points from real Vulnrichment records: a folder (flat or repository layout) and the record API."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gate.enrichment.answerdb import FILE
from gate.enrichment.vulnrichment import VulnrichmentDirectory, ssvc_from_record
from gate.enrichment.vulnrichment_online import RecordCache, VulnrichmentOnline
from gate.errors import ExitCode, GateError, InputError
from gate.fields import FIELDS, Context
from gate.model import Finding
from tests.conftest import DATA

RECORDS = DATA / "vulnrichment"
EXPECTED = {  # read off the records by hand (tests/data/PROVENANCE.md)
    "CVE-2024-3400": ("active", True, "total", "2024-04-17"),  # written "Active"/"Yes"/"Total"
    "CVE-2024-1709": ("active", True, "total", "2024-02-24"),
    "CVE-2024-4577": ("active", True, "total", "2024-06-12"),
    "CVE-2024-23897": ("active", True, "total", "2024-08-19"),
    "CVE-2024-6000": ("none", False, "total", "2024-06-17"),
    "CVE-2024-6003": ("poc", True, "total", "2024-06-17"),
    "CVE-2024-34686": ("none", False, "partial", "2024-06-11"),  # beside a non-CISA "CVE" ADP container
}


def facts(enrichment: Any, vid: str) -> tuple[Any, ...]:
    finding = Finding(vulnerability_id=vid, severity="HIGH", title=None, description=None, fix_available=None,
                      packages=())
    ctx = Context(today=datetime(2026, 11, 21, tzinfo=UTC).date())
    return tuple(FIELDS[n].get(finding, enrichment, ctx)
                 for n in ("ssvc_exploitation", "ssvc_automatable", "ssvc_technical_impact"))


def check(answers: dict[str, Any], source: str) -> None:
    assert set(answers) == set(EXPECTED)
    for vid, (exploitation, automatable, impact, day) in EXPECTED.items():
        ssvc = answers[vid].ssvc
        assert facts(answers[vid], vid) == (exploitation, automatable, impact)
        assert ssvc.provenance.source == source
        assert ssvc.provenance.as_of.date().isoformat() == day


def test_flat_folder_of_real_records() -> None:
    enricher = VulnrichmentDirectory(RECORDS)
    check(enricher.enrich([*EXPECTED, "CVE-2099-0001", "ALAS2023-2024-1"]), "cisa-vulnrichment")
    assert "SSVC points for 7 CVEs" in (enricher.feeds()[0].detail or "")


def test_repository_layout(tmp_path: Path) -> None:
    for vid in EXPECTED:
        year, number = vid.split("-")[1], int(vid.split("-")[2])
        target = tmp_path / year / f"{number // 1000}xxx" / f"{vid}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(RECORDS / f"{vid}.json", target)
    assert (tmp_path / "2024" / "23xxx" / "CVE-2024-23897.json").is_file()
    check(VulnrichmentDirectory(tmp_path).enrich(list(EXPECTED)), "cisa-vulnrichment")


def record(vid: str = "CVE-2024-6003") -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((RECORDS / f"{vid}.json").read_text(encoding="utf-8"))
    return loaded


def options(doc: dict[str, Any]) -> list[dict[str, Any]]:
    adp = next(a for a in doc["containers"]["adp"] if a["providerMetadata"]["shortName"] == "CISA-ADP")
    metric = next(m for m in adp["metrics"] if m.get("other", {}).get("type") == "ssvc")
    found: list[dict[str, Any]] = metric["other"]["content"]["options"]
    return found


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: options(d).__setitem__(0, {"Exploitation": "widespread"}), "'widespread' is not one of"),
    (lambda d: options(d).__setitem__(1, {"Automatable": True}), "Automatable True"),
    (lambda d: options(d).pop(2), "lack Technical Impact"),
    (lambda d: options(d).append({"Exploitation": "none"}), "given twice"),
    (lambda d: options(d).__setitem__(0, {"Exploitation": "poc", "Automatable": "yes"}), "single-key"),
    (lambda d: d["cveMetadata"].__setitem__("cveId", "CVE-2024-6000"), "not CVE-2024-6003"),
    (lambda d: d.pop("containers"), "not a CVE JSON 5 record"),
])
def test_unreadable_ssvc_is_refused_not_taken_as_none(change: Any, message: str) -> None:
    doc = record()
    change(doc)
    with pytest.raises(InputError, match=message) as caught:
        ssvc_from_record(doc, "CVE-2024-6003", "x.json")
    assert caught.value.exit_code is ExitCode.USAGE


def test_other_adp_containers_are_not_cisas() -> None:
    doc = record()
    for adp in doc["containers"]["adp"]:
        adp["providerMetadata"]["shortName"] = "CISAADP"
    assert ssvc_from_record(doc, "CVE-2024-6003", "x.json") is None


def test_corrupt_record_and_missing_folder(tmp_path: Path) -> None:
    shutil.copy(RECORDS / "CVE-2024-3400.json", tmp_path)  # NOTE: a folder of no readable record is refused whole
    (tmp_path / "CVE-2024-6003.json").write_text('{"containers": ', encoding="utf-8")
    with pytest.raises(InputError, match="not JSON"):
        VulnrichmentDirectory(tmp_path).enrich(["CVE-2024-6003"])
    with pytest.raises(GateError, match="not a folder") as caught:
        VulnrichmentDirectory(tmp_path / "gone")
    assert caught.value.exit_code is ExitCode.INCOMPLETE


class _Api(BaseHTTPRequestHandler):
    """`/api/cve/<id>` from the real records; `failures[id]` status codes are answered first."""

    records: dict[str, bytes]
    failures: dict[str, list[int]]
    seen: list[str]

    def do_GET(self) -> None:
        vid = self.path.rsplit("/", 1)[-1]
        self.seen.append(vid)
        pending = self.failures.get(vid)
        if pending:
            self.send_error(pending.pop(0))
            return
        body = self.records.get(vid)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[type[_Api]]:
    handler = type("Api", (_Api,), {"records": {v: (RECORDS / f"{v}.json").read_bytes() for v in EXPECTED},
                                    "failures": {}, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}/api/cve/"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def test_online_lookup_through_a_local_server(api: Any, tmp_path: Path) -> None:
    cache = RecordCache(tmp_path, ttl=timedelta(hours=24))
    enricher = VulnrichmentOnline(api.url, cache=cache, max_workers=4, sleep=lambda _: None)
    check(enricher.enrich([*EXPECTED, "CVE-2099-0001", "ALAS2023-2024-1"]), "cve-record-api")
    assert sorted(api.seen) == sorted([*EXPECTED, "CVE-2099-0001"])  # one request per CVE; no ALAS id asked
    # a second run answers from the cache, the 404 included
    again = VulnrichmentOnline(api.url, cache=RecordCache(tmp_path, ttl=timedelta(hours=24)), sleep=lambda _: None)
    check(again.enrich([*EXPECTED, "CVE-2099-0001"]), "cve-record-api")
    assert len(api.seen) == len(EXPECTED) + 1
    assert again.cache_hits == len(EXPECTED) + 1


def test_cache_entries_expire_and_are_scoped_to_the_endpoint(api: Any, tmp_path: Path) -> None:
    clock = [datetime(2026, 11, 21, tzinfo=UTC)]
    cache = RecordCache(tmp_path, ttl=timedelta(hours=1), clock=lambda: clock[0])
    VulnrichmentOnline(api.url, cache=cache, now=lambda: clock[0]).enrich(["CVE-2024-6003"])
    clock[0] += timedelta(hours=2)
    VulnrichmentOnline(api.url, cache=cache, now=lambda: clock[0]).enrich(["CVE-2024-6003"])
    assert api.seen == ["CVE-2024-6003", "CVE-2024-6003"]
    assert set(cache.get_many(api.url, ["CVE-2024-6003"])) == {"CVE-2024-6003"}
    assert cache.get_many(api.url.replace("127.0.0.1", "localhost"), ["CVE-2024-6003"]) == {}  # another endpoint
    with contextlib.closing(sqlite3.connect(tmp_path / FILE)) as con, con:
        assert con.execute("UPDATE answers SET doc = '{corrupt' WHERE kind = 'vulnrichment'").rowcount == 1
    VulnrichmentOnline(api.url, cache=cache, now=lambda: clock[0]).enrich(["CVE-2024-6003"])
    assert len(api.seen) == 3  # a bad entry is a miss, never trusted
    assert cache.write_errors == 0 and cache.db.problem is None


def test_an_unusable_cache_file_costs_only_requests(api: Any, tmp_path: Path) -> None:
    (tmp_path / FILE).write_bytes(b"not a database" * 100)
    enricher = VulnrichmentOnline(api.url, cache=RecordCache(tmp_path, ttl=timedelta(hours=1)))
    check(enricher.enrich(list(EXPECTED)), "cve-record-api")
    detail = enricher.feeds()[0].detail or ""
    assert f"{len(EXPECTED)} cache writes failed; cache not used: " in detail and str(tmp_path / FILE) in detail


def test_answers_that_arrived_are_kept_when_another_cve_stops_the_run(api: Any, tmp_path: Path) -> None:
    others = [vid for vid in EXPECTED if vid != "CVE-2024-6000"]
    api.failures["CVE-2024-6000"] = [503, 503, 503]
    with pytest.raises(GateError, match="could not answer"):
        VulnrichmentOnline(api.url, cache=RecordCache(tmp_path, ttl=timedelta(hours=1)),
                           sleep=lambda _: None).enrich(list(EXPECTED))
    asked = len(api.seen)
    again = VulnrichmentOnline(api.url, cache=RecordCache(tmp_path, ttl=timedelta(hours=1)), sleep=lambda _: None)
    again.enrich(others)
    assert len(api.seen) == asked and again.cache_hits == len(others)


def test_retries_then_gives_up_with_exit_3(api: Any) -> None:
    api.failures["CVE-2024-6003"] = [503, 500]
    answers = VulnrichmentOnline(api.url, sleep=lambda _: None).enrich(["CVE-2024-6003"])
    assert answers["CVE-2024-6003"].ssvc.exploitation == "poc"
    api.failures["CVE-2024-6000"] = [503, 503, 503]
    with pytest.raises(GateError, match="could not answer") as caught:
        VulnrichmentOnline(api.url, sleep=lambda _: None).enrich(["CVE-2024-6000"])
    assert caught.value.exit_code is ExitCode.INCOMPLETE
    api.failures["CVE-2024-1709"] = [403]
    with pytest.raises(GateError, match="HTTP 403"):
        VulnrichmentOnline(api.url, sleep=lambda _: None).enrich(["CVE-2024-1709"])


def test_a_record_that_is_not_one_stops_the_run(api: Any) -> None:
    api.records["CVE-2024-6003"] = b'{"containers": {}, "cveMetadata": {"cveId": "CVE-2024-6000"}}'
    with pytest.raises(GateError, match="not CVE-2024-6003") as caught:
        VulnrichmentOnline(api.url, sleep=lambda _: None).enrich(["CVE-2024-6003"])
    assert caught.value.exit_code is ExitCode.INCOMPLETE
    api.records["CVE-2024-6000"] = b"<html>maintenance</html>"
    with pytest.raises(GateError, match="not JSON"):
        VulnrichmentOnline(api.url, sleep=lambda _: None).enrich(["CVE-2024-6000"])


def test_nothing_listening_is_exit_3() -> None:
    enricher = VulnrichmentOnline("http://127.0.0.1:9/api/cve/", sleep=lambda _: None, timeout=2)
    with pytest.raises(GateError) as caught:
        enricher.enrich(["CVE-2024-6003"])
    assert caught.value.exit_code is ExitCode.INCOMPLETE
