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
from collections.abc import Callable, Mapping, Sequence
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
from gate.enrichment.inspector import InspectorEnricher
from gate.enrichment.inspector_shapes import from_finding_detail, from_inspector_finding, from_vulnerability
from gate.enrichment.interface import combine
from gate.errors import GateError
from gate.inputs import DEFAULT_WORKERS, Inputs, build_cache
from gate.model import Enrichment
from gate.outcome import Evaluation
from gate.policy.engine import judge as evaluate
from gate.policy.loader import Policy, load_policy
from gate.run import Plan, gather
from gate.sources.codec import parse_finding
from gate.sources.imagebuilder import ImageBuilderSource
from gate.timeutil import to_utc
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

# The APIs' own limits (botocore's models and the API references): they set the fewest calls any client can make.
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
SEQUENTIAL_OPS = frozenset(op for service, op in OPERATIONS if service == "imagebuilder")
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
    def cpu(self) -> float:
        """CPU seconds the emulator has used in its own process (0 when it shares this one)."""
        ...
    def close(self) -> None: ...


class LocalHost:
    """The emulator in this process (`--in-process-emulator`)."""

    def __init__(self, data: Seeded, check_responses: bool) -> None:
        self._emu = Emulator(check_responses=check_responses).start()
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

    def cpu(self) -> float:
        return 0.0

    def close(self) -> None:
        self._emu.stop()


def _serve(conn: Connection, data: Seeded, check_responses: bool, seeder: Callable[[Emulator, Seeded], None]) -> None:
    """The child process: seed an emulator, then answer commands until told to stop."""
    with Emulator(check_responses=check_responses) as emu:
        seeder(emu, data)
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
            elif command == "cpu":
                conn.send(time.process_time())


class ProcessHost:
    """The emulator in a child process, driven over a pipe."""

    def __init__(self, data: Seeded, check_responses: bool,
                 seeder: Callable[[Emulator, Seeded], None] = seed) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, data, check_responses, seeder),
                                        name="aws-emulator", daemon=True)
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

    def cpu(self) -> float:
        return float(self._ask("cpu"))

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
    thread: int


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
                    int(context.get("bench_ids", 0)), threading.get_ident())
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
    cpu: float = 0.0
    """CPU seconds of this process (every thread) during the run."""
    emulator_cpu: float = 0.0
    """CPU seconds of the emulator's process during the run."""
    violations: list[Violation] = field(default_factory=list)

    def made(self, operation: str) -> int:
        return sum(1 for c in self.calls if c.operation == operation)

    def throttled(self, operation: str | None = None) -> int:
        return sum(1 for c in self.calls if c.status == 429 and operation in (None, c.operation))


def run_gate(name: str, host: Host, policy: Policy, cache_dir: Path, workers: int) -> Run:
    """gate's live path as `gate.live.open_live_plan` assembles it, plus a timeline on both clients."""
    run = Run(name)
    host.reset_calls()
    timeline = Timeline()
    options = Inputs(cache_dir=cache_dir, cache_ttl=timedelta(hours=24))
    began = time.perf_counter()
    # NOTE: the same steps and arguments as gate.live.open_live_plan, done here to reach the clients.
    session = make_session(REGION, None)
    clients = make_clients(session, max_pool=workers + 2)
    timeline.attach(clients.imagebuilder)
    timeline.attach(clients.inspector2)
    source = ImageBuilderSource(clients, image_build_version_arn=IMAGE, wait_timeout=0)
    enricher = InspectorEnricher(clients, scope_arn=source.target, cache=build_cache(options),
                                 max_workers=workers)
    plan = Plan(source=source, live=enricher, closers=(clients.close,))
    cpu, emulator_cpu = time.process_time(), host.cpu()
    run.start = time.perf_counter()
    run.setup = run.start - began
    try:
        gathered = gather(plan)
        run.evaluation = evaluate(policy, gathered.findings, gathered.enrichments, now=NOW,
                                  target=gathered.target, feeds=gathered.feeds)
    except GateError as e:
        run.error = f"{type(e).__name__}: {e}"
    finally:
        run.wall = time.perf_counter() - run.start
        plan.close()
    run.cpu, run.emulator_cpu = time.process_time() - cpu, host.cpu() - emulator_cpu
    run.cache_hits = enricher.cache_hits
    run.calls = host.calls()
    run.violations = host.violations()
    run.spans = sorted(timeline.spans, key=lambda s: s.start)
    return run


