"""Time the typical run — `./dev demo`'s `gate check` — beside a hand-written script doing the same work.

Also times `gate --version` and `gate policy validate default` against `python -c pass`, and lists the
heavy libraries each command imports. Every command is a fresh process, as in CI; the runs are
interleaved so that a change in machine load hits each alike, and the best of `--repeat` is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import machine, timed_process

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
HEAVY = ("boto3", "botocore", "urllib3", "jinja2", "jsonschema", "yaml", "http.client", "sqlite3")
TARGET_RATIO = 4.0
TARGET_STARTUP_S = 0.1


def demo_args(out: Path) -> list[str]:
    """The `gate check` arguments `./dev demo` passes (see the `dev` script), writing into `out`."""
    return ["check", "--as-of", "2026-11-21", "--max-feed-age", "460d", "--findings", str(EXAMPLES / "findings.json"),
            "--finding-details", str(EXAMPLES / "inspector-findings.json"),
            "--finding-details", str(EXAMPLES / "finding-details.json"),
            "--kev-catalog", str(EXAMPLES / "kev.json"), "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz"),
            "--report", f"json={out / 'report.json'}", "--report", f"html={out / 'report.html'}",
            "--report", f"sarif={out / 'report.sarif'}", "--report", f"markdown={out / 'summary.md'}"]


def imported(args: list[str], env: dict[str, str]) -> list[str]:
    """The heavy libraries a gate command imports, run in a child that lists sys.modules afterwards."""
    code = ("import sys\nfrom gate.cli.main import main\nimport contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()): main(sys.argv[1:])\n"
            "print(len(sys.modules), *sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{sorted({h.split('.')[0] for h in HEAVY})!r} and m in {HEAVY!r}), file=sys.stderr)")
    # NOTE: run from another folder: `-c` puts the working directory before PYTHONPATH on sys.path
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=False,
                          cwd=tempfile.gettempdir())
    return done.stderr.strip().splitlines()[-1].split()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=9, help="timed runs of each; the best is kept (default 9)")
    parser.add_argument("--compare-with", type=Path, metavar="DIR",
                        help="also time the gate package in DIR (e.g. `git archive main` unpacked), interleaved")
    args = parser.parse_args(argv)
    print(machine())
    gate = str(Path(sys.executable).with_name("gate"))
    with tempfile.TemporaryDirectory(prefix="gate-bench-typical-") as tmp:
        base = dict(os.environ, GATE_CACHE_DIR=str(Path(tmp) / "cache"), NO_COLOR="1")
        for name in ("GITHUB_ACTIONS", "PYTHONDONTWRITEBYTECODE"):  # CI installs a wheel: bytecode is cached
            base.pop(name, None)
        trees = {"this tree": base}
        if args.compare_with:
            trees[str(args.compare_with)] = dict(base, PYTHONPATH=str(args.compare_with))
        out = Path(tmp) / "out"
        cases: dict[str, tuple[list[str], dict[str, str]]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], base),
            "hand-written demo": ([sys.executable, str(ROOT / "bench/typical_hand.py"), str(EXAMPLES),
                                   str(Path(tmp) / "hand")], base),
        }
        for tree, env in trees.items():
            cases[f"gate --version [{tree}]"] = ([gate, "--version"], env)
            cases[f"gate policy validate default [{tree}]"] = ([gate, "policy", "validate", "default"], env)
            cases[f"gate demo [{tree}]"] = ([gate, *demo_args(out)], env)
        for cmd, env in cases.values():  # warm up: bytecode caches, page cache
            timed_process(cmd, env)
        hand = dict(line.rsplit(" ", 1) for line in timed_process(*cases["hand-written demo"])[2].decode().splitlines())
        for tree in trees:
            timed_process(*cases[f"gate demo [{tree}]"])
            report = json.loads((out / "report.json").read_text())
            ours = {f["key"]: f["decision"] for f in report["findings"]}
            if ours != hand:
                differ = sorted(k for k in ours.keys() | hand.keys() if ours.get(k) != hand.get(k))
                print(f"MISMATCH [{tree}]: {len(differ)} findings decided differently, e.g. {differ[:3]}")
                return 1
        print(f"correctness: gate and the hand-written script decide all {len(hand)} findings alike")
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for _ in range(args.repeat):
            for name, (cmd, env) in cases.items():
                wall, cpu, _ = timed_process(cmd, env)
                runs[name].append((wall, cpu))
        best = {name: (min(w for w, _ in r), min(c for _, c in r)) for name, r in runs.items()}
        print(f"\nbest of {args.repeat} interleaved runs, fresh process each\n")
        print(f"| {'command':<52} | wall s | CPU s |")
        print(f"|{'-' * 54}|-------:|------:|")
        for name, (wall, cpu) in best.items():
            print(f"| {name:<52} | {wall:6.3f} | {cpu:5.3f} |")
        bare, hand_best = best["python -c pass"], best["hand-written demo"]
        print()
        for tree, env in trees.items():
            demo = best[f"gate demo [{tree}]"]
            ratio = demo[0] / hand_best[0]
            print(f"[{tree}] demo / hand-written: {ratio:.1f}× wall, {demo[1] / hand_best[1]:.1f}× CPU "
                  f"(target ≤ {TARGET_RATIO:g}×: {'met' if ratio <= TARGET_RATIO else 'MISSED'})")
            for cmd in ("gate --version", "gate policy validate default"):
                extra = best[f"{cmd} [{tree}]"][0] - bare[0]
                print(f"[{tree}] {cmd}: +{extra:.3f} s over python -c pass "
                      f"(target ≤ +{TARGET_STARTUP_S:g} s: {'met' if extra <= TARGET_STARTUP_S else 'MISSED'})")
            probes = (("--version", ["--version"]), ("policy validate", ["policy", "validate", "default"]),
                      ("demo", demo_args(out)))
            for label, cmd_args in probes:
                modules = imported(cmd_args, env)
                print(f"[{tree}] {label}: {modules[0]} modules; heavy: {', '.join(modules[1:]) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
