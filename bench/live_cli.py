"""Time `gate check` on a live build as CI runs it (a fresh process) beside a bare boto3 listing process.

Uses `bench/aws_flow.py`'s seeded emulator (2,000 findings, 800 CVEs, 50 ms a call) in a child
process. Each timed process runs under the same small wrapper, which notes (wall clock) when its first
request is sent and when the last `ListImageScanFindings` page has arrived, so the script reports:
start-up to the first request, the whole process, and what follows the last page (evaluation,
reports, exit), with the steps after the last page. gate runs cold (a fresh cache folder each time) and
warm (the cache of its previous run). `--floor` adds the bare listing plus gate's Inspector calls in plain
boto3 threads: the cold run's floor for a one-process boto3 client.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aws_flow import CVES, FINDINGS, IMAGE, LATENCY, SEED, ProcessHost, make_data, point_boto3_at
from harness import machine

from tests.emulator import Faults

WRAPPER = """
import json, sys, time
import botocore.endpoint
marks = {"first": None, "last_page": None}
marks_file = sys.argv[0] + ".marks"
send = botocore.endpoint.Endpoint._send
def timed_send(self, request):
    marks["first"] = marks["first"] or time.time()
    try:
        return send(self, request)
    finally:
        if request.url.rstrip("/").endswith("/ListImageScanFindings"):
            marks["last_page"] = time.time()
botocore.endpoint.Endpoint._send = timed_send

def mark_after(key, owner, name):
    function = getattr(owner, name)
    def marked(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            marks[key] = time.time()
    setattr(owner, name, marked)

# Marks inside gate, set as each module is first imported (importing them here would move start-up work).
PATCHES = {
    "gate.run": lambda m: mark_after("gathered", m, "gather"),
    "gate.policy.engine": lambda m: mark_after("judged", m, "judge"),
    "gate.cli.guard": lambda m: mark_after("written", m.ReportGuard, "write"),
    "gate.cli.main": lambda m: mark_after("returned", m, "main"),
}
class MarkingFinder:
    def find_spec(self, name, path, target=None):
        if name not in PATCHES:
            return None
        import importlib.machinery
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            PATCHES[name](module)
        spec.loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, MarkingFinder())
try:
    if sys.argv[1] in ("bare", "floor"):
        import boto3
        client = boto3.client("imagebuilder")
        image = sys.argv[2]
        if sys.argv[1] == "floor":
            # The bare listing plus gate's Inspector calls (same operations and parameters), made by 8 plain boto3
            # threads as the pages arrive: what any boto3 client doing this work in one process pays.
            import threading
            from concurrent.futures import Future, ThreadPoolExecutor
            with open(sys.argv[3]) as f:
                after_page = json.load(f)
            made = Future()
            threading.Thread(target=lambda: made.set_result(boto3.client("inspector2")), daemon=True).start()
            pool = ThreadPoolExecutor(max_workers=8)
            def call(operation, params):
                getattr(made.result(), operation)(**params)
        client.get_image(imageBuildVersionArn=image)
        by_image = [{"name": "imageBuildVersionArn", "values": [image]}]
        listing = client.get_paginator("list_image_scan_findings").paginate(filters=by_image, maxResults=25)
        for page, _ in enumerate(listing):
            if sys.argv[1] == "floor":
                for operation, params in after_page.get(str(page), []):
                    pool.submit(call, operation, params)
        client.list_image_scan_finding_aggregations(filter=by_image[0])
        if sys.argv[1] == "floor":
            for operation, params in after_page.get("end", []):
                pool.submit(call, operation, params)
            pool.shutdown(wait=True)
        marks["returned"] = time.time()
        code = 0
    else:
        # NOTE: as the `gate` console script does (it also tunes the cyclic collector, which `main` does not)
        from gate.cli.main import entrypoint
        sys.argv = ["gate", *sys.argv[2:]]
        try:
            entrypoint()
        except SystemExit as e:
            code = e.code
finally:
    with open(marks_file, "w") as out:
        json.dump(marks, out)
sys.exit(code)
"""
TARGET_COLD, TARGET_WARM, TARGET_STARTUP_S, TARGET_AFTER_S = 1.1, 1.03, 0.1, 0.1


STEPS = (("last_page", "gathered", "Inspector's last answers", "gate"), ("gathered", "judged", "judge", "gate"),
         ("judged", "written", "reports", "gate"), ("written", "returned", "summary, rest of main", "gate"),
         ("last_page", "returned", "the recount (floor: and its calls)", "bare"),
         ("returned", "ended", "interpreter exit", "both"))
"""The steps after the last page, between the wrapper's marks, and whose they are (a missing mark leaves one out)."""


def timed(kind: str, args: list[str], env: dict[str, str], scratch: Path, host: ProcessHost) -> dict[str, float]:
    script = scratch / f"wrapper-{kind}.py"
    script.write_text(WRAPPER)
    emulator_cpu = host.cpu()
    began = time.time()
    done = subprocess.run([sys.executable, str(script), kind, *args], env=env, capture_output=True, check=False)
    ended = time.time()
    if done.returncode not in (0, 1):
        raise SystemExit(f"{kind} exited {done.returncode}: {done.stderr.decode(errors='replace').strip()[-400:]}")
    marks = json.loads(Path(str(script) + ".marks").read_text())
    marks["ended"] = ended
    out = {"wall": ended - began, "startup": marks["first"] - began, "after": ended - marks["last_page"],
           "emulator cpu": host.cpu() - emulator_cpu}
    for start, end, label, whose in STEPS:
        if marks.get(start) and marks.get(end) and whose in ({kind, "both"} | ({"bare"} if kind == "floor" else set())):
            out[label] = marks[end] - marks[start]
    return out


