"""`gate sweep` at fleet scale against the emulator with latency: calls, wall time beside a bare boto3 loop, memory.

    .venv/bin/python bench/sweep.py                      # 200 builds x 300 findings, 50 ms a call
    .venv/bin/python bench/sweep.py --builds 20 --quick  # a smoke run

The emulator runs in its own process (so neither side shares a GIL with it). Three measurements:
1. Inspector calls of one sweep against the distinct CVEs of the fleet (no answer cache);
2. wall time of the sweep beside a bare boto3 loop that lists the same pages (ListImagePipelineImages,
   GetImage, every ListImageScanFindings page, the recount) with the same concurrency and no judging;
3. peak RSS of the sweep over the first 50 builds (`--builds-file`) and over all 200.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import machine  # noqa: E402
from tests.emulator import Emulator, Faults, image_arn, image_scan_finding, pipeline_arn  # noqa: E402
from tests.sweep.fleet import write_feeds  # noqa: E402

SEED = 22
PIPELINES = 20
MEASURE = """
import resource, sys
from gate.cli.main import main
code = main(sys.argv[1:])
print("maxrss_kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def fleet(builds: int, findings: int, cves: int) -> dict[str, list[tuple[str, str]]]:
    """Pipeline -> [(build ARN, CVE …)]: every build draws `findings` CVEs from a pool of `cves` (a few are common)."""
    rng = random.Random(SEED)
    pool = [f"CVE-2024-{10000 + i}" for i in range(cves)]
    weights = [1.0 / (1 + i) ** 0.3 for i in range(cves)]
    out: dict[str, list[tuple[str, str]]] = {}
    for n in range(builds):
        pipeline = pipeline_arn(f"pipe{n % PIPELINES}")
        arn = image_arn(f"pipe{n % PIPELINES}", "1.0.0", n // PIPELINES + 1)
        chosen: set[str] = set()
        while len(chosen) < findings:
            chosen.update(rng.choices(pool, weights=weights, k=findings - len(chosen)))
        out.setdefault(pipeline, []).extend((arn, cve) for cve in sorted(chosen))
    return out


def serve(conn: Connection, builds: int, findings: int, cves: int, latency: float) -> None:
    with Emulator(check_responses=False) as emu:
        by_build: dict[str, list[str]] = {}
        pipelines: dict[str, str] = {}
        for pipeline, rows in fleet(builds, findings, cves).items():
            for arn, cve in rows:
                by_build.setdefault(arn, []).append(cve)
                pipelines[arn] = pipeline
        severities = ("LOW", "MEDIUM", "HIGH")
        for arn, ids in by_build.items():
            emu.add_image(arn, [image_scan_finding(c, severities[hash(c) % 3], package=f"pkg{i % 40}")
                                for i, c in enumerate(ids)], pipeline_arn=pipelines[arn],
                          date_created="2026-11-01T00:00:00.000Z")
        for cve in {c for ids in by_build.values() for c in ids}:
            emu.add_vulnerability(cve, {"epss": {"score": 0.01}, "source": "NVD"})
        emu.faults = Faults(seed=SEED, latency=latency)
        conn.send((emu.env(), sorted(by_build), sorted(set(pipelines.values())),
                   len({c for ids in by_build.values() for c in ids})))
        while True:
            command = conn.recv()
            if command == "stop":
                return
            if command == "calls":
                counts: dict[str, int] = {}
                for call in emu.calls:
                    counts[call.operation] = counts.get(call.operation, 0) + 1
                conn.send(counts)
            elif command == "reset":
                emu.reset_calls()
                conn.send(None)


def bare_loop(env: dict[str, str], pipelines: list[str], concurrency: int) -> float:
    """The same listing with boto3 alone: what a hand-written loop pays for the pages, without judging anything."""
    os.environ.update(env)
    import boto3
    from botocore.config import Config

    client = boto3.client("imagebuilder", config=Config(max_pool_connections=3 * concurrency))
    start = time.perf_counter()
    arns = []
    for pipeline in pipelines:
        for page in client.get_paginator("list_image_pipeline_images").paginate(imagePipelineArn=pipeline,
                                                                                PaginationConfig={"PageSize": 25}):
            arns.extend(s["arn"] for s in page["imageSummaryList"])

    def one(arn: str) -> int:
        client.get_image(imageBuildVersionArn=arn)
        flt = [{"name": "imageBuildVersionArn", "values": [arn]}]
        n = sum(len(p["findings"]) for p in client.get_paginator("list_image_scan_findings").paginate(
            filters=flt, PaginationConfig={"PageSize": 25}))
        client.list_image_scan_finding_aggregations(filter=flt[0])
        return n

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, arns))
    return time.perf_counter() - start


