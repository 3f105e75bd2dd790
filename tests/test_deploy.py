"""The deployment example (deploy/): the template passes cfn-lint, and its workflow is the one documented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from cfnlint.api import lint_all

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags read as plain values."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_Loader.add_multi_constructor("!", _tag)


def template() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.load((DEPLOY / "template.yaml").read_text(), Loader=_Loader)
    return doc


def test_the_template_passes_cfn_lint() -> None:
    """No error and no warning, as `cfn-lint deploy/template.yaml` judges (informational hints aside)."""
    matches = lint_all((DEPLOY / "template.yaml").read_text())
    assert [str(m) for m in matches if m.rule.id[0] in "EW"] == []
    assert len(matches) < 5  # NOTE: lint_all did run its rules (it reports its informational hints)


def test_the_template_holds_the_documented_workflow() -> None:
    data = template()["Resources"]["HoldTestWorkflow"]["Properties"]["Data"]
    documented = (DEPLOY / "hold-test-workflow.yaml").read_text()
    assert yaml.safe_load(data) == yaml.safe_load(documented)
    steps = yaml.safe_load(documented)["steps"]
    names = [s["action"] for s in steps]
    # The findings exist once CollectImageScanFindings ran; the wait comes after it, last, before distribution.
    assert names.index("CollectImageScanFindings") < names.index("WaitForAction") == len(names) - 1
    wait = steps[-1]
    assert wait["onFailure"] == "Abort" and 0 < wait["timeoutSeconds"] <= 604800


def test_the_rule_sends_only_waiting_step_events_to_the_handler() -> None:
    function = template()["Resources"]["GateFunction"]["Properties"]
    assert function["Handler"] == "gate.lambda_handler.handler"
    pattern = function["Events"]["StepWaiting"]["Properties"]["Pattern"]
    assert pattern["source"] == ["aws.imagebuilder"]
    assert pattern["detail-type"] == ["EC2 Image Builder Workflow Step Waiting"]
    assert function["Timeout"] <= 900


def test_the_rule_answers_only_gates_own_step_of_gates_own_workflow() -> None:
    """Every WaitForAction step of the account publishes the same event: another workflow's step (a person's
    approval, another tool's) must never reach gate, which would RESUME it on a pass."""
    doc = template()["Resources"]
    pattern = doc["GateFunction"]["Properties"]["Events"]["StepWaiting"]["Properties"]["Pattern"]
    steps = yaml.safe_load(doc["HoldTestWorkflow"]["Properties"]["Data"])["steps"]
    waiting = [s["name"] for s in steps if s["action"] == "WaitForAction"]
    assert pattern["detail"] == {"workflow-step-name": waiting}
    [workflow] = pattern["resources"]
    name = doc["HoldTestWorkflow"]["Properties"]["Name"]
    assert workflow["prefix"].endswith(f":workflow/test/{name}/")


def test_the_policy_grants_only_what_gate_calls() -> None:
    statements = template()["Resources"]["GateFunction"]["Properties"]["Policies"][0]["Statement"]
    granted = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert all(s["Effect"] == "Allow" and "*" not in "".join(s["Action"]) for s in statements)
    assert granted == {
        "imagebuilder:ListWaitingWorkflowSteps", "imagebuilder:ListImageScanFindings",
        "imagebuilder:ListImageScanFindingAggregations", "imagebuilder:GetImage", "imagebuilder:SendWorkflowStepAction",
        "inspector2:ListFindings", "inspector2:BatchGetFindingDetails", "inspector2:SearchVulnerabilities",
        "inspector2:ListOnDemandScans", "inspector2:GetOnDemandScanStatus", "ec2:GetImageFindings",
        "ec2:DescribeImages", "ec2:AttachImageWatermark", "ec2:DetachImageWatermark"}
    marks = next(s for s in statements if "ec2:AttachImageWatermark" in s["Action"])
    assert "image/*" in marks["Resource"]
