"""Escapers: each context's dangerous characters, and nothing more than needed."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from gate.reports import escape

# Text that mixes what the fast paths skip (printable ASCII) with everything they must not:
# controls, CR/LF, C1, bidi overrides, line separators, surrogates, Markdown punctuation.
# Every C0 and C1 control, each line separator and bidi control, digits and spaces that only Unicode
# calls so (`\\d` and str.split() see them, CommonMark does not), then any text at all.
TEXT = st.one_of(
    st.text(alphabet=st.sampled_from(
        [*"aZ09 -.#+=)@_*`|~$[]\\&<>:", *map(chr, range(0x20)), *map(chr, range(0x7F, 0xA0)), "\u2028", "\u2029",
         "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)), "\ufeff", "\ud800",
         "\udfff", "é", "\u0661", "\uff11", "\u00a0", "\u3000", "\u200b"])),
    st.text(),
)


def test_neutralise_shows_controls() -> None:
    assert escape.neutralise("a\x1b[2Jb\x07c\x9bd") == "a\\x1b[2Jb\\x07c\\x9bd"
    assert escape.neutralise("a\r\nb\tc") == "a b c"
    assert escape.neutralise("a\r\nb\rc", keep_newlines=True) == "a\nb\nc"
    assert escape.neutralise("\u202eevil") == "\\u202eevil"
    assert escape.neutralise("\ud800") == "\ufffd"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a|b", "a\\|b"),
        ("trailing\\", "trailing\\\\"),
        ("<b>&amp;", "&lt;b&gt;&amp;amp;"),
        ("```code```", "\\`\\`\\`code\\`\\`\\`"),
        ("# not a heading", "\\# not a heading"),
        ("- not a list", "\\- not a list"),
        ("1. not a list", "1\\. not a list"),
        ("> not a quote", "&gt; not a quote"),
        ("line\nbreak", "line break"),
        ("*em* _em_ ~del~ $x$", "\\*em\\* \\_em\\_ \\~del\\~ \\$x\\$"),
        ("[x](javascript:y)", "\\[x\\](javascript:y)"),
        ("ping @team", "ping @\u2060team"),
        ("mail a@b.c", "mail a@b.c"),
        ("CVE-2024-3094", "CVE-2024-3094"),
        ("12) not a list", "12\\) not a list"),
        ("\u0661. not a list either", "\u0661. not a list either"),  # Arabic-Indic one: not a list number
        ("1\u0661. nor this", "1\u0661. nor this"),
    ],
)
def test_markdown(text: str, expected: str) -> None:
    assert escape.markdown(text) == expected


def _markdown_by_rule(text: str) -> str:
    """What escape.markdown must equal: each rule of its docstring as a plain substitution."""
    text = escape.neutralise(text).strip()
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"([\\`*_\[\]|~$])", r"\\\1", text)
    text = re.sub(r"^([0-9]*)([#+=.)-])", r"\1\\\2", text)  # CommonMark's list numbers are ASCII digits
    return re.sub(r"(?<![\w.])@(?=\w)", "@\u2060", text)


@given(TEXT)
def test_markdown_fast_paths_change_nothing(text: str) -> None:
    assert escape.markdown(text) == _markdown_by_rule(text)


@given(TEXT)
def test_neutralise_fast_path_changes_nothing(text: str) -> None:
    for keep in (False, True):
        slow = escape._CONTROL.sub(escape._visible, escape.scrub(text))
        slow = slow.replace("\r\n", "\n").replace("\r", "\n") if keep else re.sub(r"[\t\r\n]+", " ", slow)
        assert escape.neutralise(text, keep_newlines=keep) == slow


class _Sneaky(str):
    """A str whose `__html__` claims to be markup: escaping must not take its word for it."""

    def __html__(self) -> str:
        return "<script>alert(1)</script>"


@pytest.mark.parametrize("make", [str, Markup, _Sneaky], ids=["str", "Markup", "str-with-__html__"])
@pytest.mark.parametrize("text", ["<b>x</b> & y", "<b>é</b> & y"], ids=["ascii", "non-ascii"])
def test_escaping_treats_str_subclasses_as_text(make: type[str], text: str) -> None:
    # The printable-ASCII fast path must give what the full path gives, whatever the str's class.
    value = make(text)
    assert type(escape.neutralise(value)) is str
    assert escape.html(value) == escape.html(str(text))
    assert "<" not in escape.html(value)
    assert escape.markdown(value) == escape.markdown(str(text))


def test_markdown_code_fence_outlasts_backticks() -> None:
    assert escape.markdown_code("a ``b`` c") == "``` a ``b`` c ```"
    assert escape.markdown_code("plain") == "` plain `"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://nvd.nist.gov/vuln/detail/CVE-2024-3094", "https://nvd.nist.gov/vuln/detail/CVE-2024-3094"),
        ("https://x/a b(c)|d<e>", "https://x/a%20b%28c%29%7Cd%3Ce%3E"),
        ("javascript:alert(1)", None),
        ("data:text/html,x", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert escape.safe_url(url) == expected


def test_xml_drops_only_what_xml_forbids() -> None:
    assert escape.xml("a\x1bb\tc\nd<e>") == "a\\x1bb\tc\nd<e>"


def test_xml_makes_discouraged_characters_visible() -> None:
    assert escape.xml("a\rb\x9bc\u202ed\x7f") == "a\\x0db\\x9bc\\u202ed\\x7f"


@pytest.mark.parametrize(("text", "expected"), [
    ("plain: text", "plain: text"),
    ("a\nb\rc\r\nd", "a\\x0ab\\x0dc\\x0d\\x0ad"),
    ("x\x85y\u2028z\u2029", "x\\x85y\\u2028z\\u2029"),
    ("\x1b]0;title\x07\x1b[31m", "\\x1b]0;title\\x07\\x1b[31m"),
    ("::error::x", "\\x3a:error::x"),
    ("  \u00a0::error::x", "  \u00a0\\x3a:error::x"),
    ("\t::error::x", "\\x09::error::x"),
    ("a ##[error]b ###[c", "a #\\x23[error]b ##\\x23[c"),
    ("mid ::error:: line", "mid ::error:: line"),
    ("\ud800", "\ufffd"),
])
def test_inert_line(text: str, expected: str) -> None:
    assert escape.inert_line(text) == expected


def test_inert_lines_keeps_gates_line_breaks_only() -> None:
    assert escape.inert_lines("usage: x\n::error::y\r") == "usage: x\n\\x3a:error::y\\x0d"


def test_json_text_is_the_same_value_without_raw_controls() -> None:
    value = {"k": "a\x9bb\u2028c##[error]d\u202e\ud800 ü"}
    text = json.dumps(value, ensure_ascii=False)
    escaped = escape.json_text(text)
    assert json.loads(escaped) == value
    assert "##[" not in escaped and "\x9b" not in escaped and "\u2028" not in escaped
    assert "ü" in escaped  # ordinary text stays readable


@given(TEXT)
def test_json_text_fast_path_changes_nothing(text: str) -> None:
    document = json.dumps({"k": text, "##[": [text]}, ensure_ascii=False)
    assert escape.json_text(document) == escape._JSON_UNSAFE.sub(escape._json_escape, document)


def test_workflow_escapes() -> None:
    assert escape.workflow_data("50%\r\nnext::x") == "50%25%0D%0Anext::x"
    assert escape.workflow_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_html_escapes() -> None:
    assert escape.html('<a href="x">&</a>') == "&lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt;"


def test_clip() -> None:
    assert escape.clip("abcdef", 4) == "abc…"
    assert escape.clip("abc", 4) == "abc"
