"""Every format rendered from the sample evaluation matches its reviewed golden file exactly."""

from __future__ import annotations

import pytest

from gate.outcome import Evaluation
from gate.reports import github_runner
from gate.reports.html import HtmlReport
from gate.reports.interface import ReportFormat, ReportOptions
from gate.reports.junit import JunitReport
from gate.reports.markdown import MarkdownReport
from gate.reports.sarif import SarifReport
from gate.reports.table import TableReport
from tests.reports.conftest import Golden
from tests.reports.sample import CI_EVALUATION, EVALUATION

CASES: list[tuple[str, ReportFormat, ReportOptions, Evaluation]] = [
    ("sample.sarif", SarifReport(), ReportOptions(), EVALUATION),
    ("sample-location.sarif", SarifReport(), ReportOptions(sarif_location="images/web base/recipe.yaml"), EVALUATION),
    ("sample.junit.xml", JunitReport(), ReportOptions(), EVALUATION),
    ("sample.md", MarkdownReport(), ReportOptions(), CI_EVALUATION),
    ("sample.html", HtmlReport(), ReportOptions(), CI_EVALUATION),
    ("sample.txt", TableReport(), ReportOptions(), CI_EVALUATION),
    ("sample-verbose.txt", TableReport(), ReportOptions(verbose=True), CI_EVALUATION),
    ("sample-color.txt", TableReport(), ReportOptions(color=True), CI_EVALUATION),
]


@pytest.mark.parametrize(("name", "fmt", "options", "evaluation"), CASES, ids=[c[0] for c in CASES])
def test_matches_golden(golden: Golden, name: str, fmt: ReportFormat, options: ReportOptions,
                        evaluation: Evaluation) -> None:
    golden.check(name, fmt.render(evaluation, options))


def test_render_is_repeatable() -> None:
    for _, fmt, options, evaluation in CASES:
        assert fmt.render(evaluation, options) == fmt.render(evaluation, options)


def test_github_annotations_golden(golden: Golden) -> None:
    golden.check("sample.annotations.txt", "\n".join(github_runner.annotations(EVALUATION, "image-recipe.yaml")) + "\n")


def test_github_outputs_golden(golden: Golden) -> None:
    paths = {"sarif": "reports/gate.sarif", "markdown": "reports/gate.md"}
    golden.check("sample.outputs.txt", github_runner.outputs(EVALUATION, paths))
