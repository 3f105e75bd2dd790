"""The Allowed AMIs criteria that admit AMIs gate marked: the whole document `replace-image-criteria-…` takes.

That call replaces all of an account's criteria, so the criteria it already has (`get-allowed-images-settings`
output) are kept, checked against EC2's own model and AWS's documented limits; a criterion that holds only
this watermark key (an earlier run's) is replaced, so running it again changes nothing. Criteria are
alternatives, so one that admits this key (wildcards included) for longer than `--max-age` is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gate.errors import InputError, UsageError

MAX_CRITERIA = 10
MAX_WATERMARKS = 50
"""`ImageCriterion` limits of the EC2 API reference: 10 criteria, 50 watermark entries in each."""
SETTINGS_KEYS = frozenset({"State", "ImageCriteria", "ManagedBy"})
"""What `aws ec2 get-allowed-images-settings` prints."""
ACCOUNT = re.compile(r"[0-9]{12}")


def _request_shape() -> Any:
    import botocore.session  # noqa: PLC0415 - only this command loads EC2's model

    model = botocore.session.get_session().get_service_model("ec2")
    return model.operation_model("ReplaceImageCriteriaInAllowedImagesSettings").input_shape


def _problems(document: Mapping[str, Any]) -> list[str]:
    from botocore.validate import ParamValidator  # noqa: PLC0415

    report = ParamValidator().validate(dict(document), _request_shape())
    return [line.strip() for line in report.generate_report().splitlines() if line.strip()]


def existing_criteria(doc: object, origin: str) -> list[dict[str, Any]]:
    """The criteria of a `get-allowed-images-settings` answer; anything else is an `InputError` (exit 2)."""
    hint = "pass the output of `aws ec2 get-allowed-images-settings` unchanged"
    if not isinstance(doc, Mapping) or not set(doc) <= SETTINGS_KEYS:
        extra = sorted(set(doc) - SETTINGS_KEYS) if isinstance(doc, Mapping) else []
        raise InputError(f"{origin} is not get-allowed-images-settings output" +
                         (f" (unknown keys {', '.join(map(repr, extra[:5]))})" if extra else ""), hint=hint)
    criteria = doc.get("ImageCriteria", [])
    if not isinstance(criteria, list) or not all(isinstance(c, Mapping) for c in criteria):
        raise InputError(f"{origin}: ImageCriteria is not a list of criteria", hint=hint)
    problems = _problems({"ImageCriteria": criteria})
    if problems:
        raise InputError(f"{origin}: {'; '.join(problems[:3])}", hint=hint)
    return [dict(c) for c in criteria]


def _only(criterion: Mapping[str, Any], key: str) -> bool:
    marks = criterion.get("ImageWatermarks")
    return set(criterion) == {"ImageWatermarks"} and isinstance(marks, list) and bool(marks) \
        and all(isinstance(m, Mapping) and m.get("WatermarkKey") == key for m in marks)


def _matches(pattern: str, key: str) -> bool:
    """Whether a criterion's `WatermarkKey` (`*` and `?` are wildcards) admits `key`."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, key, flags=re.DOTALL) is not None


def _looser(criteria: list[dict[str, Any]], key: str, max_age_days: int) -> str | None:
    """The first kept criterion that admits AMIs marked `key` for longer than `max_age_days` (or forever)."""
    for n, criterion in enumerate(criteria, 1):
        for mark in criterion.get("ImageWatermarks") or []:
            pattern, age = mark.get("WatermarkKey"), mark.get("MaximumDaysSinceWatermarkCreated")
            if isinstance(pattern, str) and _matches(pattern, key) and (age is None or age > max_age_days):
                bound = "with no age limit" if age is None else f"up to {age} days after marking"
                return f"criterion {n} admits AMIs marked {key} (its WatermarkKey {pattern!r}) {bound}"
    return None


def criteria_document(key: str, max_age_days: int, existing: list[dict[str, Any]]) -> dict[str, Any]:
    """`{"ImageCriteria": [...]}`: the existing criteria, then one admitting AMIs marked `key` within the age."""
    account, _, name = key.partition(":")
    if not ACCOUNT.fullmatch(account) or not name:
        raise UsageError(f"{key!r} is not a watermark key ACCOUNT:NAME", hint="--account takes a 12-digit account id")
    if not 1 <= max_age_days <= 3650:
        raise UsageError(f"--max-age {max_age_days} days is outside 1..3650")
    ours = {"ImageWatermarks": [{"WatermarkKey": key, "MaximumDaysSinceWatermarkCreated": max_age_days}]}
    kept = [c for c in existing if not _only(c, key)]
    looser = _looser(kept, key, max_age_days)
    if looser is not None:  # NOTE: criteria are alternatives: the looser one would void --max-age
        raise InputError(f"{looser}, so --max-age {max_age_days}d would not bound a stale pass",
                         hint="tighten or remove that entry in the --existing document, or raise --max-age")
    criteria = [*kept, ours]
    if len(criteria) > MAX_CRITERIA:
        raise InputError(f"the account already has {len(criteria) - 1} other criteria; with this one that is "
                         f"{len(criteria)}, over AWS's limit of {MAX_CRITERIA}",
                         hint="merge or remove criteria in the --existing document first")
    for n, criterion in enumerate(criteria, 1):
        marks = criterion.get("ImageWatermarks") or []
        if len(marks) > MAX_WATERMARKS:
            raise InputError(f"criterion {n} has {len(marks)} watermark entries, over AWS's limit of "
                             f"{MAX_WATERMARKS}", hint="split it into several criteria in the --existing document")
    document = {"ImageCriteria": criteria}
    problems = _problems(document)
    if problems:  # NOTE: cannot happen for valid input; a guard against a model that changed under gate
        raise InputError(f"the criteria do not match EC2's model: {'; '.join(problems[:3])}")
    return document
