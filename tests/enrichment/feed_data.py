"""The real KEV and EPSS files the feed tests serve, and a small EPSS file cut from the real one."""

from __future__ import annotations

import gzip
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
KEV = (DATA / "kev" / "known_exploited_vulnerabilities.json").read_bytes()
EPSS = (DATA / "epss" / "epss_scores-2025-08-28.csv.gz").read_bytes()
EPSS_SMALL = gzip.compress(b"\n".join(gzip.decompress(EPSS).split(b"\n")[:500]) + b"\n", mtime=0)
"""The comment line, the header and the first 498 scores."""
