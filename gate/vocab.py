"""The words every layer shares, without the domain's dataclasses: the severity scale and a finding's identity.

Kept apart from `model` so that commands which only read policies (`gate policy validate`) need not
build the domain classes at start-up.
"""

from __future__ import annotations

SEVERITY_ORDER: tuple[str, ...] = (
    "CRITICAL",
    "HIGH",
    "MEDIUM",
    "LOW",
    "INFORMATIONAL",
    "UNTRIAGED",
)
"""Known severities, most severe first; Image Builder's field is a free string, so others may occur."""


def severity_rank(severity: str) -> int:
    """Sort key: CRITICAL first, unknown severities last."""
    try:
        return SEVERITY_ORDER.index(severity)
    except ValueError:
        return len(SEVERITY_ORDER)


def identity(vulnerability_id: str, package_names: tuple[str, ...] | list[str]) -> str:
    """`Finding.identity` from its parts, for findings read back from a report."""
    return f"{vulnerability_id}|{','.join(sorted(set(package_names)))}"
