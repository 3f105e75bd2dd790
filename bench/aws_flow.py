"""Benchmark gate's live AWS path, GetImage to verdict, on the emulator at 50 ms a call, beside sequential boto3."""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import multiprocessing
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

# NOTE: the emulator lives in tests/, which is not installed with gate: import it from the repository.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3
from harness import CVSS_RANGE, FIX, NOW, PACKAGES, SEVERITIES, machine, weighted

from gate.aws.session import make_clients, make_session
from gate.cli.aws_options import DEFAULT_WORKERS, build_cache
from gate.enrichment.inspector import InspectorEnricher
from gate.enrichment.inspector_shapes import from_finding_detail, from_inspector_finding, from_vulnerability
from gate.enrichment.interface import combine
from gate.errors import GateError
from gate.gather import gather
from gate.model import Enrichment, Evaluation
from gate.policy.engine import evaluate
from gate.policy.loader import Policy, load_policy
from gate.sources.codec import parse_finding, to_utc
from gate.sources.imagebuilder import ImageBuilderSource
from tests.emulator import REGION, Call, Emulator, Faults, Violation, image_arn, image_scan_finding

SEED = 20261121
LATENCY = 0.05
FINDINGS = 2000
CVES = 800
THROTTLE_RATE = 0.2
WALL_TARGET = 1.2
CACHED_TARGET = 1.1
IMAGE = image_arn("al2023-bench", "1.0.0", 2)
PREVIOUS_BUILD = image_arn("al2023-bench", "1.0.0", 1)
SCOPE_TAG = "Ec2ImageBuilderArn"
CVE_ID = re.compile(r"CVE-[12][0-9]{3}-[0-9]{1,10}")

# The APIs' own limits (docs: /work/shared/aws-apis.md), which set the fewest calls any client can make.
SCAN_PAGE = 25
"""ListImageScanFindings: maxResults 25 is valid under both the published page and the current model."""
LIST_IDS = 10
"""ListFindings: at most ten vulnerabilityId filters a call."""
LIST_PAGE = 25
"""ListFindings: findings come back 25 at a time whatever maxResults says."""
DETAIL_ARNS = 10
"""BatchGetFindingDetails: at most ten finding ARNs a call."""

OPERATIONS = (
    ("imagebuilder", "GetImage"),
    ("imagebuilder", "ListImageScanFindings"),
    ("imagebuilder", "ListImageScanFindingAggregations"),
    ("inspector2", "ListFindings"),
    ("inspector2", "BatchGetFindingDetails"),
    ("inspector2", "SearchVulnerabilities"),
)
SEQUENTIAL_OPS = frozenset(op for _, op in OPERATIONS[:3])
"""The calls that cannot overlap: GetImage, one page after another, then the recount."""


# ---------------------------------------------------------------------------------------------
# The seeded account: one image build with its scan findings, and what Inspector knows
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InspectorRecord:
    """One Inspector finding to seed: the CVE, the build its instance belonged to, and its details."""

    cve: str
    build: str
    status: str
    severity: str
    package: str
    epss: float
    exploit_available: str
    details: dict[str, Any] | None


@dataclass(frozen=True)
class Seeded:
    """Everything put into the emulator, and which CVE belongs to which kind."""

    findings: list[dict[str, Any]]
    inspector: list[InspectorRecord]
    vulnerabilities: dict[str, dict[str, Any]]
    kind: dict[str, str]
    """CVE -> `details` (Inspector has finding details), `search` (only SearchVulnerabilities) or `unknown`."""


def _cve_ids(rng: random.Random, count: int) -> list[str]:
    ids: set[str] = set()
    while len(ids) < count:
        ids.add(f"CVE-{rng.randint(2015, 2025)}-{rng.randint(10000, 99999)}")
    out = sorted(ids)
    rng.shuffle(out)
    return out


def _findings_per_cve(rng: random.Random, cves: Sequence[str], total: int) -> Counter[str]:
    """Every CVE once, the rest skewed: a few CVEs (kernel, glibc...) hit many packages."""
    per = Counter(cves)
    weights = [rng.paretovariate(1.2) for _ in cves]
    while sum(per.values()) < total:
        cve = rng.choices(cves, weights=weights)[0]
        if per[cve] < 12:
            per[cve] += 1
    return per


