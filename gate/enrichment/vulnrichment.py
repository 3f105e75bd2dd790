"""CISA's SSVC decision points (Exploitation, Automatable, Technical Impact) from CVE records' CISA ADP container.

Two sources, one parser: a folder of records laid out as in cisagov/vulnrichment (`YYYY/NNxxx/CVE-….json`)
or flat, and the CVE Services record API (`vulnrichment_online`). Every value carries the CISA-ADP
container's SSVC timestamp as its date.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from gate.enrichment.repeats import Repeats
from gate.errors import InputError, ShapeError, UnreadableInputError
from gate.fields import DataKind
from gate.files import read_bytes
from gate.jsondocs import loads_document
from gate.model import Enrichment, FeedInfo, Provenance, Ssvc
from gate.timeutil import to_utc
from gate.vocab import SSVC_EXPLOITATION, SSVC_TECHNICAL_IMPACT

SOURCE = "cisa-vulnrichment"
ADP_SHORT_NAME = "CISA-ADP"
CVE_ID = re.compile(r"CVE-(\d{4})-(\d{4,})")
_EXPLOITATION = {value: value for value in SSVC_EXPLOITATION}
_AUTOMATABLE = {"yes": True, "no": False}
_IMPACT = {value: value for value in SSVC_TECHNICAL_IMPACT}


def _option(value: object, allowed: Mapping[str, Any], what: str, where: str) -> Any:
    # NOTE: CISA's records mix cases ("Active"/"active", "Yes"/"yes"); anything else is refused, not guessed.
    if not isinstance(value, str) or value.strip().lower() not in allowed:
        raise InputError(f"{where}: SSVC {what} {value!r} is not one of {', '.join(allowed)}")
    return allowed[value.strip().lower()]


def ssvc_from_record(record: Any, vulnerability_id: str, where: str, source: str = SOURCE) -> Ssvc | None:
    """The SSVC decision points of the CISA-ADP container, or None when the record has none.

    A record for another CVE, or an SSVC block that is not three known single-key options, is an
    `InputError`: a value that cannot be read is never taken as "no data".
    """
    if not isinstance(record, Mapping) or not isinstance(record.get("containers"), Mapping):
        raise InputError(f"{where}: not a CVE JSON 5 record (no 'containers')",
                         hint="pass records from cisagov/vulnrichment or the CVE record API")
    cve_id = (record.get("cveMetadata") or {}).get("cveId")
    if not isinstance(cve_id, str) or cve_id.strip().upper() != vulnerability_id.upper():
        raise InputError(f"{where}: the record is for {cve_id!r}, not {vulnerability_id}")
    found: list[Ssvc] = []
    adps = record["containers"].get("adp") or []
    for adp in adps if isinstance(adps, list) else []:
        meta = adp.get("providerMetadata") if isinstance(adp, Mapping) else None
        if not isinstance(meta, Mapping) or meta.get("shortName") != ADP_SHORT_NAME:
            continue
        metrics = adp.get("metrics") or []
        if not isinstance(metrics, list):
            raise InputError(f"{where}: the CISA-ADP container's metrics are not a list")
        for metric in metrics:
            other = metric.get("other") if isinstance(metric, Mapping) else None
            if isinstance(other, Mapping) and other.get("type") == "ssvc":
                found.append(_ssvc(other.get("content"), meta, where, source))
    if len(found) > 1:
        raise InputError(f"{where}: the CISA-ADP container holds {len(found)} SSVC blocks; gate reads exactly one")
    return found[0] if found else None


def _ssvc(content: object, meta: Mapping[str, Any], where: str, source: str) -> Ssvc:
    if not isinstance(content, Mapping) or not isinstance(content.get("options"), list):
        raise InputError(f"{where}: SSVC content without a list of options")
    options: dict[str, Any] = {}
    for option in content["options"]:
        if not isinstance(option, Mapping) or len(option) != 1:
            raise InputError(f"{where}: SSVC option {option!r} is not a single-key object")
        ((key, value),) = option.items()
        if key in options:
            raise InputError(f"{where}: SSVC option {key!r} given twice")
        options[key] = value
    missing = [k for k in ("Exploitation", "Automatable", "Technical Impact") if k not in options]
    if missing:
        raise InputError(f"{where}: SSVC options lack {', '.join(missing)}")
    try:
        as_of = to_utc(content.get("timestamp")) or to_utc(meta.get("dateUpdated"))
    except ShapeError as e:
        raise InputError(f"{where}: SSVC {e}") from e
    return Ssvc(
        exploitation=_option(options["Exploitation"], _EXPLOITATION, "Exploitation", where),
        automatable=_option(options["Automatable"], _AUTOMATABLE, "Automatable", where),
        technical_impact=_option(options["Technical Impact"], _IMPACT, "Technical Impact", where),
        provenance=Provenance(source=source, as_of=as_of),
    )


def record_paths(directory: Path, vulnerability_id: str) -> tuple[Path, ...]:
    """Where a record may be: flat (`DIR/CVE-….json`) or as in the repository (`DIR/2024/3xxx/CVE-2024-3400.json`)."""
    match = CVE_ID.fullmatch(vulnerability_id.upper())
    if match is None:
        return ()
    name = f"{vulnerability_id.upper()}.json"
    year, number = match.group(1), int(match.group(2))
    return (directory / name, directory / year / f"{number // 1000}xxx" / name)


def enrichment_for(vid: str, ssvc: Ssvc | None) -> Enrichment | None:
    return Enrichment(vulnerability_id=vid, ssvc=ssvc) if ssvc is not None else None


class VulnrichmentDirectory:
    """Answers from a local copy of cisagov/vulnrichment: a CVE without a record there has no SSVC points.

    The folder must hold at least one readable CVE record where gate looks: a missing, empty or
    mistaken folder would otherwise answer "not assessed" for every CVE, and the `ssvc` policy pass.
    """

    name = SOURCE
    provides: frozenset[str] = frozenset({DataKind.VULNRICHMENT})

    def __init__(self, directory: Path) -> None:
        hint = "pass a clone of cisagov/vulnrichment or a folder of CVE-….json files"
        if not directory.is_dir():
            raise UnreadableInputError(f"--vulnrichment {directory}: not a folder of CVE records", hint=hint)
        if not _holds_a_record(directory):
            raise UnreadableInputError(f"--vulnrichment {directory}: holds no readable CVE record (CVE-….json, "
                                       "flat or in YYYY/NNxxx/ folders)", hint=hint)
        self.directory = directory
        self._newest: datetime | None = None
        self._answered = 0
        self._repeats = Repeats("CISA Vulnrichment", str(directory))

    def enrich(self, vulnerability_ids: Collection[str]) -> dict[str, Enrichment]:
        out: dict[str, Enrichment] = {}
        for vid in vulnerability_ids:
            record, path = self._record(vid)
            if path is None:
                continue
            value = enrichment_for(vid, ssvc_from_record(record, vid, str(path)))
            if value is not None and value.ssvc is not None:
                out[vid] = value
                self._note(value.ssvc)
        return out

    def _record(self, vid: str) -> tuple[Any, Path | None]:
        """The CVE's record and where it is; both places (flat and nested) holding different records is an error."""
        found: list[tuple[Path, Any]] = [(p, _read(p)) for p in record_paths(self.directory, vid) if p.is_file()]
        if not found:
            return None, None
        (path, record), *others = found
        for other, again in others:
            here = self.directory
            self._repeats.add(vid.upper(), str(path.relative_to(here)), str(other.relative_to(here)),
                              same=record == again, hint="keep one record per CVE (the repository's YYYY/NNxxx/ "
                              "copy), restored from cisagov/vulnrichment")
        return record, path

    def _note(self, ssvc: Ssvc) -> None:
        self._answered += 1
        as_of = ssvc.provenance.as_of if ssvc.provenance else None
        if as_of is not None and (self._newest is None or as_of > self._newest):
            self._newest = as_of

    def feeds(self) -> tuple[FeedInfo, ...]:
        # NOTE: a folder has no single "as of"; each value carries its own assessment date instead.
        newest = f"; newest assessment {self._newest.date().isoformat()}" if self._newest else ""
        return (FeedInfo(name="CISA Vulnrichment", source=str(self.directory), as_of=None,
                         detail=f"SSVC points for {self._answered} CVEs{newest}",
                         provides=(DataKind.VULNRICHMENT,), notes=self._repeats.notes(),
                         # NOTE: a folder has no version either; its newest assessment dates what it knew.
                         version=f"newest assessment {self._newest.date().isoformat()}" if self._newest else None),)


def _read(path: Path) -> Any:
    return loads_document(read_bytes(path), str(path), hint="restore the record from cisagov/vulnrichment")


def _candidates(directory: Path) -> Iterator[Path]:
    """Record files where `record_paths` looks, flat ones first, lazily (a clone holds some 100,000)."""
    yield from directory.glob("CVE-*.json")
    yield from directory.glob("[0-9][0-9][0-9][0-9]/*xxx/CVE-*.json")


def _holds_a_record(directory: Path) -> bool:
    """Whether one file where gate looks is a CVE record it can read; stops at the first."""
    for path in _candidates(directory):
        vid = path.name.removesuffix(".json").upper()
        if CVE_ID.fullmatch(vid) is None or path not in record_paths(directory, vid) or not path.is_file():
            continue
        try:
            ssvc_from_record(_read(path), vid, str(path))
        except (InputError, UnreadableInputError):
            continue
        return True
    return False
