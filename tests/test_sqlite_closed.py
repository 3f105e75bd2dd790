"""No SQLite connection is left for the garbage collector: Python 3.13 warns of one (an error in this suite).

A connection used as its own context manager commits but never closes, and the warning then fails whichever test
happens to run when the collector does (seen in CI on 3.13, one file after the one that leaked).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_BARE_WITH = re.compile(r"with\s+sqlite3\.connect\(")


def test_no_connection_is_opened_by_a_bare_with() -> None:
    found = [f"{path.relative_to(ROOT)}:{n}"
             for folder in ("gate", "tests", "bench") for path in sorted((ROOT / folder).rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if _BARE_WITH.search(line)]
    assert found == []
