"""`Inputs`: everything a run reads, as plain values (the CLI, the Lambda handler, a sweep or a script fill it).

Apart from the factories in `inputs` so that `live` (which `inputs` calls) can read them without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from gate.errors import UsageError

DEFAULT_WAIT = timedelta(minutes=15)
"""Image Builder finishes scanning a few minutes after a build: by default wait for it, then fail."""
DEFAULT_WORKERS = 8
DEFAULT_CACHE_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class Inputs:
    """Everything a run reads, as plain values: the CLI fills it, tests and scripts may too."""

    findings: tuple[Path, ...] = ()
    image: Path | None = None
    """The build's saved `aws imagebuilder get-image` answer, for a dry run on `findings`: its scan is checked."""
    snapshot: Path | None = None
    image_build_version_arn: str | None = None
    image_pipeline_arn: str | None = None
    finding_details: tuple[Path, ...] = ()
    kev_catalog: Path | None = None
    epss_scores: Path | None = None
    vulnrichment: Path | None = None
    """A folder of CVE records (cisagov/vulnrichment layout or flat): SSVC points offline."""
    vulnrichment_online: bool = False
    vulnrichment_url: str | None = None
    vex: tuple[Path, ...] = ()
    cached_feeds: bool = True
    region: str | None = None
    profile: str | None = None
    wait_timeout: timedelta = DEFAULT_WAIT
    cache_dir: Path | None = None
    cache_ttl: timedelta = DEFAULT_CACHE_TTL
    use_cache: bool = True
    max_workers: int = DEFAULT_WORKERS
    progress: Callable[[str], None] | None = None
    baseline: str | None = None
    """An earlier build's JSON report or snapshot, or `previous` (the pipeline's previous build, live)."""
    baseline_any_pipeline: bool = False
    baseline_key: str | None = None
    """`--baseline-key`: the baseline file is a signed attestation, checked under this key before use."""

    @property
    def previous_baseline(self) -> bool:
        """`--baseline previous`: the pipeline's previous build, read live."""
        if self.baseline is None:
            return False
        from gate.baseline import PREVIOUS  # noqa: PLC0415 - runs without a baseline never import it

        return self.baseline == PREVIOUS

    def feed_file(self, key: str) -> Path | None:
        """The file given for the offline feed `key` (`feedregistry`), which replaces its cached copy."""
        given = {"kev": self.kev_catalog, "epss": self.epss_scores}
        return given.get(key)

    @property
    def live(self) -> bool:
        return bool(self.image_build_version_arn or self.image_pipeline_arn)

    def check_one_target(self) -> None:
        """Exactly one of an export, a snapshot, a build or a pipeline: checked once, here."""
        chosen = [bool(self.findings), self.snapshot is not None, bool(self.image_build_version_arn),
                  bool(self.image_pipeline_arn)]
        if sum(chosen) != 1:
            raise UsageError("give exactly one of --findings, --snapshot, --image-build-version-arn, "
                             "--image-pipeline-arn")
        if self.image is not None and not self.findings:
            raise UsageError("--image describes the build of a --findings export",
                             hint="a live run reads the image itself, and a snapshot carries it")
