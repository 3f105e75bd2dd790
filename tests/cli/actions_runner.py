"""A GitHub Actions runner's reading of a step's output: which lines it would execute as workflow commands.

Modelled on actions/runner (`ActionCommand.TryParseV2` / `TryParse`, `ActionCommandManager`): a
line ends at LF, at CR+LF or at a lone CR (.NET's ReadLine); a v2 command is `::name props::data`
after leading whitespace is trimmed; a v1 command is `##[name props]data` anywhere in the line;
only registered names count (case-insensitively); `::stop-commands::TOKEN` ignores every command
until one named TOKEN arrives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REGISTERED = frozenset({
    "add-mask", "add-matcher", "add-path", "debug", "echo", "endgroup", "error", "group", "notice",
    "remove-matcher", "save-state", "set-env", "set-output", "warning", "stop-commands",
})
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Command:
    name: str
    properties: dict[str, str]
    data: str
    line: str


def split_lines(text: str) -> list[str]:
    """Lines as the runner reads them: LF, CR LF and a lone CR each end one."""
    lines = _LINE_END.split(text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def _unescape(text: str, *, property_value: bool) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if property_value else [])
    for encoded, plain in [*pairs, ("%25", "%")]:
        text = text.replace(encoded, plain)
    return text


def parse(line: str, registered: set[str]) -> Command | None:
    """The command the runner reads in `line`, if any (v2 first, then v1, as the runner tries them)."""
    return _parse_v2(line, registered) or _parse_v1(line, registered)


def _parse_v2(line: str, registered: set[str]) -> Command | None:
    # NOTE: .NET's TrimStart trims Unicode white space (char.IsWhiteSpace), like str.lstrip().
    message = line.lstrip()
    if not message.startswith("::"):
        return None
    end = message.find("::", 2)
    if end < 0:
        return None
    info = message[2:end]
    name, _, props = info.partition(" ")
    if name.lower() not in registered:
        return None
    properties: dict[str, str] = {}
    for pair in filter(None, props.strip().split(",")):
        key, eq, value = pair.partition("=")
        if eq and key and value:
            properties[key] = _unescape(value, property_value=True)
    return Command(name.lower(), properties, _unescape(message[end + 2:], property_value=False), line)


def _parse_v1(line: str, registered: set[str]) -> Command | None:
    start = line.find("##[")
    if start < 0:
        return None
    close = line.find("]", start)
    if close < 0:
        return None
    info = line[start + 3:close]
    name, _, props = info.partition(" ")
    if name.lower() not in registered:
        return None
    properties: dict[str, str] = {}
    for pair in filter(None, props.split(";")):
        key, eq, value = pair.partition("=")
        if eq and key and value:
            properties[key] = _unescape(value, property_value=False)
    return Command(name.lower(), properties, _unescape(line[close + 1:], property_value=False), line)


@dataclass
class Runner:
    """Feed it a stream's text; `executed` lists the commands the runner would act on."""

    executed: list[Command] = field(default_factory=list)
    fences: list[str] = field(default_factory=list)
    """Tokens of the `stop-commands` fences that were opened (and closed again)."""
    stop_token: str | None = None

    def feed(self, text: str) -> Runner:
        for line in split_lines(text):
            self._line(line)
        return self

    def _line(self, line: str) -> None:
        registered = set(REGISTERED)
        if self.stop_token is not None:
            registered.add(self.stop_token.lower())
        command = parse(line, registered)
        if command is None:
            return
        if self.stop_token is not None:
            if command.name == self.stop_token.lower():
                self.stop_token = None
            return
        if command.name == "stop-commands":
            self.stop_token = command.data
            self.fences.append(command.data)
            return
        self.executed.append(command)


def run(text: str) -> Runner:
    """A fresh runner fed `text`, which must leave workflow commands resumed."""
    runner = Runner().feed(text)
    assert runner.stop_token is None, f"output left workflow commands stopped: {runner.fences}"
    return runner


def assert_only_gate_annotations(*streams: str) -> list[Command]:
    """Every command the runner would execute is one of gate's annotations (title `gate...`).

    Each stream is read by its own runner: how the real one interleaves stdout and stderr is
    unknowable, so each must be safe, and leave commands resumed, on its own.
    """
    executed: list[Command] = []
    for text in streams:
        runner = run(text)
        for command in runner.executed:
            assert command.name in ("error", "warning", "notice"), f"runner would execute {command.line!r}"
            assert command.properties.get("title", "").startswith("gate"), f"not gate's: {command.line!r}"
        assert all(re.fullmatch("[0-9a-f]{32}", token) for token in runner.fences), runner.fences
        executed += runner.executed
    return executed
