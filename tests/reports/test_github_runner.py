"""GitHub Actions mode: capped one-line annotations and `$GITHUB_OUTPUT` text the runner parses."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gate.reports import github_runner
from tests.github_outputs import parse_outputs
from tests.reports.sample import CURL, EVALUATION, OPENSSH


def test_outputs_round_trip() -> None:
    paths = {"sarif": "out/gate.sarif", "html": "weird\nGATE_EOF\nname=x.html"}
    values = parse_outputs(github_runner.outputs(EVALUATION, paths))
    assert values == {
        "verdict": "fail",
        "failed": "2",
        "warned": "2",
        "total": "7",
        "report-sarif": "out/gate.sarif",
        "report-html": "weird\nGATE_EOF\nname=x.html",
    }


def test_outputs_reject_names_that_could_inject() -> None:
    with pytest.raises(ValueError, match="output name"):
        github_runner.outputs(EVALUATION, {"x\nverdict": "p"})


def test_annotation_kinds_follow_decisions() -> None:
    lines = github_runner.annotations(EVALUATION)
    assert [line.split(" ", 1)[0] for line in lines] == ["::error", "::error", "::warning", "::warning"]
    assert all(",file=" not in line for line in lines)
    assert lines[0].startswith("::error title=gate%3A CVE-2024-3094 (CRITICAL)::xz-libs ")


def test_annotations_are_capped_per_kind() -> None:
    many = tuple(
        replace(base, finding=replace(base.finding, vulnerability_id=f"CVE-2025-{i:04d}"))
        for i in range(25)
        for base in (CURL, OPENSSH)
    )
    lines = github_runner.annotations(replace(EVALUATION, results=many), "recipe.yml")
    assert sum(line.startswith("::error ") for line in lines) == github_runner.ANNOTATIONS_PER_KIND
    assert sum(line.startswith("::warning ") for line in lines) == github_runner.ANNOTATIONS_PER_KIND
    assert lines[-1] == "::notice title=gate::30 more findings are not annotated; the step summary lists them all"


def test_no_annotations_for_a_clean_run() -> None:
    assert github_runner.annotations(replace(EVALUATION, results=())) == []
