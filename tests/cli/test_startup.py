"""Start-up stays light: commands import only the libraries their work needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gate.cli.main import COMMANDS
from tests.conftest import EXAMPLES

HEAVY = ("boto3", "botocore", "urllib3", "jinja2", "jsonschema", "markupsafe", "http", "email", "socket")
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


OFFLINE = ["check", "--findings", str(EXAMPLES / "findings.json"), "--kev-catalog", str(EXAMPLES / "kev.json"),
           "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz"), "--as-of", "2026-11-21",
           "--max-feed-age", "460d"]  # the bundled feeds are of 2025-08


@pytest.mark.slow
@pytest.mark.parametrize(("argv", "allowed"), [
    (["--help"], set()),
    (["--version"], set()),
    (["policy", "fields"], set()),
    (["policy", "schema"], set()),
    (["policy", "validate", "default", "strict", "kev-only"], set()),
    (OFFLINE, set()),
    ([*OFFLINE, "--image", str(EXAMPLES / "image.json")], set()),
    ([*OFFLINE, "--finding-details", str(EXAMPLES / "inspector-findings.json"),
      "--finding-details", str(EXAMPLES / "finding-details.json"), "--report", "json={tmp}/r.json",
      "--report", "sarif={tmp}/r.sarif", "--report", "markdown={tmp}/r.md"], set()),
    ([*OFFLINE, "--report", "html={tmp}/r.html"], {"markupsafe"}),
    ([*OFFLINE, "--report", f"template:{EXAMPLES / 'templates' / 'blocking.csv.j2'}={{tmp}}/r.csv"],
     {"jinja2", "markupsafe"}),  # jinja2 only when a template is used
])
def test_commands_import_only_what_they_use(argv: list[str], allowed: set[str], tmp_path: Path) -> None:
    code, heavy = loaded(*(a.replace("{tmp}", str(tmp_path)) for a in argv))
    assert code in (0, 1)
    assert heavy <= allowed


@pytest.mark.slow
def test_version_imports_no_subcommand() -> None:
    # `gate --version` answers before any subcommand module (and what it pulls in) is imported.
    probe = ("import sys\nfrom gate.cli.main import main\nmain(['--version'])\n"
             "print(sorted(m for m in sys.modules if m.startswith('gate.')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.splitlines()[0].startswith("gate ")
    loaded = set(json.loads(done.stdout.splitlines()[-1].replace("'", '"')))
    assert "gate.cli.main" in loaded
    assert not loaded & {*COMMANDS.values(), "gate.model", "gate.fields", "gate.run", "gate.inputs"}


@pytest.mark.slow
def test_an_invalid_policy_is_explained_by_jsonschema(tmp_path: Path) -> None:
    # The quick schema check only ever says "valid"; errors still come from jsonschema, with lines.
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules:\n  - id: r1\n    when: kev\n    action: block\n")
    code, heavy = loaded("policy", "validate", str(bad))
    assert code == 2
    assert heavy == {"jsonschema"}
