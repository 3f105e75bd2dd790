"""Benchmark gate's on-demand AMI scan path (ON_DEMAND_AMI_CVE) at 50 ms a call, beside the test-instance path.

The same 2,000 findings over 800 CVEs as `aws_flow.py` (same seed), served twice by one emulator:
as Image Builder's listing of a test-instance build, and as EC2's `GetImageFindings` of an
on-demand build's AMI. Prints the calls against the minimum and the wall time against the floors.
Not a test: it never fails on speed, only on a wrong call count or a decision mismatch between runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3
from aws_flow import (
    CVE_ID,
    CVES,
    DEFAULT_WORKERS,
    FINDINGS,
    LATENCY,
    SEED,
    ProcessHost,
    Run,
    Seeded,
    make_data,
    minimum_calls,
    point_boto3_at,
    run_gate,
    seed,
)
from harness import NOW, machine

from gate.aws.session import make_clients, make_session
from gate.enrichment.inspector import InspectorEnricher
from gate.errors import GateError
from gate.inputs import Inputs, build_cache
from gate.live import open_live_source
from gate.policy.engine import judge
from gate.policy.loader import Policy, load_policy
from gate.run import Plan, gather
from tests.emulator import REGION, Emulator, Faults, image_arn

ONDEMAND_IMAGE = image_arn("al2023-bench-ondemand", "1.0.0", 1)
EC2_PAGE = 1000
"""GetImageFindings: MaxResults 1..1000."""


def ec2_findings(data: Seeded) -> list[dict[str, Any]]:
    """The scan's findings as EC2 names them: id and package only in the title, lower-case severity."""
    out = []
    for f in data.findings:
        pvd = f["packageVulnerabilityDetails"]
        package = pvd["vulnerablePackages"][0]
        # NOTE: EC2's SeverityLabel has no `untriaged`; Inspector files those as informational there.
        label = f["severity"].lower() if f["severity"] != "UNTRIAGED" else "informational"
        out.append({"FixAvailable": f["fixAvailable"] == "YES", "Score": f["inspectorScore"],
                    "FirstObservedAt": f["firstObservedAt"], "UpdatedAt": f["updatedAt"],
                    "Title": f"{pvd['vulnerabilityId']} - {package['name']}", "SeverityLabel": label,
                    "Paths": [f"/usr/lib/{package['name']}"]})
    return out


def seed_both(emu: Emulator, data: Seeded) -> None:
    """The test-instance build as `aws_flow` seeds it, plus an on-demand build of the same scan."""
    seed(emu, data)
    emu.add_image(ONDEMAND_IMAGE, [], scanning_types=["ON_DEMAND_AMI_CVE"],
                  scan_result_condition={"maximumSeverityLabel": "HIGH"})
    emu.add_ondemand_scan(emu.ami_of(ONDEMAND_IMAGE), ec2_findings(data))


def run_ondemand(name: str, host: ProcessHost, policy: Policy, cache_dir: Path, workers: int) -> Run:
    """gate's on-demand path as `gate.live.open_live_plan` assembles it: one GetImage picks it, search only."""
    run = Run(name)
    host.reset_calls()
    began = time.perf_counter()
    clients = make_clients(make_session(REGION, None), max_pool=workers + 2)
    _ = clients.ec2  # NOTE: made before the clock starts, as the other clients are.
    cpu, emulator_cpu = time.process_time(), host.cpu()
    run.start = time.perf_counter()
    run.setup = run.start - began
    enricher = None
    try:
        source = open_live_source(clients, ONDEMAND_IMAGE, wait_timeout=0)
        enricher = InspectorEnricher(clients, scope_arn=source.target, max_workers=workers, search_only=True,
                                     cache=build_cache(Inputs(cache_dir=cache_dir, cache_ttl=timedelta(hours=24))))
        plan = Plan(source=source, live=enricher, closers=(clients.close,))
        try:
            gathered = gather(plan)
        finally:
            plan.close()
        run.evaluation = judge(policy, gathered.findings, gathered.enrichments, now=NOW,
                               target=gathered.target, feeds=gathered.feeds)
    except GateError as e:
        run.error = f"{type(e).__name__}: {e}"
        if enricher is None:
            clients.close()
    finally:
        run.wall = time.perf_counter() - run.start
    run.cache_hits = enricher.cache_hits if enricher is not None else 0
    run.cpu, run.emulator_cpu = time.process_time() - cpu, host.cpu() - emulator_cpu
    run.calls = host.calls()
    run.violations = host.violations()
    return run


def run_listing(host: ProcessHost) -> Run:
    """The measured floor of the on-demand listing: GetImage, the scan's status and every page, plain boto3."""
    run = Run("boto3 listing only")
    host.reset_calls()
    make: Any = boto3.client
    imagebuilder, inspector, ec2 = (make(s, region_name=REGION) for s in ("imagebuilder", "inspector2", "ec2"))
    cpu, emulator_cpu = time.process_time(), host.cpu()
    run.start = time.perf_counter()
    image = imagebuilder.get_image(imageBuildVersionArn=ONDEMAND_IMAGE)["image"]
    ami = image["outputResources"]["amis"][0]["image"]
    inspector.list_on_demand_scans(resourceId=ami, resourceType="AMI")
    for _ in ec2.get_paginator("get_image_findings").paginate(ImageId=ami, PaginationConfig={"PageSize": EC2_PAGE}):
        pass
    run.wall = time.perf_counter() - run.start
    run.cpu, run.emulator_cpu = time.process_time() - cpu, host.cpu() - emulator_cpu
    for client in (imagebuilder, inspector, ec2):
        client.close()
    run.calls = host.calls()
    return run


