"""The data converter of every Temporal client of the engine: the SDK's pydantic converter, with
one cache of pydantic `TypeAdapter`s for the whole process.

The SDK builds a new payload converter for each workflow instance (and one per serialization
context), each with a cache of its own: every run built the schema of its input, its signals and
its step outcomes again. That was about a tenth of the worker's CPU in `bench.flows` (py-spy).

Only types that are the process's own are shared: those of the modules the sandbox passes
through (`worker.PASSTHROUGH`) are the same class objects in every sandbox. A class that a
sandbox imported afresh (an input dataclass defined in a workflow's own module) gets an adapter
of its own, as before, so that no sandbox's copy is kept alive by the cache.
"""

import functools
import sys
from typing import Any

from pydantic import TypeAdapter
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

# The process's modules, as imported outside any sandbox (a sandbox swaps `sys.modules`).
_MODULES = sys.modules


@functools.lru_cache(maxsize=1024)
def _shared(type_hint: Any) -> TypeAdapter[Any]:
    return TypeAdapter(type_hint)


def _is_process_wide(type_hint: Any) -> bool:
    """A class found under its name in the process's own module, or `Any`."""
    if type_hint is Any:
        return True
    if not isinstance(type_hint, type):
        return False
    module = _MODULES.get(type_hint.__module__)
    return module is not None and getattr(module, type_hint.__qualname__, None) is type_hint


def _adapter(type_hint: Any) -> TypeAdapter[Any]:
    return _shared(type_hint) if _is_process_wide(type_hint) else TypeAdapter(type_hint)


class _SharedJSONConverter(PydanticJSONPlainPayloadConverter):
    def __init__(self) -> None:
        super().__init__(max_cached_type_adapters=0)
        self._type_adapter = _adapter  # type: ignore[assignment]


class PayloadConverter(CompositePayloadConverter):
    """The SDK's pydantic payload converter, its JSON part sharing the process's adapters."""

    def __init__(self) -> None:
        json = _SharedJSONConverter()
        super().__init__(
            *(
                json if isinstance(c, JSONPlainPayloadConverter) else c
                for c in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


data_converter = DataConverter(payload_converter_class=PayloadConverter)
