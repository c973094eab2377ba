"""Recorded histories replay with the current workflow code: a change that running workflows
would see must go behind `workflow.patched(...)`, or these fail.

Re-record (after an intended, patched change) with
`SHOPSTAR_RECORD_HISTORIES=1 uv run pytest tests/workflows/test_abandoned_cart.py`."""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from worker import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_are_recorded() -> None:
    assert len(HISTORIES) >= 15  # v1, v2 (local gate) and current (local step)


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays_with_current_code(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    await replayer.replay_workflow(history)
