"""Generate the example Image Builder and Inspector scan exports from the data in tests/data."""

from __future__ import annotations

import argparse
import base64
import csv
import gzip
import io
import json
import random
import re
import sys
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import product
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------------------------
# Fixed parameters of the example. Everything below is derived from these and the data files.
# --------------------------------------------------------------------------------------------

SEED = 20261120
ACCOUNT = "111122223333"
REGION = "us-east-1"
IMAGE_ARN = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image/al2023-web-base/1.4.0/3"
PIPELINE_ARN = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image-pipeline/al2023-web-base"
SCAN_TIME = datetime(2025, 8, 29, 14, 3, 11, tzinfo=UTC)
PAGE_SIZE = 25

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT / "tests" / "data"
DEFAULT_OUT_DIR = ROOT / "examples"

ADVISORIES = Path("amazon-linux/alas2023-advisories.json")
KEV_JSON = Path("kev/known_exploited_vulnerabilities.json")
EPSS_GZ = Path("epss/epss_scores-2025-08-28.csv.gz")

OUTPUT_FILES = (
    "findings.json",
    "aggregations.json",
    "inspector-findings.json",
    "finding-details.json",
    "epss-scores.csv.gz",
    "kev.json",
    "image.json",
)

# Every CVE in the sample that is also in the KEV copy (see tests/data/PROVENANCE.md).
KEV_CVES = frozenset(
    {
        "CVE-2023-44487",
        "CVE-2023-4863",
        "CVE-2024-1086",
        "CVE-2024-38475",
        "CVE-2025-24813",
        "CVE-2025-27363",
    }
)
# CVEs given a CVSS >= 9.0 (severity CRITICAL) in this example. The scores are synthetic.
CRITICAL_WITH_FIX = frozenset({"CVE-2025-24813", "CVE-2024-38475", "CVE-2024-45337"})
CRITICAL_WITHOUT_FIX = frozenset({"CVE-2025-58188"})
# Findings whose severity string is forced to title case ("Critical", "Low") so that each case
# variant is certainly present; others get title case at random.
FORCED_TITLE_CASE = frozenset({"CVE-2025-24813", "CVE-2024-1086", "ALAS2023-2023-090"})

EPSS_FAIL = 0.5


@dataclass(frozen=True)
class Source:
    """A source package installed on the example image."""

    label: str
    binaries: tuple[str, ...]
    # Advisory whose fixed versions are the installed ones; None: older than every advisory.
    installed_from: str | None
    attack_vector: str  # "N" or "L": used only to pick plausible synthetic CVSS vectors


# What the example image has installed. The installed versions are either the fixed versions
# of an earlier real advisory (installed_from) or synthesised just below the first advisory.
MANIFEST: tuple[Source, ...] = (
    Source("kernel", ("kernel",), "ALAS2023-2024-510", "L"),
    Source(
        "httpd", ("httpd", "httpd-core", "httpd-filesystem", "httpd-tools", "mod_ssl"), None, "N"
    ),
    Source("nginx", ("nginx", "nginx-core", "nginx-filesystem"), None, "N"),
    Source(
        "tomcat9",
        (
            "tomcat9",
            "tomcat9-lib",
            "tomcat9-el-3.0-api",
            "tomcat9-jsp-2.3-api",
            "tomcat9-servlet-4.0-api",
        ),
        "ALAS2023-2023-140",
        "N",
    ),
    Source(
        "tomcat10",
        (
            "tomcat10",
            "tomcat10-lib",
            "tomcat10-el-5.0-api",
            "tomcat10-jsp-3.1-api",
            "tomcat10-servlet-6.0-api",
        ),
        None,
        "N",
    ),
    Source(
        "java-17-amazon-corretto", ("java-17-amazon-corretto-headless",), "ALAS2023-2023-400", "N"
    ),
    Source(
        "php8.1",
        ("php8.1-cli", "php8.1-common", "php8.1-fpm", "php8.1-mbstring", "php8.1-xml"),
        None,
        "N",
    ),
    Source("libwebp", ("libwebp",), None, "N"),
    Source("freetype", ("freetype",), None, "N"),
    Source("libtiff", ("libtiff",), "ALAS2023-2023-050", "N"),
    Source("openssl", ("openssl", "openssl-libs"), "ALAS2023-2023-222", "N"),
    Source("openssh", ("openssh", "openssh-clients", "openssh-server"), "ALAS2023-2023-273", "N"),
    Source("curl", ("curl-minimal", "libcurl-minimal"), "ALAS2023-2023-083", "N"),
    Source("zlib", ("zlib",), "ALAS2023-2023-003", "N"),
    Source("gnutls", ("gnutls",), None, "N"),
    Source("bind", ("bind-libs", "bind-license", "bind-utils"), "ALAS2023-2024-550", "N"),
    Source("unbound", ("unbound-libs",), "ALAS2023-2024-719", "N"),
    Source("glibc", ("glibc", "glibc-gconv-extra", "glibc-langpack-en"), None, "L"),
    Source(
        "systemd",
        ("systemd", "systemd-libs", "systemd-pam", "systemd-udev"),
        "ALAS2023-2023-025",
        "L",
    ),
    Source("sqlite", ("sqlite-libs",), None, "L"),
    Source(
        "vim",
        ("vim-common", "vim-data", "vim-enhanced", "vim-filesystem", "vim-minimal"),
        "ALAS2023-2023-360",
        "L",
    ),
    Source("git", ("git", "git-core"), "ALAS2023-2023-065", "N"),
    Source("python3", ("python3", "python3-libs"), "ALAS2023-2024-790", "L"),
    Source("python3.11", ("python3.11", "python3.11-libs"), "ALAS2023-2024-500", "L"),
    Source("python3.11-setuptools", ("python3.11-setuptools",), None, "N"),
    Source("python3-setuptools", ("python3-setuptools", "python3-setuptools-wheel"), None, "N"),
    Source("python3-pip", ("python3-pip", "python3-pip-wheel"), None, "N"),
    Source("python3-requests", ("python3-requests",), None, "N"),
    Source("python3-jinja2", ("python3-jinja2",), None, "N"),
    Source("ansible-core", ("ansible-core",), None, "L"),
    Source("nodejs20", ("nodejs20", "nodejs20-libs", "nodejs20-npm"), None, "N"),
    Source("libuv", ("libuv",), None, "N"),
    Source("docker", ("docker",), None, "N"),
    Source("containerd", ("containerd",), "ALAS2023-2025-930", "N"),
    Source("runc", ("runc",), None, "L"),
    Source("giflib", ("giflib",), None, "L"),
    Source("openjpeg2", ("openjpeg2",), None, "L"),
    Source("shadow-utils", ("shadow-utils",), None, "L"),
    Source("tpm2-tss", ("tpm2-tss",), None, "L"),
    Source(
        "grub2",
        ("grub2-common", "grub2-efi-x64-ec2", "grub2-pc", "grub2-tools-minimal"),
        "ALAS2023-2023-020",
        "L",
    ),
    Source("microcode_ctl", ("microcode_ctl",), None, "L"),
    Source("amazon-cloudwatch-agent", ("amazon-cloudwatch-agent",), "ALAS2023-2024-625", "N"),
)

