"""Checks of the AWS answers actions read: a member missing or of the wrong type is exit 3, never a guess.

A small local table on purpose: it is shaped to fold into the central shape checks of `gate/aws/` (each
check names the call, the member and the type it expected).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from gate.errors import AwsCallError

T = TypeVar("T")


def bad_answer(call: str, what: str) -> AwsCallError:
    return AwsCallError(f"{call} answered without {what}", action=call, code="MalformedAnswer",
                        hint="AWS or a proxy in between returned an unexpected answer; retry, and report it if it "
                        "persists")


def member(doc: object, name: str, kind: type[T], *, call: str) -> T:
    """`doc[name]`, which must be present and a `kind` (a str also must not be empty)."""
    value = doc.get(name) if isinstance(doc, Mapping) else None
    if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool) or value == "":
        raise bad_answer(call, f"a valid {name} ({kind.__name__})")
    return value


def optional(doc: object, name: str, kind: type[T], *, call: str) -> T | None:
    """`doc[name]` if present (then of type `kind`), else None."""
    if not isinstance(doc, Mapping):
        raise bad_answer(call, f"an object holding {name}")
    if doc.get(name) is None:
        return None
    return member(doc, name, kind, call=call)


def records(doc: object, name: str, *, call: str, required: bool = True) -> Sequence[Mapping[str, Any]]:
    """`doc[name]`: a list of objects (absent is an empty list when not `required`)."""
    value = doc.get(name) if isinstance(doc, Mapping) else None
    if value is None and not required and isinstance(doc, Mapping):
        return ()
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise bad_answer(call, f"a list of objects in {name}")
    return value
