"""A flow as the API shows it: its configuration plus the version it has."""

from flow_contract import FlowConfig, FlowKind


class FlowOut(FlowConfig):
    kind: FlowKind
    version: int
