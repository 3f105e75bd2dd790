"""Every `--format` choice maps to a renderer whose name is the choice."""

from __future__ import annotations

import pytest

from gate.reports.interface import ReportOptions
from gate.reports.registry import Format, formatter
from tests.reports.sample import EVALUATION


@pytest.mark.parametrize("fmt", list(Format))
def test_formatter_is_exhaustive(fmt: Format) -> None:
    renderer = formatter(fmt)
    assert renderer.name == fmt.value
    text = renderer.render(EVALUATION, ReportOptions())
    if fmt is Format.OPENVEX:  # accepted risks only: the excepted finding, not the blocking one
        shown = next(r for r in EVALUATION.results if any(m.excepted_by for m in r.matches))
    else:
        shown = next(r for r in EVALUATION.results if r.blocking)
    assert shown.finding.vulnerability_id in text


def test_format_values_are_what_users_type() -> None:
    assert [f.value for f in Format] == ["json", "sarif", "junit", "markdown", "html", "table", "openvex"]
    assert Format("sarif") is Format.SARIF
    assert str(Format.HTML) == "html"
