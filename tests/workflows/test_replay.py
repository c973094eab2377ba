"""Recorded histories replay with the current workflow code: a change that running workflows
would see must go behind `workflow.patched(...)`, or these fail.

Re-record (after an intended, patched change) with `SHOPSTAR_RECORD_HISTORIES=1 uv run pytest
tests/workflows/test_abandoned_cart.py tests/workflows/test_flows.py`."""

from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from temporal_payloads import data_converter
from tests.workflows.changed_workflow import ChangedAbandonedCartWorkflow
from worker import WORKFLOWS, workflow_runner

HISTORIES = Path(__file__).parent / "histories"
# What the recording tests write (`record_history`): each must be there, so a renamed or
# dropped recording fails here instead of silently guarding less.
RECORDED = [
    "abandoned_cart_sent",
    "abandoned_cart_converted",
    "abandoned_cart_restarted_window",
    "abandoned_cart_quiet_hours",
    "browse_reminder_sent",
    "return_purchase_sent",
]


def history(name: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(name, (HISTORIES / f"{name}.json").read_text())


def test_no_history_is_left_unreplayed() -> None:
    assert sorted(p.stem for p in HISTORIES.glob("*.json")) == sorted(RECORDED)


@pytest.mark.parametrize("name", RECORDED)
async def test_history_replays_with_current_code(name: str) -> None:
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=data_converter, workflow_runner=workflow_runner()
    )
    result = await replayer.replay_workflow(history(name), raise_on_replay_failure=False)
    assert result.replay_failure is None


async def test_a_changed_workflow_fails_to_replay_a_recorded_run() -> None:
    """The guard works: code that would take a run in flight down another path fails."""
    replayer = Replayer(workflows=[ChangedAbandonedCartWorkflow], data_converter=data_converter)
    result = await replayer.replay_workflow(
        history("abandoned_cart_sent"), raise_on_replay_failure=False
    )
    assert isinstance(result.replay_failure, workflow.NondeterminismError)
    # The recorded first timer finds no command of the changed code.
    assert "Nondeterminism error: No command scheduled for event" in str(result.replay_failure)
