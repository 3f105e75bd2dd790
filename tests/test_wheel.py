"""The built wheel carries the shipped policies, schemas and templates, and works outside the repo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.slow


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, env=env, timeout=600)


def test_wheel_contains_package_data_and_validates_a_shipped_policy(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist),
                 str(ROOT)], tmp_path)
    assert built.returncode == 0, built.stderr
    [wheel] = dist.glob("imagebuilder_gate-*.whl")  # the distribution's name; the package is still `gate`
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("gate/policies/default.yaml", "gate/policies/strict.yaml", "gate/policies/kev-only.yaml",
                   "gate/policies/ratchet.yaml",
                   "gate/schemas/policy-v1.schema.json", "gate/schemas/report-v1.schema.json",
                   "gate/schemas/openvex-0.2.0.schema.json", "gate/reports/templates/report.css",
                   "gate/reports/templates/report.js", "gate/py.typed"):
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
    # Every kind of package data is found where the wheel put it (gate.files.package_folder): the
    # page's CSS and JS, the OpenVEX schema a --vex document is checked against, a shipped policy.
    vex = tmp_path / "platform.vex.json"
    vex.write_text(json.dumps({"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1",
                               "author": "Platform", "timestamp": "2026-11-01T00:00:00Z", "version": 1,
                               "statements": []}))
    page = tmp_path / "report.html"
    judged = run([str(env_dir / "bin" / "gate"), "check", "--as-of", "2026-11-21", "--max-feed-age", "460d",
                  "--findings", str(EXAMPLES / "findings.json"),
                  "--finding-details", str(EXAMPLES / "inspector-findings.json"),
                  "--finding-details", str(EXAMPLES / "finding-details.json"),
                  "--kev-catalog", str(EXAMPLES / "kev.json"), "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz"),
                  "--vex", str(vex), "--report", f"html={page}"], tmp_path)
    assert judged.returncode == 1, judged.stderr  # the example image fails the default policy
    html = page.read_text(encoding="utf-8")
    css = (ROOT / "gate" / "reports" / "templates" / "report.css").read_text(encoding="utf-8")
    assert f"<style>{css}</style>" in html


def test_every_package_is_in_the_wheel_list() -> None:
    """A new subpackage left out of pyproject's `packages` installs as a missing module (seen with gate.actions)."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts) for p in (root / "gate").rglob("__init__.py")}
    assert found <= listed, sorted(found - listed)
