"""A small stand-in for the GitHub Actions runner: runs action.yml's steps as the runner would.

`run:` steps go through `bash --noprofile --norc -eo pipefail`, each with its own `$GITHUB_OUTPUT`
parsed into `steps.<id>.outputs`; `${{ }}` in `env:`, `with:` and `if:` is evaluated here (only the
forms action.yml uses: `inputs.*`, `github.action_path`, `steps.*.outputs.*`, `==`/`!=` a literal);
`actions/setup-python` answers with a given interpreter, and `actions/cache` restores from and saves
to a folder standing in for GitHub's cache service (exact key, then restore-keys prefixes).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.github_outputs import parse_outputs

ROOT = Path(__file__).resolve().parent.parent
ACTION: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_REF = re.compile(r"(inputs|github|steps)\.([A-Za-z0-9_.-]+)")
_COMPARE = re.compile(r"^(\S+)\s*(==|!=)\s*'([^']*)'$")


@dataclass
class Run:
    """What one simulated job saw: per step exit codes and timings, outputs, the summary, stdout."""

    codes: list[int] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    stdout: str = ""
    stderr: str = ""
    cache_hits: dict[str, str] = field(default_factory=dict)


class Runner:
    """One runner machine: a cache service folder that outlives jobs, and a fresh temp folder per job."""

    def __init__(self, home: Path, python: str, env: dict[str, str]) -> None:
        self.home, self.python, self.extra_env = home, python, env
        self.cache_service = home / "cache-service"
        self.cache_service.mkdir(parents=True, exist_ok=True)

    def _value(self, ref: str, inputs: dict[str, str], steps: dict[str, dict[str, str]]) -> str:
        match = _REF.fullmatch(ref)
        if match is None:
            raise AssertionError(f"the simulator does not know {ref!r}")
        kind, rest = match.groups()
        if kind == "inputs":
            return inputs[rest]
        if kind == "github":
            assert rest == "action_path", rest
            return str(ROOT)
        step, outputs, name = rest.split(".", 2)
        assert outputs == "outputs", rest
        return steps.get(step, {}).get(name, "")

    def _eval(self, expr: str, inputs: dict[str, str], steps: dict[str, dict[str, str]]) -> str:
        compare = _COMPARE.match(expr)
        if compare:
            left = self._value(compare[1], inputs, steps)
            equal = left == compare[3]
            return "true" if equal == (compare[2] == "==") else "false"
        return self._value(expr, inputs, steps)

    def _sub(self, text: object, inputs: dict[str, str], steps: dict[str, dict[str, str]]) -> str:
        if isinstance(text, bool):  # YAML `false` reaches an action as the string "false"
            return "true" if text else "false"
        return _EXPR.sub(lambda m: self._eval(m[1], inputs, steps), str(text))

    def _restore(self, path: Path, key: str, restore_keys: str) -> str:
        exact = self.cache_service / key
        found = exact if exact.is_dir() else None
        for prefix in filter(None, (k.strip() for k in restore_keys.splitlines())):
            if found is None:
                candidates = sorted((p for p in self.cache_service.iterdir() if p.name.startswith(prefix)),
                                    key=lambda p: p.stat().st_mtime)
                found = candidates[-1] if candidates else None
        if found is not None:  # actions/cache keeps a tar archive of the paths and unpacks it
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)
            subprocess.run(["tar", "-xf", str(found / "cache.tar"), "-C", str(path)], check=True)
        return "true" if found == exact else "false"

    def job(self, inputs: dict[str, str], workdir: Path) -> Run:
        """Run the action once in `workdir`, as one job on this runner."""
        values = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()} | inputs
        temp = workdir / "_temp"
        shutil.rmtree(temp, ignore_errors=True)  # the runner empties RUNNER_TEMP for every job
        temp.mkdir(parents=True)
        summary = temp / "step_summary"
        summary.write_text("")
        base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GATE_", "AWS_", "PIP_"))}
        base |= {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "RUNNER_TEMP": str(temp),
                 "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "PIP_CONFIG_FILE": os.devnull} | self.extra_env
        steps: dict[str, dict[str, str]] = {}
        saves: list[tuple[Path, str]] = []
        run = Run()
        for n, step in enumerate(ACTION["runs"]["steps"]):
            name = step.get("name", str(n))
            condition = step.get("if")
            if condition is not None and self._sub(condition, values, steps) != "true":
                continue
            started = time.perf_counter()
            outputs: dict[str, str] = {}
            uses = step.get("uses", "")
            with_ = {k: self._sub(v, values, steps) for k, v in step.get("with", {}).items()}
            if uses.startswith("actions/setup-python@"):
                assert with_.get("update-environment") == "false", "the job's Python must stay the job's"
                outputs = {"python-path": self.python, "python-version": with_["python-version"]}
            elif uses.startswith("actions/cache@"):
                path = Path(with_["path"])
                hit = self._restore(path, with_["key"], with_.get("restore-keys", ""))
                outputs = {"cache-hit": hit}
                run.cache_hits[name] = hit
                if hit != "true":
                    saves.append((path, with_["key"]))
            elif "run" in step:
                output = temp / f"output-{n}"
                output.write_text("")
                env = base | {"GITHUB_OUTPUT": str(output)}
                env |= {k: self._sub(v, values, steps) for k, v in step.get("env", {}).items()}
                done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                                      cwd=workdir, env=env, capture_output=True, text=True, timeout=600, check=False)
                run.codes.append(done.returncode)
                run.stdout += done.stdout
                run.stderr += done.stderr
                outputs = parse_outputs(output.read_text())
                if done.returncode:  # a failed step still sets its outputs; later steps are skipped
                    run.seconds[name] = time.perf_counter() - started
                    steps[step.get("id", name)] = outputs
                    break
            else:
                raise AssertionError(f"the simulator cannot run {uses!r}")
            run.seconds[name] = time.perf_counter() - started
            if "id" in step:
                steps[step["id"]] = outputs
        for path, key in saves:  # post-job: actions/cache saves what the job left, under its exact key
            target = self.cache_service / key
            if path.exists() and not target.exists():
                target.mkdir()
                subprocess.run(["tar", "-cf", str(target / "cache.tar"), "-C", str(path), "."], check=True)
        run.outputs = steps.get("gate", {})
        run.summary = summary.read_text()
        return run
