"""`gate sweep merge` attacked: shards that do not make one whole sweep are refused (exit 2), never joined.

Every shard report here is written by a real sweep over the emulator; the attacks then mismatch the
sweeps (other targets, other feeds, another policy of the same name) or edit the files by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.emulator import Emulator
from tests.sweep.fleet import KEV_LATER, REGIONS, seed_fleet, write_feeds
from tests.sweep.test_sweep_e2e import aws

pytestmark = pytest.mark.slow
__all__ = ["aws"]
ALL = ["--all-pipelines", *(f"--region={r}" for r in REGIONS)]


def _shard(folder: Path, index: int, count: int, *args: str) -> Path:
    out = folder / f"shard{index}of{count}-{len(list(folder.glob('*.json')))}.json"
    assert main(["sweep", *args, "--shard", f"{index}/{count}", "--report", f"json={out}"]) in (0, 1)
    return out


def _merge(*paths: Path) -> int:
    return main(["sweep", "merge", *map(str, paths)])


def test_shards_of_other_targets_are_refused(aws: Emulator, isolated_env: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    first = _shard(isolated_env, 1, 2, *ALL, *feeds)
    # the second matrix job was given one region only: its shard of a smaller fleet is complete on its own
    second = _shard(isolated_env, 2, 2, "--all-pipelines", f"--region={REGIONS[0]}", *feeds)
    capsys.readouterr()
    assert _merge(first, second) == ExitCode.USAGE
    assert "targets" in capsys.readouterr().err
    since = _shard(isolated_env, 2, 2, *ALL, *feeds, "--since", "30d")
    assert _merge(first, since) == ExitCode.USAGE
    same = _shard(isolated_env, 2, 2, *reversed(ALL), *feeds)  # the same targets, named in another order
    assert _merge(first, same) == ExitCode.VIOLATION


def test_shards_judged_with_other_feeds_or_clock_are_refused(aws: Emulator, isolated_env: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    seed_fleet(aws)
    first = _shard(isolated_env, 1, 2, *ALL, *write_feeds(isolated_env / "f1"))
    newer = write_feeds(isolated_env / "f2", kev=("CVE-2023-9999", KEV_LATER))  # KEV grew between the two jobs
    second = _shard(isolated_env, 2, 2, *ALL, *newer)
    capsys.readouterr()
    assert _merge(first, second) == ExitCode.USAGE
    assert "intelligence" in capsys.readouterr().err
    later = write_feeds(isolated_env / "f3")
    later[later.index("--as-of") + 1] = "2026-12-02"
    assert _merge(first, _shard(isolated_env, 2, 2, *ALL, *later)) == ExitCode.USAGE


def test_a_shard_under_another_policy_of_the_same_name_is_refused(aws: Emulator, isolated_env: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    strict, lax = isolated_env / "strict" / "p.yaml", isolated_env / "lax" / "p.yaml"
    for path, action in ((strict, "fail"), (lax, "warn")):
        path.parent.mkdir()
        path.write_text(f"version: 1\nname: prod\nrules:\n  - id: r\n    when: severity == 'CRITICAL'\n"
                        f"    action: {action}\n")
    first = _shard(isolated_env, 1, 2, *ALL, *feeds, "--policy", str(strict))
    second = _shard(isolated_env, 2, 2, *ALL, *feeds, "--policy", str(lax))
    capsys.readouterr()
    assert _merge(first, second) == ExitCode.USAGE
    assert "policy" in capsys.readouterr().err


def test_a_shard_relabelled_as_another_is_refused(aws: Emulator, isolated_env: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    first = _shard(isolated_env, 1, 2, *ALL, *feeds)
    doc = json.loads(first.read_text())
    assert doc["builds"]
    doc["shards"] = [{"index": 2, "count": 2}]  # shard 1's builds, claimed as shard 2: shard 2's builds vanish
    relabelled = isolated_env / "relabelled.json"
    relabelled.write_text(json.dumps(doc))
    capsys.readouterr()
    assert _merge(relabelled, first) == ExitCode.USAGE
    assert "not in shard 2/2" in capsys.readouterr().err


def _edited(path: Path, folder: Path, edit: object) -> Path:
    doc = json.loads(path.read_text())
    edit(doc)  # type: ignore[operator]
    out = folder / "edited.json"
    out.write_text(json.dumps(doc))
    return out


def _failing(doc: dict[str, object]) -> dict[str, object]:
    return next(b for b in doc["builds"] if b["status"] == "fail")  # type: ignore[attr-defined,index,union-attr]


def _passing(doc: dict[str, object]) -> dict[str, object]:
    return next(b for b in doc["builds"] if b["status"] == "pass")  # type: ignore[attr-defined,index,union-attr]


@pytest.mark.parametrize("edit", [
    lambda d: _failing(d).update(status="pass"),  # a failing build turned passing, its blockers left
    lambda d: _failing(d).update(status="pass", blocking=[]),  # ... its blockers removed, its counts left
    lambda d: _passing(d)["counts"].update(total=0),  # counts that do not add up
    lambda d: d["summary"].update(fail=0, **{"pass": d["summary"]["pass"] + d["summary"]["fail"]}),
    lambda d: _passing(d).update(status="unjudged", reason=""),  # unjudged without a reason
    lambda d: d["stats"].update(builds=d["stats"]["builds"] + 5),  # the sweep judged more than it holds
    lambda d: d["builds"][0].update(build="arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/x"),
    lambda d: d["builds"][0].update(region="ap-south-1"),  # another region than its ARN names
], ids=["fail-as-pass", "fail-as-pass-no-blockers", "counts-sum", "summary", "unjudged-no-reason", "stats-builds",
        "not-a-build-arn", "region-not-the-arns"])
def test_a_shard_whose_counts_disagree_with_its_records_is_refused(aws: Emulator, isolated_env: Path,
                                                                   edit: object) -> None:
    seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    first, second = (_shard(isolated_env, i, 2, *ALL, *feeds) for i in (1, 2))
    assert _merge(first, second) == ExitCode.VIOLATION
    failing = first if any(b["status"] == "fail" for b in json.loads(first.read_text())["builds"]) else second
    other = second if failing == first else first
    assert _merge(_edited(failing, isolated_env, edit), other) == ExitCode.USAGE
    # the same tampering is refused as --previous too: a forged earlier report cannot steer the changes
    assert main(["sweep", *ALL, *feeds, "--previous", str(isolated_env / "edited.json")]) == ExitCode.USAGE


def test_duplicate_keys_and_absurd_shard_counts_are_refused(aws: Emulator, isolated_env: Path) -> None:
    seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    first, second = (_shard(isolated_env, i, 2, *ALL, *feeds) for i in (1, 2))
    text = first.read_text()
    doubled = isolated_env / "doubled.json"
    doubled.write_text(text.replace('"complete": true,', '"complete": false, "complete": true,', 1))
    assert '"complete": false, "complete": true' in doubled.read_text()
    assert _merge(doubled, second) == ExitCode.USAGE
    huge = _edited(first, isolated_env, lambda d: d.update(shards=[{"index": 1, "count": 10**15}]))
    assert _merge(huge) == ExitCode.USAGE  # refused at once, not after counting to 10**15 missing shards


def test_shards_compared_with_previous_and_shards_not_are_refused(aws: Emulator, isolated_env: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    before = isolated_env / "before.json"
    assert main(["sweep", *ALL, *feeds, "--report", f"json={before}"]) == ExitCode.VIOLATION
    (isolated_env / "before.json").rename(isolated_env / "prev.txt")  # kept out of the shard folder's globbing
    first = _shard(isolated_env, 1, 2, *ALL, *feeds, "--previous", str(isolated_env / "prev.txt"))
    second = _shard(isolated_env, 2, 2, *ALL, *feeds)  # this matrix job forgot --previous: no change shown
    capsys.readouterr()
    assert _merge(first, second) == ExitCode.USAGE
    assert "--previous" in capsys.readouterr().err
