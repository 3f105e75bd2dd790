"""The policy schema's errors in gate's words, each with the line and column it is about."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gate import yamlsrc
from gate.errors import PolicyError
from gate.policy.expr import suggest
from gate.policy.schemacheck import certainly_valid

if TYPE_CHECKING:
    import jsonschema


def schema_errors(doc: yamlsrc.Document, schema: dict[str, Any]) -> list[PolicyError]:
    """Every way `doc` breaks the policy schema, each at the line and column of the node (or unknown key)."""
    if certainly_valid(doc.value, schema):
        return []  # NOTE: jsonschema costs more than the rest of loading; it is needed only to explain errors
    import jsonschema  # noqa: PLC0415 - only loading a policy needs it, not `gate policy schema`

    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors: list[PolicyError] = []
    for err in sorted(validator.iter_errors(doc.value), key=lambda e: list(map(str, e.absolute_path))):
        where = tuple(err.absolute_path)
        message, hint = _describe(err)
        key = False
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            props = err.schema.get("properties", {}) if isinstance(err.schema, dict) else {}
            unknown = [k for k in err.instance if k not in props]
            where, key = ((*where, unknown[0]), True) if unknown else (where, False)
        line, column = doc.mark(where, key=key)
        errors.append(PolicyError(message, path=doc.path, line=line, column=column, hint=hint))
    return errors


def dotted(path: Any) -> str:
    """`rules[2].action` from a JSON path."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "policy"


_KINDS = {"string": "text", "array": "a list", "object": "a mapping", "integer": "a whole number",
          "number": "a number", "boolean": "true or false"}


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
    value: Any = err.validator_value
    if err.validator == "required" and isinstance(err.instance, dict):
        missing = [k for k in value if k not in err.instance]
        return f"{where}: missing {', '.join(repr(k) for k in missing)}", None
    if err.validator == "enum":
        return f"{where}: {err.instance!r} is not one of {', '.join(map(str, value))}", None
    if err.validator == "type" and err.absolute_path:
        kinds = value if isinstance(value, list) else [value]
        wanted = " or ".join(_KINDS.get(str(k), str(k)) for k in kinds)
        return f"{where}: {err.instance!r} is not {wanted}", None
    if err.validator == "format" and err.validator_value == "date":
        return f"{where}: {err.instance!r} is not a valid YYYY-MM-DD date", None
    if err.validator == "const" and err.absolute_path and err.absolute_path[-1] == "version":
        return f"version: {err.instance!r} is not supported", "this gate reads version: 1"
    if err.validator == "type" and not err.absolute_path:
        return "a policy must be a mapping with 'version' and 'rules'", None
    return f"{where}: {err.message}", None
