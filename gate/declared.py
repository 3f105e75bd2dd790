"""What a policy and its VEX documents declare, as the reports show it: rules, exceptions, VEX statements.

Apart from `outcome` (what is decided) so that reading a policy (`gate policy validate`) builds only
these few classes at start-up.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime


class Action(enum.StrEnum):
    FAIL = "fail"
    WARN = "warn"


@dataclass(frozen=True)
class RuleInfo:
    """A policy rule as reports show it."""

    id: str
    action: Action
    when: str
    description: str | None = None


@dataclass(frozen=True)
class PolicyException:
    """A policy's exception (a waiver): what it covers, why, whose it is, and when it ends."""

    id: str
    vulnerability: str
    reason: str
    expires: date
    owner: str | None = None
    rules: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    until: str | None = None
    """A `when` expression: once it holds for a finding, the exception no longer covers that finding."""


@dataclass(frozen=True)
class VexStatement:
    """One OpenVEX statement as read from a document, with what is needed to cite it."""

    document: str
    """The file it was read from."""
    document_id: str
    author: str
    index: int
    """0-based position in the document's `statements`."""
    vulnerability: str
    aliases: tuple[str, ...]
    products: tuple[str, ...]
    """One entry per product: its identifiers (`@id`, then `identifiers.purl`) joined by a newline."""
    subcomponents: tuple[tuple[str, ...], ...]
    """Per product, in `products` order: its subcomponents, each as newline-joined identifiers (empty: the
    statement is about the whole product)."""
    status: str
    timestamp: datetime
    justification: str | None = None
    impact_statement: str | None = None
    action_statement: str | None = None
    status_notes: str | None = None
    line: int | None = None

    @property
    def covers(self) -> bool:
        """`not_affected` and `fixed` cover a finding; `affected` and `under_investigation` never do."""
        return self.status in ("not_affected", "fixed")

    @property
    def cover_id(self) -> str:
        """What `RuleMatch.excepted_by` holds when this statement covers (a space: no policy id has one)."""
        return f"VEX {self.ref}"

    @property
    def ref(self) -> str:
        """`vex.json#2`: the document and the statement's 1-based number in it."""
        return f"{self.document}#{self.index + 1}"

    @property
    def why(self) -> str:
        """`not_affected (vulnerable_code_not_present)`: the status and its stated reason."""
        reason = self.justification or self.impact_statement or self.action_statement
        return f"{self.status} ({reason})" if reason else self.status
