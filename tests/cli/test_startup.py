"""Start-up stays light: commands import only the libraries their work needs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLES

HEAVY = ("boto3", "botocore", "urllib3", "jinja2", "jsonschema")
PROBE = """
import json, sys
from gate.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def loaded(*argv: str) -> tuple[int, set[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=False,
                          timeout=120)
    last = json.loads(done.stdout.strip().splitlines()[-1])
    return last["code"], set(last["loaded"]) & set(HEAVY)


@pytest.mark.slow
@pytest.mark.parametrize(("argv", "allowed"), [
    (["--help"], set()),
    (["policy", "fields"], set()),
    (["policy", "schema"], set()),
    (["check", "--findings", str(EXAMPLES / "findings.json"), "--kev-catalog", str(EXAMPLES / "kev.json"),
      "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz"), "--as-of", "2026-11-21",
      "--max-feed-age", "460d"], {"jsonschema"}),  # the bundled feeds are of 2025-08
])
def test_commands_import_only_what_they_use(argv: list[str], allowed: set[str]) -> None:
    code, heavy = loaded(*argv)
    assert code in (0, 1)
    assert heavy <= allowed
