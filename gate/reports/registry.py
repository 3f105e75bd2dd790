"""The report formats the CLI offers, and the one place that maps each name to its renderer."""

from __future__ import annotations

import enum
import importlib

from gate.reports.interface import ReportFormat


class Format(enum.StrEnum):
    """A `--format` choice; the value is what users type."""

    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    HTML = "html"
    TABLE = "table"
    OPENVEX = "openvex"


_RENDERERS: dict[Format, tuple[str, str]] = {
    Format.JSON: ("gate.reports.json_report", "JsonReport"),
    Format.SARIF: ("gate.reports.sarif", "SarifReport"),
    Format.JUNIT: ("gate.reports.junit", "JunitReport"),
    Format.MARKDOWN: ("gate.reports.markdown", "MarkdownReport"),
    Format.HTML: ("gate.reports.html", "HtmlReport"),
    Format.TABLE: ("gate.reports.table", "TableReport"),
    Format.OPENVEX: ("gate.reports.openvex", "OpenVexReport"),
}
"""Each format's module and class (tests/reports/test_registry.py renders every member). Imported on use: each
costs start-up time (markupsafe, hashlib, xml) that a run without it should not pay."""


def formatter(fmt: Format) -> ReportFormat:
    """The renderer for `fmt`."""
    module, name = _RENDERERS[fmt]
    renderer: type[ReportFormat] = getattr(importlib.import_module(module), name)
    return renderer()