def sweep(env: dict[str, str], args: list[str]) -> tuple[float, int, int]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE, "sweep", *args], env={**os.environ, **env},
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"gate sweep exited {done.returncode}: {done.stderr[-2000:]}")
    rss = int(next(line.split()[1] for line in done.stderr.splitlines() if line.startswith("maxrss_kib")))
    return elapsed, rss, done.returncode


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--builds", type=int, default=200)
    p.add_argument("--findings", type=int, default=300)
    p.add_argument("--cves", type=int, default=2000)
    p.add_argument("--latency", type=float, default=0.05)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--max-workers", type=int, default=16)
    p.add_argument("--small", type=int, default=50, help="the smaller sweep of the memory comparison")
    opts = p.parse_args()
    print(machine())
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(child, opts.builds, opts.findings, opts.cves, opts.latency))
    server.start()
    env, builds, pipelines, distinct = parent.recv()
    print(f"fleet: {len(builds)} builds x {opts.findings} findings in {len(pipelines)} pipelines, {distinct} distinct "
          f"CVEs; {opts.latency * 1000:.0f} ms a call; concurrency {opts.concurrency}, Inspector workers "
          f"{opts.max_workers}")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**env, "GATE_CACHE_DIR": str(Path(tmp) / "cache")}
        feeds = write_feeds(Path(tmp) / "feeds")
        common = [*feeds, "--no-cache", "--concurrency", str(opts.concurrency), "--max-workers",
                  str(opts.max_workers), "--allow-unjudged"]
        targets = [a for pipeline in pipelines for a in ("--pipeline", pipeline)]
        bare = bare_loop(env, pipelines, opts.concurrency)
        parent.send("reset")
        parent.recv()
        wall, rss_all, _ = sweep(env, [*targets, *common, "--report", f"json={Path(tmp) / 'fleet.json'}"])
        parent.send("calls")
        calls = parent.recv()
        report = json.loads((Path(tmp) / "fleet.json").read_text())
        small = Path(tmp) / "small.txt"
        small.write_text("\n".join(builds[: opts.small]) + "\n")
        _, rss_small, _ = sweep(env, ["--builds", str(small), *common])
    parent.send("stop")
    server.join()
    searched = calls.get("SearchVulnerabilities", 0)
    print(f"Inspector calls: SearchVulnerabilities {searched} for {distinct} distinct CVEs "
          f"({'equal' if searched == distinct else 'NOT equal'}); ListFindings {calls.get('ListFindings', 0)}, "
          f"BatchGetFindingDetails {calls.get('BatchGetFindingDetails', 0)}")
    listing = {k: v for k, v in sorted(calls.items()) if k != "SearchVulnerabilities"}
    print(f"listing calls: {listing}")
    print(f"summary: {report['summary']}")
    print(f"wall: bare boto3 loop {bare:.2f} s, gate sweep {wall:.2f} s (process start to exit, judging and reports "
          f"included): {wall / bare:.2f}x")
    print(f"peak RSS: {opts.small} builds {rss_small / 1024:.0f} MiB, {len(builds)} builds {rss_all / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