def _iso_day(rng: random.Random, year: int) -> str:
    return f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T00:00:00+00:00"


def _epss(rng: random.Random) -> float:
    return round(min(0.97, rng.lognormvariate(-4.0, 1.7)), 5)


def _detail(rng: random.Random, epss: float, kev: bool) -> dict[str, Any]:
    """A FindingDetail: KEV data for a few high-EPSS CVEs, exploit sightings, risk score, CWEs, TTPs."""
    detail: dict[str, Any] = {"epssScore": epss, "riskScore": rng.randint(1, 100),
                              "cwes": [f"CWE-{rng.choice((20, 79, 89, 125, 190, 416, 476, 787))}"]}
    if kev:
        detail["cisaData"] = {"dateAdded": _iso_day(rng, 2025), "dateDue": _iso_day(rng, 2026),
                              "action": "Apply mitigations per vendor instructions or discontinue use."}
    if kev or rng.random() < 0.04:
        detail["exploitObserved"] = {"firstSeen": _iso_day(rng, 2024), "lastSeen": _iso_day(rng, 2025)}
    if rng.random() < 0.3:
        detail["ttps"] = [rng.choice(("T1190", "T1059", "T1068", "T1203"))]
    if rng.random() < 0.05:
        detail["tools"] = [rng.choice(("metasploit", "nuclei", "exploitdb"))]
    return detail


def _vulnerability(rng: random.Random, epss: float, kev: bool) -> dict[str, Any]:
    """What SearchVulnerabilities returns (its `id` is added when seeding)."""
    record: dict[str, Any] = {"source": "NVD", "epss": {"score": epss},
                              "cwes": [f"CWE-{rng.choice((20, 79, 89, 125, 190, 416, 476, 787))}"]}
    if kev:
        record["cisaData"] = {"dateAdded": _iso_day(rng, 2025), "dateDue": _iso_day(rng, 2026),
                              "action": "Apply mitigations per vendor instructions or discontinue use."}
        record["exploitObserved"] = {"firstSeen": _iso_day(rng, 2024), "lastSeen": _iso_day(rng, 2025)}
    if rng.random() < 0.3:
        record["atigData"] = {"ttps": [rng.choice(("T1190", "T1059", "T1068", "T1203"))]}
    return record


def make_data(seed: int, findings: int, cves: int) -> Seeded:
    """The image's findings in listing order (shuffled, so a CVE's findings span pages) and Inspector's data."""
    rng = random.Random(seed)
    severity, fix, package = weighted(rng, SEVERITIES), weighted(rng, FIX), weighted(rng, PACKAGES)
    ids = _cve_ids(rng, cves)
    per = _findings_per_cve(rng, ids, findings)
    n_details, n_search = cves // 2, cves // 4
    kind = {cve: "details" if i < n_details else "search" if i < n_details + n_search else "unknown"
            for i, cve in enumerate(ids)}
    scan: list[dict[str, Any]] = []
    inspector: list[InspectorRecord] = []
    vulnerabilities: dict[str, dict[str, Any]] = {}
    for cve in ids:
        sev = severity()
        low, high = CVSS_RANGE[sev]
        score = round(rng.uniform(low, high), 1)
        packages: list[str] = []
        while len(packages) < per[cve]:
            name = package()
            if name not in packages:
                packages.append(name)
        for name in packages:
            fixed = fix() in ("YES", "PARTIAL")
            version = f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}"
            scan.append(image_scan_finding(cve, sev, package=name, version=version,
                                           fixed_in=f"{version}-{rng.randint(2, 9)}" if fixed else None,
                                           score=score))
        epss = _epss(rng)
        kev = epss > 0.3 and rng.random() < 0.25
        # NOTE: Inspector's severity enum has no lower-case or unknown spellings; UNTRIAGED is one of its values.
        if kind[cve] == "details":
            # One finding on this build's test instance (closed once it terminated), details still kept.
            status = "ACTIVE" if rng.random() < 0.2 else "CLOSED"
            inspector.append(InspectorRecord(cve, IMAGE, status, sev, packages[0], epss,
                                             "YES" if kev or rng.random() < 0.1 else "NO",
                                             _detail(rng, epss, kev)))
        elif kind[cve] == "search":
            vulnerabilities[cve] = _vulnerability(rng, epss, kev)
            if rng.random() < 0.3:
                # A previous build's instance had it, details long deleted: the scoped query must not see it.
                inspector.append(InspectorRecord(cve, PREVIOUS_BUILD, "CLOSED", sev, packages[0], epss, "NO", None))
    rng.shuffle(scan)
    return Seeded(findings=scan, inspector=inspector, vulnerabilities=vulnerabilities, kind=kind)


