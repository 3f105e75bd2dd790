"""The fleet report's pieces on their own: JSON round trip, strict reading, bounded summary, inert text, shards."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from gate.actions.deprecate import next_minute
from gate.errors import InputError, UsageError
from gate.fleet import Ami, Basis, Blocker, BuildRecord, Change, Counts, FleetReport, Intel, Shard, Status
from gate.fleetjson import from_json, to_json
from gate.outcome import ActionRecord, ActionStatus
from gate.reports import fleet
from gate.sweep.compare import Previous
from gate.sweep.merge import merge
from gate.sweep.targets import in_shard, read_builds

NOW = datetime(2026, 12, 1, tzinfo=UTC)
HOSTILE = "\x1b]0;x\x07<img src=x onerror=alert(1)>\n::error::owned|`|**b**\u202e"


def arn(i: int, region: str = "us-east-1") -> str:
    return f"arn:aws:imagebuilder:{region}:123456789012:image/web/1.0.0/{i}"


def record(i: int, status: Status = Status.FAIL, **kw: object) -> BuildRecord:
    """A record as a sweep writes it: its status, blockers, counts and reason agree."""
    judged = status in (Status.PASS, Status.FAIL)
    base = BuildRecord(
        build=arn(i), region="us-east-1", status=status, pipeline=f"arn:aws:imagebuilder:us-east-1:123456789012:"
        f"image-pipeline/p{i % 7}", amis=(Ami("us-east-1", f"ami-{i:017x}", "123456789012"),),
        blocking=(Blocker("CVE-2024-1", ("openssl",), "update openssl to 3.0.15", ("known-exploited",)),)
        if status is Status.FAIL else (),
        counts=Counts(3, 1, 1, 0, 1) if status is Status.FAIL else Counts(3, 0, 1, 0, 2) if judged else Counts(),
        intel=(Intel("CVE-2024-1", "fail" if status is Status.FAIL else "warn", date(2026, 11, 29), True, 0.61),)
        if judged else (), reason="" if judged else "denied",
        actions=(ActionRecord("deprecate", f"us-east-1 ami-{i:017x}", "deprecate", ActionStatus.PLANNED, "later"),))
    return BuildRecord(**{**base.__dict__, **kw})  # type: ignore[arg-type]


BASIS = Basis(targets="t", policy="p", intelligence=("KEV",))


def report(records: list[BuildRecord], shards: tuple[Shard, ...] = ()) -> FleetReport:
    return FleetReport(generated_at=NOW, policy="default", records=tuple(records), shards=shards,
                       stats={"builds": len(records)}, basis=BASIS)


def test_json_round_trips_every_field() -> None:
    original = report([record(1), record(2, Status.PASS, change=Change.NEWLY_PASSING, changes=("CVE-2024-1 no longer "
                                                                                                "blocks",)),
                       record(3, Status.SKIPPED, reason=HOSTILE)], (Shard(2, 3),))
    again = from_json(to_json(original), "x.json")
    assert sorted(again.records, key=lambda r: r.build) == sorted(original.records, key=lambda r: r.build)
    assert (again.shards, again.policy, again.stats, again.complete, again.basis) \
        == ((Shard(2, 3),), "default", {"builds": 3}, True, BASIS)


@pytest.mark.parametrize("mutate", [
    lambda d: d.update(schema="gate-sweep/2"),
    lambda d: d["builds"][0].update(status="maybe"),
    lambda d: d["builds"][0]["counts"].update(total=-1),
    lambda d: d["builds"][0]["intel"][0].update(epss=1.5),
    lambda d: d["builds"][0].pop("amis"),
    lambda d: d["shards"].append({"index": 4, "count": 3}),
    lambda d: d.pop("complete"),
], ids=["schema", "status", "negative-count", "epss-out-of-range", "no-amis", "shard-beyond", "no-complete"])
def test_reading_is_strict(mutate: object) -> None:
    doc = json.loads(to_json(report([record(1)], (Shard(1, 3),))))
    mutate(doc)  # type: ignore[operator]
    with pytest.raises(InputError):
        from_json(json.dumps(doc), "x.json")


def test_terminal_summary_is_bounded_and_inert() -> None:
    records = [record(i, Status.UNJUDGED if i % 3 else Status.FAIL, reason=HOSTILE) for i in range(2000)]
    text = fleet.terminal(report(records))
    assert len(text.splitlines()) <= 80
    assert "\x1b" not in text and "\u202e" not in text and "\n::error" not in text
    assert "and " in text.splitlines()[-1]


def test_markdown_and_html_keep_hostile_text_inert() -> None:
    evil = record(1, reason=HOSTILE, pipeline=HOSTILE, blocking=(Blocker(HOSTILE, (HOSTILE,), HOSTILE, (HOSTILE,)),))
    md, page = fleet.markdown(report([evil])), fleet.html(report([evil]))
    for text in (md, page):
        assert "<img" not in text and "\x1b" not in text and "\u202e" not in text
    assert "\n::error" not in md


def test_worst_first_and_the_cves_blocking_most_images() -> None:
    records = [record(1, Status.PASS), record(2), record(3, Status.UNJUDGED, reason="denied"), record(4)]
    rep = report(records)
    assert [r.status for r in rep.ordered()] == [Status.UNJUDGED, Status.FAIL, Status.FAIL, Status.PASS]
    top = fleet.spread(rep.records)
    assert (top[0].vulnerability_id, top[0].images, top[0].fix) == ("CVE-2024-1", 2, "update openssl to 3.0.15")
    assert "CVE-2024-1**: 2 images in 2 pipelines, fix: update openssl to 3.0.15" in fleet.markdown(rep)


def test_shards_are_stable_and_cover_every_arn_once() -> None:
    arns = [arn(i) for i in range(300)]
    owners = [[i for i in range(1, 4) if in_shard(a, Shard(i, 3))] for a in arns]
    assert all(len(o) == 1 for o in owners)
    assert {o[0] for o in owners} == {1, 2, 3}
    assert in_shard(arns[0], Shard(owners[0][0], 3))  # the same answer every time, on every machine


def test_merge_refuses_a_build_in_two_shards() -> None:
    first = next(i for i in range(10) if in_shard(arn(i), Shard(1, 2)))
    with pytest.raises(UsageError, match="in both"):
        merge([("a", report([record(first)], (Shard(1, 2),))), ("b", report([record(first)], (Shard(2, 2),)))])
    with pytest.raises(UsageError, match="no `basis`"):
        merge([("a", report([], (Shard(1, 2),))), ("b", replace(report([], (Shard(2, 2),)), basis=None))])


def test_deprecation_time_is_the_next_whole_minute() -> None:
    assert next_minute(datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)) == datetime(2026, 12, 1, 10, 1, tzinfo=UTC)
    assert next_minute(datetime(2026, 12, 1, 10, 59, 59, 999999, tzinfo=UTC)) == datetime(2026, 12, 1, 11, 1,
                                                                                          tzinfo=UTC)
    assert next_minute(datetime(2026, 12, 1, 10, 0, 0, 1, tzinfo=UTC)) == datetime(2026, 12, 1, 10, 2, tzinfo=UTC)


def test_builds_file_lines(tmp_path: Path) -> None:
    import io

    assert [t.region for t in read_builds(io.StringIO(f"# c\n\n {arn(1, 'eu-west-1')} \n"), "f")] == ["eu-west-1"]
    with pytest.raises(UsageError, match="line 2"):
        read_builds(io.StringIO(f"{arn(1)}\n{arn(2)} {arn(3)}\n"), "f")


def test_previous_reads_check_reports(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({
        "schemaVersion": 1, "verdict": "pass", "build": arn(1), "evaluatedAt": "2026-11-01T00:00:00+00:00",
        "findings": [{"vulnerabilityId": "CVE-2024-1", "decision": "warn", "kev": False, "epss": 0.08}]}))
    previous = Previous.load(tmp_path, NOW)
    now = previous.compare(record(1))
    assert now.change is Change.NEWLY_FAILING
    assert now.changes == ("CVE-2024-1 now blocks (known-exploited); joined KEV on 2026-11-29, EPSS 0.08 → 0.61",)
    assert previous.compare(record(2)).change is Change.NOT_BEFORE


def test_previous_sweep_without_the_cve_means_below_the_floor(tmp_path: Path) -> None:
    before = record(1, Status.PASS, intel=(), blocking=())
    (tmp_path / "before.json").write_text(to_json(report([before])))
    now = Previous.load(tmp_path / "before.json", NOW).compare(record(1))
    assert now.change is Change.NEWLY_FAILING
    assert now.changes == ("CVE-2024-1 now blocks (known-exploited); joined KEV on 2026-11-29, "
                           "EPSS below 0.05 → 0.61",)


@pytest.mark.parametrize("arn", [None, "", "arn:aws:imagebuilder:us-east-1:111122223333:image/web/1.0.0",
                                 "arn:aws:imagebuilder:us-east-1:111122223333:image-pipeline/web"])
def test_a_listed_build_without_a_build_version_arn_stops_the_sweep(arn: object) -> None:
    """Dropping it would leave a released image unjudged and unseen: exit 3 instead."""
    from gate.errors import ExitCode, IncompleteError
    from gate.sweep.targets import from_summary

    pipeline = "arn:aws:imagebuilder:us-east-1:111122223333:image-pipeline/web"
    with pytest.raises(IncompleteError) as raised:
        from_summary({"arn": arn, "state": {"status": "AVAILABLE"}}, pipeline)
    assert raised.value.exit_code is ExitCode.INCOMPLETE and pipeline in raised.value.message
