"""SARIF validates against the OASIS schema and JUnit against both published XSDs, hostile text included."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from typing import Any

import jsonschema
import pytest
from lxml import etree

from gate.outcome import Evaluation, Verdict
from gate.reports.interface import ReportOptions
from gate.reports.junit import JunitReport
from gate.reports.sarif import SarifReport
from tests.reports.conftest import DATA
from tests.reports.sample import EVALUATION, HOSTILE_EVALUATION

ERRORED = replace(EVALUATION, verdict=Verdict.ERROR, errors=("inspector2 BatchGetFindingDetails throttled",))
EMPTY = Evaluation(
    verdict=Verdict.PASS,
    results=(),
    policy_name="",
    policy_source="-",
    rules=(),
    evaluated_at=EVALUATION.evaluated_at,
)
EVALUATIONS = {"sample": EVALUATION, "hostile": HOSTILE_EVALUATION, "errored": ERRORED, "empty": EMPTY}
XSDS = ("jenkins-xunit-junit-10.xsd", "windyroad-JUnit.xsd")


@cache
def _sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((DATA / "sarif" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


@cache
def _xsd(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(DATA / "junit" / name)))


def _sarif(evaluation: Evaluation) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SarifReport().render(evaluation, ReportOptions()))
    return data


@pytest.mark.parametrize("name", EVALUATIONS)
def test_sarif_is_valid(name: str) -> None:
    log = _sarif(EVALUATIONS[name])
    errors = sorted(_sarif_validator().iter_errors(log), key=str)
    assert not errors, errors[0]


@pytest.mark.parametrize("xsd", XSDS)
@pytest.mark.parametrize("name", EVALUATIONS)
def test_junit_is_valid(name: str, xsd: str) -> None:
    text = JunitReport().render(EVALUATIONS[name], ReportOptions())
    document = etree.fromstring(text.encode("utf-8"))
    schema = _xsd(xsd)
    assert schema.validate(document), schema.error_log
