"""Reports in the user's own format: a Jinja2 template rendered over the JSON report's document.

The template is the user's, the finding text is not: rendering happens in Jinja2's immutable
sandbox (no `__class__`/`mro`/`__globals__` walks, no mutation of the document), an undefined name
is an error rather than an empty string, and the filters `csv` and `mrkdwn` make untrusted text
inert in the two formats templates most often write. jinja2 is imported here only, so a run
without a template never pays for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from gate.errors import UsageError
from gate.outcome import Evaluation
from gate.reports import escape
from gate.reports.interface import ReportOptions
from gate.reports.json_report import JsonReport

AUTOESCAPED = frozenset({".html", ".htm", ".xml"})
"""Extensions (before an optional `.j2`, `.jinja` or `.jinja2`) whose templates escape every value as HTML/XML."""
_TEMPLATE_SUFFIXES = frozenset({".j2", ".jinja", ".jinja2"})
_FORMULA_START = tuple("=+-@\uff1d\uff0b\uff0d\uff20")
"""A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (CSV injection)."""
_MRKDWN = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MRKDWN_SPECIAL = re.compile("[&<>]")


def autoescaped(path: Path) -> bool:
    """Whether values are HTML-escaped: by the template's extension, `.j2` and the like not counted."""
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in _TEMPLATE_SUFFIXES:
        suffixes.pop()
    return bool(suffixes) and suffixes[-1] in AUTOESCAPED


def csv_cell(value: object) -> str:
    """One CSV cell (RFC 4180): text always quoted, quotes doubled, line breaks and control characters made
    inert, and a leading formula character defused with `'` (OWASP's CSV-injection advice)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        value = "; ".join("" if v is None else str(v) for v in value)
    text = escape.neutralise(str(value))
    if text.lstrip().startswith(_FORMULA_START) or text[:1] in ("\t", "\r"):
        text = "'" + text
    return '"' + text.replace('"', '""') + '"'


def mrkdwn(value: object) -> str:
    """Text for a Slack (or Teams) message: one line, `&`, `<` and `>` escaped as Slack requires, so a finding
    cannot write a mention (`<!channel>`) or a link (`<https://…|text>`). Pipe it into `tojson` for JSON."""
    text = escape.neutralise("" if value is None else str(value))
    return _MRKDWN_SPECIAL.sub(lambda m: _MRKDWN[m.group()], text)


def document(evaluation: Evaluation, options: ReportOptions) -> dict[str, Any]:
    """The template's context: the JSON report's document, parsed from its text so each field is written once."""
    parsed: dict[str, Any] = json.loads(JsonReport().render(evaluation, options))
    return parsed


class TemplateReport:
    """A compiled template; `render` raises UsageError naming the template file and line."""

    name = "template"

    def __init__(self, path: Path, source: str) -> None:
        from jinja2 import FunctionLoader, StrictUndefined, TemplateError  # noqa: PLC0415 - only when a template is used
        from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: PLC0415

        self.path = path
        filename = str(path)

        def load(name: str) -> tuple[str, str, Callable[[], bool]] | None:
            # NOTE: one file only: `{% include %}` or `{% import %}` of any other name is "not found".
            return (source, filename, lambda: True) if name == filename else None

        env = ImmutableSandboxedEnvironment(
            loader=FunctionLoader(load), undefined=StrictUndefined, autoescape=autoescaped(path),
            keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, auto_reload=False,
        )
        env.filters["csv"] = csv_cell
        env.filters["mrkdwn"] = mrkdwn
        try:
            self._template = env.get_template(filename)
        except TemplateError as e:
            raise self._error(e, getattr(e, "lineno", None)) from None

    def render(self, evaluation: Evaluation, options: ReportOptions) -> str:
        context = document(evaluation, options)
        try:
            return self._template.render(**context, report=context)
        except RecursionError as e:
            raise self._error(e, None) from None
        except Exception as e:
            raise self._error(e, self._line(e.__traceback__)) from None

    def _line(self, tb: TracebackType | None) -> int | None:
        """The template line of the innermost frame Jinja2 mapped back to the template file."""
        line = None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == str(self.path):
                line = tb.tb_lineno
            tb = tb.tb_next
        return line

    def _error(self, error: BaseException, line: int | None) -> UsageError:
        where = f"{self.path}:{line}" if line else str(self.path)
        kind = type(error).__name__
        message = escape.neutralise(str(error) or kind)
        return UsageError(f"{where}: template error: {kind}: {message[:300]}",
                          hint="fix the template (the README lists the variables it may use)")
