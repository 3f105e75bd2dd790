"""The emulator's fleet operations, driven by boto3: ListImagePipelines per signed region, EnableImageDeprecation."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.emulator import Emulator, image_arn, pipeline_arn


def client(emu: Emulator, service: str, region: str) -> object:
    kwargs = {**emu.client_kwargs(), "region_name": region}
    return boto3.client(service, config=Config(retries={"total_max_attempts": 1}), **kwargs)  # type: ignore[call-overload]


def test_pipelines_are_listed_in_their_own_region_and_paginated(emulator: Emulator) -> None:
    east = [pipeline_arn(f"east{i}") for i in range(30)]
    for arn in east:
        emulator.add_pipeline(arn)
    west = pipeline_arn("west", region="eu-west-1")
    emulator.add_image(image_arn("west", region="eu-west-1"), pipeline_arn=west)
    listed = [p["arn"] for page in client(emulator, "imagebuilder", "us-east-1").get_paginator(  # type: ignore[attr-defined]
        "list_image_pipelines").paginate() for p in page["imagePipelineList"]]
    assert sorted(listed) == sorted(east)
    assert emulator.count("ListImagePipelines") == 2  # 25 a page
    eu = client(emulator, "imagebuilder", "eu-west-1").list_image_pipelines()  # type: ignore[attr-defined]
    assert [p["arn"] for p in eu["imagePipelineList"]] == [west]
    assert emulator.violations == []


def test_deprecation_is_set_by_the_owner_in_the_future_only(emulator: Emulator) -> None:
    emulator.add_ami("ami-0123456789abcdef0", region="eu-west-1")
    ec2 = client(emulator, "ec2", "eu-west-1")
    later = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=5)
    assert ec2.enable_image_deprecation(ImageId="ami-0123456789abcdef0", DeprecateAt=later)["Return"] is True  # type: ignore[attr-defined]
    assert emulator.ami("ami-0123456789abcdef0")["DeprecationTime"].startswith(later.strftime("%Y-%m-%dT%H:%M"))
    with pytest.raises(ClientError, match="InvalidParameterValue"):
        ec2.enable_image_deprecation(ImageId="ami-0123456789abcdef0",  # type: ignore[attr-defined]
                                     DeprecateAt=later - dt.timedelta(days=1))
    with pytest.raises(ClientError, match="does not exist"):
        client(emulator, "ec2", "us-east-1").enable_image_deprecation(  # type: ignore[attr-defined]
            ImageId="ami-0123456789abcdef0", DeprecateAt=later)
    emulator.add_ami("ami-0123456789abcdef1", region="eu-west-1", owner="999988887777")
    with pytest.raises(ClientError, match="AuthFailure"):
        ec2.enable_image_deprecation(ImageId="ami-0123456789abcdef1", DeprecateAt=later)  # type: ignore[attr-defined]
    assert [v for v in emulator.violations if v.kind != "request"] == []
