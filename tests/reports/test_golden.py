"""Every format rendered from the sample evaluation matches its reviewed golden file exactly."""

from __future__ import annotations

import pytest

from gate.reports import github
from gate.reports.html import HtmlReport
from gate.reports.interface import ReportFormat, ReportOptions
from gate.reports.junit import JunitReport
from gate.reports.markdown import MarkdownReport
from gate.reports.sarif import SarifReport
from gate.reports.table import TableReport
from tests.reports.conftest import Golden
from tests.reports.sample import EVALUATION

CASES: list[tuple[str, ReportFormat, ReportOptions]] = [
    ("sample.sarif", SarifReport(), ReportOptions()),
    ("sample-location.sarif", SarifReport(), ReportOptions(sarif_location="images/web base/recipe.yaml")),
    ("sample.junit.xml", JunitReport(), ReportOptions()),
    ("sample.md", MarkdownReport(), ReportOptions()),
    ("sample.html", HtmlReport(), ReportOptions()),
    ("sample.txt", TableReport(), ReportOptions()),
    ("sample-color.txt", TableReport(), ReportOptions(color=True)),
]


@pytest.mark.parametrize(("name", "fmt", "options"), CASES, ids=[c[0] for c in CASES])
def test_matches_golden(golden: Golden, name: str, fmt: ReportFormat, options: ReportOptions) -> None:
    golden.check(name, fmt.render(EVALUATION, options))


def test_render_is_repeatable() -> None:
    for _, fmt, options in CASES:
        assert fmt.render(EVALUATION, options) == fmt.render(EVALUATION, options)


def test_github_annotations_golden(golden: Golden) -> None:
    golden.check("sample.annotations.txt", "\n".join(github.annotations(EVALUATION, "image-recipe.yaml")) + "\n")


def test_github_outputs_golden(golden: Golden) -> None:
    paths = {"sarif": "reports/gate.sarif", "markdown": "reports/gate.md"}
    golden.check("sample.outputs.txt", github.outputs(EVALUATION, paths))
