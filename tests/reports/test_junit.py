"""JUnit: one case per finding, failures for blocking, skipped for excepted, warnings in system-out."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lxml import etree

from gate.outcome import Evaluation, Verdict
from gate.reports.interface import ReportOptions
from gate.reports.junit import JunitReport
from tests.reports.sample import EVALUATION


def _suite(evaluation: Evaluation = EVALUATION) -> Any:
    """The parsed `<testsuite>`; lxml is untyped, so the element is `Any`."""
    return etree.fromstring(JunitReport().render(evaluation, ReportOptions()).encode("utf-8"))


def test_counts() -> None:
    suite = _suite()
    assert suite.get("tests") == "7"
    assert suite.get("failures") == "2"
    assert suite.get("skipped") == "1"
    assert suite.get("errors") == "0"
    assert len(suite.findall("testcase")) == 7
    assert len(suite.findall("testcase/failure")) == 2
    assert len(suite.findall("testcase/skipped")) == 1


def test_case_names_and_failure_reasons() -> None:
    case = _suite().find("testcase")
    assert case.get("name") == "CVE-2024-3094 xz-libs, xz"
    assert case.get("classname") == "CRITICAL"
    failure = case.find("failure")
    assert failure.get("message") == (
        'kev-listed: kev is true; critical-fixable: severity "CRITICAL" == "CRITICAL"; fix_available "YES"'
    )
    assert "epss 0.85, percentile 0.994 (first-epss, scored 2025-08-28, 84 days old)" in failure.text


def test_warnings_and_exceptions_are_visible() -> None:
    out = _suite().find("system-out").text
    assert "WARNING: CVE-2024-6387 openssh-server" in out
    assert "EXCEPTED: CVE-2023-4911 glibc, glibc-common" in out
    assert "WARNING: exception expired: EXC-openssl-2023" in out
    assert "WARNING: exception stale: EXC-busybox-old" in out
    skipped = _suite().find("testcase/skipped")
    assert skipped.get("message") == "excepted by EXC-glibc-tunables"


def test_error_verdict_adds_an_error_case() -> None:
    suite = _suite(replace(EVALUATION, verdict=Verdict.ERROR, errors=("inspector throttled",)))
    assert suite.get("errors") == "1"
    assert suite.get("tests") == "8"
    error = suite.find("testcase/error")
    assert error.get("message") == "inspector throttled"
    assert suite.find("system-err").text == "inspector throttled"
