"""Compile checked expressions into one Python function per policy, and explain why a rule matched.

The generated source is built only from the typed tree of `expr` (field names from the allow-list,
literals through `repr`, constants bound by name), and runs with no builtins.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from gate.policy.expr import BoolOp, Call, Cmp, Lit, Node, Not, Ref
from gate.policy.fields import Type

Facts = dict[str, Any]
PolicyFunction = Callable[[Facts], int]
"""Returns a bitmask: bit i is set when rule i matched."""

_NULLABLE = {Type.NUMBER, Type.STRING, Type.DATE}


def _startswith(value: object, prefix: str) -> bool:
    if isinstance(value, str):
        return value.startswith(prefix)
    if isinstance(value, tuple):
        return any(isinstance(v, str) and v.startswith(prefix) for v in value)
    return False


def _matches(value: object, pattern: str) -> bool:
    if isinstance(value, str):
        return fnmatch.fnmatchcase(value, pattern)
    if isinstance(value, tuple):
        return any(isinstance(v, str) and fnmatch.fnmatchcase(v, pattern) for v in value)
    return False


def _len(value: object) -> float | None:
    return float(len(value)) if isinstance(value, str | tuple) else None


def _lower(value: object) -> str | None:
    return value.lower() if isinstance(value, str) else None


RUNTIME: dict[str, Callable[..., Any]] = {
    "len": _len, "lower": _lower, "startswith": _startswith, "matches": _matches,
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}


class _Codegen:
    def __init__(self) -> None:
        self.constants: dict[str, Any] = {f"_fn_{k}": v for k, v in RUNTIME.items()}
        self._temps = 0

    def _const(self, value: Any) -> str:
        name = f"_k{len(self.constants)}"
        self.constants[name] = value
        return name

    def _temp(self) -> str:
        self._temps += 1
        return f"_t{self._temps}"

    def value(self, node: Node) -> str:
        if isinstance(node, Lit):
            if isinstance(node.value, tuple):
                return self._const(frozenset(node.value))
            if isinstance(node.value, date):
                return self._const(node.value)
            return repr(node.value)
        if isinstance(node, Ref):
            return f"f[{node.name!r}]"
        if isinstance(node, Call):
            args = ", ".join(self.value(a) for a in node.args)
            return f"_fn_{node.func}({args})"
        return self.cond(node)

    def cond(self, node: Node) -> str:
        if isinstance(node, BoolOp):
            return "(" + f" {node.op} ".join(self.cond(o) for o in node.operands) + ")"
        if isinstance(node, Not):
            return f"(not {self.cond(node.operand)})"
        if isinstance(node, Cmp):
            return self._cmp(node)
        return self.value(node)

    def _cmp(self, node: Cmp) -> str:
        guards: list[str] = []
        sides: list[str] = []
        for side in (node.left, node.right):
            code = self.value(side)
            if side.type in _NULLABLE and not isinstance(side, Lit):
                temp = self._temp()
                guards.append(f"({temp} := {code}) is not None")
                code = temp
            sides.append(code)
        guards.append(f"{sides[0]} {node.op} {sides[1]}")
        return "(" + " and ".join(guards) + ")"


def referenced(nodes: Sequence[Node]) -> frozenset[str]:
    """The field names the conditions read."""
    names: set[str] = set()
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, Ref):
            names.add(node.name)
        elif isinstance(node, Not):
            stack.append(node.operand)
        elif isinstance(node, BoolOp):
            stack.extend(node.operands)
        elif isinstance(node, Cmp):
            stack.extend((node.left, node.right))
        elif isinstance(node, Call):
            stack.extend(node.args)
    return frozenset(names)


def compile_policy(conditions: Sequence[Node]) -> PolicyFunction:
    """One function for all rules, so a finding costs one call however many rules there are."""
    gen = _Codegen()
    lines = ["def _policy(f):", "    m = 0"]
    for i, node in enumerate(conditions):
        lines.append(f"    if {gen.cond(node)}: m |= {1 << i}")
    lines.append("    return m")
    namespace: dict[str, Any] = {"__builtins__": {}, **gen.constants}
    code = compile("\n".join(lines), "<gate-policy>", "exec")
    exec(code, namespace)  # noqa: S102 - source generated from the checked tree only
    fn: PolicyFunction = namespace["_policy"]
    return fn


def evaluate(node: Node, facts: Facts) -> Any:
    """A plain interpreter of the tree: the reference the compiled code is tested against."""
    if isinstance(node, Lit):
        return frozenset(node.value) if isinstance(node.value, tuple) else node.value
    if isinstance(node, Ref):
        return facts[node.name]
    if isinstance(node, Call):
        return RUNTIME[node.func](*(evaluate(a, facts) for a in node.args))
    if isinstance(node, Not):
        return not evaluate(node.operand, facts)
    if isinstance(node, BoolOp):
        results = (evaluate(o, facts) for o in node.operands)
        return all(results) if node.op == "and" else any(results)
    if isinstance(node, Cmp):
        left, right = evaluate(node.left, facts), evaluate(node.right, facts)
        if left is None or right is None:
            return False
        return _COMPARE[node.op](left, right)
    raise TypeError(f"unknown node {node!r}")


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple | frozenset):
        return "[" + ", ".join(_show(v) for v in sorted(value, key=str)) + "]"
    if isinstance(value, str):
        return value
    return str(value)


def _side(node: Node, facts: Facts) -> str:
    if isinstance(node, Lit):
        return node.text
    return f"{node.text} {_show(evaluate(node, facts))}"


def explain(node: Node, facts: Facts) -> list[str]:
    """The leaf conditions that made a true condition true, with the values seen, e.g. `epss 0.94 > 0.5`."""
    if isinstance(node, BoolOp):
        if node.op == "and":
            return [r for o in node.operands for r in explain(o, facts)]
        for o in node.operands:
            if evaluate(o, facts):
                return explain(o, facts)
        return []
    if isinstance(node, Not):
        return [f"not ({node.operand.text})"]
    if isinstance(node, Cmp):
        return [f"{_side(node.left, facts)} {node.op} {_side(node.right, facts)}"]
    if isinstance(node, Ref):
        return [f"{node.name} is {_show(facts[node.name])}"]
    return [f"{node.text} is true"]
