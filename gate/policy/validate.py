"""`gate policy validate` as a library: every problem of a policy file in one pass, each at file:line:col.

Schema errors, unknown keys, expression errors, exceptions that have expired (they would never
apply) and comparisons that can never hold are all reported together, so an author fixes a file in
one round instead of one error per run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from gate import yamlsrc
from gate.errors import PolicyError, PolicyErrors
from gate.policy import lint
from gate.policy.loader import Checked, check_policy, resolve


@dataclass(frozen=True)
class Problem:
    """One error or warning, where it is and what to do."""

    severity: str
    """`error` (the policy cannot be used) or `warning` (it can, but a rule does not say what it seems to)."""
    path: str
    line: int | None
    column: int | None
    message: str
    hint: str | None = None

    @property
    def text(self) -> str:
        """`policy.yaml:12:13: error: rules[2].action: 'block' is not one of … (hint)`."""
        where = self.path
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return f"{where}: {self.severity}: {self.message}" + (f" ({self.hint})" if self.hint else "")


@dataclass(frozen=True)
class Validation:
    """What one policy file holds and every problem with it, in file order."""

    source: str
    rules: int
    exceptions: int
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")


def _error(error: PolicyError, fallback: str) -> Problem:
    return Problem("error", error.path or fallback, error.line, error.column, error.detail, error.hint)


def validate(name_or_path: str, today: date) -> Validation:
    """Check a policy file or shipped policy as of `today`; reading stops only at YAML that does not parse."""
    try:
        path = resolve(name_or_path)
        checked = check_policy(yamlsrc.read_text(path), str(path))
    except PolicyErrors as e:
        return Validation(e.path or name_or_path, 0, 0, tuple(_error(x, name_or_path) for x in e.errors))
    except PolicyError as e:
        return Validation(e.path or name_or_path, 0, 0, (_error(e, name_or_path),))
    problems = [_error(e, str(path)) for e in checked.errors]
    problems += _expired(checked, today)
    problems += _warnings(checked)
    problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    return Validation(str(path), len(checked.rules), len(checked.exceptions), tuple(problems))


def _expired(checked: Checked, today: date) -> list[Problem]:
    """An exception past its `expires` day covers nothing: an error, since the author meant it to."""
    items: Any = checked.doc.value.get("exceptions")
    out = []
    for i, item in enumerate(items if isinstance(items, list) else []):
        if not (isinstance(item, dict) and isinstance(item.get("expires"), str)):
            continue
        try:
            expires = date.fromisoformat(item["expires"])
        except ValueError:
            continue  # the schema's error
        if expires < today:
            name = item.get("id") or item.get("vulnerability")
            days = (today - expires).days
            line, column = checked.doc.mark(("exceptions", i, "expires"))
            out.append(Problem("error", checked.doc.path, line, column,
                               f"exception {name}: expired on {expires.isoformat()} "
                               f"({'1 day' if days == 1 else f'{days} days'} ago), so it never applies",
                               "renew it with a later `expires` and a reason, or delete it"))
    return out


def _warnings(checked: Checked) -> list[Problem]:
    """Comparisons that can never (or always) hold, at the column the comparison starts in its `when`."""
    out = []
    for rule, node, problem in lint.suspicious(checked.rules):
        where = (*checked.rule_paths[rule.id], "when")
        line, column = checked.doc.mark(where)
        offset = rule.when.find(node.text)
        if column is not None and offset >= 0 and "\n" not in rule.when.strip():
            column += offset
        out.append(Problem("warning", checked.doc.path, line, column,
                           f"rule '{rule.id}': `{node.text}` {problem}"))
    return out
