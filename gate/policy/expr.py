"""Policy expressions: parsed with Python's grammar, checked against an allow-list into a small typed tree.

Nothing of the parsed Python survives this module: compilation and explanation work on the tree
defined here, which can only name fields, literals and allow-listed functions.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from datetime import date

from gate.errors import ExprError
from gate.fields import FIELDS, Type

MAX_LENGTH = 4000
MAX_DEPTH = 40
MAX_NUMBER = 1e15
"""Bound on numeric literals: scores are 0..10, ages a few thousand days; beyond this is a typo or an attack."""


@dataclass(frozen=True)
class Node:
    type: Type
    text: str
    """The source text of this node, for explanations."""


@dataclass(frozen=True)
class Lit(Node):
    value: object
    """bool, float, str, date, or a tuple of str/float for list literals."""


@dataclass(frozen=True)
class Ref(Node):
    name: str


@dataclass(frozen=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True)
class BoolOp(Node):
    op: str
    """`and` or `or`."""
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Cmp(Node):
    op: str
    """One of == != < <= > >= in `not in`."""
    left: Node
    right: Node


@dataclass(frozen=True)
class Call(Node):
    func: str
    args: tuple[Node, ...]


# name -> (allowed types per argument, result type)
FUNCTIONS: dict[str, tuple[tuple[frozenset[Type], ...], Type]] = {
    "len": ((frozenset({Type.LIST, Type.STRING}),), Type.NUMBER),
    "lower": ((frozenset({Type.STRING}),), Type.STRING),
    "startswith": ((frozenset({Type.STRING, Type.LIST}), frozenset({Type.STRING})), Type.BOOL),
    "matches": ((frozenset({Type.STRING, Type.LIST}), frozenset({Type.STRING})), Type.BOOL),
}
CONSTANTS = {"true": True, "false": False, "True": True, "False": False}
_OPS = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in",
}
_FORBIDDEN = {
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "indexing is not allowed",
    ast.Lambda: "lambdas are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.NamedExpr: "assignment is not allowed",
    ast.BinOp: "arithmetic is not supported",
    ast.IfExp: "conditional expressions are not supported",
    ast.Dict: "dictionaries are not supported",
    ast.Set: "sets are not supported; use a list [...]",
    ast.JoinedStr: "f-strings are not allowed",
    ast.Await: "await is not allowed",
    ast.Starred: "starred expressions are not allowed",
}


def suggest(name: str, choices: list[str]) -> str | None:
    import difflib  # noqa: PLC0415 - only on the error path; it costs every run about 18 ms

    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def parse(text: str) -> Node:
    """Parse and type-check; the result is a boolean condition."""
    if not text.strip():
        raise ExprError("empty expression")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression longer than {MAX_LENGTH} characters")
    source = text.strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as e:
        raise _syntax_error(e, source) from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise ExprError(f"cannot parse expression: {type(e).__name__}") from None
    checker = _Checker(source)
    node = checker.check(tree.body, 0)
    if node.type is not Type.BOOL:
        raise ExprError(
            f"the condition is a {node.type.value}, not true/false",
            column=1,
            hint="compare it, e.g. `epss > 0.5`",
        )
    return node


_GRAMMAR = "join conditions with and/or/not; compare with ==, !=, <, <=, >, >=, in, not in"
_PAIRS = {")": "(", "]": "["}


def _syntax_error(error: SyntaxError, source: str) -> ExprError:
    """Python's parser message in the policy's own terms, pointing at the column it happened in."""
    msg = error.msg or ""
    at = error.offset if error.offset and 0 < error.offset <= len(source) else len(source) + 1
    if error.lineno and error.lineno > 1:  # NOTE: a block scalar: count the columns of the lines before
        at = min(sum(len(line) + 1 for line in source.splitlines()[: error.lineno - 1]) + at, len(source) + 1)
    char = source[at - 1] if at <= len(source) else ""
    if "was never closed" in msg:
        return ExprError(f"'{char}' is opened here and never closed", column=at)
    if msg.startswith("unmatched"):
        return ExprError(f"'{char}' closes nothing: there is no '{_PAIRS.get(char, '(')}' before it", column=at)
    if "unterminated string" in msg:
        return ExprError("this string has no closing quote", column=at, hint='e.g. severity == "HIGH"')
    if "decimal literal" in msg:
        return ExprError("a number runs into letters here", column=at, hint="write numbers as 0.5 or 7")
    if at > len(source.rstrip()):
        last = source.rsplit(maxsplit=1)[-1] if source.split() else ""
        return ExprError(f"the condition ends after `{last}`: something must follow it", column=len(source) + 1,
                         hint=_GRAMMAR)
    if char == "=" and source[at : at + 1] != "=" and source[at - 2 : at - 1] not in "=!<>":
        return ExprError("`=` is not a comparison", column=at, hint="write `==`")
    word = source[at - 1 :].split(maxsplit=1)[0] if source[at - 1 :].split() else char
    return ExprError(f"cannot read the condition from `{word}` on", column=at, hint=_GRAMMAR)


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def _text(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or ""

    def _fail(self, node: ast.AST, message: str, hint: str | None = None) -> ExprError:
        return ExprError(message, column=getattr(node, "col_offset", 0) + 1, hint=hint)

    def check(self, node: ast.expr, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self._fail(node, f"expression nested deeper than {MAX_DEPTH} levels")
        for kind, message in _FORBIDDEN.items():
            if isinstance(node, kind):
                raise self._fail(node, message)
        text = self._text(node)
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            parts = tuple(self._bool(v, depth, op) for v in node.values)
            return BoolOp(Type.BOOL, text, op, parts)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return Not(Type.BOOL, text, self._bool(node.operand, depth, "not"))
            if isinstance(node.op, ast.USub | ast.UAdd) and isinstance(node.operand, ast.Constant):
                inner = self._constant(node.operand)
                if inner.type is Type.NUMBER:
                    sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
                    return Lit(Type.NUMBER, text, sign * float(inner.value))  # type: ignore[arg-type]
            raise self._fail(node, "arithmetic is not supported")
        if isinstance(node, ast.Compare):
            return self._compare(node, depth, text)
        if isinstance(node, ast.Name):
            return self._name(node, text)
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.List | ast.Tuple):
            return self._list(node, depth, text)
        if isinstance(node, ast.Call):
            return self._call(node, depth, text)
        raise self._fail(node, f"{type(node).__name__} is not allowed in a policy expression")

    def _bool(self, node: ast.expr, depth: int, op: str) -> Node:
        inner = self.check(node, depth + 1)
        if inner.type is not Type.BOOL:
            raise self._fail(node, f"`{op}` needs true/false, but `{inner.text}` is a {inner.type.value}")
        return inner

    def _name(self, node: ast.Name, text: str) -> Node:
        name = node.id
        if name in CONSTANTS:
            return Lit(Type.BOOL, text, CONSTANTS[name])
        if name.startswith("_"):
            raise self._fail(node, f"names starting with '_' are not allowed: {name}")
        field = FIELDS.get(name)
        if field is None:
            near = suggest(name, [*FIELDS, *FUNCTIONS])
            hint = f"did you mean `{near}`?" if near else "run `gate policy fields` to list the fields"
            raise self._fail(node, f"unknown field `{name}`", hint)
        return Ref(field.type, text, name)

    def _constant(self, node: ast.Constant) -> Lit:
        value, text = node.value, self._text(node)
        if isinstance(value, bool):
            return Lit(Type.BOOL, text, value)
        if isinstance(value, int | float):
            # NOTE: a 400-digit integer overflows float(); NaN and inf fail the comparison too.
            if not -MAX_NUMBER <= value <= MAX_NUMBER:
                raise self._fail(node, f"numbers must be finite and at most {MAX_NUMBER:.0e} in size")
            return Lit(Type.NUMBER, text, float(value))
        if isinstance(value, str):
            return Lit(Type.STRING, text, value)
        raise self._fail(node, f"literal {text} is not allowed (strings, numbers, true/false only)")

    def _list(self, node: ast.List | ast.Tuple, depth: int, text: str) -> Node:
        items = [self.check(e, depth + 1) for e in node.elts]
        if not all(isinstance(i, Lit) for i in items):
            raise self._fail(node, "list items must be literals")
        kinds = {i.type for i in items}
        if len(kinds) > 1 or kinds - {Type.STRING, Type.NUMBER}:
            raise self._fail(node, "list items must be all strings or all numbers")
        values = tuple(i.value for i in items if isinstance(i, Lit))
        return Lit(Type.LIST, text, values)

    def _call(self, node: ast.Call, depth: int, text: str) -> Node:
        if not isinstance(node.func, ast.Name):
            raise self._fail(node, "only the built-in functions can be called: " + ", ".join(FUNCTIONS))
        name = node.func.id
        if name not in FUNCTIONS:
            raise self._fail(
                node, f"function `{name}` is not allowed", hint="allowed: " + ", ".join(FUNCTIONS)
            )
        if node.keywords:
            raise self._fail(node, f"`{name}` takes no keyword arguments")
        params, result = FUNCTIONS[name]
        if len(node.args) != len(params):
            raise self._fail(node, f"`{name}` takes {len(params)} argument(s), got {len(node.args)}")
        args = []
        for arg, allowed in zip(node.args, params, strict=True):
            checked = self.check(arg, depth + 1)
            if checked.type not in allowed:
                kinds = " or ".join(sorted(t.value for t in allowed))
                raise self._fail(arg, f"`{name}` needs a {kinds}, but `{checked.text}` is a {checked.type.value}")
            args.append(checked)
        return Call(result, text, name, tuple(args))

    def _compare(self, node: ast.Compare, depth: int, text: str) -> Node:
        left = self.check(node.left, depth + 1)
        parts: list[Node] = []
        for op_node, right_ast in zip(node.ops, node.comparators, strict=True):
            right = self.check(right_ast, depth + 1)
            op = _OPS.get(type(op_node))
            if op is None:
                raise self._fail(node, "`is` is not supported; use == or !=")
            part_text = f"{left.text} {op} {right.text}"
            parts.append(self._pair(node, op, left, right, part_text))
            left = right
        if len(parts) == 1:
            return parts[0]
        return BoolOp(Type.BOOL, text, "and", tuple(parts))

    def _pair(self, node: ast.AST, op: str, left: Node, right: Node, text: str) -> Cmp:
        left, right = self._dates(node, left, right), self._dates(node, right, left)
        lt, rt = left.type, right.type
        if op in ("in", "not in"):
            ok = (rt is Type.LIST and lt in (Type.STRING, Type.NUMBER)) or (
                lt is Type.STRING and rt is Type.STRING
            )
            if not ok:
                raise self._fail(node, f"`{op}` needs a value and a list (or two strings), "
                                       f"got {lt.value} and {rt.value}")
            if isinstance(right, Lit) and isinstance(right.value, tuple):
                wrong = [v for v in right.value if isinstance(v, str) != (lt is Type.STRING)]
                if wrong:
                    raise self._fail(node, f"list items must be {lt.value}s to compare with `{left.text}`")
            return Cmp(Type.BOOL, text, op, left, right)
        if lt is not rt:
            raise self._fail(node, f"cannot compare {lt.value} `{left.text}` with {rt.value} `{right.text}`")
        if lt is Type.LIST:
            raise self._fail(node, "lists cannot be compared; use `in`")
        if op not in ("==", "!=") and lt not in (Type.NUMBER, Type.DATE):
            raise self._fail(node, f"`{op}` compares numbers or dates, not {lt.value}s")
        return Cmp(Type.BOOL, text, op, left, right)

    def _dates(self, node: ast.AST, value: Node, other: Node) -> Node:
        """A string literal compared with a date field is a date, checked now rather than at run time."""
        if other.type is Type.DATE and isinstance(value, Lit) and value.type is Type.STRING:
            try:
                return Lit(Type.DATE, value.text, date.fromisoformat(str(value.value)))
            except ValueError:
                raise self._fail(node, f"{value.text} is not a YYYY-MM-DD date") from None
        return value