def run_listing(host: Host) -> Run:
    """The measured floor: GetImage, every page and the recount with plain boto3, nothing else done."""
    run = Run("boto3 listing only")
    host.reset_calls()
    timeline = Timeline()
    began = time.perf_counter()
    imagebuilder: Any = boto3.client("imagebuilder", region_name=REGION)
    timeline.attach(imagebuilder)
    cpu, emulator_cpu = time.process_time(), host.cpu()
    run.start = time.perf_counter()
    run.setup = run.start - began
    by_image = [{"name": "imageBuildVersionArn", "values": [IMAGE]}]
    imagebuilder.get_image(imageBuildVersionArn=IMAGE)
    for _ in imagebuilder.get_paginator("list_image_scan_findings").paginate(filters=by_image, maxResults=25):
        pass
    imagebuilder.list_image_scan_finding_aggregations(filter=by_image[0])
    run.wall = time.perf_counter() - run.start
    run.cpu, run.emulator_cpu = time.process_time() - cpu, host.cpu() - emulator_cpu
    imagebuilder.close()
    run.calls = host.calls()
    run.violations = host.violations()
    run.spans = sorted(timeline.spans, key=lambda s: s.start)
    return run


def _best(listed: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    def key(finding: Mapping[str, Any]) -> tuple[bool, float]:
        updated = to_utc(finding.get("updatedAt"))
        return finding.get("status") == "ACTIVE", updated.timestamp() if updated else 0.0

    return max(listed, key=key)


def _enrich_one(inspector: Any, cve: str) -> Enrichment:
    """One CVE alone: its scoped ListFindings pages, details for the best ARN, a search if still no details."""
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
    detailed: dict[str, Enrichment] = {}
    found: dict[str, Enrichment] = {}
    searched: dict[str, Enrichment] = {}
    for finding in listed:
        value = from_inspector_finding(finding, as_of)
        found[cve] = found[cve].merged_with(value) if cve in found else value
    if listed:
        details = inspector.batch_get_finding_details(findingArns=[_best(listed)["findingArn"]])
        for detail in details["findingDetails"]:
            detailed[cve] = from_finding_detail(detail, cve, as_of)
    if cve not in detailed and CVE_ID.fullmatch(cve):
        answer = inspector.search_vulnerabilities(filterCriteria={"vulnerabilityIds": [cve]})
        for vulnerability in answer["vulnerabilities"]:
            searched[cve] = from_vulnerability(vulnerability, as_of)
    return combine([cve], [detailed, found, searched])[cve]


def run_sequential(host: Host, policy: Policy) -> Run:
    """The straightforward flow: every page first, then each CVE alone through ListFindings, details, search."""
    run = Run("sequential boto3")
    host.reset_calls()
    began = time.perf_counter()
    imagebuilder: Any = boto3.client("imagebuilder", region_name=REGION)
    inspector: Any = boto3.client("inspector2", region_name=REGION)
    cpu, emulator_cpu = time.process_time(), host.cpu()
    run.start = time.perf_counter()
    run.setup = run.start - began
    by_image = [{"name": "imageBuildVersionArn", "values": [IMAGE]}]
    try:
        status = imagebuilder.get_image(imageBuildVersionArn=IMAGE)["image"]["scanState"]["status"]
        raw: list[dict[str, Any]] = []
        for page in imagebuilder.get_paginator("list_image_scan_findings").paginate(filters=by_image, maxResults=25):
            raw.extend(page["findings"])
        counted = imagebuilder.list_image_scan_finding_aggregations(filter=by_image[0])
        total = sum(r["imageAggregation"]["severityCounts"]["all"] for r in counted["responses"])
        if status != "COMPLETED" or total != len(raw):
            run.error = f"scan {status}, {len(raw)} findings listed, {total} counted"
        else:
            findings = [parse_finding(r) for r in raw]
            ids = dict.fromkeys(f.vulnerability_id for f in findings)
            enrichments = {cve: _enrich_one(inspector, cve) for cve in ids}
            run.evaluation = evaluate(policy, findings, enrichments, now=NOW, target=IMAGE)
    finally:
        run.wall = time.perf_counter() - run.start
        run.cpu, run.emulator_cpu = time.process_time() - cpu, host.cpu() - emulator_cpu
        imagebuilder.close()
        inspector.close()
    run.calls = host.calls()
    run.violations = host.violations()
    return run


# ---------------------------------------------------------------------------------------------
# Comparing outcomes, and where gate's time goes
# ---------------------------------------------------------------------------------------------


def _values(obj: Any) -> Any:
    """A value without its provenance or the sources that answered, for comparing what was learned."""
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
    at: dict[int, float] = {}
    for t, step in events:
        at[level] = at.get(level, 0.0) + t - last
        area += level * (t - last)
        level, last = level + step, t
    at[level] = at.get(level, 0.0) + t1 - last
    area += level * (t1 - last)
    span = t1 - t0
    return (area / span if span > 0 else 0.0), at


def _groups(inspector: Sequence[Span]) -> list[list[Span]]:
    """Each worker's calls cut at every ListFindings: one group of ids each, as InspectorEnricher runs them."""
    groups: list[list[Span]] = []
    by_thread: dict[int, list[Span]] = {}
    for span in inspector:
        by_thread.setdefault(span.thread, []).append(span)
    for spans in by_thread.values():
        for span in spans:
            if span.operation == "ListFindings" or not groups:
                groups.append([])
            groups[-1].append(span)
    return groups


def _pages(run: Run) -> tuple[list[Span], float, float]:
    """The listing's page calls, when the last page arrived and when the recount did (seconds into the run)."""
    pages = [s for s in run.spans if s.operation == "ListImageScanFindings"]
    recount = [s for s in run.spans if s.operation == "ListImageScanFindingAggregations"]
    return (pages, (pages[-1].end if pages else run.start) - run.start,
            (recount[-1].end if recount else run.start) - run.start)


def where_the_time_goes(run: Run, workers: int, latency: float, reference: Run | None) -> list[str]:
    """The timeline read back: the listing's pace, whether Inspector overlapped it, and what came after."""
    if not run.spans:
        return ["no calls recorded"]
    t0 = run.start
    pages, listing_end, recount_end = _pages(run)
    inspector = [s for s in run.spans if s.operation in ("ListFindings", "BatchGetFindingDetails",
                                                         "SearchVulnerabilities")]
    out: list[str] = []
    page_ms = statistics.median(s.end - s.start for s in pages) * 1000 if pages else 0.0
    gaps = [b.start - a.end for a, b in itertools.pairwise(pages)]
    out.append(f"listing: last of {len(pages)} pages at {listing_end:.2f} s, recount at {recount_end:.2f} s, "
               f"verdict at {run.wall:.2f} s; a page call takes {page_ms:.1f} ms (median; "
               f"{page_ms - latency * 1000:.1f} ms above the latency), work between pages "
               f"{statistics.median(gaps) * 1000 if gaps else 0:.1f} ms (median), {sum(gaps):.2f} s in all")
    if reference is not None and reference is not run:
        ref_pages, ref_end, _ = _pages(reference)
        ref_ms = statistics.median(s.end - s.start for s in ref_pages) * 1000 if ref_pages else 0.0
        out.append(f"vs plain boto3 listing only: last page {listing_end - ref_end:+.2f} s later, page call "
                   f"{page_ms - ref_ms:+.1f} ms")
    out.append(f"CPU: this process {run.cpu:.2f} s ({run.cpu / run.wall:.0%} of one core), emulator process "
               f"{run.emulator_cpu:.2f} s ({run.emulator_cpu / run.wall:.0%})")
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
    groups = _groups(inspector)
    lengths = [len(g) for g in groups]
    spans = [g[-1].end - g[0].start for g in groups]
    out.append(f"a group of <= {LIST_IDS} ids runs its calls one after another in one worker: median "
               f"{statistics.median(lengths):.0f} calls (max {max(lengths)}), {statistics.median(spans):.2f} s "
               f"(max {max(spans):.2f} s)")
    out.append(f"after the last page: {len(after)} Inspector calls still to start, "
               f"{end - listing_end:.2f} s of Inspector work past the listing, "
               f"{max(0.0, end - recount_end):.2f} s past the recount")
    last = max(groups, key=lambda g: g[-1].end)
    out.append(f"the last group to finish started at {last[0].start - t0:.2f} s "
               f"({last[0].start - t0 - listing_end:+.2f} s from the last page) with {last[0].ids} ids, "
               f"{len(last)} calls: " + ", ".join(f"{c} {n}" for c, n in Counter(x.operation for x in last).items()))
    return out


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


def _verdict(run: Run) -> str:
    if run.evaluation is None:
        return f"error: {run.error}" if run.error else "(no verdict: listing only)"
    s = run.evaluation.summary
    return (f"{run.evaluation.verdict.value} ({s.failed} fail, {s.warned} warn, {s.excepted} excepted, "
            f"{s.passed} pass)")


def print_calls(runs: Sequence[Run], minimum: Mapping[str, int]) -> None:
    """Calls made per operation next to the minimum; `(N 429)`: N of them were throttled and retried."""
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


def print_times(runs: Sequence[tuple[Run, float | None]], floor: float, measured: Run) -> None:
    print(f"\n{'run':24} {'wall s':>7} {'/ floor':>8} {'target':>7} {'/ boto3 listing':>16} {'CPU s':>6} "
          f"{'emulator CPU s':>15}   verdict")
    for run, target in runs:
        ratio = run.wall / floor
        goal = f"<= {target:.1f}" if target is not None else ""
        met = "" if target is None else (" ok" if ratio <= target else " MISSED")
        print(f"{run.name:24} {run.wall:7.2f} {ratio:8.2f} {goal:>7}{met:7} {run.wall / measured.wall:9.2f} "
              f"{run.cpu:6.2f} {run.emulator_cpu:15.2f}   {_verdict(run)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--findings", type=int, default=FINDINGS)
    parser.add_argument("--cves", type=int, default=CVES)
    parser.add_argument("--latency", type=float, default=LATENCY, help="seconds the emulator waits per call")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gate's --max-workers")
    parser.add_argument("--no-sequential", action="store_true", help="skip the sequential boto3 run (~90 s)")
    parser.add_argument("--in-process-emulator", action="store_true",
                        help="serve the emulator from this process (its CPU then shares gate's GIL)")
    parser.add_argument("--check-responses", action="store_true",
                        help="let the emulator check every answer against botocore's models, as the tests do "
                        "(~10 ms of emulator CPU a page, which real AWS does not spend; requests are always checked)")
    parser.add_argument("--switch-interval", type=float, metavar="SECONDS",
                        help="sys.setswitchinterval for this process (default: Python's 0.005)")
    parser.add_argument("--only-gate", action="store_true", help="the listing and gate (cold, cached) only")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)

    print(machine())
    where = "in this process" if args.in_process_emulator else "in a child process"
    checks = "requests and answers" if args.check_responses else "requests (answers unchecked: --check-responses)"
    print(f"emulator {where}, checking {checks}; latency {args.latency * 1000:.0f} ms a call; "
          f"gate --max-workers {args.workers}; time.perf_counter; seed {SEED}")
    data = make_data(SEED, args.findings, args.cves)
    kinds = Counter(data.kind.values())
    in_scope = sum(1 for r in data.inspector if r.build == IMAGE)
    print(f"image: {len(data.findings)} findings, {len(data.kind)} CVEs ({kinds['details']} with Inspector "
          f"details, {kinds['search']} only in SearchVulnerabilities, {kinds['unknown']} unknown); "
          f"{in_scope} Inspector findings tagged with the build, {len(data.inspector) - in_scope} with an "
          "earlier build")
    minimum, note = minimum_calls(data)
    floor = sum(n for op, n in minimum.items() if op in SEQUENTIAL_OPS) * args.latency
    print(f"sequential pagination floor: (1 GetImage + {minimum['ListImageScanFindings']} pages + 1 recount) "
          f"x {args.latency * 1000:.0f} ms = {floor:.2f} s; minimum calls from the seeded data ({note})")

    policy = load_policy("default")
    seeding = time.perf_counter()
    checked = args.check_responses
    host: Host = LocalHost(data, checked) if args.in_process_emulator else ProcessHost(data, checked)
    print(f"emulator seeded and serving in {time.perf_counter() - seeding:.1f} s")
    try:
        with tempfile.TemporaryDirectory(prefix="gate-bench-") as scratch:
            point_boto3_at(host, Path(scratch))
            host.set_faults(Faults(seed=SEED, latency=args.latency))
            measured = run_listing(host)
            fresh = run_gate("gate", host, policy, Path(scratch) / "cache", args.workers)
            cached = run_gate("gate, cached", host, policy, Path(scratch) / "cache", args.workers)
            sequential = None if args.no_sequential or args.only_gate else run_sequential(host, policy)
            if args.only_gate:
                return print_times([(r, None) for r in (measured, fresh, cached)], floor, measured) or 0
            host.set_faults(Faults(seed=SEED, latency=args.latency, throttle_rate=THROTTLE_RATE))
            throttled = run_gate(f"gate, {THROTTLE_RATE:.0%} throttled", host, policy,
                                 Path(scratch) / "cache-throttled", args.workers)
    finally:
        host.close()
    runs = [r for r in (fresh, cached, sequential, throttled) if r is not None]

    print_calls(runs, minimum)
    targets = {fresh.name: WALL_TARGET, cached.name: CACHED_TARGET}
    print_times([(r, targets.get(r.name)) for r in [measured, *runs]], floor, measured)
    inspector_cached = sum(cached.made(op) for service, op in OPERATIONS if service == "inspector2")
    print(f"\ncached run: {inspector_cached} Inspector calls (target 0), {cached.cache_hits} ids from the cache")
    retried = ", ".join(f"{op} {throttled.throttled(op)}" for _, op in OPERATIONS if throttled.throttled(op))
    print(f"throttled run: {throttled.throttled()} calls answered 429 and retried ({retried}); "
          f"vs the unthrottled run: {same_outcome(fresh, throttled)}")
    if sequential is not None:
        print(f"sequential run vs gate: {same_outcome(fresh, sequential)}")
    extra = {op: fresh.made(op) - minimum[op] for _, op in OPERATIONS if fresh.made(op) != minimum[op]}
    met = "ok" if len(fresh.calls) == sum(minimum.values()) + fresh.throttled() else "MISSED"
    above = ", ".join(f"{op} {n:+d}" for op, n in extra.items()) or "every operation at its minimum"
    print(f"gate: {len(fresh.calls)} calls, minimum {sum(minimum.values())} + {fresh.throttled()} retries "
          f"(target: equal, {met}); {above}")
    violations = [v for r in [measured, *runs] for v in r.violations]
    print(f"emulator violations (requests or answers the models reject): {len(violations)}")
    for v in violations[:5]:
        print(f"  {v.service} {v.operation} {v.kind}: {v.message}")
    for run in (measured, fresh, cached, throttled):
        print(f"\nwhere the time goes, {run.name}:")
        for line in where_the_time_goes(run, args.workers, args.latency, measured):
            print(f"  {line}")
    print(f"\nwhole benchmark: {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