Evr = tuple[int, str, str]  # (epoch, version, release)


# --------------------------------------------------------------------------------------------
# RPM version comparison and synthetic "older" versions
# --------------------------------------------------------------------------------------------


def rpmvercmp(a: str, b: str) -> int:
    """Compare two RPM version or release strings like rpm's rpmvercmp (no caret support)."""
    if a == b:
        return 0
    sa: list[str] = re.findall(r"~|[0-9]+|[A-Za-z]+", a)
    sb: list[str] = re.findall(r"~|[0-9]+|[A-Za-z]+", b)
    for x, y in zip(sa, sb, strict=False):
        if x == y:
            continue
        if x == "~" or y == "~":
            return -1 if x == "~" else 1
        if x.isdigit() and y.isdigit():
            return (int(x) > int(y)) - (int(x) < int(y))
        if x.isdigit() != y.isdigit():
            return 1 if x.isdigit() else -1
        return (x > y) - (x < y)
    rest_a, rest_b = sa[len(sb) :], sb[len(sa) :]
    if rest_a:
        return -1 if rest_a[0] == "~" else 1
    if rest_b:
        return 1 if rest_b[0] == "~" else -1
    return 0


def evr_cmp(a: Evr, b: Evr) -> int:
    """Compare two (epoch, version, release) triples."""
    if a[0] != b[0]:
        return (a[0] > b[0]) - (a[0] < b[0])
    return rpmvercmp(a[1], b[1]) or rpmvercmp(a[2], b[2])


def older_evr(evr: Evr) -> Evr:
    """Return a plausible earlier Amazon Linux 2023 build of the same package."""
    epoch, version, release = evr
    m = re.fullmatch(r"(.*\.amzn2023)\.0\.(\d+)", release)
    if m:
        n = int(m.group(2))
        return (epoch, version, f"{m.group(1)}.0.{n - 1}" if n > 1 else m.group(1))
    m = re.fullmatch(r"(\d+)(\.amzn2023.*)", release)
    if m and int(m.group(1)) > 1:
        return (epoch, version, f"{int(m.group(1)) - 1}{m.group(2)}")
    parts = re.split(r"(\d+)", version)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i].isdigit() and int(parts[i]) > 0:
            parts[i] = str(int(parts[i]) - 1)
            return (epoch, "".join(parts), release)
    raise ValueError(f"cannot make an older version of {evr}")


def evr_str(evr: Evr) -> str:
    """Format as Inspector's fixedInVersion: epoch:version-release."""
    return f"{evr[0]}:{evr[1]}-{evr[2]}"


# --------------------------------------------------------------------------------------------
# CVSS 3.1 (synthetic scores, but each vector really has the score it is shown with)
# --------------------------------------------------------------------------------------------

_AV = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC = {"L": 0.77, "H": 0.44}
_PR_U = {"N": 0.85, "L": 0.62, "H": 0.27}
_PR_C = {"N": 0.85, "L": 0.68, "H": 0.5}
_UI = {"N": 0.85, "R": 0.62}
_CIA = {"H": 0.56, "L": 0.22, "N": 0.0}


