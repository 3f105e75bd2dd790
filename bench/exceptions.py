"""What `until:` and VEX cost the engine: `judge` over synthetic findings with and without them."""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import NOW, machine, pin_one_core

from gate.model import Enrichment, EpssScore, Finding, KevEntry, VulnerablePackage
from gate.policy.engine import judge
from gate.policy.loader import parse_policy
from gate.policy.vex import read_documents

SEED = 20261126
BUILD = "arn:aws:imagebuilder:us-east-1:111122223333:image/web/1.4.0/3"
RULES = """\
version: 1
rules:
  - {id: kev, when: kev, action: fail}
  - {id: epss, when: epss > 0.1, action: fail}
  - {id: high, when: severity == "HIGH" or severity == "CRITICAL", action: warn}
"""


def workload(n: int, ids: int) -> tuple[list[Finding], dict[str, Enrichment]]:
    rng = random.Random(SEED)
    findings, enrichments = [], {}
    for i in range(n):
        vid = f"CVE-2024-{rng.randrange(ids):05d}"
        findings.append(Finding(vulnerability_id=vid, severity=rng.choice(["CRITICAL", "HIGH", "MEDIUM", "LOW"]),
                                title=None, description=None, fix_available=rng.choice(["YES", "NO"]),
                                packages=(VulnerablePackage(name=f"pkg{i % 50}", version="1.0", release="1"),),
                                image_build_version_arn=BUILD))
        if vid not in enrichments:
            kev = KevEntry(None, None) if rng.random() < 0.02 else None
            enrichments[vid] = Enrichment(vid, kev=kev, epss=EpssScore(rng.random() ** 4, None),
                                          kev_known_by=("cisa-kev",))
    return findings, enrichments


def policy(exceptions: int, until: bool, ids: int) -> str:
    lines = [RULES, "exceptions:"] if exceptions else [RULES]
    for i in range(exceptions):
        extra = ", until: kev or epss > 0.5" if until else ""
        vid = f"CVE-2024-{i * ids // exceptions:05d}"
        lines.append(f"  - {{vulnerability: {vid}, reason: r, expires: 2027-01-01{extra}}}")
    return "\n".join(lines) + "\n"


def vex_file(statements: int, ids: int, folder: Path) -> list[str]:
    doc = {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "urn:bench", "author": "bench",
           "timestamp": "2026-11-01T00:00:00Z", "version": 1,
           "statements": [{"vulnerability": {"name": f"CVE-2024-{i * ids // statements:05d}"},
                           "products": [{"@id": BUILD, "subcomponents": [{"@id": f"pkg{i % 50}"}]}],
                           "status": "not_affected", "justification": "component_not_present"}
                          for i in range(statements)]}
    path = folder / "bench.vex.json"
    path.write_text(json.dumps(doc))
    return [str(path)]


def best(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--findings", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    pinned = pin_one_core(True)
    ids = args.findings // 4
    findings, enrichments = workload(args.findings, ids)
    print(f"{machine()}; {pinned}; {args.findings:,} findings over {ids:,} ids, best of {args.repeat}")
    with tempfile.TemporaryDirectory() as tmp:
        vex = read_documents(vex_file(1000, ids, Path(tmp)))
        cases = {
            "no exceptions": (policy(0, False, ids), ()),
            "1,000 exceptions": (policy(1000, False, ids), ()),
            "1,000 exceptions with until": (policy(1000, True, ids), ()),
            "1,000 VEX statements (no exceptions)": (policy(0, False, ids), vex),
        }
        base = None
        for label, (text, statements) in cases.items():
            compiled = parse_policy(text, "bench.yaml")
            seconds = best(lambda c=compiled, s=statements: judge(c, findings, enrichments, now=NOW, vex=s,
                                                                  products=(BUILD,)), args.repeat)
            base = base or seconds
            print(f"{label:40s} {seconds * 1e6 / args.findings:7.2f} µs/finding  x{seconds / base:.2f}")


if __name__ == "__main__":
    main()
