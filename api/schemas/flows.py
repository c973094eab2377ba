"""A flow as the API shows it: its configuration plus the version it has."""

from services.messaging.flow_config import FlowConfig


class FlowOut(FlowConfig):
    kind: str
    version: int