def _roundup(x: float) -> float:
    """CVSS 3.1 Roundup (Appendix A of the specification)."""
    i = round(x * 100000)
    if i % 10000 == 0:
        return i / 100000.0
    return (i // 10000 + 1) / 10.0


def cvss31_base_score(vector: str) -> float:
    """Base score of a CVSS:3.1 vector string."""
    m = dict(p.split(":") for p in vector.split("/")[1:])
    iss = 1 - (1 - _CIA[m["C"]]) * (1 - _CIA[m["I"]]) * (1 - _CIA[m["A"]])
    changed = m["S"] == "C"
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    pr = (_PR_C if changed else _PR_U)[m["PR"]]
    exploitability = 8.22 * _AV[m["AV"]] * _AC[m["AC"]] * pr * _UI[m["UI"]]
    if impact <= 0:
        return 0.0
    total = 1.08 * (impact + exploitability) if changed else impact + exploitability
    return _roundup(min(total, 10.0))


def severity_band(score: float) -> str:
    """Qualitative CVSS 3.1 rating of a base score."""
    if score >= 9.0:
        return "CRITICAL"
    if score >= 7.0:
        return "HIGH"
    if score >= 4.0:
        return "MEDIUM"
    if score > 0.0:
        return "LOW"
    return "NONE"


def _all_vectors() -> list[tuple[str, float]]:
    out = []
    for av, ac, pr, ui, s, c, i, a in product("NALP", "LH", "NLH", "NR", "UC", "HLN", "HLN", "HLN"):
        vec = f"CVSS:3.1/AV:{av}/AC:{ac}/PR:{pr}/UI:{ui}/S:{s}/C:{c}/I:{i}/A:{a}"
        score = cvss31_base_score(vec)
        if score > 0:
            out.append((vec, score))
    return out


VECTORS = _all_vectors()


def pick_vector(rng: random.Random, band: str, attack_vector: str) -> tuple[str, float]:
    """Pick a vector of the wanted band, preferring the source's attack vector and scope U."""
    scope = "U" if rng.random() < 0.85 else "C"
    for want_av, want_s in ((attack_vector, scope), (attack_vector, None), (None, None)):
        pool = [
            (v, s)
            for v, s in VECTORS
            if severity_band(s) == band
            and (want_av is None or f"/AV:{want_av}/" in v)
            and (want_s is None or f"/S:{want_s}/" in v)
        ]
        if pool:
            return rng.choice(pool)
    raise ValueError(f"no CVSS vector in band {band}")


# --------------------------------------------------------------------------------------------
# Input data
# --------------------------------------------------------------------------------------------


@dataclass
class Inputs:
    """The reference data the example is built from."""

    advisories: list[dict[str, Any]]
    kev_bytes: bytes
    kev: dict[str, dict[str, Any]]
    epss_first_line: str
    epss_header: str
    epss_rows: list[tuple[str, str, str]]
    epss: dict[str, float]


def load_inputs(data_dir: Path) -> Inputs:
    """Read the ALAS advisories, the KEV catalog and the EPSS scores from data_dir."""
    advisories = json.loads((data_dir / ADVISORIES).read_text(encoding="utf-8"))
    kev_bytes = (data_dir / KEV_JSON).read_bytes()
    kev = {v["cveID"]: v for v in json.loads(kev_bytes)["vulnerabilities"]}
    with gzip.open(data_dir / EPSS_GZ, "rt", encoding="utf-8", newline="") as fh:
        first_line = fh.readline().rstrip("\r\n")
        header = fh.readline().rstrip("\r\n")
        rows = [(r[0], r[1], r[2]) for r in csv.reader(fh)]
    if not first_line.startswith("#model_version:") or header != "cve,epss,percentile":
        raise SystemExit(f"unexpected EPSS file layout: {first_line!r} / {header!r}")
    missing = sorted(KEV_CVES - kev.keys())
    if missing:
        raise SystemExit(f"KEV copy lacks {missing}")
    return Inputs(
        advisories=advisories,
        kev_bytes=kev_bytes,
        kev=kev,
        epss_first_line=first_line,
        epss_header=header,
        epss_rows=rows,
        epss={r[0]: float(r[1]) for r in rows},
    )


# --------------------------------------------------------------------------------------------
# Building the findings
# --------------------------------------------------------------------------------------------


@dataclass
class Pkg:
    """One vulnerable binary package of a finding."""

    name: str
    arch: str
    installed: Evr
    fixed: Evr
    has_fix: bool = True


@dataclass
class Row:
    """One Image Builder finding before it is written out."""

    vuln_id: str
    source: Source
    advisory: dict[str, Any]
    pkgs: list[Pkg]
    related: list[str] = field(default_factory=list)
    vector: str | None = None
    score: float | None = None
    severity: str = ""
    severity_text: str = ""
    fix_available: str = "YES"
    first_observed: datetime = SCAN_TIME
    updated: datetime = SCAN_TIME
    recommendation: str = "None Provided"


def iso(ts: datetime) -> str:
    """Timestamp as the AWS CLI prints it: 2025-08-29T14:03:11+00:00."""
    return ts.astimezone(UTC).isoformat(timespec="seconds")


def day(d: str) -> str:
    """A YYYY-MM-DD date as an AWS CLI timestamp at midnight UTC."""
    return iso(datetime.combine(date.fromisoformat(d), datetime.min.time(), tzinfo=UTC))


def installed_versions(
    source: Source, advisories: Sequence[dict[str, Any]], by_id: dict[str, dict[str, Any]]
) -> dict[str, Evr]:
    """Installed version of each binary of a source package."""
    versions: dict[str, Evr] = {}
    base = by_id[source.installed_from] if source.installed_from else None
    for name in sorted(source.binaries):
        if base is not None:
            hit = _entry(base, name)
            if hit is not None:
                versions[name] = hit
                continue
        first = next((e for a in advisories if (e := _entry(a, name)) is not None), None)
        if first is None:
            raise SystemExit(f"{source.label}: no advisory lists binary {name}")
        versions[name] = older_evr(first)
    return versions


def _entry(advisory: dict[str, Any], name: str) -> Evr | None:
    for p in advisory["packages"]:
        if p["name"] == name and p["arch"] in ("x86_64", "noarch"):
            return (int(p["epoch"]), str(p["version"]), str(p["release"]))
    return None


def _arch(advisory: dict[str, Any], name: str) -> str:
    for p in advisory["packages"]:
        if p["name"] == name and p["arch"] in ("x86_64", "noarch"):
            return "NOARCH" if p["arch"] == "noarch" else "X86_64"
    raise KeyError(name)


def build_rows(inputs: Inputs) -> list[Row]:
    """Every (vulnerability, source package) pair that applies to the example image."""
    advisories = sorted(inputs.advisories, key=lambda a: (a["issued"], a["advisory"]))
    by_id = {a["advisory"]: a for a in advisories}
    advisories_of_cve: dict[str, list[str]] = {}
    for a in advisories:
        for c in a["cves"]:
            advisories_of_cve.setdefault(c, []).append(a["advisory"])

    rows: dict[tuple[str, str], Row] = {}
    for source in MANIFEST:
        mine = [a for a in advisories if any(_entry(a, b) for b in source.binaries)]
        installed = installed_versions(source, mine, by_id)
        for adv in mine:
            pkgs = []
            for name in sorted(source.binaries):
                fixed = _entry(adv, name)
                if fixed is not None and evr_cmp(installed[name], fixed) < 0:
                    pkgs.append(Pkg(name, _arch(adv, name), installed[name], fixed))
            if not pkgs:
                continue
            for vid in adv["cves"] or [adv["advisory"]]:
                related = advisories_of_cve.get(vid, [adv["advisory"]])
                # A CVE re-issued in a later advisory of the same source: the later one wins.
                rows[(source.label, vid)] = Row(vid, source, adv, pkgs, related=list(related))
    # Sanity: every installed version is older than the fixed one it is reported against.
    for row in rows.values():
        for p in row.pkgs:
            if evr_cmp(p.installed, p.fixed) >= 0:
                raise SystemExit(f"{row.vuln_id}: installed {p.installed} >= fixed {p.fixed}")
    return list(rows.values())


def assign_attributes(rows: list[Row], inputs: Inputs, rng: random.Random) -> None:
    """Scores, severities, fix availability, case variants and timestamps (seeded)."""
    cve_score: dict[str, tuple[str, float]] = {}
    for row in rows:
        vid = row.vuln_id
        # Per-vulnerability choices use their own generator so they do not depend on order.
        vrng = random.Random(f"{SEED}:{vid}")  # noqa: S311 - reproducible example data
        is_cve = vid.startswith("CVE-")
        adv_sev = row.advisory["severity"]
        if is_cve:
            if vid not in cve_score:
                band = _band_for(vid, row.advisory, inputs, vrng)
                cve_score[vid] = pick_vector(vrng, band, row.source.attack_vector)
            row.vector, row.score = cve_score[vid]
            row.severity = severity_band(row.score)
        else:
            row.severity = {"important": "HIGH", "medium": "MEDIUM", "low": "LOW"}[adv_sev]

        epss = inputs.epss.get(vid, 0.0)
        protected = vid in KEV_CVES or epss > EPSS_FAIL or vid in CRITICAL_WITH_FIX
        roll = rng.random()
        if vid in CRITICAL_WITHOUT_FIX or (not protected and roll < 0.045):
            row.fix_available = "NO"
        elif not protected and len(row.pkgs) > 1 and roll > 0.88:
            row.fix_available = "PARTIAL"
        if row.fix_available == "NO":
            row.pkgs = [Pkg(p.name, p.arch, p.installed, p.fixed, has_fix=False) for p in row.pkgs]
        elif row.fix_available == "PARTIAL":
            last = row.pkgs[-1]
            row.pkgs = [
                *row.pkgs[:-1],
                Pkg(last.name, last.arch, last.installed, last.fixed, False),
            ]

        title_case = vid in FORCED_TITLE_CASE or rng.random() < 0.12
        row.severity_text = row.severity.title() if title_case else row.severity
        row.first_observed = SCAN_TIME + timedelta(seconds=rng.randrange(0, 50))
        row.updated = row.first_observed + timedelta(seconds=rng.choice((0, 0, 0, 1, 2)))
        if row.fix_available != "NO" and rng.random() < 0.3:
            row.recommendation = f"dnf update --advisory {row.advisory['advisory']}"


def _band_for(vid: str, advisory: dict[str, Any], inputs: Inputs, vrng: random.Random) -> str:
    if vid in CRITICAL_WITH_FIX or vid in CRITICAL_WITHOUT_FIX:
        return "CRITICAL"
    severity = advisory["severity"]
    if severity == "low":
        return "LOW"
    if severity == "medium":
        return "MEDIUM"
    # "important" is the advisory's rating, the highest of its CVEs: in the large bundles
    # (kernel, Go agents) most CVEs are individually rated lower.
    notable = vid in KEV_CVES or inputs.epss.get(vid, 0.0) >= 0.1
    if len(advisory["cves"]) > 5 and not notable and vrng.random() >= 0.3:
        return "MEDIUM"
    return "HIGH"


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


def _request_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _urls(row: Row) -> tuple[str, list[str]]:
    pages = [f"https://alas.aws.amazon.com/AL2023/{a}.html" for a in row.related]
    if row.vuln_id.startswith("CVE-"):
        return f"https://alas.aws.amazon.com/cve/json/v1/{row.vuln_id}.json", pages
    return f"https://alas.aws.amazon.com/AL2023/{row.vuln_id}.html", pages


def _title(row: Row) -> str:
    return f"{row.vuln_id} - {', '.join(p.name for p in row.pkgs)}"


def _description(row: Row) -> str:
    adv = row.advisory["advisory"]
    names = ", ".join(p.name for p in row.pkgs)
    noun = "package" if len(row.pkgs) == 1 else "packages"
    if row.vuln_id.startswith("CVE-"):
        text = f"Amazon Linux 2023 advisory {adv} lists {row.vuln_id} in {noun} {names}"
    else:
        text = f"Amazon Linux 2023 advisory {adv} lists no CVE; it covers {noun} {names}"
    fixed = sorted(
        {
            evr_str(p.fixed)[2:] if p.fixed[0] == 0 else evr_str(p.fixed)
            for p in row.pkgs
            if p.has_fix
        }
    )
    if row.fix_available == "YES":
        return f"{text}; fixed in {', '.join(fixed)}."
    if row.fix_available == "PARTIAL":
        with_fix = ", ".join(p.name for p in row.pkgs if p.has_fix)
        return f"{text}; fixed in {', '.join(fixed)} for {with_fix}."
    return f"{text}."


def _vulnerable_packages(row: Row) -> list[dict[str, Any]]:
    out = []
    for p in row.pkgs:
        item: dict[str, Any] = {
            "name": p.name,
            "version": p.installed[1],
            "epoch": p.installed[0],
            "release": p.installed[2],
            "arch": p.arch,
            "packageManager": "OS",
        }
        if p.has_fix:
            item["fixedInVersion"] = evr_str(p.fixed)
            item["remediation"] = f"dnf update {p.name}"
        out.append(item)
    return out


def _cvss_parts(row: Row) -> dict[str, Any]:
    if row.vector is None or row.score is None:
        return {}
    return {
        "inspectorScore": row.score,
        "inspectorScoreDetails": {
            "adjustedCvss": {
                "scoreSource": "AMAZON_CVE",
                "cvssSource": "AMAZON_CVE",
                "version": "3.1",
                "score": row.score,
                "scoringVector": row.vector,
                "adjustments": [],
            }
        },
    }


def _package_details(row: Row) -> dict[str, Any]:
    source_url, pages = _urls(row)
    details: dict[str, Any] = {
        "vulnerabilityId": row.vuln_id,
        "vulnerablePackages": _vulnerable_packages(row),
        "source": "AMAZON_CVE",
    }
    if row.vector is not None and row.score is not None:
        details["cvss"] = [
            {
                "baseScore": row.score,
                "scoringVector": row.vector,
                "version": "3.1",
                "source": "AMAZON_CVE",
            }
        ]
    details["relatedVulnerabilities"] = [a for a in row.related if a != row.vuln_id]
    details["sourceUrl"] = source_url
    details["vendorSeverity"] = row.advisory["severity"].capitalize()
    details["vendorCreatedAt"] = day(row.advisory["issued"])
    details["vendorUpdatedAt"] = day(row.advisory["updated"])
    details["referenceUrls"] = pages
    if not details["relatedVulnerabilities"]:
        del details["relatedVulnerabilities"]
    return details


def image_scan_finding(row: Row) -> dict[str, Any]:
    """An ImageScanFinding as ListImageScanFindings returns it."""
    finding: dict[str, Any] = {
        "awsAccountId": ACCOUNT,
        "imageBuildVersionArn": IMAGE_ARN,
        "imagePipelineArn": PIPELINE_ARN,
        "type": "PACKAGE_VULNERABILITY",
        "description": _description(row),
        "title": _title(row),
        "remediation": {"recommendation": {"text": row.recommendation}},
        "severity": row.severity_text,
        "firstObservedAt": iso(row.first_observed),
        "updatedAt": iso(row.updated),
    }
    finding.update(_cvss_parts(row))
    finding["packageVulnerabilityDetails"] = _package_details(row)
    finding["fixAvailable"] = row.fix_available
    return finding


def findings_pages(rows: list[Row], rng: random.Random) -> list[dict[str, Any]]:
    """The pages of list-image-scan-findings, 25 findings each, chained by nextToken."""
    pages = []
    for start in range(0, len(rows), PAGE_SIZE):
        page: dict[str, Any] = {
            "requestId": _request_id(rng),
            "findings": [image_scan_finding(r) for r in rows[start : start + PAGE_SIZE]],
        }
        if start + PAGE_SIZE < len(rows):
            page["nextToken"] = base64.b64encode(rng.randbytes(96)).decode("ascii")
        pages.append(page)
    return pages


def severity_counts(rows: Iterable[Row]) -> dict[str, int]:
    """Image Builder's SeverityCounts of some findings."""
    c = Counter(r.severity_text.upper() for r in rows)
    rows_n = sum(c.values())
    return {"all": rows_n, "critical": c["CRITICAL"], "high": c["HIGH"], "medium": c["MEDIUM"]}


def aggregations(rows: list[Row], rng: random.Random) -> dict[str, Any]:
    """list-image-scan-finding-aggregations for the image build version."""
    return {
        "requestId": _request_id(rng),
        "aggregationType": "imageBuildVersionArn",
        "responses": [
            {
                "imageAggregation": {
                    "imageBuildVersionArn": IMAGE_ARN,
                    "severityCounts": severity_counts(rows),
                }
            }
        ],
    }


def image_document(ami: str) -> dict[str, Any]:
    """`aws imagebuilder get-image` for the build: its scan COMPLETED, its one AMI the one the test instance ran.

    Shaped as the Image Builder API answers for a pipeline build with test-instance scanning (botocore's
    GetImage output; no random draws, so the other documents are unchanged by it).
    """
    created = SCAN_TIME - timedelta(minutes=41, seconds=30)
    stamp = created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    prefix = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}"
    name, version = IMAGE_ARN.split("/")[1], "/".join(IMAGE_ARN.split("/")[2:])
    return {
        "requestId": str(uuid.uuid5(uuid.NAMESPACE_URL, IMAGE_ARN)),
        "image": {
            "arn": IMAGE_ARN,
            "type": "AMI",
            "name": name,
            "version": version,
            "platform": "Linux",
            "enhancedImageMetadataEnabled": True,
            "osVersion": "Amazon Linux 2023",
            "state": {"status": "AVAILABLE"},
            "imageRecipe": {
                "arn": f"{prefix}:image-recipe/{name}/1.4.0",
                "type": "AMI",
                "name": name,
                "platform": "Linux",
                "owner": ACCOUNT,
                "version": "1.4.0",
                "components": [
                    {"componentArn": f"arn:aws:imagebuilder:{REGION}:aws:component/update-linux/1.0.2/1"},
                    {"componentArn": f"{prefix}:component/web-base/1.2.0/1"},
                ],
                "parentImage": f"arn:aws:imagebuilder:{REGION}:aws:image/amazon-linux-2023-x86/x.x.x",
                "blockDeviceMappings": [
                    {"deviceName": "/dev/xvda",
                     "ebs": {"encrypted": True, "deleteOnTermination": True, "volumeSize": 20, "volumeType": "gp3"}}
                ],
                "dateCreated": "2026-10-02T09:12:44.000Z",
                "tags": {},
            },
            "sourcePipelineName": name,
            "sourcePipelineArn": PIPELINE_ARN,
            "infrastructureConfiguration": {
                "arn": f"{prefix}:infrastructure-configuration/{name}",
                "name": name,
                "instanceTypes": ["m5.large"],
                "instanceProfileName": "EC2InstanceProfileForImageBuilder",
                "terminateInstanceOnFailure": True,
                "dateCreated": "2026-10-02T09:10:05.000Z",
                "instanceMetadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2},
                "tags": {},
            },
            "imageTestsConfiguration": {"imageTestsEnabled": True, "timeoutMinutes": 720},
            "dateCreated": stamp,
            "outputResources": {
                "amis": [{"region": REGION, "image": ami, "name": f"{name} {created:%Y-%m-%dT%H-%M-%S}.000Z",
                          "accountId": ACCOUNT}]
            },
            "tags": {},
            "buildType": "SCHEDULED",
            "imageSource": "CUSTOM",
            "scanState": {"status": "COMPLETED"},
            "imageScanningConfiguration": {"imageScanningEnabled": True},
        },
    }


