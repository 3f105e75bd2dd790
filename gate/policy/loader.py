"""Load a policy file (or a shipped policy by name): validate, check every expression, compile once."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate.declared import Action, PolicyException, RuleInfo
from gate.errors import ExprError, PolicyError, PolicyErrors
from gate.files import package_folder
from gate.policy import yamlsrc
from gate.policy.compile import ExplainFunction, PolicyFunction, compile_policy
from gate.policy.expr import Node, parse, suggest
from gate.policy.schemacheck import certainly_valid
from gate.timeutil import parse_age

if TYPE_CHECKING:
    import jsonschema


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


def _schema_errors(doc: yamlsrc.Document) -> list[PolicyError]:
    if certainly_valid(doc.value, policy_schema()):
        return []  # NOTE: jsonschema costs more than the rest of loading; it is needed only to explain errors
    import jsonschema  # noqa: PLC0415 - only loading a policy needs it, not `gate policy schema`

    validator = jsonschema.Draft202012Validator(
        policy_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors: list[PolicyError] = []
    for err in sorted(validator.iter_errors(doc.value), key=lambda e: list(map(str, e.absolute_path))):
        where = tuple(err.absolute_path)
        message, hint = _describe(err)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            props = err.schema.get("properties", {}) if isinstance(err.schema, dict) else {}
            unknown = [k for k in err.instance if k not in props]
            where = (*where, unknown[0]) if unknown else where
        errors.append(PolicyError(message, path=doc.path, line=doc.line(where), hint=hint))
    return errors


def dotted(path: Any) -> str:
    """`rules[2].action` from a JSON path."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "policy"


def _describe(err: jsonschema.ValidationError) -> tuple[str, str | None]:
    where = dotted(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        schema = err.schema if isinstance(err.schema, dict) else {}
        allowed = list(schema.get("properties", {}))
        unknown = [k for k in err.instance if k not in allowed]
        near = [suggest(k, allowed) for k in unknown]
        hints = [f"'{n}'" for n in near if n]
        hint = ("did you mean " + " / ".join(hints) + "?") if hints else "allowed: " + ", ".join(allowed)
        return f"{where}: unknown key(s) {', '.join(repr(k) for k in unknown)}", hint
    if err.validator == "required":
        return f"{where}: {err.message}", None
    if err.validator == "enum":
        return f"{where}: {err.instance!r} is not one of {err.validator_value}", None
    if err.validator == "format" and err.validator_value == "date":
        return f"{where}: {err.instance!r} is not a valid YYYY-MM-DD date", None
    if err.validator == "const" and err.absolute_path and err.absolute_path[-1] == "version":
        return f"version: {err.instance!r} is not supported", "this gate reads version: 1"
    if err.validator == "type" and not err.absolute_path:
        return "a policy must be a mapping with 'version' and 'rules'", None
    return f"{where}: {err.message}", None


def parse_policy(text: str, path: str) -> Policy:
    doc = yamlsrc.load(text, path)
    if not isinstance(doc.value, dict):
        raise PolicyError("a policy must be a mapping with 'version' and 'rules'", path=path,
                          line=doc.line(()))
    errors = _schema_errors(doc)
    schema_ok = not errors
    raw = doc.value
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    raw_rules: list[Any] = raw["rules"] if isinstance(raw.get("rules"), list) else []
    for i, item in enumerate(raw_rules):
        if not (isinstance(item, dict) and isinstance(item.get("id"), str)
                and isinstance(item.get("when"), str) and item.get("action") in ("fail", "warn")):
            continue  # already reported by the schema
        line = doc.line(("rules", i, "id"))
        if item["id"] in seen:
            errors.append(PolicyError(f"duplicate rule id '{item['id']}' (first at line {seen[item['id']]})",
                                      path=path, line=line))
            continue
        seen[item["id"]] = line or 0
        condition = _expression(doc, ("rules", i, "when"), f"rule '{item['id']}'", errors)
        if condition is None:
            continue
        rules.append(Rule(id=item["id"], action=Action(item["action"]), when=item["when"],
                          condition=condition, description=item.get("description")))
    untils: list[tuple[str, Node]] = []
    exceptions = _exceptions(raw.get("exceptions", []), doc, set(seen), errors, untils) if schema_ok else ()
    max_feed_age = None
    if schema_ok and "max_feed_age" in raw:
        try:
            max_feed_age = parse_age(raw["max_feed_age"])
        except ValueError as e:
            errors.append(PolicyError(f"max_feed_age: {e}", path=path, line=doc.line(("max_feed_age",))))
    if errors:
        raise PolicyErrors(errors)
    function, explainers = compile_policy([r.condition for r in rules])
    compiled: dict[str, tuple[PolicyFunction, ExplainFunction]] = {}
    until_checks: dict[str, tuple[PolicyFunction, ExplainFunction]] = {}
    for (ex_id, condition) in untils:
        if condition.text not in compiled:
            holds, (explain,) = compile_policy([condition])
            compiled[condition.text] = (holds, explain)
        until_checks[ex_id] = compiled[condition.text]
    folder = Path(path).parent
    return Policy(
        name=raw.get("name") or Path(path).stem,
        source=path,
        rules=tuple(rules),
        exceptions=exceptions,
        function=function,
        explainers=explainers,
        untils=tuple(untils),
        until_checks=until_checks,
        vex=tuple(str(folder / v) for v in raw.get("vex", ())),
        expiring_within_days=raw.get("expiring_within_days"),
        max_feed_age=max_feed_age,
    )


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


def _exceptions(items: list[dict[str, Any]], doc: yamlsrc.Document, rule_ids: set[str],
                errors: list[PolicyError], untils: list[tuple[str, Node]]) -> tuple[PolicyException, ...]:
    out: list[PolicyException] = []
    ids: set[str] = set()
    for i, item in enumerate(items):
        for rule_id in item.get("rules", []):
            if rule_id not in rule_ids:
                near = suggest(rule_id, sorted(rule_ids))
                errors.append(PolicyError(
                    f"exception {item['vulnerability']}: unknown rule '{rule_id}'", path=doc.path,
                    line=doc.line(("exceptions", i, "rules")), hint=f"did you mean '{near}'?" if near else None))
        ex_id = item.get("id") or item["vulnerability"]
        if ex_id in ids:
            ex_id = f"{ex_id}#{i + 1}"
        ids.add(ex_id)
        if "until" in item:
            condition = _expression(doc, ("exceptions", i, "until"), f"exception {ex_id} until", errors)
            if condition is not None:
                untils.append((ex_id, condition))
        out.append(PolicyException(
            id=ex_id,
            vulnerability=item["vulnerability"].strip(),
            reason=item["reason"],
            expires=date.fromisoformat(item["expires"]),
            owner=item.get("owner"),
            rules=tuple(item.get("rules", ())),
            packages=tuple(item.get("packages", ())),
            until=item.get("until"),
        ))
    return tuple(out)
