"""Time the human reports at scale: HTML render time and size, and the terminal summary's size, by findings.

Findings are the report tests' sample findings repeated on packages of their own (tests/reports/sample.py),
so every row is distinct. Time should grow linearly with the findings: compare the per-finding column.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import machine, pin_one_core  # noqa: E402

from gate.reports.html import HtmlReport  # noqa: E402
from gate.reports.interface import ReportOptions  # noqa: E402
from gate.reports.markdown import MarkdownReport  # noqa: E402
from gate.reports.table import TableReport  # noqa: E402
from tests.reports.sample import EVALUATION, many  # noqa: E402


def best(render: object, evaluation: object, repeat: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        text = render.render(evaluation, ReportOptions())  # type: ignore[attr-defined]
        times.append(time.perf_counter() - started)
        size = len(text.encode())
    return min(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(machine(), "|", pin_one_core(True))
    print(f"{'findings':>9} {'html s':>7} {'µs/finding':>10} {'html MiB':>9} {'md KiB':>7} {'table KiB':>9}")
    for n in (int(x) for x in args.sizes.split(",")):
        evaluation = replace(EVALUATION, results=many(n))
        seconds, size = best(HtmlReport(), evaluation, args.repeat)
        _, md = best(MarkdownReport(), evaluation, 1)
        _, table = best(TableReport(), evaluation, 1)
        print(f"{n:>9} {seconds:>7.2f} {seconds / n * 1e6:>10.1f} {size / 2**20:>9.1f} {md / 1024:>7.0f} "
              f"{table / 1024:>9.1f}")


if __name__ == "__main__":
    main()
