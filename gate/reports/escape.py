"""Escaping that keeps hostile finding text inert in HTML, Markdown, XML, terminals and CI logs."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

if TYPE_CHECKING:
    import markupsafe


_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
"""C0/C1 controls (tab, LF and CR aside), line separators, and bidi overrides (Trojan Source)."""
_BREAKS = re.compile(r"[\t\r\n]+")
_XML_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")
"""Characters XML 1.0 forbids, plus CR, DEL, C1 and bidi overrides, which it discourages and terminals obey."""
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
"""Every control character (tab, LF and CR too), line separators and bidi overrides."""
_COMMAND_START = re.compile(r"^(\s*):(?=:)")
"""A workflow command: the runner trims leading whitespace and looks for `::`."""
V1_COMMAND = "##["
"""The runner's older command prefix, honoured anywhere in a line, not only at its start."""
_JSON_UNSAFE_CHAR = re.compile("[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
_JSON_UNSAFE = re.compile(f"{_JSON_UNSAFE_CHAR.pattern}|##\\[")
"""What json.dumps(ensure_ascii=False) leaves raw that a terminal, an encoder or the runner acts on."""
_MD_SPECIAL = re.compile(r"[\\`*_\[\]|~$]")
_MD_PUNCTUATION = "`*_[]|~$"
"""Escaped with a backslash after the backslash itself (so no escape of ours can be undone)."""
_MD_LEADING = re.compile(r"^([0-9]*)([#+=.)-])")
"""A list number is ASCII digits (CommonMark); `\\d` would also take `١`, which `_MD_LEADERS` skips."""
_MD_LEADERS = frozenset("0123456789#+=.)-")
_MD_PING = re.compile(r"(?<![\w.])@(?=\w)")
_URL_SAFE = ":/?#@!$&'*+,;=%-._~"
"""Characters left as they are in a URL: the rest (`()[]|<>` space, quotes) are percent-encoded."""
WORD_JOINER = "\u2060"


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def scrub(text: str) -> str:
    """Replace lone surrogates (legal in JSON input, unencodable as UTF-8) so output can be written."""
    return _SURROGATE.sub("\ufffd", text)


def _plain(text: str) -> bool:
    """Printable ASCII only: no control character, line break, surrogate or bidi override (checked in C)."""
    return text.isascii() and text.isprintable()


def neutralise(text: str, *, keep_newlines: bool = False) -> str:
    """Make control characters visible as `\\x1b` so they cannot drive a terminal or a parser."""
    # NOTE: most text is plain; this is 10x faster than the substitutions below. A str subclass
    # (Markup, or anything with __html__) takes the full path, which returns a plain str like any other.
    if type(text) is str and _plain(text):
        return text
    text = _CONTROL.sub(_visible, scrub(text))
    if keep_newlines:
        return text.replace("\r\n", "\n").replace("\r", "\n")
    return _BREAKS.sub(" ", text)


def clip(text: str, limit: int) -> str:
    """Shorten to `limit` characters with an ellipsis; done before escaping so no escape is cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def html(text: str) -> markupsafe.Markup:
    """HTML-escape (markupsafe), after scrubbing; the HTML page applies this to every value it shows."""
    import markupsafe  # noqa: PLC0415 - only HTML needs it; every command loads this module for stderr

    return markupsafe.escape(neutralise(text, keep_newlines=True))


def markdown(text: str) -> str:
    """Inline Markdown that renders literally, even inside a table cell or at a line start.

    Newlines become spaces (a table row is one line); `& < >` become entities so no HTML or
    autolink survives; Markdown punctuation is backslash-escaped (a backslash too, so none can
    escape our own delimiters); a leading `#`, `-`, `+`, `=` or `1.` cannot start a block; and
    `@name` gets a word joiner so a PR comment cannot ping people.
    """
    text = neutralise(text).strip()
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if _MD_SPECIAL.search(text):  # NOTE: str.replace runs in C; a substitution with a template does not
        text = text.replace("\\", "\\\\")
        for char in _MD_PUNCTUATION:
            text = text.replace(char, "\\" + char)
    if text[:1] in _MD_LEADERS:
        text = _MD_LEADING.sub(_escape_leader, text)
    return _MD_PING.sub("@" + WORD_JOINER, text) if "@" in text else text


def _escape_leader(match: re.Match[str]) -> str:
    return f"{match[1]}\\{match[2]}"


def markdown_code(text: str) -> str:
    """A code span whose fence is longer than any backtick run inside, so nothing can close it.

    Only for running text: in a table cell a `|` would still split the cell.
    """
    text = neutralise(text)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}"


@functools.lru_cache(maxsize=4096)
def safe_url(url: str | None) -> str | None:
    """An http(s) URL with every character that could end a Markdown link percent-encoded.

    Cached: findings of one CVE share their advisory URL, and urllib's split and quote are slow.
    """
    if not url:
        return None
    url = neutralise(url).strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if scheme not in ("http", "https"):
        return None
    return quote(url, safe=_URL_SAFE)


def xml(text: str) -> str:
    """Text XML 1.0 can carry: characters it forbids or discourages (CR, C1) become visible escapes."""
    return _XML_UNSAFE.sub(_visible, scrub(text))


def workflow_data(text: str) -> str:
    """A GitHub workflow-command message: `%`, CR and LF encoded so it stays on one log line."""
    text = _CONTROL.sub(_visible, scrub(text))
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: str) -> str:
    """A workflow-command property value: data escaping plus `:` and `,`, which end a property."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")


def inert_line(text: str) -> str:
    """One log line that neither a CI runner nor a terminal acts on, whatever `text` holds.

    Every control character (CR, LF, tab, ESC, C1 such as U+0085), U+2028/U+2029 and bidi
    overrides becomes a visible `\\x0a`-style escape, so the text stays one line; `::` at the
    start (after the whitespace the GitHub runner trims) becomes `\\x3a:`, and the runner's older
    `##[` prefix, which it honours anywhere in a line, becomes `#\\x23[`.
    """
    text = _ANY_CONTROL.sub(_visible, scrub(text)).replace(V1_COMMAND, "#\\x23[")
    return _COMMAND_START.sub(r"\1\\x3a", text)


def inert_lines(text: str) -> str:
    """`inert_line` for each LF-separated line of text whose line structure is gate's own."""
    return "\n".join(inert_line(line) for line in text.split("\n"))


def _json_escape(match: re.Match[str]) -> str:
    found = match.group()
    if found == V1_COMMAND:
        return "#\\u0023["
    return f"\\u{ord(found):04x}"


def json_text(text: str) -> str:
    """A JSON document (from json.dumps) that decodes to the same value but carries no raw C1,
    bidi or line-separator character and no `##[`; those occur only inside strings, where
    `\\uXXXX` means the same. json.dumps already escapes C0 controls, so no line starts with `::`.
    """
    if V1_COMMAND not in text and not _JSON_UNSAFE_CHAR.search(text):  # NOTE: a class alone scans 2-3x faster
        return text
    return _JSON_UNSAFE.sub(_json_escape, text)