@dataclass
class Instance:
    """The short-lived test instance Image Builder scanned (synthetic identifiers)."""

    instance_id: str
    ami: str
    launched: datetime


def inspector_finding(
    row: Row, arn: str, inst: Instance, inputs: Inputs, rng: random.Random
) -> dict[str, Any]:
    """The inspector2 Finding on the test instance that the Image Builder finding mirrors."""
    first = inst.launched + timedelta(minutes=9, seconds=rng.randrange(0, 60))
    last = first + timedelta(minutes=17, seconds=rng.randrange(0, 60))
    finding: dict[str, Any] = {
        "findingArn": arn,
        "awsAccountId": ACCOUNT,
        "type": "PACKAGE_VULNERABILITY",
        "description": _description(row),
        "title": _title(row),
        "remediation": {"recommendation": {"text": row.recommendation}},
        "severity": row.severity,
        "firstObservedAt": iso(first),
        "lastObservedAt": iso(last),
        "updatedAt": iso(row.updated - timedelta(seconds=35)),
        "status": "CLOSED",
        "resources": [
            {
                "type": "AWS_EC2_INSTANCE",
                "id": inst.instance_id,
                "partition": "aws",
                "region": REGION,
                "tags": {"Ec2ImageBuilderArn": IMAGE_ARN},
                "details": {
                    "awsEc2Instance": {
                        "type": "t3.medium",
                        "imageId": inst.ami,
                        "ipV4Addresses": ["10.0.1.57"],
                        "ipV6Addresses": [],
                        "iamInstanceProfileArn": (
                            f"arn:aws:iam::{ACCOUNT}:instance-profile/EC2InstanceProfileForImageBuilder"
                        ),
                        "vpcId": "vpc-0a1b2c3d4e5f60789",
                        "subnetId": "subnet-0a1b2c3d4e5f60718",
                        "launchedAt": iso(inst.launched),
                        "platform": "AMAZON_LINUX_2023",
                    }
                },
            }
        ],
    }
    finding.update(_cvss_parts(row))
    finding["packageVulnerabilityDetails"] = _package_details(row)
    finding["fixAvailable"] = row.fix_available
    in_kev = row.vuln_id in KEV_CVES
    finding["exploitAvailable"] = "YES" if in_kev else "NO"
    if in_kev:
        finding["exploitabilityDetails"] = {"lastKnownExploitAt": iso(_last_seen(row.vuln_id))}
    if row.vuln_id in inputs.epss:
        finding["epss"] = {"score": inputs.epss[row.vuln_id]}
    return finding


