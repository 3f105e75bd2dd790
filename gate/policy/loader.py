"""Load a policy file (or a shipped policy by name): validate, check every expression, compile once."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from gate import yamlsrc
from gate.declared import Action, PolicyException, RuleInfo
from gate.errors import ExprError, PolicyError, PolicyErrors
from gate.files import package_folder
from gate.policy.compile import ExplainFunction, PolicyFunction, compile_policy
from gate.policy.expr import Node, parse, suggest
from gate.policy.schemaerrors import schema_errors
from gate.timeutil import parse_hours_or_days


@dataclass(frozen=True)
class Rule:
    id: str
    action: Action
    when: str
    condition: Node
    description: str | None = None

    @property
    def info(self) -> RuleInfo:
        return RuleInfo(id=self.id, action=self.action, when=self.when, description=self.description)


@dataclass(frozen=True)
class Policy:
    """A checked, compiled policy; `function` evaluates every rule in one call."""

    name: str
    source: str
    rules: tuple[Rule, ...]
    exceptions: tuple[PolicyException, ...]
    function: PolicyFunction
    explainers: tuple[ExplainFunction, ...]
    """`explainers[i](facts)`: why rule i matched, from the same compiled semantics as `function`."""
    untils: tuple[tuple[str, Node], ...] = ()
    """(exception id, condition) for each exception with `until`."""
    until_checks: dict[str, tuple[PolicyFunction, ExplainFunction]] | None = None
    """Exception id → (is `until` true, why): one small function per distinct condition, so a finding
    pays only for the exceptions that would cover it, never for all of them."""
    vex: tuple[str, ...] = ()
    """VEX documents the policy lists, resolved against the policy file's folder."""
    expiring_within_days: int | None = None
    max_feed_age: timedelta | None = None
    """How old KEV/EPSS data may be at the evaluation time; None: the command's default."""
    epss_model: str | None = None
    """The EPSS model the policy's thresholds were set for (`epss_model:`); EPSS of another model stops the run."""
    epss_model_allow_other: bool = False
    """`epss_model: {pin: …, allow_other: true}`: another model is judged, with a note in every report."""
    digest: str | None = None
    """sha256 (hex) of the file's bytes as read (before decoding): what a signed decision names the policy by."""


