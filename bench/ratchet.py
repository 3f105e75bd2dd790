"""Benchmark the ratchet: a 20,000-finding build judged alone, and against its previous build's JSON report.

Both rows use the `default` policy, which reads no baseline field, so the difference is the baseline's
own cost (reading the report, comparing, the extra report fields), not more rules matching.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import NOW, PACKAGES, SEVERITIES, machine, pin_one_core, weighted

from gate.cli.main import main as gate

PIPELINE = "arn:aws:imagebuilder:us-east-1:111122223333:image-pipeline/bench"


def build(n: int, number: int, rng: random.Random) -> dict[str, Any]:
    """An export of `n` findings; build 2 replaces a tenth of build 1's and bumps every version."""
    severity, package = weighted(rng, SEVERITIES), weighted(rng, PACKAGES)
    arn = f"arn:aws:imagebuilder:us-east-1:111122223333:image/bench/1.0.0/{number}"
    findings = []
    for i in range(n):
        vid = f"CVE-2099-{i + (n if number == 2 and i % 10 == 0 else 0):06d}"
        findings.append({
            "imageBuildVersionArn": arn, "imagePipelineArn": PIPELINE, "severity": severity(),
            "fixAvailable": "YES", "firstObservedAt": f"2026-{9 + number:02d}-01T00:00:00Z",
            "packageVulnerabilityDetails": {"vulnerabilityId": vid, "vulnerablePackages": [
                {"name": package(), "version": f"1.{number}.{i % 7}"}]},
        })
    return {"findings": findings}


def timed(argv: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            gate(argv)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--findings", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per row; the best is kept")
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args(argv)
    pinned = pin_one_core(not args.no_pin)
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for number in (1, 2):
            (folder / f"b{number}.json").write_text(json.dumps(build(args.findings, number, rng)))
        common = ["--no-cached-feeds", "--allow-unanswerable", "--as-of", NOW.isoformat(), "--policy", "default"]
        first = ["check", "--findings", str(folder / "b1.json"), *common, "--report", f"json={folder / 'r1.json'}"]
        with contextlib.redirect_stdout(io.StringIO()):
            gate(first)
        second = ["check", "--findings", str(folder / "b2.json"), *common, "--report", f"json={folder / 'r2.json'}"]
        alone = timed(second, args.repeat)
        against = timed([*second, "--baseline", str(folder / "r1.json")], args.repeat)
    print(f"# {machine()}; {pinned}; {args.findings} findings, best of {args.repeat}")
    print(f"build 2 alone:                         {alone:.2f} s")
    print(f"build 2 against build 1's JSON report: {against:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
