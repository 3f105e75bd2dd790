"""What a reader acts on, shared by the human formats: fixes grouped by package, warnings by rule, exceptions in use.

The terminal, Markdown and HTML reports all answer the same questions — which packages to update
to which versions, which rules only warn and how often, which exceptions are holding findings back
and until when, and where the exploit data came from — so they take the answers from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from gate.declared import Action, PolicyException, RuleInfo, VexStatement
from gate.model import Enrichment, EpssScore, KevEntry, Provenance, Sourced, Ssvc, ValueKind, enrichment_values
from gate.outcome import Decision, Evaluation, FindingResult
from gate.reports import explain
from gate.timeutil import age_days, utc

_CODE = re.compile(r"`([^`\n]+)`")


def probability(value: float) -> str:
    """EPSS and other 0–1 numbers for people: three significant digits, never `9e-05`."""
    return explain.number(value)


def code_spans(text: str) -> list[tuple[bool, str]]:
    """`run `gate feeds update`` as [(False, "run "), (True, "gate feeds update")], for gate's own notes.

    Only a formatter's markup differs between the pieces: each piece is still escaped as text or as
    a code span, so a backtick in hostile text can open nothing but an inert code span.
    """
    pieces: list[tuple[bool, str]] = []
    last = 0
    for match in _CODE.finditer(text):
        if match.start() > last:
            pieces.append((False, text[last : match.start()]))
        pieces.append((True, match[1]))
        last = match.end()
    if last < len(text):
        pieces.append((False, text[last:]))
    return pieces


@dataclass(frozen=True)
class VersionLine:
    """Packages that share an installed and a fixed version: `xz, xz-libs 5.4.1-1 → 0:5.4.1-2`."""

    names: tuple[str, ...]
    installed: str
    fixed: str

    @property
    def text(self) -> str:
        return f"{', '.join(self.names)} {self.installed} → {self.fixed}"


@dataclass(frozen=True)
class FixGroup:
    """Blocking findings on the same set of packages: one upgrade clears all of them."""

    versions: tuple[VersionLine, ...]
    remediations: tuple[str, ...]
    """Image Builder's own advice, e.g. `dnf update --advisory ALAS2023-2025-1050`, once each."""
    results: tuple[FindingResult, ...]


def version_lines(results: Iterable[FindingResult]) -> tuple[VersionLine, ...]:
    """Packages merged by (installed, fixed), so five subpackages of one upgrade read as one line."""
    merged: dict[tuple[str, str], list[str]] = {}
    for result in results:
        for package in result.finding.packages:
            names = merged.setdefault((package.installed, explain.fixed_text(package)), [])
            if package.name not in names:
                names.append(package.name)
    return tuple(VersionLine(tuple(names), installed, fixed) for (installed, fixed), names in merged.items())


_NO_ADVICE = frozenset({"", "none provided", "none"})
"""What Image Builder writes when it has no remediation to give (`None Provided`)."""


def _advice(text: str | None) -> str | None:
    return None if text is None or text.strip().lower() in _NO_ADVICE else text.strip()


def _remediations(results: Iterable[FindingResult]) -> tuple[str, ...]:
    texts: list[str] = []
    for result in results:
        finding = result.finding
        advice = [_advice(finding.remediation_text)]
        if advice[0] is None:
            advice = [_advice(p.remediation) for p in finding.packages]
        texts += [a for a in advice if a and a not in texts]
    return _merge_commands(texts)


def _merge_commands(texts: list[str]) -> tuple[str, ...]:
    """`dnf update httpd` and `dnf update mod_ssl` become one `dnf update httpd mod_ssl`."""
    merged: dict[str, list[str]] = {}
    for text in texts:
        words = text.split()
        if len(words) == 3 and not words[2].startswith("-"):
            merged.setdefault(f"{words[0]} {words[1]}", []).append(words[2])
        else:
            merged.setdefault(text, [])
    return tuple(f"{head} {' '.join(args)}" if args else head for head, args in merged.items())


