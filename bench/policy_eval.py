"""Benchmark gate's compiled policy function against Jinja2's sandbox on synthetic findings."""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jinja2
from harness import (
    CVSS_RANGE,
    FIX,
    NOW,
    PACKAGES,
    PACKAGES_PER_FINDING,
    SEVERITIES,
    TODAY,
    VENDOR_SEVERITY,
    T,
    machine,
    pin_one_core,
    weighted,
)
from jinja2.sandbox import SandboxedEnvironment

from gate.fields import Context, facts_for
from gate.model import Cvss, Enrichment, EpssScore, Finding, KevEntry, Provenance, Sourced, VulnerablePackage
from gate.policy.compile import RUNTIME
from gate.policy.engine import judge as engine_evaluate
from gate.policy.loader import Policy, parse_policy

SEED = 20261121
TARGET = 2_000_000
"""Rule evaluations per second on one core that gate's compiled function should reach."""


@dataclass(frozen=True)
class BenchRule:
    """One rule in gate's language and the same condition written for Jinja2."""

    id: str
    action: str
    when: str
    jinja: str


# Jinja2 needs explicit `is not none` guards where gate's compiler adds them (an ordering comparison
# with a missing value is false in gate, a TypeError in Python), date literals passed in as constants,
# and gate's functions passed as context callables (globals). `true`/`false`, `in`/`not in` on list
# literals, chained comparisons, `and`/`or`/`not` and parentheses are the same text in both.
RULES: tuple[BenchRule, ...] = (
    BenchRule("known-exploited", "fail", "kev", "kev"),
    BenchRule("kev-added-2025", "fail", 'kev and kev_date_added >= "2025-01-01"',
              "kev and kev_date_added is not none and kev_date_added >= d_2025_01_01"),
    BenchRule("kev-overdue", "fail", "kev_due_date < today", "kev_due_date is not none and kev_due_date < today"),
    BenchRule("kev-ransomware-nofix", "fail", "kev_ransomware == true and fix_available == false",
              "kev_ransomware == true and fix_available == false"),
    BenchRule("likely-exploited", "fail", "epss > 0.5 and fix_available",
              "epss is not none and epss > 0.5 and fix_available"),
    BenchRule("epss-top-percentile", "fail", 'epss_percentile >= 0.99 and severity in ["CRITICAL", "HIGH"]',
              'epss_percentile is not none and epss_percentile >= 0.99 and severity in ["CRITICAL", "HIGH"]'),
    BenchRule("critical-fixable", "fail", 'severity == "CRITICAL" and fix_available',
              'severity == "CRITICAL" and fix_available'),
    BenchRule("critical-unknown", "fail", 'severity == "CRITICAL" and not enriched',
              'severity == "CRITICAL" and not enriched'),
    BenchRule("cvss-critical-aged", "fail", "cvss >= 9.0 and age_days > 14",
              "cvss is not none and cvss >= 9.0 and age_days is not none and age_days > 14"),
    BenchRule("inspector-high-nofix", "warn", "inspector_score >= 8.0 and not fix_available",
              "inspector_score is not none and inspector_score >= 8.0 and not fix_available"),
    BenchRule("openssl", "fail", '("openssl" in packages or "openssl-libs" in packages) and cvss >= 7.0',
              '("openssl" in packages or "openssl-libs" in packages) and cvss is not none and cvss >= 7.0'),
    BenchRule("kernel", "warn", 'startswith(packages, "kernel") and cvss >= 7.0 and fix_available',
              'startswith(packages, "kernel") and cvss is not none and cvss >= 7.0 and fix_available'),
    BenchRule("python-exploitable", "warn", 'matches(packages, "python3*") and epss > 0.1',
              'matches(packages, "python3*") and epss is not none and epss > 0.1'),
    BenchRule("memory-corruption", "fail",
              '("CWE-787" in cwes or "CWE-416" in cwes) and cvss >= 8.0 and fix_available',
              '(cwes is not none and ("CWE-787" in cwes or "CWE-416" in cwes)) and cvss is not none and cvss >= 8.0 '
              'and fix_available'),
    BenchRule("high-stale", "warn", 'severity == "HIGH" and fix_available and age_days > 90',
              'severity == "HIGH" and fix_available and age_days is not none and age_days > 90'),
    BenchRule("medium-exploitable", "warn", 'severity == "MEDIUM" and (epss > 0.2 or epss_percentile > 0.97)',
              'severity == "MEDIUM" and ((epss is not none and epss > 0.2)'
              " or (epss_percentile is not none and epss_percentile > 0.97))"),
    BenchRule("recent-critical-cve", "warn", 'matches(vulnerability_id, "CVE-202[56]-*") and severity == "CRITICAL"',
              'matches(vulnerability_id, "CVE-202[56]-*") and severity == "CRITICAL"'),
    BenchRule("ghsa-high", "warn", 'startswith(vulnerability_id, "GHSA-") and not (cvss < 7.0)',
              'startswith(vulnerability_id, "GHSA-") and not (cvss is not none and cvss < 7.0)'),
    BenchRule("exploit-window", "warn", '0.05 < epss <= 0.5 and cvss >= 7.0 and fix == "YES"',
              'epss is not none and 0.05 < epss <= 0.5 and cvss is not none and cvss >= 7.0 and fix == "YES"'),
    BenchRule("untriaged-risky", "warn",
              'severity not in ["LOW", "MEDIUM", "HIGH", "CRITICAL"] and (kev or epss > 0.1 or cvss >= 7.0)',
              'severity not in ["LOW", "MEDIUM", "HIGH", "CRITICAL"]'
              " and (kev or (epss is not none and epss > 0.1) or (cvss is not none and cvss >= 7.0))"),
)
JINJA_GLOBALS: dict[str, Any] = {
    "startswith": RUNTIME["startswith"],
    "matches": RUNTIME["matches"],
    "d_2025_01_01": date(2025, 1, 1),
}

