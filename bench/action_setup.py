"""Time the Action's set-up in a simulated runner: a cold job (empty cache) and warm jobs (cache restored).

Uses the runner stand-in from tests/action_sim.py. Dependencies come from a local wheelhouse made
once from the lock (`pip download --require-hashes`), so the figures leave out network time to PyPI
(about 20 MB of wheels) and the cache service's own transfer time; they are the install and restore
work the runner does. The "before" row is what action.yml did until now: `pip install` of gate's
source with unpinned dependencies into the job's Python, on every run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import machine  # noqa: E402

from tests.action_sim import Runner  # noqa: E402

LOCK = ROOT / "action" / "requirements.txt"
INPUTS = {
    "findings": str(ROOT / "examples" / "findings.json"),
    "finding-details": f"{ROOT / 'examples' / 'inspector-findings.json'}\n{ROOT / 'examples' / 'finding-details.json'}",
    "kev-catalog": str(ROOT / "examples" / "kev.json"),
    "epss-scores": str(ROOT / "examples" / "epss-scores.csv.gz"),
    "reports": "json=out/gate.json,sarif=out/gate.sarif",
    "fail-on": "never",
    "args": "--max-feed-age\n3650d",  # the bundled feeds are from 2025
}
SETUP_STEPS = ("Cache keys", "Restore gate's virtual environment", "Install gate from the hash-pinned lock")


def _before(wheelhouse: Path, work: Path) -> float:
    """The old action: a fresh Python, then `pip install <action path>` resolving unpinned dependencies."""
    env_dir = work / "old"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    started = time.perf_counter()
    subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-index",
                    "--find-links", str(wheelhouse), str(ROOT)], check=True, capture_output=True,
                   env={"PATH": "/usr/bin:/bin", "PIP_CONFIG_FILE": "/dev/null", "HOME": str(work)})
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--warm", type=int, default=3, help="warm jobs after the cold one")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        wheelhouse = home / "wheelhouse"
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
                        "--only-binary", ":all:", "-r", str(LOCK), "-d", str(wheelhouse)], check=True)
        # NOTE: the old install also needs setuptools/wheel to build gate; the lock's wheels include them.
        runner = Runner(home / "machine", getattr(sys, "_base_executable", sys.executable),
                        {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse)})
        work = home / "work"
        work.mkdir()
        rows = []
        for n in range(1 + args.warm):
            run = runner.job(INPUTS, work)
            assert run.outputs.get("verdict") == "fail", run.stderr
            setup = sum(run.seconds.get(step, 0.0) for step in SETUP_STEPS)
            rows.append(("cold" if n == 0 else "warm", setup, run.seconds.get("Run gate", 0.0)))
            print(" ".join(f"{step}: {seconds:.2f}" for step, seconds in run.seconds.items()), file=sys.stderr)
        before = _before(wheelhouse, home)
    print(f"{'job':<6} {'set-up s':>9} {'gate run s':>11}")
    print(f"{'before':<6} {before:>9.2f} {'':>11}  (old action: pip install from source, unpinned)")
    for name, setup, gate in rows:
        print(f"{name:<6} {setup:>9.2f} {gate:>11.2f}")


if __name__ == "__main__":
    main()