def inspector_calls(host: ProcessHost) -> dict[str, list[tuple[str, Any]]]:
    """The Inspector calls the host answered, by the listing page after which to make each (boto3 method names).

    A call answered after j pages is made after page j-1 (one page early, so the floor is not late).
    """
    out: dict[str, list[tuple[str, Any]]] = {}
    pages = 0
    for call in host.calls():
        if call.operation == "ListImageScanFindings":
            pages += 1
        elif call.service == "inspector2":
            method = re.sub(r"(?<!^)(?=[A-Z])", "_", call.operation).lower()
            out.setdefault(str(max(0, pages - 2)), []).append((method, call.params))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each; the best is kept")
    parser.add_argument("--latency", type=float, default=LATENCY)
    parser.add_argument("--compare-with", type=Path, metavar="DIR",
                        help="also time the gate package in DIR (e.g. `git archive main` unpacked), interleaved")
    parser.add_argument("--floor", action="store_true",
                        help="also time the bare listing plus gate's Inspector calls in plain boto3 threads")
    args = parser.parse_args(argv)
    print(machine())
    data = make_data(SEED, FINDINGS, CVES)
    host = ProcessHost(data, False)
    trees = {"this tree": None, **({str(args.compare_with): str(args.compare_with)} if args.compare_with else {})}
    runs: dict[str, list[dict[str, float]]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="gate-bench-live-") as tmp:
            scratch = Path(tmp)
            point_boto3_at(host, scratch)
            host.set_faults(Faults(seed=SEED, latency=args.latency))
            base = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "GITHUB_ACTIONS")}
            check = ["check", "--image-build-version-arn", IMAGE, "--report", f"json={scratch / 'report.json'}",
                     "--no-cached-feeds"]
            timed("bare", [IMAGE], base, scratch, host)  # warm-up: bytecode and page cache
            # NOTE: gate's Inspector calls, recorded from one cold run, for the floor process to make too.
            host.reset_calls()
            timed("gate", check, dict(base, GATE_CACHE_DIR=str(scratch / "cache-record")), scratch, host)
            calls = scratch / "inspector-calls.json"
            calls.write_text(json.dumps(inspector_calls(host)))
            for n in range(args.repeat):
                runs.setdefault("bare boto3 listing", []).append(timed("bare", [IMAGE], base, scratch, host))
                if args.floor:
                    runs.setdefault("bare listing + gate's Inspector calls", []).append(
                        timed("floor", [IMAGE, str(calls)], base, scratch, host))
                for tree, path in trees.items():
                    env = dict(base, **({"PYTHONPATH": path} if path else {}))
                    cache = scratch / f"cache-{tree.replace('/', '_')}-{n}"
                    for label in ("cold", "warm"):
                        runs.setdefault(f"gate, {label} [{tree}]", []).append(
                            timed("gate", check, dict(env, GATE_CACHE_DIR=str(cache)), scratch, host))
    finally:
        host.close()
    best = {name: {k: min(r[k] for r in rs if k in r) for k in rs[0]} for name, rs in runs.items()}
    bare = best["bare boto3 listing"]
    print(f"\nbest of {args.repeat} interleaved processes; {FINDINGS} findings, {CVES} CVEs, "
          f"{args.latency * 1000:.0f} ms a call\n")
    median = {name: {k: statistics.median(r[k] for r in rs if k in r) for k in rs[0]} for name, rs in runs.items()}
    print("| process | wall s | / bare | start-up to first request s | after the last page s | median wall s, / bare |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, b in best.items():
        m = median[name]["wall"]
        print(f"| {name} | {b['wall']:.3f} | {b['wall'] / bare['wall']:.2f}× | {b['startup']:.3f} | {b['after']:.3f} "
              f"| {m:.3f}, {m / median['bare boto3 listing']['wall']:.2f}× |")
    # NOTE: each column's best separately (medians would hide the floor; noise only adds).
    steps = [label for _, _, label, _ in STEPS]
    print("\nafter the last page, step by step (s, best of each); emulator CPU s per process (it shares the CPU)\n")
    print("| process | " + " | ".join(steps) + " | emulator CPU s |")
    print("|---|" + "---:|" * (len(steps) + 1))
    for name, b in best.items():
        cells = [f"{b[label]:.3f}" if label in b else "" for label in steps]
        print(f"| {name} | " + " | ".join(cells) + f" | {b['emulator cpu']:.2f} |")
    for tree in trees:
        cold, warm = best[f"gate, cold [{tree}]"], best[f"gate, warm [{tree}]"]
        print(f"\n[{tree}] cold {cold['wall'] / bare['wall']:.2f}× (target ≤ {TARGET_COLD}), "
              f"warm {warm['wall'] / bare['wall']:.2f}× (target ≤ {TARGET_WARM}); start-up "
              f"+{cold['startup'] - bare['startup']:.3f} s over bare (target ≤ +{TARGET_STARTUP_S}); after the "
              f"last page {cold['after']:.3f} s cold, {warm['after']:.3f} s warm (target < {TARGET_AFTER_S}; "
              f"bare: {bare['after']:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