def ondemand_minimum(data: Seeded) -> dict[str, int]:
    """GetImage + one on-demand status call + ⌈N/1000⌉ pages + one search per CVE (nothing is cached)."""
    ids = {f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in data.findings}
    return {"GetImage": 1, "ListOnDemandScans": 1, "GetImageFindings": -(-len(data.findings) // EC2_PAGE),
            "SearchVulnerabilities": sum(1 for c in ids if CVE_ID.fullmatch(c))}


def _decisions(run: Run) -> Counter[tuple[str, str, tuple[str, ...]]]:
    assert run.evaluation is not None
    return Counter((r.finding.vulnerability_id, r.decision.value, tuple(m.rule_id for m in r.matches))
                   for r in run.evaluation.results)


def _verdict(run: Run) -> str:
    if run.evaluation is None:
        return f"ERROR {run.error}"
    s = run.evaluation.summary
    return f"{run.evaluation.verdict.value} ({s.failed} fail, {s.warned} warn, {s.passed} pass)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=LATENCY)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--check-responses", action="store_true")
    args = parser.parse_args(argv)
    print(machine())
    data = make_data(SEED, FINDINGS, CVES)
    policy = load_policy("default")
    host = ProcessHost(data, args.check_responses, seed_both)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            point_boto3_at(host, Path(scratch))
            host.set_faults(Faults(seed=SEED, latency=args.latency))
            listing = run_listing(host)
            instance = run_gate("test-instance path", host, policy, Path(scratch) / "cache-ti", args.workers)
            fresh = run_ondemand("on-demand path", host, policy, Path(scratch) / "cache-od", args.workers)
            cached = run_ondemand("on-demand, cached", host, policy, Path(scratch) / "cache-od", args.workers)
    finally:
        host.close()
    minimum = ondemand_minimum(data)
    ti_minimum, _ = minimum_calls(data)
    made = Counter(c.operation for c in fresh.calls)
    print(f"\n{len(data.findings)} findings over {len(data.kind)} CVEs, {args.latency * 1000:g} ms a "
          f"call, {args.workers} Inspector workers\n")
    print(f"{'on-demand calls':<24}{'minimum':>9}{'gate':>7}{'cached':>8}")
    for op, least in minimum.items():
        print(f"{op:<24}{least:>9}{made[op]:>7}{sum(1 for c in cached.calls if c.operation == op):>8}")
    others = {op: n for op, n in made.items() if op not in minimum}
    print(f"{'other calls':<24}{0:>9}{sum(others.values()):>7}   {others or ''}")
    total_min, total = sum(minimum.values()), len(fresh.calls)
    print(f"{'total':<24}{total_min:>9}{total:>7}{len(cached.calls):>8}   "
          f"{'= minimum' if total == total_min and not others else 'NOT the minimum'}")

    pages = minimum["GetImageFindings"]
    listing_floor = (2 + pages) * args.latency
    search_floor = (2 + 1 + -(-minimum["SearchVulnerabilities"] // args.workers)) * args.latency
    ti_floor = (1 + ti_minimum["ListImageScanFindings"] + 1) * args.latency
    print(f"\nfloors: on-demand listing (GetImage + status + {pages} pages) {listing_floor:.2f} s; "
          f"with {minimum['SearchVulnerabilities']} searches over {args.workers} workers after the first page "
          f"{search_floor:.2f} s; test-instance pagination {ti_floor:.2f} s\n")
    print(f"{'run':<22}{'calls':>7}{'wall s':>9}{'/ floor':>9}  {'floor used':<21}{'CPU s':>7}"
          f"{'emu CPU s':>10}  verdict")
    rows = [(listing, listing_floor, "on-demand listing"), (instance, ti_floor, "test-instance pages"),
            (fresh, search_floor, "searches / workers"), (cached, listing_floor, "on-demand listing")]
    for run, floor, label in rows:
        verdict = _verdict(run) if run is not listing else "(no verdict: listing only)"
        print(f"{run.name:<22}{len(run.calls):>7}{run.wall:>9.2f}{run.wall / floor:>9.2f}  {label:<21}"
              f"{run.cpu:>7.2f}{run.emulator_cpu:>10.2f}  {verdict}")
    same = fresh.evaluation is not None and instance.evaluation is not None and _decisions(fresh) == _decisions(cached)
    print(f"\non-demand fresh and cached runs decide alike: {same}; cached run: {cached.cache_hits} ids from the "
          f"cache; emulator violations: {len(fresh.violations) + len(cached.violations) + len(instance.violations)}")
    ok = same and total == total_min and not others and fresh.error is None
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
