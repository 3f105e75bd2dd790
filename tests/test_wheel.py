"""The built wheel carries the shipped policies, schemas and templates, and works outside the repo."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, env=env, timeout=600)


def test_wheel_contains_package_data_and_validates_a_shipped_policy(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist),
                 str(ROOT)], tmp_path)
    assert built.returncode == 0, built.stderr
    [wheel] = dist.glob("gate-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("gate/policies/default.yaml", "gate/policies/strict.yaml", "gate/policies/kev-only.yaml",
                   "gate/policies/ratchet.yaml",
                   "gate/schemas/policy-v1.schema.json", "gate/schemas/report-v1.schema.json",
                   "gate/reports/templates/report.html.j2", "gate/py.typed"):
        assert needed in names, f"{needed} missing from {wheel.name}"
    # A fresh virtualenv that sees this machine's packages for dependencies, but gate only from the wheel.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = next(Path(p) for p in sys.path if p.endswith("site-packages"))
    (next((env_dir / "lib").glob("python3*/site-packages")) / "deps.pth").write_text(str(site) + "\n")
    installed = run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)], tmp_path)
    assert installed.returncode == 0, installed.stderr
    done = run([str(env_dir / "bin" / "gate"), "policy", "validate", "default", "strict", "kev-only", "ratchet"],
               tmp_path)
    assert done.returncode == 0, done.stderr
    assert "default.yaml: ok" in done.stdout
    assert str(ROOT) not in done.stdout  # the policy came from the installed wheel, not the checkout
