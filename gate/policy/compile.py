"""Compile checked expressions into Python: one function that decides every rule, and per rule one that says why.

Both are generated from the same typed tree by the same code generator, so the reasons a report
shows come from exactly the semantics that decided. The source is built only from the tree of
`expr` (field names from the allow-list, literals through `repr`, constants bound by name) and runs
with no builtins.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from gate.policy.expr import BoolOp, Call, Cmp, Lit, Node, Not, Ref

Facts = dict[str, Any]
PolicyFunction = Callable[[Facts], int]
"""Returns a bitmask: bit i is set when rule i matched."""
ExplainFunction = Callable[[Facts], list[str]]
"""For a rule that matched: the leaf conditions that made it hold, with the values seen."""


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


def show(value: Any) -> str:
    """A value as explanations print it: `true`, `0.94`, `[a, b]`, `unknown`."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple | frozenset):
        return "[" + ", ".join(show(v) for v in sorted(value, key=str)) + "]"
    return str(value)


RUNTIME: dict[str, Callable[..., Any]] = {
    "len": _len, "lower": _lower, "startswith": _startswith, "matches": _matches,
}


class _Codegen:
    def __init__(self) -> None:
        self.constants: dict[str, Any] = {f"_fn_{k}": v for k, v in RUNTIME.items()}
        self.constants["_show"] = show
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
        """An expression that is true exactly when the condition holds; a missing value compares false."""
        if isinstance(node, BoolOp):
            return "(" + f" {node.op} ".join(self.cond(o) for o in node.operands) + ")"
        if isinstance(node, Not):
            return f"(not {self.cond(node.operand)})"
        if isinstance(node, Cmp):
            guards: list[str] = []
            sides: list[str] = []
            for side in (node.left, node.right):
                code = self.value(side)
                if not isinstance(side, Lit):
                    temp = self._temp()
                    guards.append(f"({temp} := {code}) is not None")
                    code = temp
                sides.append(code)
            guards.append(f"{sides[0]} {node.op} {sides[1]}")
            return "(" + " and ".join(guards) + ")"
        return self.value(node)

    def why(self, node: Node) -> str:
        """An expression for the list of reasons, valid where `cond(node)` is true."""
        if isinstance(node, BoolOp):
            if node.op == "and":
                return " + ".join(self.why(o) for o in node.operands)
            chain = "[]"
            for operand in reversed(node.operands):
                chain = f"({self.why(operand)} if {self.cond(operand)} else {chain})"
            return chain
        if isinstance(node, Not):
            return repr([f"not ({node.operand.text})"])
        if isinstance(node, Cmp):
            return f"[{self._side(node.left)} + {f' {node.op} '!r} + {self._side(node.right)}]"
        if isinstance(node, Ref):
            return f"[{f'{node.name} is '!r} + _show({self.value(node)})]"
        return repr([f"{node.text} is true"])

    def _side(self, node: Node) -> str:
        if isinstance(node, Lit):
            return repr(node.text)
        return f"{node.text + ' '!r} + _show({self.value(node)})"


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


def compile_policy(conditions: Sequence[Node]) -> tuple[PolicyFunction, tuple[ExplainFunction, ...]]:
    """One deciding function for all rules (a finding costs one call), and one explainer per rule."""
    gen = _Codegen()
    lines = ["def _policy(f):", "    m = 0"]
    for i, node in enumerate(conditions):
        # NOTE: `1 << i` in the source, not its value: Python refuses to write an int of 4,300+ digits.
        lines.append(f"    if {gen.cond(node)}: m |= 1 << {i}")
    lines.append("    return m")
    for i, node in enumerate(conditions):
        lines.append(f"def _why{i}(f):")
        lines.append(f"    return {gen.why(node)}")
    namespace: dict[str, Any] = {"__builtins__": {}, **gen.constants}
    code = compile("\n".join(lines), "<gate-policy>", "exec")
    exec(code, namespace)  # noqa: S102 - source generated from the checked tree only
    return namespace["_policy"], tuple(namespace[f"_why{i}"] for i in range(len(conditions)))
