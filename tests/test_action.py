"""action.yml: valid, inputs only via env:, installs from the hash-pinned lock into its own venv, caches, and works.

The simulated runner (tests/action_sim.py) runs the steps as GitHub would, with a cache service that
outlives jobs: a cold job installs from the lock, a warm one restores the environment and skips it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.action_sim import ACTION, ROOT, Run, Runner
from tests.conftest import DATA, EXAMPLES
from tests.e2e.seed import seed_example
from tests.emulator import Emulator
from tests.enrichment.feed_server import Site, site

__all__ = ["site"]

LOCK = ROOT / "action" / "requirements.txt"
WORKFLOW = ROOT / ".github" / "workflows" / "action-self-test.yml"
EXAMPLE_INPUTS = {
    "findings": f"{EXAMPLES / 'findings.json'}\n",
    "finding-details": f"{EXAMPLES / 'inspector-findings.json'}\n{EXAMPLES / 'finding-details.json'}",
    "kev-catalog": str(EXAMPLES / "kev.json"),
    "epss-scores": str(EXAMPLES / "epss-scores.csv.gz"),
    "reports": "json=out/gate.json, sarif=out/gate.sarif\nmarkdown=out/summary.md",
    "args": "--as-of\n2026-11-21\n--max-feed-age\n3650d",  # the bundled feeds are from 2025
}


def test_action_is_valid_against_the_github_action_schema() -> None:
    schema = json.loads((DATA / "gha" / "github-action.json").read_text())
    jsonschema.Draft7Validator(schema).validate(ACTION)


def test_inputs_reach_scripts_only_through_env() -> None:
    steps = ACTION["runs"]["steps"]
    assert all("${{" not in step.get("run", "") for step in steps)
    used = {m for step in steps for value in step.get("env", {}).values()
            for m in re.findall(r"inputs\.([a-z-]+)", str(value))}
    used |= {m for step in steps for value in step.get("with", {}).values()
             for m in re.findall(r"inputs\.([a-z-]+)", str(value))}
    assert used == set(ACTION["inputs"]), set(ACTION["inputs"]) ^ used
    assert {"verdict", "failed", "warned", "total", "exit-code"} <= set(ACTION["outputs"])


def test_the_jobs_python_is_left_alone() -> None:
    setup = next(s for s in ACTION["runs"]["steps"] if str(s.get("uses", "")).startswith("actions/setup-python"))
    assert setup["with"]["update-environment"] is False


def test_the_lock_pins_every_dependency_with_hashes() -> None:
    text = LOCK.read_text()
    assert "pip-compile --all-build-deps --allow-unsafe --generate-hashes" in text  # made by the tool
    entries = re.findall(r"^([a-z0-9_.-]+)==(\S+) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", text, re.M)
    names = {name for name, _, _ in entries}
    requirements = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    assert len(entries) == len(requirements)  # every requirement line is pinned and hashed
    pyproject = (ROOT / "pyproject.toml").read_text()
    deps = re.search(r"^dependencies = \[(.*?)\]", pyproject, re.S | re.M)
    assert deps
    for dep in re.findall(r'"([A-Za-z0-9_.-]+)', deps.group(1)):
        assert dep.lower() in names
    assert {"setuptools", "wheel"} <= names  # gate itself is built with pinned tools, nothing fetched


def test_every_uses_is_pinned_by_a_full_commit_sha_with_its_tag_beside_it() -> None:
    files = [ROOT / "action.yml", *sorted((ROOT / ".github" / "workflows").glob("*.yml"))]
    found = 0
    for path in files:
        for line in path.read_text().splitlines():
            match = re.match(r"^\s*(?:- )?uses: (\S+)(.*)$", line)
            if match is None or match[1] == "./":
                continue
            found += 1
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", match[1]), f"{path.name}: {line.strip()}"
            assert re.fullmatch(r"\s+# v\d+\.\d+\.\d+", match[2]), f"{path.name}: no tag comment: {line.strip()}"
    assert found >= 3


BUILD_ONLY = re.search(r'^BUILD_ONLY="([^"]+)"', (ROOT / "scripts" / "action-install.sh").read_text(), re.M)


def test_the_build_only_packages_are_needed_only_to_build() -> None:
    """What the install keeps out of gate's environment is, by the lock's own `# via` notes, only for building."""
    assert BUILD_ONLY is not None
    tools = set(BUILD_ONLY[1].split())
    entry = r"^([a-z0-9_.-]+)==\S+ \\\n(?:\s+--hash=\S+(?: \\)?\n)+((?:[ \t]+#.*\n)+)"
    blocks = re.findall(entry, LOCK.read_text(), re.M)
    vias = {name: re.findall(r"#\s+(?:via\s+)?(\S.*)", notes) for name, notes in blocks}
    assert tools <= set(vias)
    for tool in tools:
        for via in vias[tool]:
            assert "build-system.requires" in via or via.strip() in tools, f"{tool} is needed by {via}"


def test_the_self_test_workflow_runs_the_action_on_the_examples() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    ours = [s for s in steps if s.get("uses") == "./"]
    assert ours
    assert any("examples/findings.json" in str(s["with"].get("findings", "")) for s in ours)
    assert all("${{" not in s.get("run", "") for s in steps)


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lock's wheels, fetched once through pip's configured index with every hash checked."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
                    "--only-binary", ":all:", "-r", str(LOCK), "-d", str(folder)], check=True,
                   capture_output=True, timeout=600)
    return folder


def _runner(home: Path, wheelhouse: Path) -> Runner:
    python = getattr(sys, "_base_executable", sys.executable)
    return Runner(home, python, {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse)})  # PyPI, from disk


@pytest.fixture(scope="module")
def machine(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> tuple[Runner, Run, Path]:
    """One runner for the module (installs are slow): its first job, on an empty cache, and where it ran."""
    runner = _runner(tmp_path_factory.mktemp("runner"), wheelhouse)
    work = tmp_path_factory.mktemp("first-job")
    return runner, runner.job(EXAMPLE_INPUTS | {"fail-on": "never"}, work), work


@pytest.fixture
def runner(machine: tuple[Runner, Run, Path]) -> Iterator[Runner]:
    runner = machine[0]
    before = dict(runner.extra_env)
    yield runner
    runner.extra_env = before


@pytest.mark.slow
def test_gates_environment_holds_no_build_tools(machine: tuple[Runner, Run, Path]) -> None:
    _, cold, work = machine
    assert cold.codes[:2] == [0, 0], cold.stderr
    site = next((work / "_temp" / "gate-action" / "env" / "venv" / "lib").glob("python3.*/site-packages"))
    installed = {p.name.split("-")[0].lower() for p in site.glob("*.dist-info")}
    assert {"imagebuilder_gate", "boto3", "jsonschema"} <= installed
    assert BUILD_ONLY is not None
    assert not installed & set(BUILD_ONLY[1].split()), installed


@pytest.mark.slow
def test_cold_then_warm_on_the_examples(machine: tuple[Runner, Run, Path]) -> None:
    runner, cold, work = machine
    assert cold.codes == [0, 0, 0], cold.stderr  # keys, install, gate
    assert cold.cache_hits == {"Restore gate's virtual environment": "false"}
    assert (cold.outputs["verdict"], cold.outputs["failed"], cold.outputs["total"]) == ("fail", "9", "347")
    assert cold.outputs["exit-code"] == "0"  # fail-on: never
    assert "To ship, update 8 package groups" in cold.summary
    warm = runner.job(EXAMPLE_INPUTS, work)
    assert warm.cache_hits == {"Restore gate's virtual environment": "true"}
    assert "Install gate from the hash-pinned lock" not in warm.seconds
    assert warm.codes == [0, 1], warm.stderr  # keys, gate (violation)
    assert warm.outputs["exit-code"] == "1"
    report = json.loads((work / "out" / "gate.json").read_text())
    assert report["summary"]["failed"] == 9
    errors = [line for line in warm.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 9


@pytest.mark.slow
def test_inputs_are_data_never_code(runner: Runner, tmp_path: Path) -> None:
    hostile = tmp_path / "pwned"
    result = runner.job(EXAMPLE_INPUTS | {"policy": f"default$(touch {hostile})",
                                          "args": f"--as-of\n2026-11-21 `touch {hostile}`"}, tmp_path)
    assert not hostile.exists()
    assert result.codes[-1] == 2, result.stderr  # no such policy: a usage error, as data


@pytest.mark.slow
def test_fail_on_warn_and_bad_fail_on(runner: Runner, tmp_path: Path) -> None:
    warn_only = tmp_path / "warn.yaml"
    warn_only.write_text('version: 1\nrules:\n  - {id: high, when: severity == "HIGH", action: warn}\n')
    inputs = EXAMPLE_INPUTS | {"policy": str(warn_only)}
    assert runner.job(inputs, tmp_path).codes[-1] == 0
    assert runner.job(inputs | {"fail-on": "warn"}, tmp_path).codes[-1] == 1
    bad = runner.job(inputs | {"fail-on": "sometimes"}, tmp_path)
    assert bad.codes[-1] == 2
    assert "'sometimes' is not one of violation, warn, never" in bad.stderr


@pytest.mark.slow
def test_feeds_are_refreshed_and_cached_between_jobs(site: Site, runner: Runner, tmp_path: Path) -> None:
    runner.extra_env |= {"GATE_KEV_URL": f"{site.url}/kev.json", "GATE_EPSS_URL": f"{site.url}/epss.csv.gz"}
    inputs = {k: v for k, v in EXAMPLE_INPUTS.items() if k not in ("kev-catalog", "epss-scores")}
    first = runner.job(inputs, tmp_path)
    assert first.codes == [0, 0, 1], first.stderr  # keys, feeds update, gate
    assert first.cache_hits["Restore the KEV and EPSS feeds"] == "false"
    report = json.loads((tmp_path / "out" / "gate.json").read_text())
    assert {f["name"] for f in report["feeds"]} >= {"CISA KEV", "FIRST EPSS"}
    second = runner.job(inputs, tmp_path)
    assert second.cache_hits["Restore the KEV and EPSS feeds"] == "true"
    assert [r[1] for r in site.requests[-2:]] == ['"kev-1"', '"epss-1"']  # revalidated, not downloaded


@pytest.mark.slow
def test_live_run_against_the_emulator(emulator: Emulator, runner: Runner, tmp_path: Path) -> None:
    arn = seed_example(emulator)
    runner.extra_env |= emulator.env()
    inputs = {"image-build-version-arn": arn, "reports": "json=out/gate.json, sarif=out/gate.sarif",
              "sarif-location": "recipes/web-base.yaml", "wait-timeout": "60", "refresh-feeds": "false",
              "kev-catalog": str(EXAMPLES / "kev.json"), "epss-scores": str(EXAMPLES / "epss-scores.csv.gz"),
              "args": "--max-feed-age\n3650d"}
    result = runner.job(inputs, tmp_path)
    assert result.codes[-1] == 1, result.stderr
    assert (result.outputs["failed"], result.outputs["total"]) == ("9", "347")
    assert result.outputs["report-sarif"] == "out/gate.sarif"
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert errors and all("file=recipes/web-base.yaml" in line for line in errors)
    broken = runner.job(inputs | {"image-build-version-arn": "arn:aws:imagebuilder:us-east-1:111122223333:"
                                  "image/x/1.0.0/1", "fail-on": "never"}, tmp_path)
    assert broken.codes[-1] == 3  # errors fail the step whatever fail-on says
    assert broken.outputs["verdict"] == "error"
    assert emulator.violations == []


@pytest.mark.slow
def test_baseline_input(emulator: Emulator, runner: Runner, tmp_path: Path) -> None:
    from tests.baseline.builds import GLIBC, PIPELINE, ZLIB, seed

    seed(emulator, (1, 2))
    runner.extra_env |= emulator.env()
    hostile = tmp_path / "pwned"
    # NOTE: the emulator's Inspector knows none of these CVEs; without a KEV catalog `kev` would be unasked (exit 3).
    base = {"image-pipeline-arn": PIPELINE, "policy": "ratchet", "reports": "json=gate.json", "refresh-feeds": "false",
            "args": f"--max-feed-age\n3650d\n--kev-catalog\n{EXAMPLES / 'kev.json'}"}
    result = runner.job(base | {"baseline": f"$(touch {hostile})"}, tmp_path)
    assert not hostile.exists()
    assert result.codes[-1] == 3, result.stderr  # a file of that odd name does not exist
    result = runner.job(base | {"baseline": "previous"}, tmp_path)
    assert result.codes[-1] == 1, result.stderr
    assert "Since the baseline" in result.summary
    assert f"fixed: {ZLIB}" in result.summary
    report = json.loads((tmp_path / "gate.json").read_text())
    assert GLIBC in {f["vulnerabilityId"] for f in report["findings"] if f["baseline"] == "new"}


@pytest.mark.slow
def test_attest_input_signs_the_decision_and_names_it_in_an_output(runner: Runner, tmp_path: Path) -> None:
    from tests.attestation.kit import PASSING, pem_pair, verify

    secret, public = pem_pair(tmp_path)
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text(PASSING)
    result = runner.job(EXAMPLE_INPUTS | {"policy": str(lenient), "attest": "out/decision.jsonl",
                                          "sign-key": f"file:{secret}"}, tmp_path)
    assert result.codes[-1] == 0, result.stderr
    assert result.outputs["attestation-path"] == "out/decision.jsonl"
    assert verify(tmp_path / "out" / "decision.jsonl", f"file:{public}") == 0
    unsigned = runner.job(EXAMPLE_INPUTS | {"attest": "out/other.jsonl"}, tmp_path)
    assert unsigned.codes[-1] == 2  # NOTE: --attest without --sign-key
    assert "attestation-path" not in unsigned.outputs
