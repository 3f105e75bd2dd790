"""Mark what passed: attach `ACCOUNT:NAME` to each output AMI this account owns on a pass, detach it otherwise.

Whether an AMI can carry a mark is decided from `DescribeImages` (owner, public, the marks it holds), not
from EC2's error codes, which AWS does not document for these cases: an AMI that cannot carry one is a
SKIPPED record with the reason (no mark is the safe side), and any EC2 error on an AMI gate decided to
mark is a FAILED record (exit 3). A detach is sent to every AMI this account owns, listed mark or not.
Each AMI is asked about in its own region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import Any

from gate.actions.answers import bad_answer, member, optional, records
from gate.actions.context import AwsContext
from gate.actions.interface import Outcome
from gate.actions.workflow_step import inert
from gate.errors import AwsCallError, UsageError
from gate.outcome import ActionRecord, ActionStatus
from gate.vocab import AMI_ID

NAME = "watermark"
GET_IMAGE = "imagebuilder:GetImage"
DESCRIBE = "ec2:DescribeImages"
ATTACH = "ec2:AttachImageWatermark"
DETACH = "ec2:DetachImageWatermark"
MAX_MARKS = 5
"""The most watermarks one AMI can carry (EC2 user guide)."""
_NAME = re.compile(r"[A-Za-z0-9()\[\] ./\-'@_]{3,128}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")


def check_name(name: str) -> str:
    """A watermark name AttachImageWatermark accepts: 3-128 letters, digits, spaces and ( ) [ ] . / - ' @ _."""
    if not _NAME.fullmatch(name):
        raise UsageError(f"--watermark {inert(name)[:140]!r} is not a watermark name",
                         hint="use 3-128 letters, digits, spaces and ( ) [ ] . / - ' @ _")
    return name


@dataclass(frozen=True)
class OutputAmi:
    """One output AMI of the build, where GetImage says it is."""

    region: str
    ami: str
    account: str | None

    @property
    def target(self) -> str:
        return f"{self.region} {self.ami}"


class Watermark:
    """`--watermark NAME`: the mark follows the verdict on every output AMI this account owns."""

    name = NAME
    revocable = True

    def __init__(self, context: AwsContext, build_arn: str, watermark_name: str) -> None:
        self.context = context
        self.build_arn = build_arn
        self.watermark_name = check_name(watermark_name)
        self.account: str | None = None

    @property
    def key(self) -> str:
        return f"{self.account}:{self.watermark_name}"

    def prepare(self) -> None:
        """The caller's account (the key's first half), before anything is fetched."""
        self.account = self.context.account()

    def _outputs(self) -> list[OutputAmi]:
        client = self.context.client("imagebuilder")
        answer = self.context.call(GET_IMAGE, partial(client.get_image, imageBuildVersionArn=self.build_arn))
        image = member(answer, "image", dict, call=GET_IMAGE)
        outputs = optional(image, "outputResources", dict, call=GET_IMAGE) or {}
        amis = []
        for item in records(outputs, "amis", call=GET_IMAGE, required=False):
            region, ami = member(item, "region", str, call=GET_IMAGE), member(item, "image", str, call=GET_IMAGE)
            if not (_REGION.fullmatch(region) and AMI_ID.fullmatch(ami)):
                raise bad_answer(GET_IMAGE, "an AMI id and region in outputResources.amis")
            amis.append(OutputAmi(region, ami, optional(item, "accountId", str, call=GET_IMAGE)))
        return list(dict.fromkeys(amis))

    def act(self, outcome: Outcome) -> tuple[ActionRecord, ...]:
        passed = outcome.passed
        operation = "attach" if passed else "detach"
        if self.account is None:
            return (ActionRecord(NAME, self.build_arn, operation, ActionStatus.FAILED, "the caller's account is "
                                 "unknown (prepare did not run)"),)
        try:
            amis = self._outputs()
        except AwsCallError as e:
            return (ActionRecord(NAME, self.build_arn, operation, ActionStatus.FAILED, inert(e.diagnostics())),)
        if not amis:
            return (ActionRecord(NAME, self.build_arn, operation, ActionStatus.SKIPPED,
                                 f"{self.key}: the build has no output AMI"),)
        why = "" if passed else f": {outcome.why_not}"
        return tuple(self._one(ami, passed, why) for ami in amis)

    def _one(self, ami: OutputAmi, passed: bool, why: str) -> ActionRecord:
        operation = "attach" if passed else "detach"

        def record(status: ActionStatus, detail: str) -> ActionRecord:
            return ActionRecord(NAME, ami.target, operation, status, inert(f"{self.key}: {detail}"))

        if ami.account is not None and ami.account != self.account:
            return record(ActionStatus.SKIPPED, f"owned by account {ami.account}; only its owner can mark it")
        ec2 = self.context.client("ec2", ami.region)
        try:
            image = self._describe(ec2, ami)
            owner = member(image, "OwnerId", str, call=DESCRIBE)
            public = member(image, "Public", bool, call=DESCRIBE)
            keys = [member(m, "WatermarkKey", str, call=DESCRIBE)
                    for m in records(image, "ImageWatermarks", call=DESCRIBE, required=False)]
            if owner != self.account:
                return record(ActionStatus.SKIPPED, f"owned by account {owner}; only its owner can mark it")
            if not passed:
                # NOTE: detached whether or not DescribeImages lists it: EC2 reads are eventually consistent (a mark
                # attached a moment ago may not show yet), and a detach of an absent mark succeeds.
                self._detach(ec2, ami)
                return record(ActionStatus.DONE, f"detached{why}" if self.key in keys else
                              f"detached (not listed by DescribeImages; detached regardless){why}")
            if public:
                return record(ActionStatus.SKIPPED, "public: AWS attaches no watermark to a public AMI")
            if self.key in keys:
                return record(ActionStatus.DONE, "already attached")
            if len(keys) >= MAX_MARKS:
                return record(ActionStatus.SKIPPED, f"already carries {len(keys)} watermarks, the most an AMI can")
            self._attach(ec2, ami)
            return record(ActionStatus.DONE, "attached")
        except AwsCallError as e:
            return record(ActionStatus.FAILED, e.diagnostics())

    def _describe(self, ec2: Any, ami: OutputAmi) -> dict[str, Any]:
        answer = self.context.call(DESCRIBE, partial(ec2.describe_images, ImageIds=[ami.ami]), retry_codes=())
        images = [i for i in records(answer, "Images", call=DESCRIBE) if i.get("ImageId") == ami.ami]
        if len(images) != 1:
            raise bad_answer(DESCRIBE, f"exactly one image {ami.ami}")
        return dict(images[0])

    def _attach(self, ec2: Any, ami: OutputAmi) -> None:
        answer = self.context.call(ATTACH, partial(ec2.attach_image_watermark, ImageId=ami.ami,
                                                   WatermarkName=self.watermark_name), retry_codes=())
        if member(answer, "WatermarkKey", str, call=ATTACH) != self.key:
            raise bad_answer(ATTACH, f"the key {self.key}")

    def _detach(self, ec2: Any, ami: OutputAmi) -> None:
        answer = self.context.call(DETACH, partial(ec2.detach_image_watermark, ImageId=ami.ami,
                                                   WatermarkKey=self.key), retry_codes=())
        if member(answer, "Return", bool, call=DETACH) is not True:
            raise bad_answer(DETACH, "Return true")
