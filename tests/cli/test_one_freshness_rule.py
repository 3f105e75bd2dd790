"""`gate feeds status` and `gate check` apply one freshness rule: the same limit, from the same places.

Cached feeds dated 10, 29 and 31 days ago are judged by both commands under the default limit (30
days), a policy's `max_feed_age`, `--max-feed-age`, `GATE_MAX_FEED_AGE` and gate.yaml; status is
fresh (exit 0) exactly when check gets past the freshness check (exit 1 here: the example fails on KEV).
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.enrichment.feeds import update_feeds
from gate.errors import ExitCode
from tests.conftest import EXAMPLES
from tests.enrichment.feed_data import EPSS_SMALL, KEV
from tests.enrichment.feed_server import Served, Site, site

__all__ = ["site"]

CHECK = ["check", "--findings", str(EXAMPLES / "findings.json"),
         "--finding-details", str(EXAMPLES / "inspector-findings.json"),
         "--finding-details", str(EXAMPLES / "finding-details.json")]


def _dated(days: int) -> tuple[bytes, bytes]:
    """The real KEV catalog and an EPSS excerpt, published `days` days ago."""
    then = datetime.now(UTC) - timedelta(days=days)
    kev = KEV.replace(b'"dateReleased": "2025-08-25T17:04:19.9796Z"',
                      f'"dateReleased": "{then:%Y-%m-%dT%H:%M:%S}Z"'.encode())
    epss = gzip.decompress(EPSS_SMALL).replace(b"score_date:2025-08-28T12:55:00Z",
                                               f"score_date:{then:%Y-%m-%dT%H:%M:%S}Z".encode())
    return kev, gzip.compress(epss, mtime=0)


def _policy(folder: Path, max_feed_age: str | None) -> str:
    path = folder / "policy.yaml"
    line = f"max_feed_age: {max_feed_age}\n" if max_feed_age else ""
    path.write_text(f"version: 1\n{line}rules:\n  - {{id: kev, when: kev, action: fail}}\n")
    return str(path)


LIMITS = {  # how the limit is given: (policy max_feed_age, arguments, environment, gate.yaml, the limit in days)
    "default": (None, [], {}, None, 30),
    "policy": ("20d", [], {}, None, 20),
    "flag over policy": ("60d", ["--max-feed-age", "20d"], {}, None, 20),
    "GATE_MAX_FEED_AGE over policy": ("20d", [], {"GATE_MAX_FEED_AGE": "30d"}, None, 30),
    "gate.yaml": (None, [], {}, "max-feed-age: 20d\nfail-on: violation\n", 20),
}


@pytest.mark.parametrize("days", [10, 29, 31])
@pytest.mark.parametrize("how", list(LIMITS))
def test_status_and_check_agree(site: Site, isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str], days: int, how: str) -> None:
    max_feed_age, extra, env, config, limit = LIMITS[how]
    kev, epss = _dated(days)
    site.files["/kev.json"], site.files["/epss.csv.gz"] = Served(kev, '"k"'), Served(epss, '"e"')
    update_feeds(isolated_env / "cache", kev_url=f"{site.url}/kev.json", epss_url=f"{site.url}/epss.csv.gz",
                 timeout=5)
    monkeypatch.chdir(isolated_env)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if config:
        (isolated_env / "gate.yaml").write_text(config)
    policy = ["--policy", _policy(isolated_env, max_feed_age)]
    fresh = days <= limit

    status = main(["feeds", "status", *policy, *extra])
    shown = capsys.readouterr().out
    check = main([*CHECK, *policy, *extra])
    err = capsys.readouterr().err
    assert status == (ExitCode.PASS if fresh else ExitCode.INCOMPLETE), shown
    assert check == (ExitCode.VIOLATION if fresh else ExitCode.INCOMPLETE), err
    assert f"limit: {limit} days" in shown
    if not fresh:
        assert f"(limit {limit} days)" in err and shown.count("STALE: run `gate feeds update`") == 2


def test_status_refuses_a_bad_limit_or_policy_like_check(isolated_env: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["feeds", "status", "--max-feed-age", "soon"]) == ExitCode.USAGE
    assert "--max-feed-age: 'soon' is not an age like 30d or 36h" in capsys.readouterr().err
    assert main(["feeds", "status", "--policy", "defualt"]) == ExitCode.USAGE
    assert "did you mean 'default'?" in capsys.readouterr().err
    monkeypatch.setenv("GATE_MAX_FEED_AGE", "0d")
    assert main(["feeds", "status"]) == ExitCode.USAGE
    assert "GATE_MAX_FEED_AGE" in capsys.readouterr().err


def test_status_calls_undated_data_stale(site: Site, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kev, epss = _dated(1)
    site.files["/kev.json"], site.files["/epss.csv.gz"] = Served(kev, '"k"'), Served(epss, '"e"')
    update_feeds(isolated_env / "cache", kev_url=f"{site.url}/kev.json", epss_url=f"{site.url}/epss.csv.gz",
                 timeout=5)
    meta = isolated_env / "cache" / "feeds" / "known_exploited_vulnerabilities.json.meta.json"
    meta.write_text(meta.read_text().replace('"asOf"', '"asof"'))  # the date is gone
    assert main(["feeds", "status"]) == ExitCode.INCOMPLETE
    assert "CISA KEV: STALE: run `gate feeds update` — data date unknown" in capsys.readouterr().out


def test_update_that_keeps_failing_exits_3_keeping_the_old_copy(site: Site, isolated_env: Path,
                                                                capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    urls = ["--kev-url", f"{site.url}/kev.json", "--epss-url", f"{site.url}/epss.csv.gz", "--timeout", "5"]
    assert main(["feeds", "update", *urls]) == ExitCode.PASS
    site.files["/kev.json"].fail_first = [503, 502, 500, 504]
    monkeypatch.setattr("random.random", lambda: 0.0)  # NOTE: every backoff pause is 0 s: the test does not wait
    assert main(["feeds", "update", *urls]) == ExitCode.INCOMPLETE
    err = capsys.readouterr().err
    assert "HTTP 504" in err and "(after 4 attempts) (the previous copy is kept)" in err
    assert main(["feeds", "status", "--max-feed-age", "3650d"]) == ExitCode.PASS