def seed(emu: Emulator, data: Seeded) -> None:
    emu.add_image(IMAGE, findings=data.findings)
    for rec in data.inspector:
        emu.add_inspector_finding(vulnerability_id=rec.cve, resource_tags={SCOPE_TAG: rec.build}, epss=rec.epss,
                                  exploit_available=rec.exploit_available, details=rec.details,
                                  severity=rec.severity, status=rec.status, package=rec.package)
    for cve, record in data.vulnerabilities.items():
        emu.add_vulnerability(cve, record)


def _ceil(n: int, size: int) -> int:
    return -(-n // size)


def list_findings_minimum(per_id: Sequence[int]) -> tuple[int, int]:
    """(calls for a first-fit-decreasing grouping, lower bound) of ListFindings over ids with these match counts.

    A call takes up to LIST_IDS ids; each LIST_PAGE matches beyond the first page cost another page.
    When both numbers agree the grouping is optimal.
    """
    lower = max(_ceil(len(per_id), LIST_IDS), _ceil(sum(per_id), LIST_PAGE))
    groups: list[list[int]] = []
    for n in sorted(per_id, reverse=True):
        for group in groups:
            if group[0] < LIST_IDS and group[1] + n <= LIST_PAGE:
                group[0] += 1
                group[1] += n
                break
        else:
            groups.append([1, n])
    return sum(max(1, _ceil(matches, LIST_PAGE)) for _, matches in groups), lower


def minimum_calls(data: Seeded) -> tuple[dict[str, int], str]:
    """The fewest calls of each operation that get every answer, from the seeded data; and a note on ListFindings."""
    ids = list(dict.fromkeys(f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in data.findings))
    in_scope = Counter(r.cve for r in data.inspector if r.build == IMAGE and r.status in ("ACTIVE", "CLOSED"))
    # One ARN per CVE is enough for BatchGetFindingDetails; only a CVE whose details come back needs no search.
    with_details = {r.cve for r in data.inspector if r.build == IMAGE and r.details is not None}
    listed, lower = list_findings_minimum([in_scope[c] for c in ids])
    note = ("ListFindings: optimal (meets the lower bound)" if listed == lower
            else f"ListFindings: first-fit grouping {listed}, lower bound {lower}")
    return {
        "GetImage": 1,
        "ListImageScanFindings": max(1, _ceil(len(data.findings), SCAN_PAGE)),
        "ListImageScanFindingAggregations": 1,
        "ListFindings": listed,
        "BatchGetFindingDetails": _ceil(len(in_scope), DETAIL_ARNS),
        "SearchVulnerabilities": sum(1 for c in ids if c not in with_details and CVE_ID.fullmatch(c)),
    }, note


# ---------------------------------------------------------------------------------------------
# Where the emulator runs: its own process by default, so its CPU does not compete with gate's GIL
# ---------------------------------------------------------------------------------------------


class Host(Protocol):
    def env(self) -> dict[str, str]: ...
    def set_faults(self, faults: Faults) -> None: ...
    def calls(self) -> list[Call]: ...
    def reset_calls(self) -> None: ...
    def violations(self) -> list[Violation]: ...
    def close(self) -> None: ...


class LocalHost:
    """The emulator in this process (`--in-process-emulator`)."""

    def __init__(self, data: Seeded) -> None:
        self._emu = Emulator().start()
        seed(self._emu, data)

    def env(self) -> dict[str, str]:
        return self._emu.env()

    def set_faults(self, faults: Faults) -> None:
        self._emu.faults = faults

    def calls(self) -> list[Call]:
        return self._emu.calls

    def reset_calls(self) -> None:
        self._emu.reset_calls()

    def violations(self) -> list[Violation]:
        return self._emu.violations

    def close(self) -> None:
        self._emu.stop()


def _serve(conn: Connection, data: Seeded) -> None:
    """The child process: seed an emulator, then answer commands until told to stop."""
    with Emulator() as emu:
        seed(emu, data)
        conn.send(emu.env())
        while True:
            command, argument = conn.recv()
            if command == "stop":
                conn.send(None)
                return
            if command == "faults":
                emu.faults = argument
                conn.send(None)
            elif command == "calls":
                conn.send(emu.calls)
            elif command == "reset":
                emu.reset_calls()
                conn.send(None)
            elif command == "violations":
                conn.send(emu.violations)


class ProcessHost:
    """The emulator in a child process, driven over a pipe."""

    def __init__(self, data: Seeded) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, data), name="aws-emulator", daemon=True)
        self._process.start()
        child.close()
        self._env: dict[str, str] = self._conn.recv()

    def _ask(self, command: str, argument: Any = None) -> Any:
        self._conn.send((command, argument))
        return self._conn.recv()

    def env(self) -> dict[str, str]:
        return dict(self._env)

    def set_faults(self, faults: Faults) -> None:
        self._ask("faults", faults)

    def calls(self) -> list[Call]:
        calls: list[Call] = self._ask("calls")
        return calls

    def reset_calls(self) -> None:
        self._ask("reset")

    def violations(self) -> list[Violation]:
        violations: list[Violation] = self._ask("violations")
        return violations

    def close(self) -> None:
        self._ask("stop")
        self._process.join(timeout=30)