def _grouped(results: Sequence[FindingResult]) -> dict[tuple[str, ...], list[FindingResult]]:
    groups: dict[tuple[str, ...], list[FindingResult]] = {}
    for result in results:
        if result.decision is Decision.FAIL:
            groups.setdefault(tuple(sorted(set(result.finding.package_names))), []).append(result)
    return groups


def fix_groups(results: Sequence[FindingResult], limit: int | None = None) -> list[FixGroup]:
    """Blocking findings grouped by the packages they name, in the order the results come (worst first).

    Only the first `limit` groups are described (their versions and commands), so a report that shows
    thirty groups out of 50,000 does not work out the rest.
    """
    members = list(_grouped(results).values())[:limit]
    return [FixGroup(version_lines(group), _remediations(group), tuple(group)) for group in members]


def count_fix_groups(results: Sequence[FindingResult]) -> int:
    return len(_grouped(results))


@dataclass(frozen=True)
class RuleTally:
    """A warning rule and the findings it warned about (matches not covered by an exception)."""

    rule: RuleInfo
    results: tuple[FindingResult, ...]


def warning_tallies(evaluation: Evaluation, results: Sequence[FindingResult]) -> list[RuleTally]:
    """Warning rules by how many WARN findings they hit, most first; policy order breaks ties."""
    infos = {r.id: r for r in evaluation.rules}
    hits: dict[str, list[FindingResult]] = {}
    for result in results:
        if result.decision is Decision.WARN:
            for match in result.matches:
                if match.action is Action.WARN and not match.excepted_by:
                    hits.setdefault(match.rule_id, []).append(result)
    order = {rule_id: n for n, rule_id in enumerate(infos)}
    ranked = sorted(hits.items(), key=lambda item: (-len(item[1]), order.get(item[0], len(order)), item[0]))
    return [RuleTally(infos.get(rid) or RuleInfo(rid, Action.WARN, "?"), tuple(found)) for rid, found in ranked]


@dataclass(frozen=True)
class Excepted:
    """A finding held back by exceptions (reason, owner, expiry) or by a VEX statement (status, document)."""

    result: FindingResult
    exceptions: tuple[PolicyException, ...]
    rules: tuple[str, ...]
    vex: VexStatement | None = None
    """The OpenVEX statement that covers it: shown as VEX, never as an exception with no owner or expiry."""


def excepted(evaluation: Evaluation, results: Sequence[FindingResult]) -> list[Excepted]:
    by_id = {e.id: e for e in evaluation.exceptions}
    rows = []
    for result in results:
        if result.decision is not Decision.EXCEPTED:
            continue
        covered = [m for m in result.matches if m.excepted_by]
        ids = list(dict.fromkeys(m.excepted_by for m in covered if m.excepted_by))
        vex = result.vex if result.vex is not None and result.vex.cover_id in ids else None
        refs = tuple(by_id.get(i) or PolicyException(i, result.finding.vulnerability_id, "?", date.min)
                     for i in ids if vex is None or i != vex.cover_id)
        rows.append(Excepted(result, refs, tuple(m.rule_id for m in covered), vex))
    return rows


def vex_parts(statement: VexStatement) -> tuple[str, str, str]:
    """(`not_affected: component_not_present`, its impact statement or notes, `vex.json statement 1 by …`)."""
    why = statement.justification or ""
    status = f"{statement.status}: {why}" if why else statement.status
    said = statement.impact_statement or statement.action_statement or statement.status_notes or ""
    line = f", line {statement.line}" if statement.line else ""
    source = (f"{statement.document} statement {statement.index + 1}{line} by {statement.author}, "
              f"{statement.timestamp.date().isoformat()}")
    return status, said, source


def expiry_text(exception: PolicyException, now: datetime | None) -> str:
    """`expires 2026-01-31 (in 72 days)`: how long the exception still holds."""
    days = age_days(now, datetime.combine(exception.expires, datetime.min.time())) if now else None
    if days is None:
        return f"expires {exception.expires.isoformat()}"
    when = "today" if days == 0 else f"in {days} days" if days > 0 else f"{-days} days ago"
    return f"expires {exception.expires.isoformat()} ({when})"