# ---------------------------------------------------------------------------------------------
# Synthetic findings
# ---------------------------------------------------------------------------------------------

CWES = (
    ("CWE-787", 12), ("CWE-79", 8), ("CWE-416", 8), ("CWE-125", 9), ("CWE-20", 7), ("CWE-476", 6),
    ("CWE-190", 4), ("CWE-400", 5), ("CWE-22", 3), ("CWE-362", 3), ("CWE-770", 3), ("CWE-119", 4),
    ("CWE-200", 3), ("CWE-78", 2), ("CWE-401", 3), ("CWE-835", 2),
)
CVE_YEARS = ((2014, 1), (2016, 1), (2018, 2), (2019, 2), (2020, 3), (2021, 4), (2022, 6), (2023, 9),
             (2024, 14), (2025, 16), (2026, 4))
KEV_FIRST_DAY = date(2021, 11, 3)
PROV_KEV = Provenance(source="cisa-kev", as_of=datetime(2026, 11, 20, tzinfo=UTC))
PROV_EPSS = Provenance(source="first-epss", as_of=datetime(2026, 11, 20, tzinfo=UTC))
PROV_INSPECTOR = Provenance(source="inspector:BatchGetFindingDetails", as_of=NOW)


@dataclass(frozen=True)
class Vuln:
    """Per-CVE facts shared by every finding of that CVE."""

    id: str
    severity: str
    cvss: float | None
    enrichment: Enrichment


