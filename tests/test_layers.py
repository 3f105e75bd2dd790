"""The import graph: every import points down the data path (see docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GATE = Path(__file__).resolve().parents[1] / "gate"
BASE = {"gate", "gate.agree", "gate.errors", "gate.vocab", "gate.model", "gate.declared", "gate.outcome", "gate.fields",
        "gate.timeutil", "gate.files", "gate.jsondocs", "gate.serialize", "gate.fleet", "gate.fleetjson",
        "gate.yamlsrc", "gate.jsonsrc"}
ASSEMBLY_ORDER = ("gate.snapshot", "gate.baseline", "gate.run", "gate.input_values", "gate.live", "gate.inputs",
                  "gate.decide", "gate.policy_cases", "gate.sweep", "gate.sweep.targets", "gate.sweep.revoke",
                  "gate.sweep.merge", "gate.sweep.shared", "gate.sweep.records", "gate.sweep.compare",
                  "gate.sweep.runner", "gate.sweep.session", "gate.lambda_handler")
"""The assembly layer, bottom to top: each module imports only those before it (so there is no cycle)."""
ASSEMBLY = set(ASSEMBLY_ORDER)


def layer(module: str) -> str:
    if module in BASE:
        return "base"
    if module in ASSEMBLY:
        return "assembly"
    parts = module.split(".")
    return module if module == "gate.__main__" else parts[1]


ALLOWED: dict[str, set[str]] = {
    "base": {"base"},
    "aws": {"base", "aws"},
    "sources": {"base", "aws", "sources"},
    "enrichment": {"base", "aws", "enrichment"},
    "policy": {"base", "policy"},
    "attestation": {"base", "aws", "attestation"},
    "actions": {"base", "aws", "attestation", "actions"},
    "assembly": {"base", "aws", "sources", "enrichment", "policy", "attestation", "actions", "assembly"},
    "reports": {"base", "reports"},
    "cli": {"base", "aws", "sources", "enrichment", "policy", "attestation", "actions", "assembly", "reports",
            "cli"},
    "gate.__main__": {"cli"},
}


def module_name(path: Path) -> str:
    rel = path.relative_to(GATE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Every gate module `path` imports, at the top or inside functions (lazy imports count too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("gate"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gate"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                sub = GATE.parent / Path(*candidate.split("."))
                found.add(candidate if sub.with_suffix(".py").exists() or sub.is_dir() else node.module)
    return found


MODULES = sorted(GATE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(GATE)))
def test_imports_point_down(path: Path) -> None:
    me = module_name(path)
    mine = layer(me)
    wrong = sorted(m for m in imports(path) if layer(m) not in ALLOWED[mine])
    assert not wrong, f"{me} ({mine}) imports {wrong}"


def test_every_module_has_a_layer() -> None:
    assert {layer(module_name(p)) for p in MODULES} <= set(ALLOWED)


def _path(module: str) -> Path:
    path = GATE.parent / Path(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


@pytest.mark.parametrize("module", ASSEMBLY_ORDER)
def test_the_assembly_imports_only_what_comes_before_it(module: str) -> None:
    rank = ASSEMBLY_ORDER.index(module)
    later = sorted(m for m in imports(_path(module)) - {module} if m in ASSEMBLY and ASSEMBLY_ORDER.index(m) >= rank)
    assert not later, f"{module} imports {later}, which come after it in ASSEMBLY_ORDER"


def test_imports_include_type_checking_and_lazy_ones(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from gate.inputs import Inputs\n"
                    "def f() -> None:\n    from gate import live\n")
    assert imports(path) == {"gate.inputs", "gate.live"}
