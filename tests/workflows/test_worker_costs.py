"""What the worker spends once per process rather than once per run: the payload converter's
adapters (the SDK builds a converter per workflow instance; a class a sandbox imported afresh
still decodes, with an adapter of its own), the sandbox's compiled glue code, and the payload
walks skipped when they would change nothing (a codec still gets every payload)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import temporalio.bridge.worker as bridge_worker
from temporalio.api.common.v1 import Payload
from temporalio.bridge.proto.workflow_activation import (
    InitializeWorkflow,
    WorkflowActivation,
    WorkflowActivationJob,
)
from temporalio.converter import DataConverter, PayloadCodec
from temporalio.worker import Replayer

from flow_contract import FlowKind, RunStep
from sandbox import _compiled
from temporal_payloads import PayloadConverter, _shared, data_converter
from tests.workflows.test_replay import history
from worker import WORKFLOWS, workflow_runner


def test_each_new_converter_decodes_the_runs_types_with_the_shared_adapters() -> None:
    step = RunStep(
        store_id="st_1",
        workflow_id="cart:st_1:k_1",
        run_key="r",
        flow=FlowKind.ABANDONED_CART,
        flow_version=3,
        step=1,
        customer_id="c_1",
        cart_id="k_1",
        now=datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
    )
    (payload,) = data_converter.payload_converter.to_payloads([step])
    assert data_converter.payload_converter.from_payloads([payload], [RunStep]) == [step]
    before = _shared.cache_info()

    # What the SDK does for each workflow instance: a converter of its own.
    for _ in range(3):
        assert PayloadConverter().from_payloads([payload], [RunStep]) == [step]

    after = _shared.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (3, 0)


def test_a_class_of_a_sandboxs_own_import_is_decoded_and_not_shared() -> None:
    @dataclass
    class Local:  # not found under its name in its module, as a sandbox's copy is not
        amount: int

    converter = PayloadConverter()
    (payload,) = converter.to_payloads([Local(250)])
    entries = _shared.cache_info().currsize

    assert converter.from_payloads([payload], [Local]) == [Local(250)]
    assert _shared.cache_info().currsize == entries


async def test_the_sandbox_compiles_its_glue_once_per_process() -> None:
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=data_converter, workflow_runner=workflow_runner()
    )
    await replayer.replay_workflow(history("abandoned_cart_sent"))
    before = _compiled.cache_info()

    await replayer.replay_workflow(history("abandoned_cart_sent"))

    after = _compiled.cache_info()
    assert after.misses == before.misses
    assert after.hits - before.hits >= 4  # the run's creation and its activations


class _Marking(PayloadCodec):
    """A codec that changes what it is given: what a deployment adding encryption would do."""

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload(metadata={**p.metadata, "marked": b"1"}, data=p.data) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [
            Payload(metadata={"encoding": p.metadata["encoding"]}, data=p.data) for p in payloads
        ]


def _activation() -> WorkflowActivation:
    (argument,) = data_converter.payload_converter.to_payloads(["hello"])
    argument.metadata["marked"] = b"1"
    start = InitializeWorkflow(workflow_type="W", arguments=[argument])
    return WorkflowActivation(run_id="r", jobs=[WorkflowActivationJob(initialize_workflow=start)])


async def test_payloads_are_walked_only_when_a_codec_or_storage_would_change_them() -> None:
    workflow_runner()  # as every worker of the engine: the idle walks are skipped
    walked: list[int] = []

    class Counting(DataConverter):
        async def _decode_payload_sequence(self, payloads: Sequence[Payload]) -> list[Payload]:
            walked.append(len(payloads))
            return await super()._decode_payload_sequence(payloads)

    plain = Counting(payload_converter_class=data_converter.payload_converter_class)
    activation = _activation()
    await bridge_worker.decode_activation(activation, plain, True, 1)
    assert walked == []
    assert activation.jobs[0].initialize_workflow.arguments[0].metadata["marked"] == b"1"

    # With a codec the SDK's own walk runs, and the codec sees every payload.
    with_codec = Counting(
        payload_converter_class=data_converter.payload_converter_class, payload_codec=_Marking()
    )
    await bridge_worker.decode_activation(activation, with_codec, True, 1)
    assert walked == [1]
    assert "marked" not in activation.jobs[0].initialize_workflow.arguments[0].metadata
