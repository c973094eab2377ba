"""The raw shape's input, in a module of its own: the raw worker passes it through the sandbox, as
the engine's worker does its run types (worker.PASSTHROUGH)."""

from dataclasses import dataclass


@dataclass
class RawRun:
    trigger_delay_seconds: float
    step_delays_seconds: list[float]
