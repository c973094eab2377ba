"""The 3-step flow the flows benchmarks send: an email at once, an SMS 5 s later and an email 5 s
after that, after a 5 s trigger delay, with no frequency caps; `flow_of` cuts it to its first
steps or makes its runs wait longer."""

from typing import Any

FLOW: dict[str, Any] = {
    "enabled": True,
    "trigger_delay_seconds": 5,
    "steps": [
        {
            "delay_seconds": 0,
            "channel": "email",
            "template": {"subject": "Your cart", "body": "{{ link }}"},
        },
        {"delay_seconds": 5, "channel": "sms", "template": {"body": "Still there? {{ link }}"}},
        {
            "delay_seconds": 5,
            "channel": "email",
            "template": {"subject": "Last call", "body": "{{ link }}"},
        },
    ],
    "suppression": {"similar_message_window_seconds": 0, "recent_order_window_seconds": 0},
}


def flow_of(steps: int = 3, wait_seconds: int = 5) -> dict[str, Any]:
    """FLOW's first `steps` steps, its runs waiting `wait_seconds` before the first."""
    if not 1 <= steps <= len(FLOW["steps"]):
        raise ValueError(f"steps: 1 to {len(FLOW['steps'])}")
    return {**FLOW, "trigger_delay_seconds": wait_seconds, "steps": FLOW["steps"][:steps]}
