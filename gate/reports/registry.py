"""The report formats the CLI offers, and the one place that maps each name to its renderer."""

from __future__ import annotations

import enum
from typing import assert_never

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


def formatter(fmt: Format) -> ReportFormat:
    """The renderer for `fmt`; a new member without a branch here fails type checking.

    Formats are imported on use: each costs start-up time (markupsafe, hashlib, xml) a run without it should not pay.
    """
    if fmt is Format.JSON:
        from gate.reports.json_report import JsonReport  # noqa: PLC0415 - import a format only when it is used

        return JsonReport()
    if fmt is Format.SARIF:
        from gate.reports.sarif import SarifReport  # noqa: PLC0415 - import a format only when it is used

        return SarifReport()
    if fmt is Format.JUNIT:
        from gate.reports.junit import JunitReport  # noqa: PLC0415 - import a format only when it is used

        return JunitReport()
    if fmt is Format.MARKDOWN:
        from gate.reports.markdown import MarkdownReport  # noqa: PLC0415 - import a format only when it is used

        return MarkdownReport()
    if fmt is Format.HTML:
        from gate.reports.html import HtmlReport  # noqa: PLC0415 - import a format only when it is used

        return HtmlReport()
    if fmt is Format.TABLE:
        from gate.reports.table import TableReport  # noqa: PLC0415 - import a format only when it is used

        return TableReport()
    if fmt is Format.OPENVEX:
        from gate.reports.openvex import OpenVexReport  # noqa: PLC0415 - import a format only when it is used

        return OpenVexReport()
    assert_never(fmt)