def _last_seen(vid: str) -> datetime:
    vrng = random.Random(f"{SEED}:last-seen:{vid}")  # noqa: S311 - reproducible example data
    return SCAN_TIME - timedelta(days=vrng.randrange(3, 40), seconds=vrng.randrange(86400))


_BAND_MIDPOINT = {"LOW": 2.0, "MEDIUM": 5.0, "HIGH": 7.5, "CRITICAL": 9.5}


def finding_detail(row: Row, arn: str, inputs: Inputs, attack_vector: str) -> dict[str, Any]:
    """The BatchGetFindingDetails entry for one Inspector finding."""
    vid = row.vuln_id
    detail: dict[str, Any] = {"findingArn": arn}
    kev = inputs.kev.get(vid)
    if kev is not None:
        detail["cisaData"] = {
            "dateAdded": day(kev["dateAdded"]),
            "dateDue": day(kev["dueDate"]),
            "action": kev["requiredAction"],
        }
    # Synthetic: Inspector's own risk score is not public, so derive one from the data at hand.
    score = row.score if row.score is not None else _BAND_MIDPOINT[row.severity]
    risk = round(score * 8 + inputs.epss.get(vid, 0.0) * 10) + (15 if kev else 0)
    detail["riskScore"] = min(risk, 100)
    if kev is not None:
        detail["ttps"] = ["T1190" if attack_vector == "N" else "T1068"]
    else:
        detail["ttps"] = []
    detail["tools"] = []
    if kev is not None:
        detail["exploitObserved"] = {
            "lastSeen": iso(_last_seen(vid)),
            "firstSeen": day(kev["dateAdded"]),
        }
    source_url, pages = _urls(row)
    refs = [*pages, source_url]
    if kev is not None:
        refs += [u.rstrip(".,") for u in re.findall(r"https?://[^\s;]+", kev["notes"])]
    elif vid.startswith("CVE-"):
        refs.append(f"https://nvd.nist.gov/vuln/detail/{vid}")
    detail["referenceUrls"] = list(dict.fromkeys(refs))
    if kev is not None and kev.get("cwes"):
        detail["cwes"] = list(kev["cwes"])
    else:
        detail["cwes"] = ["NVD-CWE-noinfo"] if vid.startswith("CVE-") else []
    if vid in inputs.epss:
        detail["epssScore"] = inputs.epss[vid]
    return detail


