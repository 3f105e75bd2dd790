"""Ready to release: one version, a changelog entry for it, and a workflow that checks and attests what it publishes."""

from __future__ import annotations

import re
import tomllib

import yaml

import gate
from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8"))


def test_the_version_is_written_in_one_place() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "gate.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", gate.__version__)


def test_the_distribution_name_is_not_pypis_other_gate() -> None:
    assert PYPROJECT["project"]["name"] == "imagebuilder-gate"
    assert PYPROJECT["project"]["scripts"] == {"gate": "gate.cli.main:entrypoint"}  # the command stays gate


def test_the_changelog_has_the_version_and_the_readme_links_it() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{gate.__version__}]" in changelog
    assert "(CHANGELOG.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_release_workflow_checks_attests_and_publishes_without_a_token() -> None:
    build, publish = WORKFLOW["jobs"]["build"], WORKFLOW["jobs"]["publish"]
    script = "\n".join(step.get("run", "") for step in build["steps"])
    for needed in ("python -m build", "twine check --strict dist/*", "gate --version", "--as-of 2025-08-30",
                   'test "$code" = 1', "pip install --disable-pip-version-check dist/*.tar.gz"):
        assert needed in script, needed
    uses = [step.get("uses", "") for job in (build, publish) for step in job["steps"]]
    assert any(u.startswith("actions/attest-build-provenance@") for u in uses)
    assert any(u.startswith("pypa/gh-action-pypi-publish@") for u in uses)
    assert WORKFLOW["permissions"] == {}  # nothing by default; each job asks for what it needs
    assert publish["permissions"] == {"id-token": "write"}
    assert build["permissions"]["attestations"] == "write"
    publish_step = next(s for s in publish["steps"] if s.get("uses", "").startswith("pypa/"))
    assert "password" not in publish_step.get("with", {})  # trusted publishing, no stored token
