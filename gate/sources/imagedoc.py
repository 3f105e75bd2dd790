"""`--image FILE`: the build's `aws imagebuilder get-image` output, so a dry run knows whether its export is whole.

`list-image-scan-findings` answers `{"findings": []}` for a build whose scan is unfinished, disabled
or of the on-demand type, so an export alone cannot tell "clean" from "not scanned". Given the image
document, a dry run applies the live run's own checks (`scantype`); without it, an empty export is
refused and a non-empty one is judged with a note that its scan state was not checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sized
from pathlib import Path
from typing import Any

from gate.errors import InputError, ScanNotReadyError
from gate.jsondocs import read_documents
from gate.sources.imagestate import check_image
from gate.sources.scantype import LIST, ON_DEMAND, TEST_INSTANCE, ScanPath, scan_path
from gate.vocab import build_version_arn

WHAT = "the output of `aws imagebuilder get-image --image-build-version-arn ARN`"
GET_IMAGE = "pass --image FILE, the output of `aws imagebuilder get-image --image-build-version-arn ARN`"
UNCHECKED = ("the scan state was not checked: without --image (`aws imagebuilder get-image` output) gate cannot "
             "tell whether this build's scan had finished when the findings were exported")


def read_image(path: Path) -> Mapping[str, Any]:
    """The `image` of one saved `get-image` answer, naming an image build version; `InputError` otherwise."""
    docs = read_documents(path, WHAT)
    doc = docs[0] if len(docs) == 1 else None
    image = doc.get("image") if isinstance(doc, dict) else None
    if not isinstance(image, dict):
        raise InputError(f"--image {path}: not {WHAT} (one document with an 'image' object)",
                         hint="pass the CLI's output unedited")
    arn = image.get("arn")
    if not isinstance(arn, str) or build_version_arn(arn) is None:
        raise InputError(f"--image {path}: image.arn {str(arn)[:120]!r} is not an image build version ARN",
                         hint="pass the CLI's output unedited")
    return image


def _same_build(image: Mapping[str, Any], path: Path, builds: set[str]) -> list[str]:
    """The export's findings name the image's build; notes when they name none (an empty export)."""
    arn = str(image["arn"])
    other = sorted(builds - {arn})
    if other:
        raise InputError(f"--image {path} describes {arn}, but the findings are of {other[0]}",
                         hint="export the image and its findings for one imageBuildVersionArn")
    if not builds:
        return [f"the findings name no image build version; --image says they are of {arn}"]
    return []


def _build_region_ami(image: Mapping[str, Any], arn: str) -> str:
    """The AMI the on-demand scan read (the build region's), for the hint; `AMI` when the image lists none."""
    match = build_version_arn(arn)
    amis = (image.get("outputResources") or {}).get("amis") or []
    for ami in amis if isinstance(amis, list) else []:
        if isinstance(ami, Mapping) and match and ami.get("region") == match["region"] \
                and isinstance(ami.get("image"), str):
            return str(ami["image"])
    return "AMI"


def check_image_builder_export(image: Mapping[str, Any] | None, path: Path | None, findings: Sized,
                               builds: set[str], target: str) -> tuple[str, ...]:
    """A `list-image-scan-findings` export against its image: the live checks, or without one, the refusal of
    an empty export. Returns the notes every report must carry."""
    if image is None or path is None:
        if not len(findings):
            raise ScanNotReadyError(f"cannot tell whether this build was scanned: {target} holds no findings, which "
                                    "is also what Image Builder lists for an unfinished, disabled or on-demand scan",
                                    hint=GET_IMAGE)
        return (UNCHECKED,)
    notes = _same_build(image, path, builds)
    arn = str(image["arn"])
    if scan_path(image, arn) is ScanPath.ON_DEMAND:
        ami = _build_region_ami(image, arn)
        raise ScanNotReadyError(f"{arn} was scanned with {ON_DEMAND}: its findings are not in {LIST}, so this "
                                "export cannot hold them",
                                hint=f"export them with `aws ec2 get-image-findings --image-id {ami}` and pass that")
    state = check_image(image, arn)
    if not state.complete:
        raise ScanNotReadyError(f"the image scan of {arn} is {state.waiting}, not COMPLETED (--image {path}): the "
                                "export may lack findings", hint="export the findings and the image again once "
                                "get-image shows scanState COMPLETED")
    return (*state.notes, *notes)


def check_on_demand_export(image: Mapping[str, Any] | None, path: Path | None, *, unproven: bool,
                           amis: Mapping[str, str], events: bool, target: str) -> tuple[str, ...]:
    """EC2 `get-image-findings` output (or scan events) against its image: the build's scan type and setting.

    `unproven`: no findings and no scan-complete event, which is also what an AMI never scanned gives;
    `amis`: the AMIs the events name (AMI → the first event naming it), which must be the image's own.
    """
    if image is None or path is None:
        if unproven:
            raise ScanNotReadyError(f"cannot tell whether this build was scanned: {target} holds no findings, which "
                                    "is also what EC2 lists for an AMI whose on-demand scan never ran or has not "
                                    "finished", hint=GET_IMAGE + ", or the scan's `Inspector2 OnDemand Scan "
                                    "Complete` event")
        return () if amis else (UNCHECKED,)
    arn = str(image["arn"])
    if scan_path(image, arn) is not ScanPath.ON_DEMAND:
        raise ScanNotReadyError(f"{arn} was scanned with {TEST_INSTANCE} (--image {path}): its findings are in "
                                f"{LIST}, not in EC2's on-demand scan findings",
                                hint="pass `aws imagebuilder list-image-scan-findings` output for this build")
    own = _build_region_ami(image, arn)
    if events and not amis:
        raise InputError(f"the on-demand scan events name no AMI, so gate cannot tell they are of {arn} ({own})",
                         hint="pass the events as EventBridge delivered them")
    for ami, where in sorted(amis.items()):
        if ami != own:
            # NOTE: as an Image Builder export of another build is refused: another AMI's clean scan would pass.
            raise InputError(f"--image {path} describes {arn}, whose scanned AMI is {own}, but {where} is of {ami}",
                             hint="pass the image and the on-demand scan events of one build")
    state = check_image(image, arn)
    # NOTE: EC2's findings name no build, so only the image's own facts can be checked here.
    return (*state.notes, f"the findings name no image build version; --image says they are of {arn}")
