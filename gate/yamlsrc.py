"""Safe YAML reading that remembers the line of every value, refuses aliases and bounds size."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gate.errors import PolicyError, UnreadableInputError

MAX_BYTES = 1024 * 1024
"""Policies and policy tests are small; a larger file is a mistake, not a policy."""
MAX_DEPTH = 50
"""A policy is about five levels deep; PyYAML's composer recurses (and slows) on deep nesting."""
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it (every wheel on PyPI is): about 10x faster, same marks."""

_UNUSUAL = re.compile("[^\t\n\r\x20-\x7e]")
"""Anything but printable ASCII and tab/LF/CR: checked one by one, which a policy (nearly all ASCII) makes rare."""
_HIDDEN_KINDS = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Controls, invisible formatting (zero-width spaces, bidi overrides), surrogates, line and paragraph separators."""
_PLAIN_TAGS: dict[type[yaml.Node], str] = {yaml.MappingNode: "tag:yaml.org,2002:map",
                                           yaml.SequenceNode: "tag:yaml.org,2002:seq"}

JsonPath = tuple[str | int, ...]


@dataclass
class Document:
    """A YAML document's plain value and the (line, column) of each node, keyed by its path."""

    path: str
    value: Any
    marks: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)

    key_marks: dict[JsonPath, tuple[int, int]] = field(default_factory=dict)
    """(line, column) of each mapping key, keyed by the path of its value: where an unknown key is written."""

    def line(self, where: JsonPath) -> int | None:
        """The line of the closest node on `where`'s path that has one."""
        return self.mark(where)[0]

    def mark(self, where: JsonPath, key: bool = False) -> tuple[int | None, int | None]:
        """(line, column) of the closest node on `where`'s path (of its key, with `key`), or (None, None)."""
        if key and where in self.key_marks:
            return self.key_marks[where]
        for cut in range(len(where), -1, -1):
            mark = self.marks.get(where[:cut])
            if mark:
                return mark
        return None, None


def read_text(path: Path) -> str:
    return decode(read_bounded(path), path)


def read_bounded(path: Path) -> bytes:
    """The file's bytes, at most `MAX_BYTES` of them (a larger file is a `PolicyError`)."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)  # NOTE: bounded even where st_size says nothing (a FIFO)
    except FileNotFoundError as e:
        raise UnreadableInputError(f"{path}: no such file", hint="check the path") from e
    except OSError as e:
        raise UnreadableInputError(f"{path}: cannot read ({e.strerror or e})") from e
    if len(data) > MAX_BYTES:
        raise PolicyError(f"file larger than {MAX_BYTES // 1024} KiB", path=str(path))
    return data


def decode(data: bytes, path: Path) -> str:
    """UTF-8 text with the line ends `Path.read_text` gives."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PolicyError(f"not UTF-8 text (byte 0x{data[e.start]:02x})", path=str(path),
                          line=data.count(b"\n", 0, e.start) + 1) from e
    return text.replace("\r\n", "\n").replace("\r", "\n")  # NOTE: the line ends Path.read_text gave


def _hidden(text: str, path: str) -> None:
    """Refuse a character that makes the file read differently from how an editor or a diff shows it.

    YAML ends a line at NEL, LS and PS, which `cat`, terminals and many editors do not show (a
    comment could hide a waiver after one); a zero-width or bidi character changes a value or the
    order a line is shown in; controls and U+FFFE/U+FFFF libyaml refuses without saying the line.
    Reported at the first one, whose line is the same for YAML and for an editor.
    """
    for match in _UNUSUAL.finditer(text):
        char, at = match.group(), match.start()
        if (char == "\ufeff" and at == 0) or (char == "\r" and text.startswith("\n", at + 1)):
            continue  # NOTE: a byte order mark that starts the file, and CRLF line ends, are the encoding's
        if ord(char) < 0xA0 or char in "\ufffe\uffff" or _kind(char) in _HIDDEN_KINDS:
            line_start = text.rfind("\n", 0, at) + 1
            raise PolicyError(f"U+{ord(char):04X} is not allowed: a file gate reads as YAML holds no control, "
                              "invisible or line-separator character (it would not read as it shows)",
                              path=path, line=text.count("\n", 0, at) + 1, column=at - line_start + 1)