def _kev_fact(enrichment: Enrichment, kev: KevEntry, fact: str | None) -> str:
    text = f"KEV since {explain.day_text(kev.date_added)}"
    if kev.due_date is not None:
        text += f", due {explain.day_text(kev.due_date)}"
    return text + (", ransomware" if kev.ransomware else "")


def _epss_fact(enrichment: Enrichment, epss: EpssScore, fact: str | None) -> str:
    extra = [f"percentile {probability(epss.percentile)}"] if epss.percentile is not None else []
    extra += [f"model {epss.model}"] if epss.model else []
    return f"EPSS {probability(epss.score)}" + (f" ({', '.join(extra)})" if extra else "")


def _ssvc_fact(enrichment: Enrichment, ssvc: Ssvc, fact: str | None) -> str:
    automatable = {True: "yes", False: "no", None: "unknown"}[ssvc.automatable]
    return (f"SSVC exploitation {ssvc.exploitation or 'unknown'}, automatable {automatable}, "
            f"technical impact {ssvc.technical_impact or 'unknown'}")


def _flag_fact(enrichment: Enrichment, value: Sourced, fact: str | None) -> str | None:
    return fact if value.value is True else None


def _score_fact(enrichment: Enrichment, value: Sourced, fact: str | None) -> str | None:
    raw = value.value
    return f"{fact} {probability(float(raw))}" if fact is not None and isinstance(raw, float | int) else None


def _names_fact(enrichment: Enrichment, value: Sourced, fact: str | None) -> str | None:
    names = value.value
    if fact is None or not isinstance(names, tuple) or not names:
        return None
    return f"{fact} {', '.join(names)}".strip()


_FACTS: dict[ValueKind, Callable[[Enrichment, Any, str | None], str | None]] = {
    "kev": _kev_fact, "asked": lambda e, asked, _: "not in KEV" if e.kev is None and asked else None,
    "epss": _epss_fact, "ssvc": _ssvc_fact, "flag": _flag_fact, "score": _score_fact, "names": _names_fact,
}


def facts(enrichment: Enrichment) -> tuple[str, ...]:
    """The exploit data behind a decision without its provenance: `KEV since 2024-03-29`, `EPSS 0.85`."""
    out = (_FACTS[d.kind](enrichment, v, d.fact) for n, d in enrichment_values() if (v := getattr(enrichment, n)))
    return tuple(fact for fact in out if fact is not None)


def provenances(enrichment: Enrichment) -> tuple[tuple[str, date | None], ...]:
    """The distinct (source, day) pairs behind an enrichment, in the order the values appear."""
    found: list[Provenance | None] = [
        getattr(enrichment, name).provenance for name, described in enrichment_values()
        if described.kind != "asked" and getattr(enrichment, name) is not None
    ]
    days = (
        (p.source, utc(p.as_of).date() if isinstance(p.as_of, datetime) else None) for p in found if p
    )
    return tuple(dict.fromkeys(days))


def provenance_text(pairs: Iterable[tuple[str, date | None]], now: datetime | None) -> str:
    """`cisa-kev as of 2025-08-25 (87 days old); first-epss as of 2025-08-28 (84 days old)`."""
    parts = [
        f"{source} as of {day.isoformat()} ({explain.age_text(day, now)})" if day else f"{source}, date unknown"
        for source, day in pairs
    ]
    return "; ".join(parts)


def shared_provenance(results: Iterable[FindingResult]) -> tuple[tuple[str, date | None], ...] | None:
    """The provenance every listed finding's data shares, or None when they differ (then say it per finding)."""
    shared: tuple[tuple[str, date | None], ...] | None = None
    for result in results:
        pairs = provenances(result.enrichment)
        if not pairs:
            continue
        if shared is None:
            shared = pairs
        elif set(pairs) != set(shared):
            return None
    return shared
