"""What the benchmarks share: the fixed clock, synthetic-data tables, CPU pinning, the machine line, timed processes."""

from __future__ import annotations

import os
import platform
import random
import resource
import subprocess
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

T = TypeVar("T")

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
"""The evaluation time of every benchmark run, so that ages and KEV due dates are reproducible."""
TODAY = NOW.date()

# (value, weight) tables for synthetic findings, roughly as an Amazon Linux image's scan looks.
SEVERITIES = (("CRITICAL", 3), ("HIGH", 17), ("MEDIUM", 45), ("LOW", 25), ("INFORMATIONAL", 6), ("UNTRIAGED", 4))
CVSS_RANGE = {
    "CRITICAL": (9.0, 10.0), "HIGH": (7.0, 8.9), "MEDIUM": (4.0, 6.9), "LOW": (0.1, 3.9),
    "INFORMATIONAL": (0.0, 3.0), "UNTRIAGED": (0.0, 10.0),
}
VENDOR_SEVERITY = {
    "CRITICAL": "Critical", "HIGH": "Important", "MEDIUM": "Medium", "LOW": "Low",
    "INFORMATIONAL": "Low", "UNTRIAGED": None,
}
FIX = (("YES", 68), ("NO", 22), ("PARTIAL", 5), (None, 5))
PACKAGES = (
    ("kernel", 14), ("kernel-headers", 4), ("kernel-tools", 3), ("kernel-livepatch-6.1.119", 2),
    ("openssl", 3), ("openssl-libs", 4), ("glibc", 4), ("glibc-common", 3), ("glibc-minimal-langpack", 2),
    ("curl", 3), ("libcurl", 3), ("python3", 4), ("python3-libs", 4), ("python3-pip", 2), ("python3-urllib3", 2),
    ("python3-requests", 2), ("python3-setuptools", 1), ("vim-minimal", 3), ("vim-data", 2), ("vim-common", 2),
    ("bind-libs", 2), ("bind-utils", 1), ("expat", 2), ("libxml2", 3), ("libxslt", 1), ("sqlite-libs", 2),
    ("zlib", 1), ("krb5-libs", 2), ("nss", 2), ("nspr", 1), ("systemd", 2), ("systemd-libs", 2), ("sudo", 1),
    ("openssh", 2), ("openssh-server", 2), ("openssh-clients", 2), ("git", 1), ("perl-libs", 1), ("libtiff", 1),
    ("libpng", 1), ("freetype", 1), ("gnutls", 1), ("libssh2", 1), ("binutils", 1), ("gcc", 1), ("rsync", 1),
    ("tar", 1), ("less", 1), ("jackson-databind", 1), ("log4j-core", 1), ("netty-codec-http", 1), ("urllib3", 1),
    ("cryptography", 1), ("golang.org/x/net", 1), ("lodash", 1),
)
PACKAGES_PER_FINDING = (1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3)
"""Drawn uniformly: most findings name one package, some a few (kernel and kernel-headers...)."""


def weighted(rng: random.Random, table: Sequence[tuple[T, int]]) -> Callable[[], T]:
    """A sampler for a (value, weight) table."""
    values = [v for v, _ in table]
    cum: list[float] = []
    total = 0
    for _, w in table:
        total += w
        cum.append(total)
    return lambda: rng.choices(values, cum_weights=cum)[0]


def pin_one_core(enabled: bool) -> str:
    """Run on a single CPU where the OS allows it; returns a description for the header."""
    if not enabled:
        return "not pinned"
    if not (hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity")):
        return "not pinned (no sched_setaffinity)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def cpu_model() -> str:
    """The CPU's marketing name where Linux tells it, else whatever `platform` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    """Python version and the machine, for the first line of every benchmark's output."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"Python {platform.python_version()} ({platform.python_implementation()}) on "
            f"{platform.system()} {platform.release()} {platform.machine()}, {cpu_model()}, "
            f"nproc {os.cpu_count()}, load average {load:.2f} at start")


def timed_process(cmd: list[str], env: dict[str, str]) -> tuple[float, float, bytes]:
    """Wall seconds, CPU seconds (user + system) and stdout of one process, which must exit 0 or 1."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{cmd[:3]} exited {done.returncode}: {done.stderr.decode(errors='replace').strip()}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.stdout
