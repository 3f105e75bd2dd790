"""Fixed evaluations for report tests: a realistic run, and one full of hostile text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from gate.declared import Action, PolicyException, RuleInfo
from gate.model import Cvss, Enrichment, EpssScore, FeedInfo, Finding, KevEntry, Provenance, Sourced, VulnerablePackage
from gate.outcome import Decision, Evaluation, FindingResult, RuleMatch, Verdict

EVALUATED_AT = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)
KEV = Provenance("cisa-kev", datetime(2025, 8, 25, 17, 4, tzinfo=UTC))
EPSS = Provenance("first-epss", datetime(2025, 8, 28, 12, 55, tzinfo=UTC))
INSPECTOR = Provenance("inspector:BatchGetFindingDetails", datetime(2025, 11, 20, 11, 58, tzinfo=UTC))
TARGET = "arn:aws:imagebuilder:us-east-1:123456789012:image/web-base/1.4.2/3"

RULES = (
    RuleInfo("kev-listed", Action.FAIL, "kev", "Known exploited vulnerabilities block the release."),
    RuleInfo("likely-exploited", Action.FAIL, "epss > 0.5 and fix_available"),
    RuleInfo(
        "critical-fixable",
        Action.FAIL,
        'severity == "CRITICAL" and fix_available',
        "Critical vulnerabilities with a fix must be patched before release.",
    ),
    RuleInfo("epss-watch", Action.WARN, "epss > 0.1", "Rising exploitation probability."),
    RuleInfo("no-fix-high", Action.WARN, 'severity in ["HIGH", "CRITICAL"] and not fix_available'),
)

EXCEPTIONS = (
    PolicyException(
        "EXC-glibc-tunables",
        "CVE-2023-4911",
        "Build hosts run no setuid binaries from this image; tracked in SEC-412.",
        date(2026, 1, 31),
        owner="platform-team",
        rules=("kev-listed",),
    ),
    PolicyException(
        "EXC-openssl-2023",
        "CVE-2023-5678",
        "Waiting for the AL2023 rebuild.",
        date(2025, 10, 31),
        owner="platform-team",
    ),
    PolicyException(
        "EXC-busybox-old",
        "CVE-2022-48174",
        "busybox is not shipped any more.",
        date(2026, 6, 30),
    ),
)


def _nvd(cve: str) -> str:
    return f"https://nvd.nist.gov/vuln/detail/{cve}"


XZ = FindingResult(
    finding=Finding(
        vulnerability_id="CVE-2024-3094",
        severity="CRITICAL",
        title="CVE-2024-3094 - xz, xz-libs",
        description="Malicious code was discovered in the upstream tarballs of xz.",
        fix_available="YES",
        packages=(
            VulnerablePackage(
                "xz-libs",
                "5.4.1",
                release="1.amzn2023.0.1",
                arch="x86_64",
                package_manager="OS",
                fixed_in_version="0:5.4.1-2.amzn2023.0.2",
            ),
            VulnerablePackage(
                "xz",
                "5.4.1",
                release="1.amzn2023.0.1",
                arch="x86_64",
                package_manager="OS",
                fixed_in_version="0:5.4.1-2.amzn2023.0.2",
            ),
        ),
        inspector_score=10.0,
        cvss=(Cvss(10.0, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "3.1", "NVD"),),
        source="NVD",
        source_url=_nvd("CVE-2024-3094"),
        remediation_text="dnf update --advisory ALAS2024-2024-578",
    ),
    enrichment=Enrichment(
        "CVE-2024-3094",
        kev=KevEntry(date(2024, 3, 29), date(2024, 4, 19), ransomware=False, provenance=KEV),
        epss=EpssScore(0.85, 0.994, EPSS),
        exploit_observed=Sourced(True, INSPECTOR),
        cwes=Sourced(("CWE-506",), INSPECTOR),
        kev_known_by=("cisa-kev",),
    ),
    decision=Decision.FAIL,
    matches=(
        RuleMatch("kev-listed", Action.FAIL, ("kev is true",)),
        RuleMatch(
            "critical-fixable",
            Action.FAIL,
            ('severity "CRITICAL" == "CRITICAL"', 'fix_available "YES"'),
        ),
        RuleMatch("epss-watch", Action.WARN, ("epss 0.85 > 0.1",)),
    ),
)

CURL = FindingResult(
    finding=Finding(
        vulnerability_id="CVE-2023-38545",
        severity="HIGH",
        title="CVE-2023-38545 - curl, libcurl-minimal",
        description="SOCKS5 heap buffer overflow.",
        fix_available="YES",
        packages=(
            VulnerablePackage("curl-minimal", "8.0.1", release="1.amzn2023", fixed_in_version="8.3.0-1.amzn2023"),
            VulnerablePackage("libcurl-minimal", "8.0.1", release="1.amzn2023", fixed_in_version="8.3.0-1.amzn2023"),
        ),
        inspector_score=9.8,
        source_url=_nvd("CVE-2023-38545"),
        remediation_text="dnf update --advisory ALAS2023-2023-384",
    ),
    enrichment=Enrichment(
        "CVE-2023-38545",
        epss=EpssScore(0.62, 0.981, EPSS),
        risk_score=Sourced(73.0, INSPECTOR),
        kev_known_by=("cisa-kev",),
    ),
    decision=Decision.FAIL,
    matches=(
        RuleMatch("likely-exploited", Action.FAIL, ("epss 0.62 > 0.5", 'fix_available "YES"')),
        RuleMatch("epss-watch", Action.WARN, ("epss 0.62 > 0.1",)),
    ),
)

OPENSSH = FindingResult(
    finding=Finding(
        vulnerability_id="CVE-2024-6387",
        severity="HIGH",
        title="CVE-2024-6387 - openssh-server",
        description="A signal handler race condition in sshd (regreSSHion).",
        fix_available="NO",
        packages=(VulnerablePackage("openssh-server", "8.7p1", epoch=1, release="8.amzn2023.0.10"),),
        cvss=(Cvss(8.1, version="3.1", source="NVD"), Cvss(6.8, version="2.0", source="NVD")),
        source_url=_nvd("CVE-2024-6387"),
    ),
    enrichment=Enrichment("CVE-2024-6387", epss=EpssScore(0.23, 0.957, EPSS), kev_known_by=("cisa-kev",)),
    decision=Decision.WARN,
    matches=(
        RuleMatch("epss-watch", Action.WARN, ("epss 0.23 > 0.1",)),
        RuleMatch("no-fix-high", Action.WARN, ('severity "HIGH" in ["HIGH", "CRITICAL"]', 'fix_available "NO"')),
    ),
)

OPENSSL = FindingResult(
    finding=Finding(
        vulnerability_id="CVE-2023-5678",
        severity="MEDIUM",
        title="CVE-2023-5678 - openssl-libs",
        description="Excessive time spent in DH check / generation with large Q parameter value.",
        fix_available="YES",
        packages=(
            VulnerablePackage(
                "openssl-libs", "3.0.8", epoch=1, release="1.amzn2023.0.9", fixed_in_version="1:3.0.8-1.amzn2023.0.10"
            ),
        ),
        inspector_score=5.3,
    ),
    enrichment=Enrichment("CVE-2023-5678", epss=EpssScore(0.12, 0.93, EPSS), kev_known_by=("cisa-kev",)),
    decision=Decision.WARN,
    matches=(RuleMatch("epss-watch", Action.WARN, ("epss 0.12 > 0.1",)),),
    expired_exceptions=("EXC-openssl-2023",),
)

GLIBC = FindingResult(
    finding=Finding(
        vulnerability_id="CVE-2023-4911",
        severity="HIGH",
        title="CVE-2023-4911 - glibc, glibc-common",
        description="Looney Tunables: buffer overflow in ld.so GLIBC_TUNABLES handling.",
        fix_available="YES",
        packages=(
            VulnerablePackage("glibc", "2.34", release="52.amzn2023.0.3", fixed_in_version="2.34-52.amzn2023.0.7"),
            VulnerablePackage(
                "glibc-common", "2.34", release="52.amzn2023.0.3", fixed_in_version="2.34-52.amzn2023.0.7"
            ),
        ),
        inspector_score=7.8,
        source_url=_nvd("CVE-2023-4911"),
    ),
    enrichment=Enrichment(
        "CVE-2023-4911",
        kev=KevEntry(date(2023, 11, 21), date(2023, 12, 12), provenance=KEV),
        epss=EpssScore(0.77, 0.989, EPSS),
        kev_known_by=("cisa-kev",),
    ),
    decision=Decision.EXCEPTED,
    matches=(RuleMatch("kev-listed", Action.FAIL, ("kev is true",), excepted_by="EXC-glibc-tunables"),),
)

SHADOW = FindingResult(
    finding=Finding(
        vulnerability_id="CVE-2023-29383",
        severity="LOW",
        title="CVE-2023-29383 - shadow-utils",
        description="chfn allows control characters in the GECOS field.",
        fix_available="YES",
        packages=(
            VulnerablePackage(
                "shadow-utils", "4.9", epoch=2, release="12.amzn2023", fixed_in_version="2:4.9-12.amzn2023.0.4"
            ),
        ),
        inspector_score=3.3,
    ),
    enrichment=Enrichment(
        "CVE-2023-29383",
        epss=EpssScore(0.00009, 0.058, EPSS),
        exploit_observed=Sourced(False, INSPECTOR),
        kev_known_by=("cisa-kev",),
    ),
    decision=Decision.PASS,
)

PYTHON = FindingResult(
    finding=Finding(
        vulnerability_id="CVE-2025-0938",
        severity="UNTRIAGED",
        title=None,
        description=None,
        fix_available=None,
        packages=(
            VulnerablePackage(
                "python3.11-libs", "3.11.6", release="1.amzn2023.0.5", file_path="/usr/lib64/libpython3.11.so.1.0"
            ),
        ),
    ),
    enrichment=Enrichment("CVE-2025-0938"),
    decision=Decision.PASS,
)

FEEDS = (
    FeedInfo("kev", "cisa-kev", KEV.as_of, "catalog 2025.08.25, 1404 entries"),
    FeedInfo("epss", "first-epss", EPSS.as_of, "model v2025.03.14"),
    FeedInfo("inspector", "inspector:BatchGetFindingDetails", INSPECTOR.as_of),
)

EVALUATION = Evaluation(
    verdict=Verdict.FAIL,
    results=(SHADOW, OPENSSL, GLIBC, XZ, PYTHON, OPENSSH, CURL),
    policy_name="default",
    policy_source="policies/default.yaml",
    rules=RULES,
    exceptions=EXCEPTIONS,
    stale_exceptions=("EXC-busybox-old",),
    expired_exceptions=("EXC-openssl-2023",),
    feeds=FEEDS,
    target=TARGET,
    evaluated_at=EVALUATED_AT,
    notes=("EPSS scores are 84 days old; refresh the feed cache.",),
)

HOSTILE_BITS = (
    "<script>alert(1)</script>",
    "| pipe | and ``` backticks",
    "::error::pwned",
    "%0A::warning::x",
    "\r\n::set-output name=x::y",
    "ünïcødé 漢字 🚀",
    "\x1b[31mred\x1b[0m\x1b]0;title\x07\x1b[2J",
    "\u202eevil\u2066",
    "# heading\n> quote\n- item\n1. one",
    "@octocat [link](javascript:alert(1)) ![img](http://x/y.png) <img src=x onerror=alert(1)>",
    "</script><!-- --]]> &amp; &#60; \\",
    "lone \ud800 surrogate",
)
HOSTILE = " ".join(HOSTILE_BITS)
HUGE = ("A" * 1000 + HOSTILE) * 100


def _hostile_result(decision: Decision, action: Action, n: int) -> FindingResult:
    vid = f"CVE-2099-000{n}{HOSTILE_BITS[0]}|x"
    return FindingResult(
        finding=Finding(
            vulnerability_id=vid,
            severity="HIGH\x1b[5m|<b>",
            title=HUGE,
            description=HOSTILE,
            fix_available="YES",
            packages=(
                VulnerablePackage(HOSTILE, HOSTILE, release=HOSTILE, fixed_in_version=HOSTILE),
                VulnerablePackage("ok-pkg", "1.0", fixed_in_version=None),
            ),
            inspector_score=8.8,
            source_url="javascript:alert(1)//" + HOSTILE,
        ),
        enrichment=Enrichment(
            vid,
            kev=KevEntry(date(2024, 1, 1), None, provenance=Provenance(HOSTILE, EVALUATED_AT)),
            epss=EpssScore(0.9, None, Provenance(HOSTILE, None)),
            cwes=Sourced((HOSTILE,), INSPECTOR),
        ),
        decision=decision,
        matches=(RuleMatch("kev-listed", action, (HOSTILE, "epss 0.9 > 0.5"), None),),
    )


HOSTILE_EVALUATION = Evaluation(
    verdict=Verdict.FAIL,
    results=(
        _hostile_result(Decision.FAIL, Action.FAIL, 1),
        _hostile_result(Decision.WARN, Action.WARN, 2),
        _hostile_result(Decision.PASS, Action.WARN, 3),
    ),
    policy_name="hostile " + HOSTILE,
    policy_source=HOSTILE,
    rules=(RuleInfo("kev-listed", Action.FAIL, HOSTILE, HOSTILE),),
    exceptions=(PolicyException("EXC-1", HOSTILE, HOSTILE, date(2025, 1, 1), owner=HOSTILE),),
    expired_exceptions=("EXC-1",),
    stale_exceptions=(HOSTILE,),
    feeds=(FeedInfo(HOSTILE, HOSTILE, EVALUATED_AT, HOSTILE),),
    target=HOSTILE,
    evaluated_at=EVALUATED_AT,
    errors=(HOSTILE,),
    notes=(HOSTILE,),
)

CI_EVALUATION = replace(
    EVALUATION,
    notes=(*EVALUATION.notes, "Refresh the feeds with `gate feeds update` before the next run."),
)
"""The sample with one of gate's own notes that names a command, as the human formats render it."""


def many(n: int) -> tuple[FindingResult, ...]:
    """`n` findings cycling through fail, warn and pass, each on a package of its own."""
    templates = (XZ, CURL, OPENSSH, SHADOW)
    results = []
    for i in range(n):
        base = templates[i % 4]
        package = VulnerablePackage(f"pkg{i}", "1.0", release="1.amzn2023", fixed_in_version="1.1-1.amzn2023")
        finding = replace(base.finding, vulnerability_id=f"CVE-2025-{i:06d}", packages=(package,))
        results.append(replace(base, finding=finding))
    return tuple(results)
