"""Benchmark an offline dry run (export, real KEV and EPSS files, default policy, JSON report) against plain Python.

`--memory` runs each side once in a fresh process and reports its peak RSS instead.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import gzip
import io
import json
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from harness import (
    CVSS_RANGE,
    FIX,
    NOW,
    PACKAGES,
    PACKAGES_PER_FINDING,
    SEVERITIES,
    VENDOR_SEVERITY,
    machine,
    pin_one_core,
    weighted,
)

from gate.cli.main import COLLECTOR_THRESHOLDS
from gate.enrichment.epss import EpssEnricher
from gate.enrichment.feedstore import open_epss, open_kev
from gate.enrichment.kev import KevEnricher
from gate.model import Finding, ScanSummary
from gate.outcome import Evaluation
from gate.policy.engine import judge as evaluate
from gate.policy.loader import load_policy
from gate.reports.interface import ReportOptions
from gate.reports.json_report import JsonReport
from gate.run import Plan, gather
from gate.sources.export import ExportSource

SEED = 20261121
PAGE_SIZE = 25
TARGET_RATIO = 1.5
ROOT = Path(__file__).resolve().parent.parent
DATA_DIRS = (ROOT / "tests" / "data", ROOT.parent / "shared" / "data")
KEV_FILE = Path("kev/known_exploited_vulnerabilities.json")
EPSS_FILE = Path("epss/epss_scores-2025-08-28.csv.gz")
ACCOUNT = "111122223333"
IMAGE_ARN = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image/al2023-bench/1.0.0/1"
PIPELINE_ARN = f"arn:aws:imagebuilder:us-east-1:{ACCOUNT}:image-pipeline/al2023-bench"
PHASES = ("policy load", "KEV load", "EPSS load", "parse export", "enrich (lookups, merge)", "evaluate",
          "render + write report")
PLAIN_PHASES = ("KEV load", "EPSS load", "parse export", "evaluate", "render + write report")


def data_file(relative: Path) -> Path:
    """The first data folder that has the file: the repository's tests/data, else the shared copy."""
    for folder in DATA_DIRS:
        if (folder / relative).is_file():
            return folder / relative
    raise SystemExit(f"missing {relative} under " + " or ".join(str(d) for d in DATA_DIRS))


# ---------------------------------------------------------------------------------------------
# The synthetic export: Image Builder's list-image-scan-findings pages, with real CVE ids
# ---------------------------------------------------------------------------------------------


def _vulnerability_ids(rng: random.Random, count: int, kev_path: Path, epss_path: Path) -> list[str]:
    """`count` distinct ids: ~1% from KEV, ~3% unknown to both feeds (newer than the files), the rest EPSS."""
    kev_ids = sorted({v["cveID"] for v in json.loads(kev_path.read_text("utf-8"))["vulnerabilities"]})
    with gzip.open(epss_path, "rt", encoding="utf-8") as fh:
        epss_ids = [line.partition(",")[0] for line in fh if line.startswith("CVE-")]
    kev_set = set(kev_ids)
    epss_only = [vid for vid in epss_ids if vid not in kev_set]
    n_kev = max(1, round(count * 0.01))
    n_unknown = round(count * 0.03)
    ids = rng.sample(kev_ids, n_kev) + rng.sample(epss_only, count - n_kev - n_unknown)
    unknown: set[str] = set()
    while len(unknown) < n_unknown:
        unknown.add(f"CVE-2026-{rng.randint(40000, 99999)}")
    ids += sorted(unknown)
    rng.shuffle(ids)
    return ids


@dataclass(frozen=True)
class _Vuln:
    id: str
    severity: str
    cvss: float
    published: str


