"""What data each rule of a policy needs, and which rules saved files alone can judge (`gate policy show`).

A rule reads fields; each field is answered by some kinds of source (`gate.fields`). A run on
exports alone — the Image Builder findings export with the KEV and EPSS feed files — answers the
finding's own fields, the clock, KEV and EPSS; anything else needs Inspector, a baseline or
Vulnrichment, and `gate check` stops with exit 3 when no source in the run can answer a rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gate.fields import ALWAYS, EXPORTS_ALONE, FIELDS, SUPPLY, DataKind
from gate.policy.compile import referenced
from gate.policy.loader import Policy

LABELS: dict[DataKind, str] = {
    DataKind.KEV: "KEV feed",
    DataKind.EPSS: "EPSS feed",
    DataKind.INSPECTOR: "Inspector",
    DataKind.INSPECTOR_SEARCH: "Inspector",
    DataKind.INSPECTOR_EVENTS: "on-demand scan events",
    DataKind.BASELINE: "a baseline",
    DataKind.VULNRICHMENT: "Vulnrichment",
}
"""Short names for the kinds of source, explained once under the list."""


def _labels(kinds: Iterable[str]) -> tuple[str, ...]:
    order = list(LABELS)
    return tuple(dict.fromkeys(LABELS[DataKind(k)] for k in sorted(kinds, key=lambda k: order.index(DataKind(k)))
                               if DataKind(k) in LABELS))


@dataclass(frozen=True)
class RuleNeeds:
    """One rule (or exception `until`): the fields it reads beyond the finding, grouped by what answers them."""

    label: str
    needs: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    """((field, …), (source label, …)): fields any one of the labelled sources answers."""
    from_exports: bool
    """Judged on the findings export and the KEV/EPSS feed files alone."""


def rule_needs(policy: Policy) -> list[RuleNeeds]:
    conditions = [(rule.id, rule.condition) for rule in policy.rules]
    conditions += [(f"exception {ex_id} until", condition) for ex_id, condition in policy.untils]
    out = []
    for label, condition in conditions:
        names = sorted(referenced([condition]))
        grouped: dict[tuple[str, ...], list[str]] = {}
        for name in names:
            if not FIELDS[name].sources & ALWAYS:
                grouped.setdefault(_labels(FIELDS[name].sources), []).append(name)
        needs = tuple((tuple(fields), labels) for labels, fields in grouped.items())
        out.append(RuleNeeds(label, needs, all(FIELDS[n].sources & EXPORTS_ALONE for n in names)))
    return out


def comment(policy: Policy) -> list[str]:
    """The needs as YAML comment lines, so `gate policy show NAME > mine.yaml` still writes a policy."""
    rows = rule_needs(policy)
    width = max((len(r.label) for r in rows), default=0)
    lines = ["", "# Data each rule needs beyond the finding (gate check stops with exit 3 when the run has none):"]
    for row in rows:
        text = "; ".join(f"{', '.join(fields)}: {' or '.join(labels)}" for fields, labels in row.needs)
        lines.append(f"#   {row.label:<{width}}  {text or '-'}")
    alone = [r.label for r in rows if r.from_exports]
    more = [r.label for r in rows if not r.from_exports]
    lines.append(f"# Judged from exports alone (findings export + KEV/EPSS feeds): {', '.join(alone) or 'none'}")
    if more:
        lines.append(f"# Need more than exports: {', '.join(more)}")
    used = dict.fromkeys(label for row in rows for _, labels in row.needs for label in labels)
    lines += ["# Where each comes from:"] if used else []
    ways = {label: [SUPPLY[s] for s, name in LABELS.items() if name == label and s in SUPPLY] for label in used}
    lines += [f"#   {label}: {' or '.join(dict.fromkeys(ways[label]))}" for label in used]
    return lines
