"""Snapshots keep the build's output AMIs (VEX products may name them), and refuse anything else there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.errors import ExitCode, InputError
from gate.model import Gathered
from gate.snapshot import load_snapshot, snapshot_text

ARN = "arn:aws:imagebuilder:us-east-1:111122223333:image/web/1.4.0/3"


def test_output_amis_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    path.write_text(snapshot_text(Gathered(ARN, (), {}, (), output_amis=("ami-0abc", "ami-0def"))))
    assert load_snapshot(path).output_amis == ("ami-0abc", "ami-0def")


@pytest.mark.parametrize("amis", ["ami-0abc", [1], ["arn:aws:imagebuilder:us-east-1:1:image/x/1/1"], [None]])
def test_anything_but_ami_ids_is_refused(tmp_path: Path, amis: object) -> None:
    doc = json.loads(snapshot_text(Gathered(ARN, (), {}, ())))
    doc["outputAmis"] = amis
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="outputAmis") as caught:
        load_snapshot(path)
    assert caught.value.exit_code is ExitCode.USAGE