def _package(rng: random.Random, name: str) -> dict[str, Any]:
    major, minor = rng.randint(0, 9), rng.randint(0, 40)
    return {
        "name": name,
        "version": f"{major}.{minor}.{rng.randint(0, 200)}",
        "epoch": 0,
        "release": f"{rng.randint(1, 300)}.amzn2023.0.{rng.randint(1, 9)}",
        "arch": rng.choice(("X86_64", "X86_64", "AARCH64")),
        "packageManager": "OS",
        "fixedInVersion": f"0:{major}.{minor + 1}.0-1.amzn2023",
        "remediation": f"dnf update {name}",
    }


def _finding(rng: random.Random, v: _Vuln, fix: str | None, names: list[str]) -> dict[str, Any]:
    seen = (NOW - timedelta(seconds=rng.randrange(400 * 86400))).replace(microsecond=0)
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    finding: dict[str, Any] = {
        "awsAccountId": ACCOUNT,
        "imageBuildVersionArn": IMAGE_ARN,
        "imagePipelineArn": PIPELINE_ARN,
        "type": "PACKAGE_VULNERABILITY",
        "description": f"A flaw was found in {names[0]}. An attacker able to supply crafted input could cause "
                       f"memory corruption, leading to a denial of service or possibly code execution.",
        "title": f"{v.id} - {', '.join(names)}",
        "remediation": {"recommendation": {"text": "None Provided"}},
        "severity": v.severity if rng.random() < 0.9 else v.severity.title(),
        "firstObservedAt": seen.isoformat(),
        "updatedAt": seen.isoformat(),
        "inspectorScore": v.cvss,
        "inspectorScoreDetails": {"adjustedCvss": {
            "scoreSource": "NVD", "cvssSource": "NVD", "version": "3.1", "score": v.cvss,
            "scoringVector": vector, "adjustments": [],
        }},
        "packageVulnerabilityDetails": {
            "vulnerabilityId": v.id,
            "vulnerablePackages": [_package(rng, n) for n in names],
            "source": "NVD",
            "cvss": [{"baseScore": v.cvss, "scoringVector": vector, "version": "3.1", "source": "NVD"}],
            "relatedVulnerabilities": [],
            "sourceUrl": f"https://nvd.nist.gov/vuln/detail/{v.id}",
            "vendorSeverity": VENDOR_SEVERITY[v.severity.upper()] or "Unknown",
            "vendorCreatedAt": v.published,
            "vendorUpdatedAt": v.published,
            "referenceUrls": [f"https://www.cve.org/CVERecord?id={v.id}",
                              f"https://access.redhat.com/security/cve/{v.id.lower()}"],
        },
    }
    if fix is not None:
        finding["fixAvailable"] = fix
    return finding


