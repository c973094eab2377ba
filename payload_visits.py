"""The SDK's payload visits, skipped when they would change nothing.

On every workflow activation the SDK (1.35) walks all its payloads three times (the reference
decode, the external-storage retrieve and the codec decode), and on every completion three
times more, each walk a coroutine per protobuf message. Without a payload codec and without
external storage each walk hands every payload back unchanged: the SDK says as much in
`DataConverter._decode_payload_has_effect` ("temporary shortcircuit detection"), which nothing
calls yet. The walks were about a seventh of the worker's CPU in `bench.flows` (py-spy `--gil`,
`PayloadVisitor.visit`).

`skip_idle_payload_visits` wraps the two SDK functions (module attributes of
`temporalio.bridge.worker`, looked up on each call): a data converter with a codec or external
storage still goes through the SDK's own walks. What is lost without them: a payload that
another client stored externally (a reference) fails in the payload converter instead of with
the SDK's TMPRL1105 message; this engine configures no external storage anywhere.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import temporalio.bridge.worker as bridge_worker
from temporalio.converter import DataConverter
from temporalio.converter._extstore import StorageOperationMetrics

SdkWalk = TypeVar("SdkWalk", bound=Callable[..., Awaitable[StorageOperationMetrics]])


def _changes_payloads(data_converter: DataConverter) -> bool:
    return data_converter.payload_codec is not None or data_converter.external_storage is not None


def _unless_idle(walk: SdkWalk) -> SdkWalk:
    """The SDK's walk of an activation or a completion, run only when it changes something."""

    async def walked(message: Any, data_converter: DataConverter, *args: Any, **kwargs: Any) -> Any:
        if _changes_payloads(data_converter):
            return await walk(message, data_converter, *args, **kwargs)
        return StorageOperationMetrics()

    return cast(SdkWalk, walked)


_DECODE = _unless_idle(bridge_worker.decode_activation)
_ENCODE = _unless_idle(bridge_worker.encode_completion)


def skip_idle_payload_visits() -> None:
    """For the whole process (idempotent): every worker and replayer of the engine."""
    bridge_worker.decode_activation = _DECODE
    bridge_worker.encode_completion = _ENCODE
