"""Time encoding the 20k dry run's report findings: the stdlib C encoder, `indent=2`, and orjson if installed."""

from __future__ import annotations

import gc
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dry_run

from gate.reports.json_report import _result


def best(work: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="gate-bench-") as tmp:
        folder = Path(tmp)
        inputs = dry_run.Inputs(folder / "findings.json", dry_run.data_file(dry_run.KEV_FILE),
                                dry_run.data_file(dry_run.EPSS_FILE), folder / "cache")
        dry_run.write_export(inputs.export, 20_000, inputs.kev, inputs.epss)
        _, evaluation = dry_run.run_gate(inputs, folder / "report.json")
    docs = [_result(r) for r in evaluation.results]
    encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
    print(f"{len(docs)} findings' report dictionaries, CPU seconds, best of 5 (indent=2: best of 2)")
    print(f"building the dictionaries          {best(lambda: [_result(r) for r in evaluation.results], 5):.3f}")
    print(f"stdlib C encoder, one per finding  {best(lambda: [encode(d) for d in docs], 5):.3f}")
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
