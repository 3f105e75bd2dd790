"""The conventions around `gate check`: policy show/init, validate's warnings, feeds status, shell completion."""

from __future__ import annotations

import gzip
import io
import subprocess
from contextlib import redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.enrichment.feeds import update_feeds
from gate.errors import ExitCode
from gate.policy.loader import shipped_policies
from tests.enrichment.feed_data import EPSS_SMALL, KEV
from tests.enrichment.feed_server import Served, Site, site

__all__ = ["site"]


def test_policy_show_prints_the_shipped_policy_and_what_each_rule_needs(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["policy", "show", "strict"]) == ExitCode.PASS
    out = capsys.readouterr().out
    text = shipped_policies()["strict"].read_text(encoding="utf-8")
    assert out.startswith(text)
    needs = out[len(text):].splitlines()
    assert all(line.startswith("#") for line in needs[1:]) and needs[0] == ""  # still the same YAML policy
    assert "#   exploit-observed          exploit_observed: Inspector" in needs
    assert "#   epss-elevated             epss: EPSS feed or Inspector or on-demand scan events" in needs
    assert "#   medium-fixable            -" in needs
    assert ("# Judged from exports alone (findings export + KEV/EPSS feeds): known-exploited, kev-ransomware, "
            "kev-overdue, epss-elevated, "
            "high-or-critical-fixable, critical-unknown, medium-fixable, unenriched") in needs
    assert "# Need more than exports: exploit-observed, exploit-available" in needs
    assert "#   Inspector: a live run (--image-build-version-arn) or --finding-details FILE" in needs
    copy = tmp_path / "strict-copy.yaml"
    copy.write_text(out)
    assert main(["policy", "validate", str(copy)]) == ExitCode.PASS
    assert main(["policy", "show", "stritc"]) == ExitCode.USAGE
    assert "did you mean 'strict'?" in capsys.readouterr().err


def test_policy_init_copies_a_shipped_policy_and_never_overwrites(
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(isolated_env)
    assert main(["policy", "init", "--from", "kev-only"]) == ExitCode.PASS
    written = isolated_env / "policy.yaml"
    assert written.read_text() == shipped_policies()["kev-only"].read_text(encoding="utf-8")
    assert "gate policy validate policy.yaml" in capsys.readouterr().out
    written.write_text("mine")
    assert main(["policy", "init"]) == ExitCode.USAGE
    assert written.read_text() == "mine"
    assert "policy.yaml exists; not overwriting it" in capsys.readouterr().err
    assert main(["policy", "init", "--force", "-o", str(written)]) == ExitCode.PASS
    assert main(["policy", "validate", str(written)]) == ExitCode.PASS
    assert main(["policy", "init", "--from", "nope", "-o", "other.yaml"]) == ExitCode.USAGE
    assert not (isolated_env / "other.yaml").exists()


POLICY = """version: 1
rules:
  - {id: lower, when: 'severity == "critical"', action: fail}
  - {id: listed, when: 'severity in ["HIGH", "Critical"]', action: warn}
  - {id: always, when: 'severity != "high"', action: warn}
  - {id: percent, when: 'epss > 50', action: fail}
  - {id: flipped, when: '10 < cvss', action: fail}
  - {id: fine, when: 'severity == "CRITICAL" and epss > 0.5 and fix == "YES" and cvss >= 9', action: fail}
"""


def test_validate_warns_about_comparisons_that_can_never_match(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(POLICY)
    assert main(["policy", "validate", str(path)]) == ExitCode.PASS  # warnings, not errors
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (f'{path}:3:24: warning: rule \'lower\': `severity == "critical"` can never match: severity '
                      'is one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNTRIAGED (upper-case: "CRITICAL"), never '
                      '"critical"')
    assert '"Critical" can never match' in err[1]
    assert "rule 'always'" in err[2] and "always holds" in err[2]
    assert "rule 'percent'" in err[3] and "epss is between 0 and 1" in err[3]
    assert "rule 'flipped'" in err[4] and "cvss is between 0 and 10" in err[4]
    assert len(err) == 5
    assert err[4].startswith(f"{path}:7:26: warning: rule 'flipped': `10 < cvss`")


def test_shipped_policies_draw_no_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "validate", *shipped_policies()]) == ExitCode.PASS
    assert "warning" not in capsys.readouterr().err


def _today_feeds() -> tuple[bytes, bytes]:
    """The real files with today's date in them, as the publishers would serve them today."""
    now = datetime.now(UTC)
    kev = KEV.replace(b'"dateReleased": "2025-08-25T17:04:19.9796Z"',
                      f'"dateReleased": "{now:%Y-%m-%dT%H:%M:%S}Z"'.encode())
    epss = gzip.decompress(EPSS_SMALL).replace(b"score_date:2025-08-28T12:55:00Z",
                                               f"score_date:{now:%Y-%m-%dT00:00:00}Z".encode())
    return kev, gzip.compress(epss, mtime=0)