def _vulnerabilities(rng: random.Random, count: int) -> list[Vuln]:
    severity = weighted(rng, SEVERITIES)
    year = weighted(rng, CVE_YEARS)
    cwe = weighted(rng, CWES)
    ids: set[str] = set()
    while len(ids) < count:
        if rng.random() < 0.02:
            ids.add("GHSA-" + "-".join("".join(rng.choices("23456789cfghjmpqrvwx", k=4)) for _ in range(3)))
        else:
            ids.add(f"CVE-{year()}-{rng.randint(1000, 59999)}")
    scores: dict[str, float] = {}
    kev_ids: set[str] = set()
    for vid in sorted(ids):
        if vid.startswith("CVE-") and rng.random() < 0.01:
            kev_ids.add(vid)
        if vid.startswith("GHSA-") or (vid.startswith("CVE-2026-") and rng.random() < 0.5) or rng.random() < 0.04:
            continue  # no EPSS score: not a CVE, too new, or not scored yet
        if vid in kev_ids:
            scores[vid] = min(0.99, 0.05 + 0.95 * rng.betavariate(2.0, 1.0))
        else:
            scores[vid] = min(0.99, rng.lognormvariate(-6.0, 2.2))
    ranked = sorted(scores.values())
    percentile = {s: i / len(ranked) for i, s in enumerate(ranked)}
    vulns: list[Vuln] = []
    for vid in sorted(ids):
        sev = severity()
        lo, hi = CVSS_RANGE[sev]
        cvss = None if rng.random() < 0.04 else round(rng.uniform(lo, hi), 1)
        kev = None
        if vid in kev_ids:
            added = KEV_FIRST_DAY + timedelta(days=rng.randint(0, (TODAY - KEV_FIRST_DAY).days))
            kev = KevEntry(date_added=added, due_date=added + timedelta(days=rng.choice((14, 21, 21, 21))),
                           required_action="Apply mitigations per vendor instructions.",
                           ransomware=rng.random() < 0.2, provenance=PROV_KEV)
        epss = None
        if vid in scores:
            epss = EpssScore(score=round(scores[vid], 5), percentile=round(percentile[scores[vid]], 5),
                             provenance=PROV_EPSS)
        cwes = None
        if rng.random() < 0.65:
            cwes = Sourced(tuple(sorted({cwe() for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))})), PROV_INSPECTOR)
        enrichment = Enrichment(vulnerability_id=vid, kev=kev, epss=epss, cwes=cwes, kev_known_by=("cisa-kev",))
        vulns.append(Vuln(vid, sev, cvss, enrichment))
    return vulns


def _package_pool(rng: random.Random) -> dict[str, tuple[VulnerablePackage, ...]]:
    """A few installed versions of every package name, built once and shared by findings."""
    return {
        name: tuple(
            VulnerablePackage(name=name, version=f"{rng.randint(0, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 200)}",
                              release=f"{rng.randint(1, 300)}.amzn2023", arch=arch, package_manager="OS",
                              fixed_in_version=f"{rng.randint(0, 9)}.{rng.randint(41, 60)}.0")
            for arch in ("x86_64", "aarch64")
        )
        for name, _ in PACKAGES
    }