def _kind(char: str) -> str:
    import unicodedata  # noqa: PLC0415 - only for a policy with text beyond ASCII

    return unicodedata.category(char)


class _Constructor(yaml.constructor.SafeConstructor):
    """Safe scalars, but timestamps stay text so dates are checked (and reported) by gate."""


def _timestamp_as_text(loader: yaml.constructor.SafeConstructor, node: yaml.Node) -> str:
    assert isinstance(node, yaml.ScalarNode)
    return str(loader.construct_scalar(node))


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)  # type: ignore[type-var]


def load(text: str, path: str) -> Document:
    """Parse one YAML document; aliases are refused outright, so an alias bomb costs nothing."""
    _hidden(text, path)
    try:
        depth = 0
        # NOTE: events stream lazily, so a hostile file is refused after reading only its first levels.
        for event in yaml.parse(text, Loader=_LOADER):
            line = event.start_mark.line + 1 if event.start_mark else None
            if isinstance(event, yaml.AliasEvent):
                raise PolicyError("YAML aliases (*name) are not supported", path=path, line=line)
            if isinstance(event, yaml.CollectionStartEvent):
                if event.tag is not None:
                    # NOTE: `!!seq`/`!!map` compose to the same node as no tag at all, so only the event tells.
                    raise PolicyError(f"the tag {event.tag} is not supported (gate reads plain mappings and lists)",
                                      path=path, line=line)
                depth += 1
                if depth > MAX_DEPTH:
                    raise PolicyError(f"nested deeper than {MAX_DEPTH} levels", path=path, line=line)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        if "nesting depth" in str(e.problem):  # NOTE: libyaml stops at 1000 levels, before our own check
            raise PolicyError(f"nested deeper than {MAX_DEPTH} levels", path=path, line=line) from None
        raise PolicyError(f"invalid YAML: {e.problem or e.context}", path=path, line=line,
                          column=column) from None
    except yaml.YAMLError as e:
        raise PolicyError(f"invalid YAML: {e}", path=path) from None
    except RecursionError:
        raise PolicyError("nested too deeply", path=path) from None
    doc = Document(path=path, value=None)
    if node is not None:
        doc.value = _build(node, (), doc, _Constructor())
    return doc


def _build(node: yaml.Node, where: JsonPath, doc: Document, ctor: _Constructor) -> Any:
    quote = 1 if isinstance(node, yaml.ScalarNode) and node.style in ("'", '"') else 0
    doc.marks[where] = (node.start_mark.line + 1, node.start_mark.column + 1 + quote)  # NOTE: a quoted value's text
    if node.tag != _PLAIN_TAGS.get(type(node), node.tag):
        # NOTE: read as a plain mapping or list, `!!set`, `!!omap` or `!!python/...` would be dropped unseen.
        raise PolicyError(f"the tag {node.tag} is not supported (gate reads plain mappings and lists)",
                          path=doc.path, line=node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _build(key_node, where, doc, ctor)
            if not isinstance(key, str):
                raise PolicyError(f"keys must be strings, got {key!r}", path=doc.path,
                                  line=key_node.start_mark.line + 1)
            if key in out:
                raise PolicyError(f"duplicate key '{key}'", path=doc.path,
                                  line=key_node.start_mark.line + 1)
            doc.key_marks[(*where, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _build(value_node, (*where, key), doc, ctor)
        doc.marks[where] = (node.start_mark.line + 1, node.start_mark.column + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*where, i), doc, ctor) for i, item in enumerate(node.value)]
    try:
        return ctor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as e:
        raise PolicyError(f"invalid value: {e.problem}", path=doc.path,
                          line=node.start_mark.line + 1) from None
