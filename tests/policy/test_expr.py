"""The expression language: what it accepts, what it refuses, and that compiled code agrees with the interpreter."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from gate.errors import ExprError
from gate.policy.compile import compile_policy
from gate.policy.expr import Node, parse


def evaluate(node: Node, facts: dict[str, Any]) -> bool:
    """What the one compiled evaluator decides for a single condition."""
    return bool(compile_policy([node])[0](facts))


def explain(node: Node, facts: dict[str, Any]) -> list[str]:
    """Why the compiled evaluator says the condition holds."""
    return compile_policy([node])[1][0](facts)



def facts(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "vulnerability_id": "CVE-2024-3400", "severity": "HIGH", "vendor_severity": "Important",
        "fix_available": True, "fix": "YES", "packages": ("glibc", "glibc-common"), "inspector_score": 7.5,
        "cvss": 7.5, "age_days": 10.0, "kev": False, "kev_date_added": None, "kev_due_date": None,
        "kev_ransomware": False, "epss": 0.42, "epss_percentile": 0.97, "exploit_observed": False,
        "exploit_available": False, "risk_score": None, "cwes": ("CWE-787",), "ttps": (), "tools": (),
        "enriched": True, "today": date(2026, 11, 21),
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kev", False),
        ("not kev", True),
        ("epss > 0.4 and fix_available", True),
        ("epss > 0.5 or severity == 'HIGH'", True),
        ('severity in ["HIGH", "CRITICAL"]', True),
        ('severity not in ["HIGH", "CRITICAL"]', False),
        ('"glibc" in packages', True),
        ('"openssl" in packages', False),
        ('"CWE-787" in cwes', True),
        ("0.4 < epss < 0.5", True),
        ("risk_score > 10", False),  # missing value: comparison is false
        ("risk_score != 10", False),  # ... whatever the operator
        ("not (risk_score > 10)", True),
        ('kev_date_added >= "2024-01-01"', False),
        ('startswith(packages, "glibc-")', True),
        ('matches(packages, "glib?")', True),
        ("len(packages) == 2", True),
        ('lower(vendor_severity) == "important"', True),
        ("cvss >= 7 and inspector_score >= 7.5", True),
        ("age_days > -1", True),
        ("true and not false", True),
        ("today > \"2026-01-01\"", True),
    ],
)
def test_expressions_evaluate_as_documented(text: str, expected: bool) -> None:
    node = parse(text)
    assert evaluate(node, facts()) is expected
    assert bool(compile_policy([node])[0](facts())) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('id')", "only the built-in functions"),
        ("__import__('os')", "function `__import__` is not allowed"),
        ("epss.__class__", "attribute access"),
        ("().__class__.__bases__", "attribute access"),
        ("packages[0] == 'x'", "indexing"),
        ("[p for p in packages]", "comprehensions"),
        ("(lambda: 1)()", "only the built-in functions"),
        ("open('/etc/passwd')", "function `open` is not allowed"),
        ("eval('1')", "function `eval` is not allowed"),
        ("_secret", "names starting with '_'"),
        ("(x := 1)", "assignment"),
        ("epss * 2 > 1", "arithmetic"),
        ("{'a': 1}", "dictionaries"),
        ("f'{epss}' == '1'", "f-strings"),
        ("len(packages, 1) > 0", "takes 1 argument"),
        ("startswith(packages, prefix='x')", "keyword"),
    ],
)
def test_unsafe_expressions_are_refused_at_load(text: str, message: str) -> None:
    with pytest.raises(ExprError) as err:
        parse(text)
    assert message in err.value.message


def test_unknown_field_names_the_nearest() -> None:
    with pytest.raises(ExprError) as err:
        parse("epss > 0.5 and fix_avaliable")
    assert err.value.message == "unknown field `fix_avaliable`"
    assert err.value.hint == "did you mean `fix_available`?"
    assert err.value.column == 16


def test_syntax_error_has_a_column() -> None:
    with pytest.raises(ExprError) as err:
        parse("epss > > 0.5")
    assert err.value.message == "cannot read the condition from `>` on"  # gate's words, not Python's
    assert err.value.column == 8


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("epss", "is a number, not true/false"),
        ("severity > 'A'", "compares numbers or dates"),
        ("epss == 'high'", "cannot compare number"),
        ("kev and epss", "`and` needs true/false"),
        ("kev_date_added > '2024-13-40'", "not a YYYY-MM-DD date"),
        ("packages == ['a']", "lists cannot be compared"),
        ("severity in [1, 2]", "list items must be strings"),
        ("[1, 'a'] == packages", "all strings or all numbers"),
    ],
)
def test_type_errors_are_caught_at_load(text: str, message: str) -> None:
    with pytest.raises(ExprError) as err:
        parse(text)
    assert message in err.value.message


def test_pathological_input_is_a_policy_error_not_a_crash() -> None:
    assert evaluate(parse("(" * 200 + "kev" + ")" * 200), facts(kev=True)) is True
    with pytest.raises(ExprError, match="nested deeper"):
        parse("not " * 100 + "kev")
    with pytest.raises(ExprError, match="longer than"):
        parse("kev or " * 1000 + "kev")
    with pytest.raises(ExprError):
        parse("(" * 1500 + "kev" + ")" * 1500)


def test_explain_names_the_values_that_matched() -> None:
    node = parse("kev or (epss > 0.4 and fix_available)")
    assert explain(node, facts()) == ["epss 0.42 > 0.4", "fix_available is true"]
    assert explain(parse('"glibc" in packages'), facts()) == ['"glibc" in packages [glibc, glibc-common]']


def test_one_function_evaluates_every_rule() -> None:
    nodes = [parse("kev"), parse("epss > 0.4"), parse("severity == 'HIGH'")]
    assert compile_policy(nodes)[0](facts()) == 0b110


@pytest.mark.parametrize("text", [
    "exploit_observed != true", "exploit_observed == false", '"CWE-79" in cwes', '"CWE-79" not in cwes',
    "len(cwes) == 0", "kev == false", "kev != true", "epss_percentile <= 1",
])
def test_an_unknown_value_compares_false_whatever_the_operator(text: str) -> None:
    unknown = facts(exploit_observed=None, cwes=None, kev=None, epss_percentile=None)
    assert evaluate(parse(text), unknown) is False


def test_explanations_show_unknown_values_as_unknown() -> None:
    node = parse("not kev and severity == 'HIGH'")
    assert explain(node, facts(kev=None)) == ["not (kev)", "severity HIGH == 'HIGH'"]
