"""action.yml: valid against GitHub's schema, inputs only via env:, and its run: steps work in a simulated runner."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import DATA, ROOT
from tests.e2e.seed import seed_example
from tests.emulator import Emulator
from tests.github_outputs import parse_outputs

pytestmark = pytest.mark.slow

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
EXPR = re.compile(r"\$\{\{\s*(inputs|github)\.([A-Za-z0-9_-]+)\s*\}\}")


def test_action_is_valid_against_the_github_action_schema() -> None:
    schema = json.loads((DATA / "gha" / "github-action.json").read_text())
    jsonschema.Draft7Validator(schema).validate(ACTION)


def test_no_expression_inside_run_scripts() -> None:
    steps = ACTION["runs"]["steps"]
    assert all("${{" not in step.get("run", "") for step in steps)
    assert {"verdict", "failed", "warned", "total"} <= set(ACTION["outputs"])


@pytest.fixture(scope="module")
def runner_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean virtualenv standing in for setup-python; dependencies come from this one, gate does not."""
    env_dir = tmp_path_factory.mktemp("runner") / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    site = next(Path(p) for p in sys.path if p.endswith("site-packages"))
    (next((env_dir / "lib").glob("python3*/site-packages")) / "deps.pth").write_text(str(site) + "\n")
    # The venv's bundled setuptools is older than the build needs; let the tested one show through.
    subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "uninstall", "-q", "-y", "setuptools"],
                   check=False, capture_output=True)
    return env_dir / "bin"


def run_action(inputs: dict[str, str], bin_dir: Path, workdir: Path, extra_env: dict[str, str]) -> dict[str, Any]:
    """Run each `run:` step as the runner does: bash -eo pipefail, env: with ${{ }} resolved by the runner."""
    values = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()} | inputs
    output, summary = workdir / "github_output", workdir / "step_summary"
    output.write_text("")
    summary.write_text("")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GATE_", "AWS_"))}
    base |= {"PATH": f"{bin_dir}:{base['PATH']}", "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output),
             "GITHUB_STEP_SUMMARY": str(summary), "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",
             "GATE_CACHE_DIR": str(workdir / "cache")} | extra_env
    result: dict[str, Any] = {"codes": []}
    for step in ACTION["runs"]["steps"]:
        if "run" not in step:
            continue  # `uses: actions/setup-python`: bin_dir stands in for it
        env = dict(base)
        for key, value in step.get("env", {}).items():
            env[key] = EXPR.sub(lambda m: str(ROOT) if m[1] == "github" else values[m[2]], str(value))
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                              cwd=workdir, env=env, capture_output=True, text=True, timeout=600, check=False)
        result["codes"].append(done.returncode)
        result["stdout"], result["stderr"] = done.stdout, done.stderr
        if done.returncode:
            break
    result["outputs"] = parse_outputs(output.read_text())
    result["summary"] = summary.read_text()
    return result


def test_simulated_action_run(emulator: Emulator, runner_python: Path, tmp_path: Path) -> None:
    arn = seed_example(emulator)
    hostile = tmp_path / "pwned"
    result = run_action(
        {
            "image-build-version-arn": arn,
            "reports": "json=out/gate.json, sarif=out/gate.sarif\njunit=out/junit.xml",
            "sarif-location": "recipes/web-base.yaml",
            "wait-timeout": "60",
            "policy": "default",
            "region": f"us-east-1$(touch {hostile})",  # inputs are data, never code
        },
        runner_python, tmp_path, emulator.env(),
    )
    assert not hostile.exists()
    assert result["codes"] == [0, 2], result["stderr"]  # install ok; region input rejected as data
    result = run_action(
        {"image-build-version-arn": arn, "reports": "json=out/gate.json, sarif=out/gate.sarif\njunit=out/junit.xml",
         "sarif-location": "recipes/web-base.yaml", "wait-timeout": "60"},
        runner_python, tmp_path, emulator.env(),
    )
    assert result["codes"] == [0, 1], result["stderr"]
    outputs = result["outputs"]
    assert outputs["verdict"] == "fail"
    assert (outputs["failed"], outputs["total"]) == ("9", "347")
    assert outputs["exit-code"] == "1"
    assert outputs["report-sarif"] == "out/gate.sarif"
    errors = [line for line in result["stdout"].splitlines() if line.startswith("::error")]
    assert len(errors) == 9
    assert all("file=recipes/web-base.yaml" in line for line in errors)
    assert "CVE-2023-4863" in result["summary"]
    sarif = json.loads((tmp_path / "out" / "gate.sarif").read_text())
    assert len([r for r in sarif["runs"][0]["results"] if r["level"] == "error"]) >= 9
    assert (tmp_path / "out" / "junit.xml").read_text().startswith("<?xml")
    assert emulator.violations == []


def test_fail_on_never_reports_without_failing(emulator: Emulator, runner_python: Path, tmp_path: Path) -> None:
    arn = seed_example(emulator)
    result = run_action({"image-build-version-arn": arn, "fail-on": "never"}, runner_python, tmp_path,
                        emulator.env())
    assert result["codes"] == [0, 0], result["stderr"]
    assert result["outputs"]["verdict"] == "fail"
    assert result["outputs"]["exit-code"] == "1"


def test_errors_fail_the_step_even_with_fail_on_never(runner_python: Path, tmp_path: Path,
                                                      emulator: Emulator) -> None:
    result = run_action({"image-build-version-arn": "arn:aws:imagebuilder:us-east-1:111122223333:image/x/1.0.0/1",
                         "fail-on": "never"}, runner_python, tmp_path, emulator.env())
    assert result["codes"][-1] == 3
    assert result["outputs"]["verdict"] == "error"


def test_baseline_input(emulator: Emulator, runner_python: Path, tmp_path: Path) -> None:
    from tests.ratchet.builds import GLIBC, PIPELINE, ZLIB, seed

    seed(emulator, (1, 2))
    hostile = tmp_path / "pwned"
    result = run_action({"image-pipeline-arn": PIPELINE, "policy": "ratchet", "baseline": f"$(touch {hostile})",
                         "reports": "json=gate.json"}, runner_python, tmp_path, emulator.env())
    assert not hostile.exists()
    assert result["codes"] == [0, 3], result["stderr"]  # a file of that odd name does not exist
    result = run_action({"image-pipeline-arn": PIPELINE, "policy": "ratchet", "baseline": "previous",
                         "reports": "json=gate.json"}, runner_python, tmp_path, emulator.env())
    assert result["codes"] == [0, 1], result["stderr"]
    assert "Since the baseline" in result["summary"]
    assert f"fixed: {ZLIB}" in result["summary"]
    report = json.loads((tmp_path / "gate.json").read_text())
    assert GLIBC in {f["vulnerabilityId"] for f in report["findings"] if f["baseline"] == "new"}