def inspector_documents(
    rows: list[Row], inputs: Inputs, rng: random.Random
) -> tuple[dict[str, Any], dict[str, Any]]:
    """list-findings output for about half the distinct vulnerabilities, and their details."""
    distinct = list(dict.fromkeys(r.vuln_id for r in rows))
    must = [
        v
        for v in distinct
        if v in KEV_CVES
        or inputs.epss.get(v, 0.0) > EPSS_FAIL
        or v in CRITICAL_WITH_FIX
        or v in CRITICAL_WITHOUT_FIX
        or v == "ALAS2023-2023-090"
    ]
    others = [v for v in distinct if v not in must]
    chosen = set(must) | set(rng.sample(others, max(0, (len(distinct) + 1) // 2 - len(must))))
    inst = Instance(
        instance_id="i-0" + rng.randbytes(8).hex()[:16],
        ami="ami-0" + rng.randbytes(8).hex()[:16],
        launched=SCAN_TIME - timedelta(minutes=31, seconds=6),
    )
    findings = []
    details = []
    errors = []
    subset = [r for r in rows if r.vuln_id in chosen]
    candidates = [r for r in subset if r.vuln_id not in KEV_CVES]
    missing = {id(r) for r in rng.sample(candidates, 2)}
    for row in subset:
        arn = f"arn:aws:inspector2:{REGION}:{ACCOUNT}:finding/{rng.randbytes(16).hex()}"
        findings.append(inspector_finding(row, arn, inst, inputs, rng))
        if id(row) in missing:
            errors.append(
                {
                    "findingArn": arn,
                    "errorCode": "FINDING_DETAILS_NOT_FOUND",
                    "errorMessage": "Finding details could not be found.",
                }
            )
        else:
            details.append(finding_detail(row, arn, inputs, row.source.attack_vector))
    return {"findings": findings}, {"findingDetails": details, "errors": errors}


def epss_subset(rows: list[Row], inputs: Inputs) -> bytes:
    """The real EPSS file reduced to the CVEs of the example (gzip, reproducible)."""
    wanted = {r.vuln_id for r in rows}
    buf = io.StringIO()
    buf.write(inputs.epss_first_line + "\n" + inputs.epss_header + "\n")
    for cve, score, pct in inputs.epss_rows:
        if cve in wanted:
            buf.write(f"{cve},{score},{pct}\n")
    return gzip.compress(buf.getvalue().encode("utf-8"), compresslevel=9, mtime=0)


def dump(doc: Any) -> bytes:
    """JSON the way the AWS CLI prints it (4-space indent) with a final newline."""
    return (json.dumps(doc, indent=4) + "\n").encode("utf-8")


# --------------------------------------------------------------------------------------------
# Validation against botocore's service models
# --------------------------------------------------------------------------------------------

ISO_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


def _strict(value: Any, shape: Any, path: str) -> Iterator[str]:
    """Constraints botocore's ParamValidator leaves out: max, enum, pattern, timestamp form."""
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure":
        for name, member in shape.members.items():
            if name in value:
                yield from _strict(value[name], member, f"{path}.{name}")
    elif kind == "list":
        if "max" in meta and len(value) > meta["max"]:
            yield f"{path}: {len(value)} items > max {meta['max']}"
        for i, item in enumerate(value):
            yield from _strict(item, shape.member, f"{path}[{i}]")
    elif kind == "map":
        for k, v in value.items():
            yield from _strict(k, shape.key, f"{path}(key {k})")
            yield from _strict(v, shape.value, f"{path}.{k}")
    elif kind == "string":
        if "max" in meta and len(value) > meta["max"]:
            yield f"{path}: length {len(value)} > max {meta['max']}"
        if meta.get("enum") and value not in meta["enum"]:
            yield f"{path}: {value!r} not in {meta['enum']}"
        if "pattern" in meta and not re.search(meta["pattern"], value):
            yield f"{path}: {value!r} does not match {meta['pattern']}"
    elif kind in ("double", "float", "integer", "long"):
        if "max" in meta and value > meta["max"]:
            yield f"{path}: {value} > max {meta['max']}"
    elif kind == "timestamp" and not (isinstance(value, str) and ISO_RE.fullmatch(value)):
        yield f"{path}: {value!r} is not an AWS CLI ISO-8601 timestamp"


def validate_documents(docs: dict[str, Any], inputs: Inputs) -> None:
    """Check every document against botocore's models; raise SystemExit listing any problem."""
    try:
        import botocore.session  # noqa: PLC0415 - optional: only needed to validate
        from botocore.validate import ParamValidator  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit(
            "botocore is needed to validate the examples (pip install botocore), "
            "or pass --no-validate"
        ) from exc
    session = botocore.session.get_session()
    ib = session.get_service_model("imagebuilder")
    insp = session.get_service_model("inspector2")
    validator = ParamValidator()
    problems: list[str] = []

    def check(value: Any, shape: Any, path: str, strict: bool = True) -> None:
        report = validator.validate(value, shape)
        if report.has_errors():
            problems.append(f"{path}: {report.generate_report()}")
        if strict:
            problems.extend(_strict(value, shape, path))

    list_out = ib.operation_model("ListImageScanFindings").output_shape
    agg_out = ib.operation_model("ListImageScanFindingAggregations").output_shape
    finding_shape = ib.shape_for("ImageScanFinding")
    pages = docs["findings.json"]
    for i, page in enumerate(pages):
        check(page, list_out, f"findings.json[{i}]")
        if len(page["findings"]) > PAGE_SIZE:
            problems.append(f"findings.json[{i}]: more than {PAGE_SIZE} findings")
        if ("nextToken" in page) != (i < len(pages) - 1):
            problems.append(f"findings.json[{i}]: nextToken only on all but the last page")
        for j, f in enumerate(page["findings"]):
            check(f, finding_shape, f"findings.json[{i}].findings[{j}]")
    check(docs["aggregations.json"], agg_out, "aggregations.json")

    # The CLI merges the 25-finding pages of list-findings into one document, so the list's
    # max of 25 does not apply to it: check the container loosely and each Finding strictly.
    lf_out = insp.operation_model("ListFindings").output_shape
    check(docs["inspector-findings.json"], lf_out, "inspector-findings.json", strict=False)
    fshape = insp.shape_for("Finding")
    for j, f in enumerate(docs["inspector-findings.json"]["findings"]):
        check(f, fshape, f"inspector-findings.json.findings[{j}]")
    bgd_out = insp.operation_model("BatchGetFindingDetails").output_shape
    check(docs["finding-details.json"], bgd_out, "finding-details.json")
    check(docs["image.json"], ib.operation_model("GetImage").output_shape, "image.json")
    if not problems:
        # Consistency between the documents and with the reference data.
        try:
            for i, page in enumerate(pages):
                for j, f in enumerate(page["findings"]):
                    problems.extend(_semantic_image_finding(f, f"findings.json[{i}].findings[{j}]"))
            problems.extend(_semantic_cross_checks(docs, inputs))
        except (KeyError, TypeError, AttributeError) as exc:
            problems.append(f"a field every example carries is missing or mistyped: {exc!r}")
    if problems:
        raise SystemExit("generated examples are invalid:\n  " + "\n  ".join(problems))


def _semantic_image_finding(f: dict[str, Any], path: str) -> Iterator[str]:
    if f["severity"].upper() not in {"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}:
        yield f"{path}: severity {f['severity']!r}"
    fix = f["fixAvailable"]
    pkgs = f["packageVulnerabilityDetails"]["vulnerablePackages"]
    with_fix = sum("fixedInVersion" in p for p in pkgs)
    expected = {"YES": len(pkgs), "NO": 0}.get(fix)
    if fix not in ("YES", "NO", "PARTIAL"):
        yield f"{path}: fixAvailable {fix!r}"
    elif expected is not None and with_fix != expected:
        yield f"{path}: fixAvailable {fix} but {with_fix}/{len(pkgs)} packages have a fix"
    elif fix == "PARTIAL" and not 0 < with_fix < len(pkgs):
        yield f"{path}: PARTIAL needs some but not all packages fixed"
    if "inspectorScore" in f and severity_band(f["inspectorScore"]) != f["severity"].upper():
        yield f"{path}: score {f['inspectorScore']} does not give {f['severity']}"
    for c in f["packageVulnerabilityDetails"].get("cvss", []):
        if cvss31_base_score(c["scoringVector"]) != c["baseScore"]:
            yield f"{path}: {c['scoringVector']} is not {c['baseScore']}"


def _semantic_cross_checks(docs: dict[str, Any], inputs: Inputs) -> Iterator[str]:
    findings = [f for page in docs["findings.json"] for f in page["findings"]]
    counts = Counter(f["severity"].upper() for f in findings)
    agg = docs["aggregations.json"]["responses"][0]["imageAggregation"]["severityCounts"]
    want = {
        "all": len(findings),
        "critical": counts["CRITICAL"],
        "high": counts["HIGH"],
        "medium": counts["MEDIUM"],
    }
    if agg != want:
        yield f"aggregations.json: {agg} != {want}"
    arn_to_vid = {
        f["findingArn"]: f["packageVulnerabilityDetails"]["vulnerabilityId"]
        for f in docs["inspector-findings.json"]["findings"]
    }
    ib_vids = {f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in findings}
    for vid in arn_to_vid.values():
        if vid not in ib_vids:
            yield f"inspector-findings.json: {vid} is not in findings.json"
    for f in docs["inspector-findings.json"]["findings"]:
        vid = f["packageVulnerabilityDetails"]["vulnerabilityId"]
        if "epss" in f and f["epss"]["score"] != inputs.epss.get(vid):
            yield f"inspector-findings.json: epss of {vid} is not the real one"
    for d in docs["finding-details.json"]["findingDetails"]:
        vid = arn_to_vid.get(d["findingArn"])
        if vid is None:
            yield f"finding-details.json: unknown ARN {d['findingArn']}"
            continue
        if ("cisaData" in d) != (vid in inputs.kev):
            yield f"finding-details.json: cisaData presence wrong for {vid}"
        if "epssScore" in d and (
            d["epssScore"] != inputs.epss.get(vid) or not 0.0 <= d["epssScore"] <= 1.0
        ):
            yield f"finding-details.json: epssScore of {vid} is not the real one"
    detailed = {
        arn_to_vid.get(d["findingArn"]) for d in docs["finding-details.json"]["findingDetails"]
    }
    for vid in ib_vids & inputs.kev.keys():
        if vid not in detailed:
            yield f"finding-details.json: KEV {vid} has no cisaData entry"


# --------------------------------------------------------------------------------------------
# Summary and main
# --------------------------------------------------------------------------------------------


def default_policy(f: dict[str, Any], inputs: Inputs) -> str:
    """Outcome under the demo policy: KEV, EPSS > 0.5 with a fix, CRITICAL with a fix fail."""
    vid = f["packageVulnerabilityDetails"]["vulnerabilityId"]
    has_fix = f["fixAvailable"] in ("YES", "PARTIAL")
    sev = f["severity"].upper()
    if vid in inputs.kev or (has_fix and inputs.epss.get(vid, 0.0) > EPSS_FAIL):
        return "fail"
    if has_fix and sev == "CRITICAL":
        return "fail"
    if sev in ("HIGH", "CRITICAL"):
        return "warn"
    return "pass"


def summary(docs: dict[str, Any], inputs: Inputs) -> str:
    """A few counts of the generated example, for the person running the script."""
    findings = [f for page in docs["findings.json"] for f in page["findings"]]
    vids = {f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in findings}
    epss_hi = [
        f
        for f in findings
        if inputs.epss.get(f["packageVulnerabilityDetails"]["vulnerabilityId"], 0) > EPSS_FAIL
    ]

    def tally(values: Iterable[str]) -> dict[str, int]:
        return dict(sorted(Counter(values).items()))

    not_cves = sum(not v.startswith("CVE-") for v in vids)
    lines = [
        f"findings: {len(findings)} on {len(docs['findings.json'])} pages",
        f"distinct vulnerability ids: {len(vids)} ({not_cves} not CVEs)",
        f"KEV CVEs: {sorted(vids & inputs.kev.keys())}",
        f"findings with EPSS > {EPSS_FAIL}: {len(epss_hi)}",
        f"fixAvailable: {tally(f['fixAvailable'] for f in findings)}",
        f"severity (normalised): {tally(f['severity'].upper() for f in findings)}",
        f"severity strings as written: {tally(f['severity'] for f in findings)}",
        f"default policy: {tally(default_policy(f, inputs) for f in findings)}",
        f"inspector findings: {len(docs['inspector-findings.json']['findings'])}, details: "
        f"{len(docs['finding-details.json']['findingDetails'])}, errors: "
        f"{len(docs['finding-details.json']['errors'])}",
    ]
    return "\n".join(lines)


def generate(data_dir: Path, out_dir: Path, validate: bool = True) -> str:
    """Write every example file to out_dir and return a short summary."""
    inputs = load_inputs(data_dir)
    rng = random.Random(SEED)  # noqa: S311 - reproducible example data, not security
    rows = build_rows(inputs)
    assign_attributes(rows, inputs, rng)
    rng.shuffle(rows)
    docs: dict[str, Any] = {
        "findings.json": findings_pages(rows, rng),
        "aggregations.json": aggregations(rows, rng),
    }
    docs["inspector-findings.json"], docs["finding-details.json"] = inspector_documents(
        rows, inputs, rng
    )
    instance = docs["inspector-findings.json"]["findings"][0]["resources"][0]["details"]["awsEc2Instance"]
    docs["image.json"] = image_document(instance["imageId"])
    if validate:
        validate_documents(docs, inputs)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, doc in docs.items():
        (out_dir / name).write_bytes(dump(doc))
    (out_dir / "epss-scores.csv.gz").write_bytes(epss_subset(rows, inputs))
    (out_dir / "kev.json").write_bytes(inputs.kev_bytes)
    return summary(docs, inputs)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="the repository's reference data (default: tests/data)",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=DEFAULT_OUT_DIR,
        help="where to write the examples (default: examples/)",
    )
    parser.add_argument(
        "--no-validate",
        action="store_true",
        help="skip the botocore model validation (botocore not installed)",
    )
    args = parser.parse_args(argv)
    sys.stdout.write(generate(args.data_dir, args.out_dir, validate=not args.no_validate) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