def write_export(path: Path, count: int, kev_path: Path, epss_path: Path) -> None:
    """`count` findings over `count // 3` ids, as a JSON array of pages of 25 (the AWS CLI's layout)."""
    rng = random.Random(SEED)
    severity, fix, package = weighted(rng, SEVERITIES), weighted(rng, FIX), weighted(rng, PACKAGES)
    vulns = []
    for vid in _vulnerability_ids(rng, max(1, count // 3), kev_path, epss_path):
        sev = severity()
        lo, hi = CVSS_RANGE[sev]
        published = (NOW - timedelta(days=rng.randint(30, 3000))).date().isoformat() + "T00:00:00+00:00"
        vulns.append(_Vuln(vid, sev, round(rng.uniform(lo, hi), 1), published))
    findings = []
    for _ in range(count):
        names = sorted({package() for _ in range(rng.choice(PACKAGES_PER_FINDING))})
        findings.append(_finding(rng, rng.choice(vulns), fix(), names))
    pages = []
    for i in range(0, count, PAGE_SIZE):
        page: dict[str, Any] = {"requestId": f"{rng.getrandbits(128):032x}", "findings": findings[i:i + PAGE_SIZE]}
        if i + PAGE_SIZE < count:
            page["nextToken"] = f"{rng.getrandbits(256):064x}"
        pages.append(page)
    with path.open("w", encoding="utf-8") as fh:
        json.dump(pages, fh, indent=4)


# ---------------------------------------------------------------------------------------------
# The two dry runs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    export: Path
    kev: Path
    epss: Path
    cache: Path
    """gate's cache folder, where the feed indexes live after their first use."""


class _TimedSource:
    """Wraps the export source to note when its last page has been parsed (gather enriches after that)."""

    def __init__(self, source: ExportSource) -> None:
        self.source = source
        self.exhausted = 0.0

    @property
    def target(self) -> str:
        return self.source.target

    def pages(self) -> Iterator[list[Finding]]:
        yield from self.source.pages()
        self.exhausted = time.perf_counter()

    def summary(self) -> ScanSummary:
        return self.source.summary()


def run_gate(inputs: Inputs, out: Path) -> tuple[dict[str, float], Evaluation]:
    """What `gate check --findings … --kev-catalog … --epss-scores … --report json=…` does, phase by phase,
    with the cyclic collector tuned as the `gate` command tunes it (the hand-written side keeps Python's)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    try:
        return _run_gate(inputs, out)
    finally:
        gc.set_threshold(*thresholds)


def _run_gate(inputs: Inputs, out: Path) -> tuple[dict[str, float], Evaluation]:
    marks = [time.perf_counter()]
    policy = load_policy("default")
    marks.append(time.perf_counter())
    kev = KevEnricher(open_kev(inputs.kev, inputs.cache))
    marks.append(time.perf_counter())
    epss = EpssEnricher(open_epss(inputs.epss, inputs.cache))
    marks.append(time.perf_counter())
    source = _TimedSource(ExportSource([inputs.export]))
    gathered = gather(Plan(source=source, offline=[kev, epss]))
    marks += [source.exhausted, time.perf_counter()]
    evaluation = evaluate(policy, gathered.findings, gathered.enrichments, now=NOW, target=gathered.target,
                          feeds=gathered.feeds)
    marks.append(time.perf_counter())
    with out.open("wb") as fh:  # as `gate check --report json=…` writes it: streamed
        JsonReport().write(evaluation, ReportOptions(), fh)
    marks.append(time.perf_counter())
    return {name: marks[i + 1] - marks[i] for i, name in enumerate(PHASES)}, evaluation


def _match(rule: str, action: str, reasons: list[str]) -> dict[str, Any]:
    return {"rule": rule, "action": action, "reasons": reasons, "exceptedBy": None}


PLAIN_RULES = [
    {"id": "known-exploited", "action": "fail", "when": "kev", "description": None},
    {"id": "likely-exploited", "action": "fail", "when": "epss > 0.5 and fix_available", "description": None},
    {"id": "critical-fixable", "action": "fail", "when": 'severity == "CRITICAL" and fix_available',
     "description": None},
    {"id": "critical-unknown", "action": "fail", "when": 'severity == "CRITICAL" and not enriched',
     "description": None},
    {"id": "high", "action": "warn", "when": 'severity == "HIGH"', "description": None},
]


def run_plain(inputs: Inputs, out: Path) -> tuple[dict[str, float], list[str]]:
    """The same work hand-coded: no model, no policy language, no validation. Returns phases and decisions."""
    marks = [time.perf_counter()]
    kev_doc = json.loads(inputs.kev.read_bytes())
    kev = {v["cveID"]: v for v in kev_doc["vulnerabilities"]}
    kev_as_of = kev_doc["dateReleased"]
    marks.append(time.perf_counter())
    epss: dict[str, tuple[float, float]] = {}
    lines = gzip.decompress(inputs.epss.read_bytes()).decode("utf-8").splitlines()
    epss_as_of = lines[0].rpartition("score_date:")[2]
    for line in lines[2:]:
        cve, score, percentile = line.split(",")
        epss[cve] = (float(score), float(percentile))
    marks.append(time.perf_counter())
    findings = [f for page in json.loads(inputs.export.read_bytes()) for f in page["findings"]]
    marks.append(time.perf_counter())

    decided = []
    for f in findings:
        vid = f["packageVulnerabilityDetails"]["vulnerabilityId"]
        severity = f["severity"].upper()
        fix = f.get("fixAvailable") in ("YES", "PARTIAL")
        k, e = kev.get(vid), epss.get(vid)
        matches = []
        if k is not None:
            matches.append(_match("known-exploited", "fail", ["kev is true"]))
        if e is not None and e[0] > 0.5 and fix:
            matches.append(_match("likely-exploited", "fail", [f"epss {e[0]:g} > 0.5", "fix_available is true"]))
        if severity == "CRITICAL" and fix:
            matches.append(_match("critical-fixable", "fail", ['severity CRITICAL == "CRITICAL"',
                                                               "fix_available is true"]))
        if severity == "CRITICAL" and k is None and e is None:
            matches.append(_match("critical-unknown", "fail", ['severity CRITICAL == "CRITICAL"', "not (enriched)"]))
        if severity == "HIGH":
            matches.append(_match("high", "warn", ['severity HIGH == "HIGH"']))
        decision = "pass"
        if any(m["action"] == "fail" for m in matches):
            decision = "fail"
        elif matches:
            decision = "warn"
        decided.append((f, vid, severity, k, e, matches, decision))
    decisions = [d[-1] for d in decided]
    marks.append(time.perf_counter())

    kev_prov = {"source": "cisa-kev", "asOf": kev_as_of}
    epss_prov = {"source": "first-epss", "asOf": epss_as_of}
    results = []
    for f, vid, severity, k, e, matches, decision in decided:
        details = f["packageVulnerabilityDetails"]
        packages = [
            {"name": p["name"],
             "installed": (f"{p['epoch']}:" if p.get("epoch") else "") + f"{p['version']}-{p['release']}",
             "fixedIn": p.get("fixedInVersion"), "arch": p.get("arch"), "packageManager": p.get("packageManager"),
             "filePath": p.get("filePath")}
            for p in details["vulnerablePackages"]
        ]
        results.append({
            "key": vid + "|" + ",".join(sorted(f"{p['name']}@{p['installed']}/{p['arch'] or ''}/"
                                               f"{p['filePath'] or ''}" for p in packages)),
            "vulnerabilityId": vid,
            "severity": severity,
            "decision": decision,
            "matchedRules": [m["rule"] for m in matches],
            "matches": matches,
            "expiredExceptions": [],
            "title": f.get("title"),
            "fixAvailable": f.get("fixAvailable"),
            "inspectorScore": f.get("inspectorScore"),
            "cvss": max((c["baseScore"] for c in details.get("cvss", ())), default=None),
            "firstObservedAt": f.get("firstObservedAt"),
            "sourceUrl": details.get("sourceUrl"),
            "packages": packages,
            "kev": k is not None,
            "epss": e[0] if e else None,
            "enrichment": {
                "vulnerabilityId": vid,
                "enriched": k is not None or e is not None,
                "kev": {"dateAdded": k["dateAdded"], "dueDate": k["dueDate"], "requiredAction": k["requiredAction"],
                        "knownRansomwareCampaignUse": k["knownRansomwareCampaignUse"] == "Known",
                        "provenance": kev_prov} if k else None,
                "kevKnownBy": ["cisa-kev"],
                "epss": {"score": e[0], "percentile": e[1], "provenance": epss_prov} if e else None,
                "exploitObserved": None, "exploitAvailable": None, "riskScore": None,
                "cwes": None, "ttps": None, "tools": None,
            },
        })
    report = {
        "schemaVersion": 1,
        "verdict": "fail" if "fail" in decisions else "pass",
        "target": str(inputs.export),
        "evaluatedAt": NOW.isoformat(),
        "policy": {"name": "default", "rules": PLAIN_RULES},
        "summary": {d: decisions.count(d) for d in ("fail", "warn", "pass")},
        "findings": results,
    }
    # NOTE: the floor writes as fast as plain Python can: the C encoder, one finding a line (indent= would
    # switch json to its pure-Python encoder, about 6x slower).
    encode = json.JSONEncoder(ensure_ascii=False).encode
    with out.open("w", encoding="utf-8") as fh:
        head = {k: v for k, v in report.items() if k != "findings"}
        fh.write("{\n" + "".join(f"{encode(k)}: {encode(v)},\n" for k, v in head.items()) + '"findings": [\n')
        for i, result in enumerate(results):
            fh.write(encode(result) + (",\n" if i < len(results) - 1 else "\n"))
        fh.write("]\n}\n")
    marks.append(time.perf_counter())
    return {name: marks[i + 1] - marks[i] for i, name in enumerate(PLAIN_PHASES)}, decisions


def profile_gate(inputs: Inputs, out: Path, top: int) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(run_gate, inputs, out)
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(text.getvalue())


def _one(side: str, inputs: Inputs, out: Path) -> int:
    """`--only`: one run of one side in this fresh process; prints seconds and peak RSS as JSON."""
    start = time.perf_counter()
    if side == "gate":
        run_gate(inputs, out)
    else:
        run_plain(inputs, out)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(json.dumps({"side": side, "seconds": elapsed, "peak_bytes": peak}))
    return 0


def measure_memory(inputs: Inputs, folder: Path, repeat: int) -> None:
    """Each side in its own process (so peaks do not mix), `repeat` times; the lowest peak and time are kept."""
    here = Path(__file__).resolve()
    common = ["--export", str(inputs.export), "--cache", str(inputs.cache)]
    rows: dict[str, list[dict[str, float]]] = {"plain": [], "gate": []}
    for _ in range(repeat):
        for side in rows:
            done = subprocess.run([sys.executable, str(here), "--only", side, *common,
                                   "--out", str(folder / f"{side}-report.json")],
                                  capture_output=True, text=True, check=True)
            rows[side].append(json.loads(done.stdout.splitlines()[-1]))
    print(f"\n{'one run per process':24} {'best s':>8} {'peak RSS MiB':>13}")
    best = {side: (min(r["seconds"] for r in runs), min(r["peak_bytes"] for r in runs)) for side, runs in rows.items()}
    for side, (seconds, peak) in best.items():
        print(f"{side:24} {seconds:8.3f} {peak / 2**20:13.1f}")
    print(f"peak memory gate / hand-written: {best['gate'][1] / best['plain'][1]:.2f}x (target <= 2x); "
          f"time {best['gate'][0] / best['plain'][0]:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--findings", type=int, default=20_000, help="synthetic findings (default 20000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each; the best is kept (default 3)")
    parser.add_argument("--profile", type=int, metavar="N", default=0,
                        help="afterwards, profile one gate run with cProfile and print the top N functions")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU")
    parser.add_argument("--memory", action="store_true",
                        help="run each side in its own process and report peak RSS (and time) instead")
    parser.add_argument("--only", choices=("gate", "plain"), help=argparse.SUPPRESS)
    parser.add_argument("--export", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.findings < 1 or args.repeat < 1:
        parser.error("--findings and --repeat must be at least 1")
    pinned = pin_one_core(not args.no_pin)
    if args.only:
        return _one(args.only, Inputs(args.export, data_file(KEV_FILE), data_file(EPSS_FILE), args.cache), args.out)
    print(machine())
    print(f"{pinned}; best of {args.repeat} runs; time.perf_counter; in-process (imports excluded); gate runs "
          f"with the gate command's collector thresholds {COLLECTOR_THRESHOLDS}")

    with tempfile.TemporaryDirectory(prefix="gate-bench-") as tmp:
        folder = Path(tmp)
        inputs = Inputs(folder / "findings.json", data_file(KEV_FILE), data_file(EPSS_FILE), folder / "cache")
        start = time.perf_counter()
        write_export(inputs.export, args.findings, inputs.kev, inputs.epss)
        mib = inputs.export.stat().st_size / 2**20
        print(f"export: {args.findings} findings in pages of {PAGE_SIZE}, {mib:.1f} MiB "
              f"(written in {time.perf_counter() - start:.1f} s)")
        print(f"KEV: {inputs.kev} ({inputs.kev.stat().st_size / 2**20:.1f} MiB)")
        print(f"EPSS: {inputs.epss} ({inputs.epss.stat().st_size / 2**20:.1f} MiB gzipped)")
        start = time.perf_counter()
        open_kev(inputs.kev, inputs.cache)
        open_epss(inputs.epss, inputs.cache)
        print(f"first use of the feeds (parse, validate, index; not timed below): {time.perf_counter() - start:.2f} s")
        if args.memory:
            measure_memory(inputs, folder, args.repeat)
            return 0

        gate_out, plain_out = folder / "gate-report.json", folder / "plain-report.json"
        gate_runs: list[dict[str, float]] = []
        plain_runs: list[dict[str, float]] = []
        evaluation: Evaluation | None = None
        decisions: list[str] = []
        for _ in range(args.repeat):
            evaluation = None  # let the previous run's results go before timing the next
            gc.collect()
            plain_phases, decisions = run_plain(inputs, plain_out)
            plain_runs.append(plain_phases)
            gc.collect()
            gate_phases, evaluation = run_gate(inputs, gate_out)
            gate_runs.append(gate_phases)
        if evaluation is None:  # only for the type checker: --repeat is at least 1
            return 1
        same = sum(r.decision.value == d for r, d in zip(evaluation.results, decisions, strict=True))
        s = evaluation.summary
        print(f"\ngate: {s.total} findings, {s.failed} fail, {s.warned} warn, {s.passed} pass; "
              f"KEV hits {sum(r.enrichment.kev is not None for r in evaluation.results)}, "
              f"EPSS known {sum(r.enrichment.epss is not None for r in evaluation.results)}")
        print(f"decisions identical to the hand-written run on {same}/{len(decisions)} findings"
              + ("" if same == len(decisions) else "  ** MISMATCH **"))
        print(f"report size: gate {gate_out.stat().st_size / 2**20:.1f} MiB, "
              f"hand-written {plain_out.stat().st_size / 2**20:.1f} MiB")

        gate_best = min(gate_runs, key=lambda r: sum(r.values()))
        plain_best = min(plain_runs, key=lambda r: sum(r.values()))
        gate_s, plain_s = sum(gate_best.values()), sum(plain_best.values())
        print(f"\n{'dry run, end to end':24} {'best s':>8} {'findings/s':>11}   all runs s")
        rows = (("gate (in-process)", gate_s, gate_runs), ("hand-written Python", plain_s, plain_runs))
        for name, best, runs in rows:
            every = " ".join(f"{sum(r.values()):.2f}" for r in runs)
            print(f"{name:24} {best:8.3f} {args.findings / best:11,.0f}   {every}")
        ratio = gate_s / plain_s
        print(f"ratio gate / hand-written: {ratio:.2f}x (target <= {TARGET_RATIO}x: "
              f"{'met' if ratio <= TARGET_RATIO else 'NOT met'})")

        print(f"\n{'phase (each best run)':24} {'gate s':>8} {'share':>6} {'hand s':>8} {'ratio':>6}")
        for name in PHASES:
            g, p = gate_best[name], plain_best.get(name)
            hand = f"{p:8.3f} {g / p:5.1f}x" if p else f"{'-':>8} {'':>6}"
            print(f"{name:24} {g:8.3f} {g / gate_s:6.1%} {hand}")
        if args.profile:
            print(f"\ncProfile of one gate run (top {args.profile}):")
            profile_gate(inputs, gate_out, args.profile)
    return 0 if same == len(decisions) else 1


if __name__ == "__main__":
    sys.exit(main())
