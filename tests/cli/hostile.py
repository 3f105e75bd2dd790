"""Hostile text for CLI tests: everything a workflow-command or terminal injection would try, in one string."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.conftest import EXAMPLES
from tests.emulator import image_scan_finding

FEEDS = ["--kev-catalog", str(EXAMPLES / "kev.json"), "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz"),
         "--max-feed-age", "3650d"]
"""Offline KEV and EPSS, so the default policy's rules can be answered without AWS; the bundled files are of
2025-08 and these tests are not about feed age, so any age is accepted (`tests/cli/test_feed_age.py` is)."""

MARK = "PWNED"
"""Appears in every injected command, so a test can also check the text did reach the output."""
PAYLOAD = (
    f"x\n::add-mask::{MARK}\n::error title={MARK}::injected\r::set-output name=verdict::pass\r\n"
    f"  ::warning::{MARK} ##[error]{MARK}\u2028::notice::{MARK}\x85::debug::{MARK}"
    f"\x1b]0;{MARK}\x07\x1b[2J\x9b31m\u202e ::stop-commands::{MARK}\n::{MARK}::\n%0A::error::{MARK}"
)
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]")
"""What must never reach a terminal raw: C0 (tab and LF aside, CR included), DEL, C1, separators, bidi."""


def hostile_finding(n: int, severity: str = "CRITICAL") -> dict[str, Any]:
    finding = image_scan_finding(f"CVE-2099-{1000 + n}", severity, package=f"pkg{n}{PAYLOAD}")
    finding["title"] = f"title {PAYLOAD}"
    finding["description"] = f"description {PAYLOAD}"
    return finding


def write_findings(path: Path, count: int = 3) -> Path:
    """An Image Builder export whose findings carry the payload in title, description and package."""
    path.write_text(json.dumps({"findings": [hostile_finding(n) for n in range(count)]}))
    return path
