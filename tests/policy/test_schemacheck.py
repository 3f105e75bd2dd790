"""The quick schema check says "valid" exactly when jsonschema does, for the policy schema."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gate.policy.loader import policy_schema
from gate.policy.schemacheck import certainly_valid

VALIDATOR = jsonschema.Draft202012Validator(policy_schema(),
                                            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

SCALARS = (st.none() | st.booleans() | st.integers(-2, 2) | st.sampled_from([1.0, 0.5, float("nan")])
           | st.sampled_from(["", "fail", "warn", "x", "r1", "-bad", "a b", "ok\n", "2026-01-31", "2026-02-30",
                              "2026-1-31", "２０２６-01-31", "2026-01-31\n", "CVE-2024-3400", "a" * 101, "a" * 100]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(["id", "x", "when", "rules"]), inner, max_size=3), max_leaves=6)


def _maybe(draw: st.DrawFn, good: Any, keys: list[str]) -> dict[str, Any]:
    """`good`, or (one time in three) with keys dropped, values replaced by anything, or unknown keys added."""
    if draw(st.integers(0, 2)):
        return dict(good)
    out = {k: v for k, v in good.items() if draw(st.integers(0, 3)) > 0}
    for key in keys:
        if draw(st.integers(0, 3)) == 0:
            out[key] = draw(VALUES)
    return out


def _often(draw: st.DrawFn, good: Any, others: list[Any]) -> Any:
    return good if draw(st.integers(0, 5)) else draw(st.sampled_from(others))


@st.composite
def documents(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 20)) == 0:
        return draw(VALUES)
    rules = [_maybe(draw, {"id": _often(draw, "r1", ["r.2:x-y_z", "bad id", "", "r\n", "r" * 100, "r" * 101]),
                           "when": "kev", "action": _often(draw, "fail", ["warn", "block", True]),
                           "description": "d"}, ["id", "when", "action", "description", "extra"])
             for _ in range(_often(draw, 1, [0, 2, 3]))]
    exceptions = [_maybe(draw, {"vulnerability": "CVE-2024-3400", "reason": "ticket",
                                "expires": _often(draw, "2026-01-31", ["2026-13-01", "2026-01-31\n", "2026-02-30"]),
                                "packages": _often(draw, ["glibc"], [[], [""], "glibc"]),
                                "rules": _often(draw, ["r1"], [[], ["bad id"], [1]]), "owner": "me", "id": "e1"},
                         ["vulnerability", "reason", "expires", "packages", "rules", "owner", "id", "other"])
                  for _ in range(_often(draw, 1, [0, 2]))]
    doc = {"version": _often(draw, 1, [1.0, True, 2, "1"]), "name": _often(draw, "n", ["", 1]), "description": "d",
           "rules": rules, "exceptions": exceptions}
    return _maybe(draw, doc, ["version", "name", "description", "rules", "exceptions", "rule"])


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_agrees_with_jsonschema(doc: Any) -> None:
    assert certainly_valid(doc, policy_schema()) == (not any(VALIDATOR.iter_errors(doc)))


def test_generated_documents_include_valid_ones() -> None:
    # The agreement above means little unless both answers occur; a plain valid policy is one.
    doc = {"version": 1, "rules": [{"id": "r1", "when": "kev", "action": "fail"}],
           "exceptions": [{"vulnerability": "CVE-1", "reason": "r", "expires": "2026-01-31"}]}
    assert certainly_valid(doc, policy_schema())
    assert not certainly_valid({**doc, "version": True}, policy_schema())


@pytest.mark.parametrize("schema", [
    {"type": "integer"},
    {"maxLength": 3},
    {"additionalProperties": {"type": "string"}},
    {"$ref": "https://example.com/other.json"},
    {"$ref": "#/$defs/missing"},
    {"format": "email"},
    {"enum": [None]},
])
def test_a_keyword_it_does_not_interpret_makes_it_unsure(schema: dict[str, Any]) -> None:
    # Each of these would accept the instance under jsonschema; unsure must still mean "run jsonschema".
    assert not certainly_valid("ab", schema)
