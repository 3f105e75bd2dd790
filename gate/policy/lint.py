"""Warnings for conditions that parse and type-check but can never (or always) hold, like `severity == "critical"`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from gate.fields import FIELDS
from gate.policy.expr import BoolOp, Call, Cmp, Lit, Node, Not, Ref
from gate.policy.loader import Policy, Rule

ENUMS: dict[str, tuple[str, ...]] = {name: field.values for name, field in FIELDS.items() if field.values}
# NOTE: numeric ranges would sit better in the field registry next to `values`.
RANGES: dict[str, tuple[float, float]] = {
    "epss": (0.0, 1.0),
    "epss_percentile": (0.0, 1.0),
    "cvss": (0.0, 10.0),
    "inspector_score": (0.0, 10.0),
}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, Not):
        yield from _walk(node.operand)
    elif isinstance(node, BoolOp):
        for operand in node.operands:
            yield from _walk(operand)
    elif isinstance(node, Cmp):
        yield from _walk(node.left)
        yield from _walk(node.right)
    elif isinstance(node, Call):
        for arg in node.args:
            yield from _walk(arg)


def _enum_problem(field: str, op: str, value: object, allowed: tuple[str, ...]) -> str | None:
    values = value if isinstance(value, tuple) else (value,)
    outside = [v for v in values if isinstance(v, str) and v not in allowed]
    if not outside:
        return None
    shown = ", ".join(f'"{v}"' for v in outside)
    hint = f"{field} is one of {', '.join(allowed)}"
    near = [a for v in outside for a in allowed if isinstance(v, str) and a.lower() == v.lower()]
    if near:
        hint += f" (upper-case: \"{near[0]}\")"
    if op in ("==", "in") and len(outside) == len(values):
        return f"can never match: {hint}, never {shown}"
    if op in ("!=", "not in") and len(outside) == len(values):
        return f"always holds: {hint}, never {shown}"
    return f"{shown} can never match: {hint}"


def _range_problem(field: str, op: str, value: float) -> str | None:
    low, high = RANGES[field]
    never = {
        ">": value >= high, ">=": value > high, "<": value <= low, "<=": value < low,
        "==": not low <= value <= high,
    }.get(op, False)
    if never:
        return f"can never match: {field} is between {low:g} and {high:g}"
    return None


def _problem(node: Cmp) -> str | None:
    left, right, op = node.left, node.right, node.op
    if isinstance(left, Lit) and isinstance(right, Ref) and op in _FLIP:
        left, right, op = right, left, _FLIP[op]
    if not (isinstance(left, Ref) and isinstance(right, Lit)):
        return None
    if left.name in ENUMS and op in ("==", "!=", "in", "not in"):
        return _enum_problem(left.name, op, right.value, ENUMS[left.name])
    if left.name in RANGES and isinstance(right.value, int | float) and not isinstance(right.value, bool):
        return _range_problem(left.name, op, float(right.value))
    return None


def suspicious(rules: Iterable[Rule]) -> Iterator[tuple[Rule, Cmp, str]]:
    """Each comparison that can never (or always) hold: its rule, the comparison and what is wrong with it."""
    for rule in rules:
        for node in _walk(rule.condition):
            if isinstance(node, Cmp):
                problem = _problem(node)
                if problem:
                    yield rule, node, problem


def warnings(policy: Policy) -> list[str]:
    """`rule 'high': severity == "critical" can never match: …`, one line per suspicious comparison."""
    return [f"rule '{rule.id}': `{node.text}` {problem}" for rule, node, problem in suspicious(policy.rules)]
