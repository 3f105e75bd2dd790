"""Benchmark `gate check` on the demo's findings with the small bundled feeds against the real KEV and EPSS files."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from harness import machine, timed_process

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
AS_OF = "2025-08-29"
"""The bundled data's date: the demo judges as of then, so feed freshness holds for every run here."""
SMALL = (EXAMPLES / "kev.json", EXAMPLES / "epss-scores.csv.gz")
REAL = (ROOT / "tests/data/kev/known_exploited_vulnerabilities.json",
        ROOT / "tests/data/epss/epss_scores-2025-08-28.csv.gz")
TARGET_EXTRA_S = 0.15


def command(kev: Path, epss: Path, report: Path) -> list[str]:
    gate = Path(sys.executable).with_name("gate")
    return [str(gate), "check", "--findings", str(EXAMPLES / "findings.json"),
            "--finding-details", str(EXAMPLES / "inspector-findings.json"),
            "--finding-details", str(EXAMPLES / "finding-details.json"),
            "--kev-catalog", str(kev), "--epss-scores", str(epss), "--as-of", AS_OF,
            "--report", f"json={report}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each; the best is kept (default 7)")
    parser.add_argument("--compare-with", type=Path, metavar="DIR",
                        help="also time the gate package in DIR (e.g. `git archive main` unpacked), interleaved")
    args = parser.parse_args(argv)
    print(machine())
    print(f"best of {args.repeat} runs of the `gate` console script each, interleaved; wall time per process")
    trees = {"this tree": None, **({f"{args.compare_with}": str(args.compare_with)} if args.compare_with else {})}
    with tempfile.TemporaryDirectory(prefix="gate-bench-feeds-") as tmp:
        envs: dict[str, dict[str, str]] = {}
        for name, pythonpath in trees.items():
            env = dict(os.environ, GATE_CACHE_DIR=str(Path(tmp) / f"cache-{len(envs)}"), NO_COLOR="1")
            env.pop("GITHUB_ACTIONS", None)
            if pythonpath:
                env["PYTHONPATH"] = pythonpath
            envs[name] = env
        small = command(*SMALL, Path(tmp) / "small.json")
        real = command(*REAL, Path(tmp) / "real.json")
        runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for name, env in envs.items():
            first = timed_process(real, env)[:2]  # the first use of a file may index it; later runs read the index
            print(f"{name}: first run with the real feeds (indexes them where gate does so): {first[0]:.3f} s")
            runs[name, "small"], runs[name, "real"] = [], []
        for _ in range(args.repeat):
            for name, env in envs.items():
                runs[name, "small"].append(timed_process(small, env)[:2])
                runs[name, "real"].append(timed_process(real, env)[:2])
        for name in envs:
            print(f"\n{name}:")
            for feeds, files in (("small", SMALL), ("real", REAL)):
                times = runs[name, feeds]
                sizes = ", ".join(f"{f.name} {f.stat().st_size / 2**20:.2f} MiB" for f in files)
                walls = sorted(t[0] for t in times)
                print(f"  {feeds:6} wall best {walls[0]:.3f} s, median {walls[len(walls) // 2]:.3f} s; "
                      f"CPU best {min(t[1] for t in times):.3f} s  ({sizes})")
            for i, what in enumerate(("wall", "CPU")):
                extra = min(t[i] for t in runs[name, "real"]) - min(t[i] for t in runs[name, "small"])
                verdict = "met" if extra <= TARGET_EXTRA_S else "MISSED"
                print(f"  real feeds cost {extra:+.3f} s {what} over the small ones "
                      f"(target <= +{TARGET_EXTRA_S} s: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
