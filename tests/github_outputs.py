"""Parse `$GITHUB_OUTPUT` the way the runner does (name=value lines and name<<DELIMITER heredocs)."""

from __future__ import annotations

import pytest


def parse_outputs(text: str) -> dict[str, str]:
    """Parse `$GITHUB_OUTPUT` the way the runner does: `name=value` or `name<<DELIM` ... `DELIM`."""
    values: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if not line:
            continue
        if "=" in line and ("<<" not in line or line.index("=") < line.index("<<")):
            name, value = line.split("=", 1)
            values[name] = value
            continue
        name, delimiter = line.split("<<", 1)
        body = []
        for inner in lines:
            if inner == delimiter:
                break
            body.append(inner)
        else:
            pytest.fail(f"unterminated heredoc for {name}")
        values[name] = "\n".join(body)
    return values