@cache
def policy_schema() -> dict[str, Any]:
    text = (package_folder("gate.schemas") / "policy-v1.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def shipped_policies() -> dict[str, Path]:
    """Shipped policy names → files (package data, so they exist in an installed wheel)."""
    folder = package_folder("gate.policies")
    return {
        entry.name.removesuffix(".yaml"): entry
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml") and not entry.name.endswith(".test.yaml")
    }


DEFAULT_POLICY = "default"


def is_path(name_or_path: str) -> bool:
    """A policy argument names a file when it has a `/` or a `.yaml`/`.yml` suffix; else a shipped policy.

    NOTE: never "a file of that name exists": a pull request could add a file named `default`.
    """
    return "/" in name_or_path or name_or_path.lower().endswith((".yaml", ".yml"))


def resolve(name_or_path: str) -> Path:
    """The policy file for a path, or for a shipped policy's bare name (empty means `default`)."""
    name_or_path = name_or_path.strip() or DEFAULT_POLICY
    if is_path(name_or_path):
        path = Path(name_or_path)
        if not path.is_file():
            why = "is a directory" if path.is_dir() else "no such file"
            raise PolicyError(f"{why}", path=name_or_path,
                              hint="check the path; a bare name such as 'default' means a shipped policy")
        return path
    shipped = shipped_policies()
    if name_or_path in shipped:
        return shipped[name_or_path]
    near = suggest(name_or_path, list(shipped))
    hint = f"did you mean '{near}'?" if near else "shipped policies: " + ", ".join(sorted(shipped))
    raise PolicyError(f"no shipped policy named '{name_or_path}' (a policy file needs a / or a .yaml suffix)",
                      path=name_or_path, hint=hint)


def shipped_test(name: str) -> Path | None:
    """The policy tests of a shipped policy, `default` → `default.test.yaml`; None for anything else."""
    policy = shipped_policies().get(name)
    if policy is None:
        return None
    test = policy.with_name(policy.name.removesuffix(".yaml") + ".test.yaml")
    return test if test.is_file() else None


def load_policy(name_or_path: str) -> Policy:
    path = resolve(name_or_path)
    data = yamlsrc.read_bounded(path)
    # NOTE: the digest is of these very bytes, the ones parsed: a file changed after reading cannot be named.
    return replace(parse_policy(yamlsrc.decode(data, path), str(path)), digest=hashlib.sha256(data).hexdigest())


@dataclass
class Checked:
    """Everything a policy file says, checked, with every problem found: what `policy validate` reports."""

    doc: yamlsrc.Document
    rules: list[Rule]
    rule_paths: dict[str, yamlsrc.JsonPath]
    """Rule id → its place in the document (`("rules", 2)`), for the line and column of a warning."""
    exceptions: tuple[PolicyException, ...]
    untils: list[tuple[str, Node]]
    max_feed_age: timedelta | None
    errors: list[PolicyError]


def check_policy(text: str, path: str) -> Checked:
    """Read and check a policy without stopping at the first problem (YAML that does not parse stops it)."""
    doc = yamlsrc.load(text, path)
    if not isinstance(doc.value, dict):
        raise PolicyError("a policy must be a mapping with 'version' and 'rules'", path=path,
                          line=doc.line(()))
    errors = schema_errors(doc, policy_schema())
    raw = doc.value
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    paths: dict[str, yamlsrc.JsonPath] = {}
    raw_rules: list[Any] = raw["rules"] if isinstance(raw.get("rules"), list) else []
    for i, item in enumerate(raw_rules):
        if not (isinstance(item, dict) and isinstance(item.get("id"), str) and isinstance(item.get("when"), str)):
            continue  # already reported by the schema
        line, column = doc.mark(("rules", i, "id"))
        if item["id"] in seen:
            errors.append(PolicyError(f"duplicate rule id '{item['id']}' (first at line {seen[item['id']]})",
                                      path=path, line=line, column=column))
            continue
        seen[item["id"]] = line or 0
        condition = _expression(doc, ("rules", i, "when"), f"rule '{item['id']}'", errors)
        if condition is None or item.get("action") not in ("fail", "warn"):
            continue  # NOTE: a bad action is the schema's error; its condition is still checked above
        paths[item["id"]] = ("rules", i)
        rules.append(Rule(id=item["id"], action=Action(item["action"]), when=item["when"],
                          condition=condition, description=item.get("description")))
    untils: list[tuple[str, Node]] = []
    raw_exceptions = raw.get("exceptions")
    exceptions = _exceptions(raw_exceptions if isinstance(raw_exceptions, list) else [], doc, set(seen), errors,
                             untils)
    max_feed_age = None
    if isinstance(raw.get("max_feed_age"), str):
        try:
            max_feed_age = parse_hours_or_days(raw["max_feed_age"])
        except ValueError as e:
            line, column = doc.mark(("max_feed_age",))
            errors.append(PolicyError(f"max_feed_age: {e}", path=path, line=line, column=column))
    return Checked(doc, rules, paths, exceptions, untils, max_feed_age, errors)


def parse_policy(text: str, path: str) -> Policy:
    checked = check_policy(text, path)
    if checked.errors:
        raise PolicyErrors(sorted(checked.errors, key=lambda e: (e.line or 0, e.column or 0)))
    rules, raw = checked.rules, checked.doc.value
    function, explainers = compile_policy([r.condition for r in rules])
    compiled: dict[str, tuple[PolicyFunction, ExplainFunction]] = {}
    until_checks: dict[str, tuple[PolicyFunction, ExplainFunction]] = {}
    for (ex_id, condition) in checked.untils:
        if condition.text not in compiled:
            holds, (explain,) = compile_policy([condition])
            compiled[condition.text] = (holds, explain)
        until_checks[ex_id] = compiled[condition.text]
    folder = Path(path).parent
    return Policy(
        name=raw.get("name") or Path(path).stem,
        source=path,
        rules=tuple(rules),
        exceptions=checked.exceptions,
        function=function,
        explainers=explainers,
        untils=tuple(checked.untils),
        until_checks=until_checks,
        vex=tuple(str(folder / v) for v in raw.get("vex", ())),
        expiring_within_days=raw.get("expiring_within_days"),
        max_feed_age=checked.max_feed_age,
        **_epss_model(raw.get("epss_model")),
    )


def _epss_model(raw: object) -> dict[str, Any]:
    """`epss_model: v2025.03.14` or `{pin: v2025.03.14, allow_other: true}` (the schema checked the shape)."""
    if isinstance(raw, dict):
        return {"epss_model": raw["pin"], "epss_model_allow_other": bool(raw.get("allow_other", False))}
    return {"epss_model": raw} if isinstance(raw, str) else {}


def _expression(doc: yamlsrc.Document, where: yamlsrc.JsonPath, label: str,
                errors: list[PolicyError]) -> Node | None:
    """The checked expression at `where`, or None after recording the error with its file:line:col."""
    text = doc.value
    for part in where:
        text = text[part]
    line, col = doc.marks.get(where, (None, None))
    try:
        return parse(text)
    except ExprError as e:
        column = e.column
        if column is not None and col is not None and "\n" not in text.strip():
            column += col - 1
        errors.append(PolicyError(f"{label}: {e.message}", path=doc.path, line=line, column=column, hint=e.hint))
        return None


def _well_formed(item: Any) -> bool:
    """An exception the schema's errors leave readable: the fields the loader needs, of the right types."""
    if not (isinstance(item, dict) and isinstance(item.get("vulnerability"), str)
            and isinstance(item.get("reason"), str) and isinstance(item.get("expires"), str)):
        return False
    try:
        date.fromisoformat(item["expires"])
    except ValueError:
        return False
    return all(isinstance(item.get(k, []), list) and all(isinstance(v, str) for v in item.get(k, []))
               for k in ("rules", "packages"))


def _exceptions(items: list[Any], doc: yamlsrc.Document, rule_ids: set[str],
                errors: list[PolicyError], untils: list[tuple[str, Node]]) -> tuple[PolicyException, ...]:
    out: list[PolicyException] = []
    ids: set[str] = set()
    for i, item in enumerate(items):
        if not _well_formed(item):
            continue  # already reported by the schema
        for rule_id in item.get("rules", []):
            if rule_id not in rule_ids:
                near = suggest(rule_id, sorted(rule_ids))
                line, column = doc.mark(("exceptions", i, "rules"))
                errors.append(PolicyError(
                    f"exception {item['vulnerability']}: unknown rule '{rule_id}'", path=doc.path,
                    line=line, column=column, hint=f"did you mean '{near}'?" if near else None))
        ex_id = item.get("id") if isinstance(item.get("id"), str) else item["vulnerability"]
        if ex_id in ids:
            ex_id = f"{ex_id}#{i + 1}"
        ids.add(ex_id)
        if isinstance(item.get("until"), str):
            condition = _expression(doc, ("exceptions", i, "until"), f"exception {ex_id} until", errors)
            if condition is not None:
                untils.append((ex_id, condition))
        out.append(PolicyException(
            id=ex_id,
            vulnerability=item["vulnerability"].strip(),
            reason=item["reason"],
            expires=date.fromisoformat(item["expires"]),
            owner=item.get("owner") if isinstance(item.get("owner"), str) else None,
            rules=tuple(item.get("rules", ())),
            packages=tuple(item.get("packages", ())),
            until=item.get("until") if isinstance(item.get("until"), str) else None,
        ))
    return tuple(out)
