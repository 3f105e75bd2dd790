"""Time the dry run's JSON report: gate's writer, the stdlib C encoder, `indent=2`, orjson if installed.

Usage: python bench/json_encoders.py [FINDINGS]   (default 20000; the live benchmark's runs have 2000)
"""

from __future__ import annotations

import gc
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dry_run

from gate.reports.interface import ReportOptions
from gate.reports.json_report import JsonReport, _result


def best(work: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times)


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with tempfile.TemporaryDirectory(prefix="gate-bench-") as tmp:
        folder = Path(tmp)
        inputs = dry_run.Inputs(folder / "findings.json", dry_run.data_file(dry_run.KEV_FILE),
                                dry_run.data_file(dry_run.EPSS_FILE), folder / "cache")
        dry_run.write_export(inputs.export, count, inputs.kev, inputs.epss)
        _, evaluation = dry_run.run_gate(inputs, folder / "report.json")
    docs = [_result(r) for r in evaluation.results]
    encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
    print(f"{len(docs)} findings' report dictionaries, CPU seconds, best of 5 (indent=2: best of 2)")
    print(f"building the dictionaries          {best(lambda: [_result(r) for r in evaluation.results], 5):.3f}")
    print(f"stdlib C encoder, one per finding  {best(lambda: [encode(d) for d in docs], 5):.3f}")
    write = JsonReport().write
    print(f"gate's report, built and written   {best(lambda: write(evaluation, ReportOptions(), io.BytesIO()), 5):.3f}")
    print(f"json.dumps(indent=2), whole list   {best(lambda: json.dumps(docs, indent=2, ensure_ascii=False), 2):.3f}")
    try:
        import orjson  # type: ignore[import-not-found]  # optional: not a gate dependency
    except ImportError:
        print("orjson                             (not installed: pip install --target DIR orjson; PYTHONPATH=DIR)")
    else:
        print(f"orjson, one per finding            {best(lambda: [orjson.dumps(d) for d in docs], 5):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
