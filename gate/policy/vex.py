"""OpenVEX v0.2.0 in: read and check documents, and pick the statement that applies to a finding of this image.

A statement applies when its vulnerability (name or alias) is the finding's id, one of its products
names this image (build version ARN, pipeline ARN or output AMI id), and, when that product lists
subcomponents, every vulnerable package of the finding matches one by package URL or name. Of the
statements that apply the latest wins; two latest ones that disagree are a conflict nobody can settle
for the reader, so the run stops (exit 2).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from gate import jsonsrc
from gate.declared import VexStatement
from gate.errors import PolicyError, ShapeError
from gate.files import package_folder, read_bytes
from gate.model import Finding, VulnerablePackage
from gate.policy.schemaerrors import dotted
from gate.timeutil import to_utc
from gate.vocab import OPENVEX_CONTEXT
from gate.yamlsrc import Document

MAX_BYTES = 16 * 1024 * 1024
SKEW = timedelta(minutes=5)
"""How far a VEX timestamp may run ahead of the evaluation time: the clocks of whoever wrote it and of this run."""


@cache
def openvex_schema() -> dict[str, Any]:
    """The OpenVEX project's own JSON Schema for v0.2.0 (openvex/spec, shipped verbatim)."""
    text = (package_folder("gate.schemas") / "openvex-0.2.0.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def read_documents(paths: Iterable[str | Path], *, now: datetime | None = None) -> tuple[VexStatement, ...]:
    """Every statement of every document, in order; the first problem is a `PolicyError` with file:line.

    `now`: the evaluation time; a document or statement dated after it (beyond `SKEW`) is refused.
    """
    statements: list[VexStatement] = []
    for path in paths:
        data = read_bytes(Path(path))
        if len(data) > MAX_BYTES:
            raise PolicyError(f"VEX document larger than {MAX_BYTES // 2**20} MiB", path=str(path))
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise PolicyError("not UTF-8 text, so not an OpenVEX document", path=str(path)) from None
        statements.extend(parse_document(jsonsrc.load(text, str(path)), now=now))
    return tuple(statements)


def _schema_problem(doc: Document) -> PolicyError | None:
    import jsonschema  # noqa: PLC0415 - only runs that read VEX need it

    validator = jsonschema.Draft202012Validator(openvex_schema())
    # NOTE: the schema wants one statement; gate writes none when a run accepted nothing (reports/openvex.py).
    errors = sorted((e for e in validator.iter_errors(doc.value)
                     if not (e.validator == "minItems" and tuple(e.absolute_path) == ("statements",))),
                    key=lambda e: (doc.line(tuple(e.absolute_path)) or 0))
    if not errors:
        return None
    err = errors[0]
    where = tuple(err.absolute_path)
    return PolicyError(f"not an OpenVEX v0.2.0 document: {dotted(where)}: {err.message}", path=doc.path,
                       line=doc.line(where), hint="see https://github.com/openvex/spec")


def parse_document(doc: Document, *, now: datetime | None = None) -> list[VexStatement]:
    """The statements of one document, checked against the OpenVEX schema and the spec's MUSTs.

    With `now`, no timestamp may be later than it (beyond `SKEW`): the latest statement wins, so one
    dated 2099 would override every real later statement, for ever.
    """
    value = doc.value
    if not isinstance(value, dict) or "statements" not in value:
        raise PolicyError("not an OpenVEX document (no 'statements')", path=doc.path, line=doc.line(()),
                          hint="pass an OpenVEX v0.2.0 JSON document")
    if value.get("@context") != OPENVEX_CONTEXT:
        raise PolicyError(f"@context {value.get('@context')!r} is not {OPENVEX_CONTEXT!r}", path=doc.path,
                          line=doc.line(("@context",)), hint="gate reads OpenVEX v0.2.0 documents")
    problem = _schema_problem(doc)
    if problem is not None:
        raise problem
    doc_time = _time(doc, ("timestamp",))
    _not_after(doc, now, ("timestamp",), ("last_updated",))
    out: list[VexStatement] = []
    for i, item in enumerate(value["statements"]):
        where = ("statements", i)
        _not_after(doc, now, (*where, "timestamp"), (*where, "last_updated"))
        products = item.get("products") or []
        if not products:
            # NOTE: the spec lets products cascade from an encapsulating document; a bare OpenVEX file has none,
            # so such a statement is incomplete (the spec: "a document with incomplete statements is not valid").
            raise PolicyError(f"statements[{i}] names no products", path=doc.path, line=doc.line(where),
                              hint="list the image's build version ARN, pipeline ARN or AMI ids in products")
        timestamp = _time(doc, (*where, "timestamp")) if "timestamp" in item else doc_time
        vuln = item["vulnerability"]
        out.append(VexStatement(
            document=doc.path,
            document_id=value["@id"],
            author=value["author"],
            index=i,
            vulnerability=vuln["name"].strip(),
            aliases=tuple(a.strip() for a in vuln.get("aliases", ())),
            products=tuple(_ids(p) for p in products),
            subcomponents=tuple(tuple(_ids(s) for s in p.get("subcomponents", ())) for p in products),
            status=item["status"],
            timestamp=timestamp,
            justification=item.get("justification"),
            impact_statement=item.get("impact_statement"),
            action_statement=item.get("action_statement"),
            status_notes=item.get("status_notes"),
            line=doc.line(where),
        ))
    return out


def _ids(component: dict[str, Any]) -> str:
    """A component's identifiers joined by a newline (its `@id`, then its purl): matched one by one."""
    ids = [component.get("@id"), (component.get("identifiers") or {}).get("purl")]
    return "\n".join(dict.fromkeys(i.strip() for i in ids if isinstance(i, str) and i.strip()))


def _time(doc: Document, where: tuple[str | int, ...]) -> Any:
    value: Any = doc.value
    for part in where:
        value = value[part]
    try:
        parsed = to_utc(value)
    except ShapeError:
        parsed = None
    if parsed is None or not isinstance(value, str) or "T" not in value:
        raise PolicyError(f"{dotted(where)}: {value!r} is not an RFC 3339 date-time", path=doc.path,
                          line=doc.line(where))
    return parsed


def _not_after(doc: Document, now: datetime | None, *wheres: tuple[str | int, ...]) -> None:
    """Each of these timestamps the document has is at most `now` + `SKEW`; else a `PolicyError` naming it."""
    if now is None:
        return
    for where in wheres:
        parent: Any = doc.value
        for part in where[:-1]:
            parent = parent[part]
        if where[-1] not in parent:
            continue
        when = _time(doc, where)
        if when > now + SKEW:
            raise PolicyError(f"{dotted(where)} {when.isoformat()} is after the evaluation time {now.isoformat()}: "
                              "a VEX statement cannot speak for the future", path=doc.path, line=doc.line(where),
                              hint="correct the timestamp, or judge as of a later time with --as-of")


@dataclass(frozen=True)
class _Purl:
    name: str
    version: str | None
    arch: str | None


def _purl(text: str) -> _Purl | None:
    """`pkg:rpm/amzn/openssl-libs@3.0.8-1.amzn2023?arch=x86_64` → name, version, arch (None if not a purl)."""
    if not text.startswith("pkg:"):
        return None
    rest = text[4:].split("#", 1)[0]
    rest, _, query = rest.partition("?")
    path, _, version = rest.partition("@")
    name = unquote(path.rstrip("/").rsplit("/", 1)[-1])
    qualifiers = dict(q.split("=", 1) for q in query.split("&") if "=" in q)
    return _Purl(name=name, version=unquote(version) or None, arch=qualifiers.get("arch"))


def _versions(package: VulnerablePackage) -> set[str]:
    plain = package.version or ""
    with_release = f"{plain}-{package.release}" if package.release else plain
    return {plain, with_release, package.installed}


def package_matches(identifiers: str, package: VulnerablePackage) -> bool:
    """One subcomponent names the package: by its exact name, or a purl whose name (and version, arch) fit."""
    for ident in identifiers.split("\n"):
        purl = _purl(ident)
        if purl is None:
            if ident == package.name:
                return True
            continue
        if purl.name != package.name:
            continue
        if purl.version is not None and purl.version not in _versions(package):
            continue
        if purl.arch is not None and package.arch is not None and purl.arch != package.arch:
            continue
        return True
    return False


def _names_image(product: str, image: frozenset[str]) -> bool:
    return any(ident in image for ident in product.split("\n"))


def statement_applies(statement: VexStatement, finding: Finding, image: frozenset[str]) -> bool:
    for product, subs in zip(statement.products, statement.subcomponents, strict=True):
        if not _names_image(product, image):
            continue
        if not subs:
            return True
        if finding.packages and all(any(package_matches(s, p) for s in subs) for p in finding.packages):
            return True
    return False


class VexIndex:
    """Statements by vulnerability id (name and aliases, case-insensitive), for one image."""

    def __init__(self, statements: Sequence[VexStatement], image: Iterable[str]) -> None:
        self.statements = tuple(statements)
        self.image = frozenset(i.strip() for i in image if i and i.strip())
        self._by_id: dict[str, list[VexStatement]] = {}
        for statement in self.statements:
            for vid in dict.fromkeys(v.upper() for v in (statement.vulnerability, *statement.aliases)):
                self._by_id.setdefault(vid, []).append(statement)

    def applicable(self, finding: Finding) -> VexStatement | None:
        """The latest statement that applies; a `PolicyError` when the latest ones disagree on the status."""
        found = [s for s in self._by_id.get(finding.vulnerability_id.upper(), ())
                 if statement_applies(s, finding, self.image)]
        if not found:
            return None
        latest = max(s.timestamp for s in found)
        winners = [s for s in found if s.timestamp == latest]
        statuses = {s.status for s in winners}
        if len(statuses) > 1:
            a, b = winners[0], next(s for s in winners if s.status != winners[0].status)
            raise PolicyError(
                f"VEX statements disagree on {finding.vulnerability_id} at the same time {latest.isoformat()}: "
                f"{a.ref} (line {a.line}) says {a.status}, {b.ref} (line {b.line}) says {b.status}",
                path=a.document, line=a.line, hint="give one of them a later timestamp or remove it")
        return winners[0]