def synthetic(count: int, seed: int = SEED) -> tuple[list[Finding], dict[str, Enrichment]]:
    """`count` findings over `count // 4` distinct vulnerabilities, with their enrichment."""
    rng = random.Random(seed)
    vulns = _vulnerabilities(rng, max(1, count // 4))
    fix = weighted(rng, FIX)
    package = weighted(rng, PACKAGES)
    pool = _package_pool(rng)
    findings: list[Finding] = []
    for _ in range(count):
        v = rng.choice(vulns)
        names = sorted({package() for _ in range(rng.choice(PACKAGES_PER_FINDING))})
        packages = tuple(rng.choice(pool[n]) for n in names)
        cvss = () if v.cvss is None else (Cvss(base_score=v.cvss, version="3.1", source="NVD"),)
        inspector = None if v.cvss is None or rng.random() < 0.06 else round(
            max(0.0, min(10.0, v.cvss + rng.choice((0.0, 0.0, 0.0, -0.4, 0.3)))), 1)
        first_seen = None if rng.random() < 0.03 else NOW - timedelta(seconds=rng.randrange(540 * 86400))
        findings.append(Finding(
            vulnerability_id=v.id, severity=v.severity, title=f"{v.id} - {names[0]}", description=None,
            fix_available=fix(), packages=packages, inspector_score=inspector, cvss=cvss,
            first_observed_at=first_seen, vendor_severity=VENDOR_SEVERITY[v.severity],
        ))
    return findings, {v.id: v.enrichment for v in vulns}


# ---------------------------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------------------------


def policy_yaml(rules: Sequence[BenchRule]) -> str:
    """The rules as a gate policy file (JSON string quoting is valid YAML)."""
    lines = ["version: 1", "name: bench-20-rules", "rules:"]
    for r in rules:
        lines += [f"  - id: {r.id}", f"    when: {json.dumps(r.when)}", f"    action: {r.action}"]
    return "\n".join(lines) + "\n"


def best_of(repeat: int, run: Callable[[], list[int]]) -> tuple[float, list[int]]:
    """The fastest of `repeat` runs in seconds (collected before each, GC left on) and the last run's result."""
    best, result = float("inf"), []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def best_per_item(parts: Sequence[Sequence[T]], run: Callable[[Sequence[T]], list[int]]) -> tuple[float, list[int]]:
    """One timed run per slice: the fastest seconds per item, and the results of all slices in order.

    The slow evaluators get one run per slice instead of repeated runs over everything, so that
    together the runs cover every finding (the equivalence check) within the time budget.
    """
    best, results = float("inf"), []
    for part in parts:
        gc.collect()
        start = time.perf_counter()
        results.extend(run(part))
        best = min(best, (time.perf_counter() - start) / len(part))
    return best, results


def split(items: Sequence[T], parts: int) -> list[Sequence[T]]:
    size = -(-len(items) // parts)
    return [items[i:i + size] for i in range(0, len(items), size)]


def masks_compiled(policy: Policy, facts: Sequence[dict[str, Any]]) -> list[int]:
    return list(map(policy.function, facts))


def masks_jinja(exprs: Sequence[Callable[..., Any]], facts: Sequence[dict[str, Any]]) -> list[int]:
    bits = [(1 << i, e) for i, e in enumerate(exprs)]
    out: list[int] = []
    for f in facts:
        m = 0
        for bit, expr in bits:
            if expr(f):
                m |= bit
        out.append(m)
    return out


def masks_jinja_list(expr: Callable[..., Any], facts: Sequence[dict[str, Any]]) -> list[int]:
    out: list[int] = []
    for f in facts:
        m = 0
        for i, hit in enumerate(expr(f)):
            if hit:
                m |= 1 << i
        out.append(m)
    return out


def masks_engine(policy: Policy, findings: Sequence[Finding], enrichments: dict[str, Enrichment]) -> list[int]:
    """The full path; each finding's matched rules turned back into a mask for the check."""
    bit = {r.id: 1 << i for i, r in enumerate(policy.rules)}
    evaluation = engine_evaluate(policy, findings, enrichments, now=NOW)
    return [sum(bit[m.rule_id] for m in r.matches) for r in evaluation.results]


def masks_facts(findings: Sequence[Finding], enrichments: dict[str, Enrichment]) -> list[int]:
    return [len(facts_for(f, enrichments[f.vulnerability_id], Context(TODAY))) for f in findings]


def check(label: str, got: Sequence[int], want: Sequence[int]) -> bool:
    same = sum(a == b for a, b in zip(got, want, strict=True))
    print(f"  {label}: identical on {same}/{len(want)} findings" + ("" if same == len(want) else "  ** MISMATCH **"))
    return same == len(want)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--findings", type=int, default=100_000, help="synthetic findings (default 100000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per row; the best is kept (default 5)")
    parser.add_argument("--jinja-findings", type=int, default=2_000,
                        help="findings per timed run of Jinja2 with one expression per rule, the slowest "
                             "evaluator (default 2000)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU")
    args = parser.parse_args(argv)
    if min(args.findings, args.repeat, args.jinja_findings) < 1:
        parser.error("--findings, --repeat and --jinja-findings must be at least 1")
    pinned = pin_one_core(not args.no_pin)
    print(machine())
    print(f"jinja2 {jinja2.__version__}; {pinned}; best of {args.repeat} runs; time.perf_counter")

    start = time.perf_counter()
    findings, enrichments = synthetic(args.findings)
    policy = parse_policy(policy_yaml(RULES), "<bench>")
    facts = [facts_for(f, enrichments[f.vulnerability_id], Context(TODAY)) for f in findings]
    env = SandboxedEnvironment()
    env.globals.update(JINJA_GLOBALS)
    exprs = [env.compile_expression(r.jinja) for r in RULES]
    one_list = env.compile_expression("[" + ", ".join(f"({r.jinja})" for r in RULES) + "]")
    n_rules, n = len(RULES), len(findings)
    kev = sum(bool(f["kev"]) for f in facts) / n
    no_epss = sum(f["epss"] is None for f in facts) / n
    high_epss = sum(f["epss"] is not None and f["epss"] > 0.5 for f in facts) / n
    print(f"{n} findings over {len(enrichments)} vulnerability ids, {n_rules} rules; KEV {kev:.2%}, "
          f"EPSS > 0.5 {high_epss:.2%}, no EPSS {no_epss:.1%}; setup {time.perf_counter() - start:.1f} s")

    sub = facts[:min(args.jinja_findings, n)]
    fact_parts = split(facts, args.repeat)
    finding_parts = split(findings, args.repeat)
    t_gate, reference = best_of(args.repeat, lambda: masks_compiled(policy, facts))
    t_jinja, jinja_masks = best_of(args.repeat, lambda: masks_jinja(exprs, sub))
    t_list, list_masks = best_per_item(fact_parts, lambda part: masks_jinja_list(one_list, part))
    t_facts, _ = best_per_item(finding_parts, lambda part: masks_facts(part, enrichments))
    t_engine, engine_masks = best_per_item(finding_parts, lambda part: masks_engine(policy, part, enrichments))

    print("\nSame match results as gate's compiled function (rule by rule, as a bitmask per finding):")
    ok = all((
        check("Jinja2, one list expression of the 20 translated rules", list_masks, reference),
        check("gate engine.judge (matched rules)", engine_masks, reference),
        check("Jinja2, one expression per rule (the timed subset)", jinja_masks, reference[:len(sub)]),
    ))
    print(f"\n{'rule':28} {'matches':>8} {'share':>7}")
    for i, r in enumerate(RULES):
        hits = sum(1 for m in reference if m >> i & 1)
        print(f"{r.id:28} {hits:8} {hits / n:7.2%}")
    hits = sum(1 for m in reference if m)
    print(f"{'(any rule)':28} {hits:8} {hits / n:7.2%}")

    rows = (
        ("gate compiled policy function", n, t_gate / n),
        ("Jinja2 sandbox, one expression per rule", len(sub), t_jinja / len(sub)),
        ("Jinja2 sandbox, one list expression", len(fact_parts[0]), t_list),
        ("gate engine.judge (facts+decide+explain)", len(finding_parts[0]), t_engine),
    )
    print(f"\n{'evaluator':46} {'findings/run':>12} {'rule evals/s':>14} {'findings/s':>11} {'µs/finding':>11}")
    for name, count, per in rows:
        print(f"{name:46} {count:12} {n_rules / per:14,.0f} {1 / per:11,.0f} {per * 1e6:11.2f}")
    print(f"{'  part of it: facts_for (facts dict)':46} {len(finding_parts[0]):12} {'':14} {1 / t_facts:11,.0f} "
          f"{t_facts * 1e6:11.2f}")

    per_gate = t_gate / n
    print(f"\ngate compiled / Jinja2 (one expression per rule): {t_jinja / len(sub) / per_gate:6.1f}x")
    print(f"gate compiled / Jinja2 (one list expression):     {t_list / per_gate:6.1f}x")
    rate = n_rules / per_gate
    print(f"target >= {TARGET:,} rule evaluations/s on one core: gate compiled {rate:,.0f} "
          f"({'met' if rate >= TARGET else 'NOT met'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
