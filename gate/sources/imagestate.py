"""Whether a `GetImage` document describes a build gate may judge, and whether its Image Builder scan is complete.

One function (`check_image`) for every reader of a `GetImage` `image`: the live sources while they
wait, and a dry run handed the same document (`--image FILE`), so all refuse the same builds. A build
that no longer exists or never finished (`DELETED`, `CANCELLED`, `FAILED`, `DISABLED`) has no findings
worth judging: zero findings from it must never read as clean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gate.errors import IncompleteError, ScanNotReadyError, one_line
from gate.sources.scantype import ScanPath, output_amis, scan_path

GONE = frozenset({"DELETED", "CANCELLED", "FAILED", "DISABLED"})
"""Image states gate refuses: the build is gone, was stopped, failed or was disabled."""
BEFORE_AVAILABLE = frozenset({"PENDING", "CREATING", "BUILDING", "TESTING", "DISTRIBUTING", "INTEGRATING"})
"""Image states of a build still under way: judged only once its scan is complete (e.g. paused at a workflow step)."""
JUDGED = frozenset({"AVAILABLE", "DEPRECATED"}) | BEFORE_AVAILABLE
SCAN_ENDED_BADLY = frozenset({"ABANDONED", "FAILED", "TIMED_OUT"})


@dataclass(frozen=True)
class ImageState:
    """What a `GetImage` document says about judging its build."""

    path: ScanPath
    """Where its findings are: Image Builder's listing, or EC2's for the output AMI."""
    status: str
    """The image's state, e.g. `AVAILABLE`."""
    scan_status: str | None
    """Image Builder's `scanState.status`, when the image has one."""
    complete: bool
    """Image Builder's scan is `COMPLETED` (always False on the on-demand path: Inspector's scan decides there)."""
    waiting: str
    """When not complete: the scan's status and reason as shown, e.g. `SCANNING` (empty once complete)."""
    notes: tuple[str, ...]
    """For the reports, e.g. that the image is `DEPRECATED`."""
    output_amis: tuple[str, ...]
    """The build's output AMI ids (every region)."""


def _reason(value: object) -> str:
    reason = one_line(value or "")
    return f" ({reason})" if reason else ""


def _status(image: Mapping[str, Any], arn: str) -> str:
    state = image.get("state")
    status = state.get("status") if isinstance(state, Mapping) else None
    if not isinstance(status, str) or not status:
        raise ScanNotReadyError(f"GetImage gives {arn} no state: gate cannot tell whether the build exists",
                                hint="check the ARN; pass the unedited `aws imagebuilder get-image` output")
    because = _reason(state.get("reason") if isinstance(state, Mapping) else None)
    if status in GONE:
        raise ScanNotReadyError(f"{arn} is {one_line(status, 40)}{because}: there is no finished build to judge",
                                hint="gate a build that is AVAILABLE (rebuild the image, or name another build)")
    if status not in JUDGED:
        raise ScanNotReadyError(f"{arn} is in state {one_line(status, 40)!r}, which gate does not know",
                                hint="upgrade gate or report this to its maintainers with the GetImage output")
    return status


def check_image(image: object, arn: str) -> ImageState:
    """Refuse (`ScanNotReadyError`, exit 3) a build gate must not judge; else say whether its scan is complete.

    Refused: another image's document, a state in `GONE` or unknown, scanning disabled, and on the
    Image Builder path a scan that ended `ABANDONED`, `FAILED` or `TIMED_OUT`. A scan still running is
    not refused here: `complete` is False and `waiting` shows its status (a live source waits, a dry run refuses).
    """
    if not isinstance(image, Mapping):
        raise IncompleteError(f"GetImage gave no image document for {arn}",
                              hint="run gate again; pass the unedited `aws imagebuilder get-image` output")
    named = image.get("arn")
    if named is not None and named != arn:
        raise IncompleteError(f"GetImage for {arn} describes another image, {one_line(named, 200)}",
                              hint="run gate again; pass the `get-image` output of the build being judged")
    status = _status(image, arn)
    path = scan_path(image, arn)
    config = image.get("imageScanningConfiguration") or {}
    enabled = config.get("imageScanningEnabled") if isinstance(config, Mapping) else None
    scan = image.get("scanState") or {}
    scan = scan if isinstance(scan, Mapping) else {}
    if enabled is False or (path is ScanPath.IMAGE_BUILDER and enabled is None and not scan):
        raise ScanNotReadyError(
            f"image scanning is disabled for {arn}: there are no findings to judge",
            hint="enable imageScanningConfiguration.imageScanningEnabled on the pipeline and rebuild")
    scan_status = str(scan["status"]) if scan.get("status") else None
    complete = False
    waiting = ""
    if path is ScanPath.IMAGE_BUILDER:
        shown = one_line(scan_status or "UNKNOWN", 40)
        because = _reason(scan.get("reason"))
        if scan_status in SCAN_ENDED_BADLY:
            raise ScanNotReadyError(f"the image scan of {arn} ended {shown}{because}: its findings are incomplete",
                                    hint="rebuild the image (or re-run its scan) and gate the new build")
        complete = scan_status == "COMPLETED"
        waiting = "" if complete else f"{shown}{because}"
    notes: list[str] = []
    if status == "DEPRECATED":
        notes.append(f"{arn} is DEPRECATED: judged all the same")
    elif status in BEFORE_AVAILABLE:
        notes.append(f"{arn} is {status}, not yet AVAILABLE: judged only because its scan is complete")
    return ImageState(path=path, status=status, scan_status=scan_status, complete=complete, waiting=waiting,
                      notes=tuple(notes), output_amis=output_amis(image))
