"""`./dev` installs nothing unasked: a missing Chromium is named with the command that gets it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.reports import browser


def _bare_path(tmp_path: Path) -> str:
    """A PATH with the few tools `./dev` uses and neither Chromium nor apt-get nor sudo."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "id", "head", "env"):
        found = shutil.which(tool)
        assert found is not None, tool
        (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def _dev(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": _bare_path(tmp_path)}
    return subprocess.run(["bash", str(ROOT / "dev"), *args], capture_output=True, text=True, env=env,
                          check=False, timeout=60)


def test_check_browser_names_what_is_missing_and_the_command(tmp_path: Path) -> None:
    done = _dev(tmp_path, "check-browser")
    assert done.returncode == 1
    assert "Chromium is missing, so the HTML report's browser test" in done.stderr
    assert "get it with: ./dev setup-browser" in done.stderr


def test_setup_browser_without_apt_get_says_so_and_installs_nothing(tmp_path: Path) -> None:
    done = _dev(tmp_path, "setup-browser")
    assert done.returncode == 1
    assert "no apt-get here" in done.stderr


def test_the_browser_test_fails_with_the_same_advice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(AssertionError, match=r"run `\./dev setup-browser`"):
        browser.chromium_path()


def test_dev_test_never_runs_apt_get() -> None:
    script = (ROOT / "dev").read_text()
    test_branch = script[script.index("  test | suite)\n"):]
    test_branch = test_branch[: test_branch.index(";;")]
    assert "apt-get" not in test_branch and "setup_browser" not in test_branch
    assert "browser_check" in test_branch