def point_boto3_at(host: Host, scratch: Path) -> None:
    """The standard AWS variables, as a CI job would set them, aimed at the emulator and nothing else."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ["AWS_CONFIG_FILE"] = str(scratch / "no-aws-config")
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(scratch / "no-aws-credentials")
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    os.environ.update(host.env())


# ---------------------------------------------------------------------------------------------
# A client-side timeline of every call, from botocore's own events
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """One API call as the client saw it (gate's own retries are separate spans; botocore's are inside one)."""

    operation: str
    start: float
    end: float
    ids: int
    """ListFindings: how many vulnerability ids it asked about."""


class Timeline:
    """Records a Span per call made through the clients it is attached to."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self._lock = threading.Lock()

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build", self._params)
        client.meta.events.register("before-call", self._before)
        client.meta.events.register("after-call", self._after)
        client.meta.events.register("after-call-error", self._after)

    def _params(self, params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        criteria = params.get("filterCriteria")
        if isinstance(criteria, Mapping):
            context["bench_ids"] = len(criteria.get("vulnerabilityId") or criteria.get("vulnerabilityIds") or ())

    def _before(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        context["bench_start"] = time.perf_counter()

    def _after(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        span = Span(model.name, context.get("bench_start", time.perf_counter()), time.perf_counter(),
                    int(context.get("bench_ids", 0)))
        with self._lock:
            self.spans.append(span)


# ---------------------------------------------------------------------------------------------
# The runs
# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One run's outcome: time, the calls the emulator answered, and the verdict (or the error)."""

    name: str
    wall: float = 0.0
    setup: float = 0.0
    calls: list[Call] = field(default_factory=list)
    evaluation: Evaluation | None = None
    error: str | None = None
    spans: list[Span] = field(default_factory=list)
    start: float = 0.0
    cache_hits: int = 0

    def made(self, operation: str) -> int:
        return sum(1 for c in self.calls if c.operation == operation)

    def throttled(self, operation: str | None = None) -> int:
        return sum(1 for c in self.calls if c.status == 429 and operation in (None, c.operation))


def run_gate(name: str, host: Host, policy: Policy, cache_dir: Path, workers: int) -> Run:
    """gate's live path as `build_live` assembles it, plus a timeline on both clients, then gather and evaluate."""
    run = Run(name)
    host.reset_calls()
    timeline = Timeline()
    options = argparse.Namespace(cache_dir=cache_dir, cache_ttl=timedelta(hours=24), no_cache=False)
    began = time.perf_counter()
    # NOTE: the same steps and arguments as gate.cli.aws_options.build_live, done here to reach the clients.
    session = make_session(REGION, None)
    clients = make_clients(session, max_pool=workers + 2)
    timeline.attach(clients.imagebuilder)
    timeline.attach(clients.inspector2)
    source = ImageBuilderSource(clients, image_build_version_arn=IMAGE, wait_timeout=0)
    enricher = InspectorEnricher(clients, scope_arn=source.target, cache=build_cache(options),
                                 max_workers=workers, owns_clients=True)
    run.start = time.perf_counter()
    run.setup = run.start - began
    try:
        gathered = gather(source, live=enricher)
        run.evaluation = evaluate(policy, gathered.findings, gathered.enrichments, now=NOW,
                                  target=gathered.target, feeds=gathered.feeds)
    except GateError as e:
        run.error = f"{type(e).__name__}: {e}"
    finally:
        run.wall = time.perf_counter() - run.start
        enricher.close()
    run.cache_hits = enricher.cache_hits
    run.calls = host.calls()
    run.spans = sorted(timeline.spans, key=lambda s: s.start)
    return run


def _best(listed: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    def key(finding: Mapping[str, Any]) -> tuple[bool, float]:
        updated = to_utc(finding.get("updatedAt"))
        return finding.get("status") == "ACTIVE", updated.timestamp() if updated else 0.0

    return max(listed, key=key)


def run_sequential(host: Host, policy: Policy) -> Run:
    """The straightforward flow: every page first, then each CVE alone through ListFindings, details, search."""
    run = Run("sequential boto3")
    host.reset_calls()
    began = time.perf_counter()
    imagebuilder: Any = boto3.client("imagebuilder", region_name=REGION)
    inspector: Any = boto3.client("inspector2", region_name=REGION)
    run.start = time.perf_counter()
    run.setup = run.start - began
    by_image = [{"name": "imageBuildVersionArn", "values": [IMAGE]}]
    image = imagebuilder.get_image(imageBuildVersionArn=IMAGE)["image"]
    if image["scanState"]["status"] != "COMPLETED":
        run.error = f"scan is {image['scanState']['status']}"
        return run
    raw: list[dict[str, Any]] = []
    for page in imagebuilder.get_paginator("list_image_scan_findings").paginate(filters=by_image, maxResults=25):
        raw.extend(page["findings"])
    counted = imagebuilder.list_image_scan_finding_aggregations(filter=by_image[0])
    total = sum(r["imageAggregation"]["severityCounts"]["all"] for r in counted["responses"])
    if total != len(raw):
        run.error = f"listed {len(raw)} findings, Image Builder counts {total}"
        return run
    findings = [parse_finding(r) for r in raw]
    enrichments: dict[str, Enrichment] = {}
    for cve in dict.fromkeys(f.vulnerability_id for f in findings):
        criteria = {
            "vulnerabilityId": [{"comparison": "EQUALS", "value": cve}],
            "findingType": [{"comparison": "EQUALS", "value": "PACKAGE_VULNERABILITY"}],
            "findingStatus": [{"comparison": "EQUALS", "value": s} for s in ("ACTIVE", "CLOSED")],
            "resourceTags": [{"comparison": "EQUALS", "key": SCOPE_TAG, "value": IMAGE}],
        }
        listed: list[dict[str, Any]] = []
        for page in inspector.get_paginator("list_findings").paginate(filterCriteria=criteria, maxResults=100):
            listed.extend(page["findings"])
        as_of = datetime.now(UTC)
        answers: list[dict[str, Enrichment]] = [{}, {}, {}]
        for finding in listed:
            value = from_inspector_finding(finding, as_of)
            answers[1][cve] = answers[1][cve].merged_with(value) if cve in answers[1] else value
        if listed:
            details = inspector.batch_get_finding_details(findingArns=[_best(listed)["findingArn"]])
            for detail in details["findingDetails"]:
                answers[0][cve] = from_finding_detail(detail, cve, as_of)
        if cve not in answers[0] and CVE_ID.fullmatch(cve):
            found = inspector.search_vulnerabilities(filterCriteria={"vulnerabilityIds": [cve]})
            for vulnerability in found["vulnerabilities"]:
                answers[2][cve] = from_vulnerability(vulnerability, as_of)
        enrichments[cve] = combine([cve], answers)[cve]
    run.evaluation = evaluate(policy, findings, enrichments, now=NOW, target=IMAGE)
    run.wall = time.perf_counter() - run.start
    imagebuilder.close()
    inspector.close()
    run.calls = host.calls()
    return run


# ---------------------------------------------------------------------------------------------
# Comparing outcomes, and where gate's time goes
# ---------------------------------------------------------------------------------------------


def _values(obj: Any) -> Any:
    """A value with every provenance (source and response time) left out, for comparing answers."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return tuple((f.name, _values(getattr(obj, f.name))) for f in dataclasses.fields(obj)
                     if f.name not in ("provenance", "kev_known_by"))
    if isinstance(obj, tuple):
        return tuple(_values(v) for v in obj)
    return obj


def _decisions(evaluation: Evaluation) -> list[tuple[str, str, tuple[str, ...]]]:
    return sorted((r.finding.key, r.decision.value, tuple(m.rule_id for m in r.matches))
                  for r in evaluation.results)


def same_outcome(a: Run, b: Run) -> str:
    """Whether b reached a's verdict, decisions (with the rules that matched) and enrichment values."""
    if a.evaluation is None or b.evaluation is None:
        return f"not comparable ({b.error or a.error})"
    da, db = _decisions(a.evaluation), _decisions(b.evaluation)
    differ = sum(1 for x, y in zip(da, db, strict=False) if x != y) + abs(len(da) - len(db))
    ea = {r.finding.vulnerability_id: _values(r.enrichment) for r in a.evaluation.results}
    eb = {r.finding.vulnerability_id: _values(r.enrichment) for r in b.evaluation.results}
    enrich_differ = sum(1 for k in ea.keys() | eb.keys() if ea.get(k) != eb.get(k))
    verdict = "same verdict" if a.evaluation.verdict == b.evaluation.verdict else "DIFFERENT verdict"
    return (f"{verdict} ({b.evaluation.verdict.value}); decisions identical on {len(da) - differ}/{len(da)} "
            f"findings; enrichment values identical on {len(ea) - enrich_differ}/{len(ea)} ids")


def _in_flight(spans: Sequence[Span], t0: float, t1: float) -> tuple[float, dict[int, float]]:
    """Time-weighted mean of concurrent calls over [t0, t1], and the seconds spent at each level."""
    events = sorted([(max(s.start, t0), 1) for s in spans if s.end > t0 and s.start < t1]
                    + [(min(s.end, t1), -1) for s in spans if s.end > t0 and s.start < t1])
    level, last, area = 0, t0, 0.0
    at: Counter[int] = Counter()
    for t, step in events:
        at[level] += t - last
        area += level * (t - last)
        level, last = level + step, t
    at[level] += t1 - last
    area += level * (t1 - last)
    span = t1 - t0
    return (area / span if span > 0 else 0.0), dict(at)


def where_the_time_goes(run: Run, workers: int, latency: float) -> list[str]:
    """The timeline read back: did Inspector overlap the listing, was the pool full, what came after."""
    if not run.spans:
        return ["no calls recorded"]
    t0 = run.start
    pages = [s for s in run.spans if s.operation == "ListImageScanFindings"]
    recount = [s for s in run.spans if s.operation == "ListImageScanFindingAggregations"]
    inspector = [s for s in run.spans if s.operation in ("ListFindings", "BatchGetFindingDetails",
                                                         "SearchVulnerabilities")]
    out: list[str] = []
    listing_end = (pages[-1].end if pages else t0) - t0
    recount_end = (recount[-1].end if recount else t0) - t0
    per_call = statistics.median(s.end - s.start for s in run.spans) * 1000
    out.append(f"listing (GetImage + {len(pages)} pages) ended at {listing_end:.2f} s, recount at "
               f"{recount_end:.2f} s, verdict at {run.wall:.2f} s; median call {per_call:.1f} ms "
               f"({per_call - latency * 1000:.1f} ms above the emulated latency)")
    if pages:
        gaps = [b.start - a.end for a, b in itertools.pairwise(pages)]
        if gaps:
            out.append(f"between pages: median {statistics.median(gaps) * 1000:.1f} ms, "
                       f"total {sum(gaps):.2f} s (parsing, submitting ids, cache reads, GIL)")
    if not inspector:
        out.append("no Inspector calls")
        return out
    end = max(s.end for s in inspector) - t0
    busy = sum(s.end - s.start for s in inspector)
    after = [s for s in inspector if s.start - t0 > listing_end]
    mean, levels = _in_flight(inspector, t0, t0 + listing_end)
    full = sum(v for k, v in levels.items() if k >= workers)
    out.append(f"Inspector: {len(inspector)} calls, {busy:.2f} call-seconds = {busy / workers:.2f} s on "
               f"{workers} workers at best; first at {min(s.start for s in inspector) - t0:.2f} s, "
               f"last done at {end:.2f} s")
    out.append(f"during the listing: {mean:.2f} Inspector calls in flight on average, pool full "
               f"({workers} in flight) {full / listing_end if listing_end else 0:.0%} of the time")
    out.append(f"after the last page: {len(after)} Inspector calls still to start, "
               f"{end - listing_end:.2f} s of Inspector work past the listing, "
               f"{max(0.0, end - recount_end):.2f} s past the recount")
    short = [s for s in inspector if s.operation == "ListFindings" and 0 < s.ids < LIST_IDS]
    for s in short:
        out.append(f"short ListFindings group ({s.ids} ids) started at {s.start - t0:.2f} s "
                   f"({s.start - t0 - listing_end:+.2f} s from the last page)")
    return out


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def _verdict(run: Run) -> str:
    if run.evaluation is None:
        return f"error: {run.error}"
    s = run.evaluation.summary
    return (f"{run.evaluation.verdict.value} ({s.failed} fail, {s.warned} warn, {s.excepted} excepted, "
            f"{s.passed} pass)")


def print_calls(runs: Sequence[Run], minimum: Mapping[str, int]) -> None:
    """Calls made per operation next to the minimum; `+Nr` is how many of them were throttled (429)."""
    width = max(len(op) for _, op in OPERATIONS)
    heads = "".join(f" {r.name:>18}" for r in runs)
    print(f"\n{'calls per operation':{width}} {'minimum':>8}{heads}")
    rows: list[tuple[str, int]] = [(op, minimum[op]) for _, op in OPERATIONS]
    for op, least in [*rows, ("total", sum(minimum.values()))]:
        cells = ""
        for r in runs:
            made = len(r.calls) if op == "total" else r.made(op)
            retried = r.throttled(None if op == "total" else op)
            cells += f" {f'{made} ({retried} 429)' if retried else str(made):>18}"
        print(f"{op:{width}} {least:>8}{cells}")


def print_times(runs: Sequence[tuple[Run, float | None]], floor: float) -> None:
    print(f"\n{'run':28} {'wall s':>8} {'/ floor':>8} {'target':>8}   setup s   verdict")
    for run, target in runs:
        ratio = run.wall / floor
        goal = f"<= {target:.1f}" if target is not None else ""
        met = "" if target is None else (" ok" if ratio <= target else " MISSED")
        print(f"{run.name:28} {run.wall:8.2f} {ratio:8.2f} {goal:>8}{met:3} {run.setup:7.2f}   {_verdict(run)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--findings", type=int, default=FINDINGS)
    parser.add_argument("--cves", type=int, default=CVES)
    parser.add_argument("--latency", type=float, default=LATENCY, help="seconds the emulator waits per call")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gate's --max-workers")
    parser.add_argument("--no-sequential", action="store_true", help="skip the sequential boto3 run (~90 s)")
    parser.add_argument("--in-process-emulator", action="store_true",
                        help="serve the emulator from this process (its CPU then shares gate's GIL)")
    args = parser.parse_args(argv)

    print(machine())
    where = "in this process" if args.in_process_emulator else "in a child process"
    print(f"emulator {where}; latency {args.latency * 1000:.0f} ms a call; gate --max-workers {args.workers}; "
          f"time.perf_counter; seed {SEED}")
    data = make_data(SEED, args.findings, args.cves)
    kinds = Counter(data.kind.values())
    in_scope = sum(1 for r in data.inspector if r.build == IMAGE)
    print(f"image: {len(data.findings)} findings, {len(data.kind)} CVEs ({kinds['details']} with Inspector "
          f"details, {kinds['search']} only in SearchVulnerabilities, {kinds['unknown']} unknown); "
          f"{in_scope} Inspector findings tagged with the build, {len(data.inspector) - in_scope} with an "
          "earlier build")
    minimum, note = minimum_calls(data)
    sequential_calls = sum(n for op, n in minimum.items() if op in SEQUENTIAL_OPS)
    floor = sequential_calls * args.latency
    print(f"sequential pagination floor: (1 GetImage + {minimum['ListImageScanFindings']} pages + 1 recount) "
          f"x {args.latency * 1000:.0f} ms = {floor:.2f} s; minimum calls from the seeded data ({note})")

    policy = load_policy("default")
    seeding = time.perf_counter()
    host: Host = LocalHost(data) if args.in_process_emulator else ProcessHost(data)
    print(f"emulator seeded and serving in {time.perf_counter() - seeding:.1f} s")
    runs: list[Run] = []
    try:
        with tempfile.TemporaryDirectory(prefix="gate-bench-") as scratch:
            point_boto3_at(host, Path(scratch))
            host.set_faults(Faults(seed=SEED, latency=args.latency))
            fresh = run_gate("gate", host, policy, Path(scratch) / "cache", args.workers)
            cached = run_gate("gate, cached", host, policy, Path(scratch) / "cache", args.workers)
            runs = [fresh, cached]
            if not args.no_sequential:
                runs.append(run_sequential(host, policy))
            host.set_faults(Faults(seed=SEED, latency=args.latency, throttle_rate=THROTTLE_RATE))
            throttled = run_gate(f"gate, {THROTTLE_RATE:.0%} throttled", host, policy,
                                 Path(scratch) / "cache-throttled", args.workers)
            runs.append(throttled)
            violations = host.violations()
    finally:
        host.close()

    print_calls(runs, minimum)
    targets: dict[str, float | None] = {fresh.name: WALL_TARGET, cached.name: CACHED_TARGET}
    print_times([(r, targets.get(r.name)) for r in runs], floor)
    inspector_cached = sum(cached.made(op) for _, op in OPERATIONS[3:])
    print(f"\ncached run: {inspector_cached} Inspector calls (target 0), {cached.cache_hits} ids from the cache")
    print(f"throttled run: {throttled.throttled()} calls answered 429 and retried "
          f"({', '.join(f'{op} {throttled.throttled(op)}' for _, op in OPERATIONS if throttled.throttled(op))}); "
          f"vs the unthrottled run: {same_outcome(fresh, throttled)}")
    for run in runs:
        if run.name.startswith("sequential"):
            print(f"sequential run vs gate: {same_outcome(fresh, run)}")
    extra = {op: fresh.made(op) - minimum[op] for _, op in OPERATIONS if fresh.made(op) != minimum[op]}
    print("gate vs the minimum: " + (", ".join(f"{op} {n:+d}" for op, n in extra.items()) or "equal")
          + f" (retries: {fresh.throttled()})")
    print(f"emulator violations (requests or answers the models reject): {len(violations)}")
    for v in violations[:5]:
        print(f"  {v.service} {v.operation} {v.kind}: {v.message}")
    for run in (fresh, cached, throttled):
        print(f"\nwhere the time goes, {run.name}:")
        for line in where_the_time_goes(run, args.workers, args.latency):
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