def test_feeds_status(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = ["feeds", "status", "--cache-dir", str(tmp_path)]
    assert main(cache) == ExitCode.INCOMPLETE
    assert capsys.readouterr().out.count("missing") == 2
    update_feeds(tmp_path, kev_url=f"{site.url}/kev.json", epss_url=f"{site.url}/epss.csv.gz", timeout=5)
    assert main(cache) == ExitCode.INCOMPLETE  # the real files are from August 2025
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("CISA KEV: STALE: run `gate feeds update` — data of 2025-08-25")
    assert "catalog 2025.08.25, 1404 entries" in out[0]
    kev, epss = _today_feeds()
    site.files["/kev.json"] = Served(kev, '"kev-today"')
    site.files["/epss.csv.gz"] = Served(epss, '"epss-today"')
    update_feeds(tmp_path, kev_url=f"{site.url}/kev.json", epss_url=f"{site.url}/epss.csv.gz", timeout=5)
    assert main(cache) == ExitCode.PASS
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" — ")[0] for line in out] == [
        "CISA KEV: fresh", "FIRST EPSS: fresh", "limit: 30 days (the default), as `gate check --policy default` "
        "applies it"]


def _complete(script: str, words: list[str]) -> list[str]:
    """Run the bash completion function the way bash does on TAB, and return its suggestions."""
    program = (f"{script}\nCOMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
               '_gate; printf "%s\\n" "${COMPREPLY[@]}"')
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], capture_output=True, text=True,
                          check=True)
    return done.stdout.split()


@pytest.fixture(scope="module")
def bash_script() -> str:
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        assert main(["completion", "bash"]) == ExitCode.PASS
    return buffer.getvalue()


@pytest.mark.parametrize(("words", "expected"), [
    (["gate", "po"], ["policy"]),
    (["gate", "policy", ""], ["validate", "test", "schema", "fields", "show", "init"]),
    (["gate", "check", "--fail"], ["--fail-on"]),
    (["gate", "check", "--fail-on", ""], ["violation", "warn", "never"]),
    (["gate", "feeds", "st"], ["status"]),
    (["gate", "completion", ""], ["bash", "zsh", "fish", "powershell"]),
    (["gate", "check", "-f", ""], ["json", "sarif", "junit", "markdown", "html", "table", "openvex"]),
    (["gate", "check", "--format", "s"], ["sarif"]),
    (["gate", "check", "--report", "j"], ["json=", "junit="]),
    (["gate", "policy", "init", "--from", "s"], ["ssvc", "strict"]),
    (["gate", "check", "--q"], ["--quiet"]),
    (["gate", "ve"], ["verify", "version"]),
])
def test_bash_completion(bash_script: str, words: list[str], expected: list[str]) -> None:
    assert _complete(bash_script, words) == expected


@pytest.mark.parametrize("words", [["gate", "check", "--policy", ""], ["gate", "policy", "show", ""],
                                   ["gate", "policy", "validate", ""]])
def test_bash_offers_shipped_policies_and_files(bash_script: str, words: list[str], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").write_text("version: 1\nrules: []\n")
    offered = _complete(bash_script, words)
    assert {"default", "strict", "kev-only", "ratchet", "ssvc", "mine.yaml"} <= set(offered)


@pytest.mark.parametrize("shell", ["zsh", "fish", "powershell"])
def test_other_shells_name_every_command_policy_and_format(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", shell]) == ExitCode.PASS
    script = capsys.readouterr().out
    for word in ("check", "fetch", "policy", "feeds", "completion", "status", "init", "fail-on", "version",
                 *shipped_policies(), "openvex", "markdown", "quiet"):
        assert word in script, word


def test_powershell_registers_a_native_completer_with_values_per_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "powershell"]) == ExitCode.PASS
    script = capsys.readouterr().out
    assert "Register-ArgumentCompleter -Native -CommandName gate -ScriptBlock {" in script
    assert "    'check|--policy' = @('default', 'kev-only', 'ratchet', 'ssvc', 'strict')" in script
    assert "    'check|-f' = @('json', 'sarif', 'junit', 'markdown', 'html', 'table', 'openvex')" in script
    assert "    'policy' = @('validate', 'test', 'schema', 'fields', 'show', 'init')" in script
    assert script.count("{") == script.count("}")  # NOTE: no PowerShell here to parse it; at least it is balanced
