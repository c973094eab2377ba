"""Holdout groups: which runs of a flow go without sending, so that the flow's lift can be
measured (docs/holdouts.md). The group is a pure function of the store, the flow and the
customer: the relay records it when the run starts and the gate finds the same answer at each
step, with no state to share and none to lose."""

import hashlib

from flow_contract import FlowKind

BUCKETS = 100


def bucket(store_id: str, kind: FlowKind | str, customer_id: str) -> int:
    """The customer's bucket in [0, 100) for this store's flow: the first 8 bytes of
    SHA-256("{store_id}:{kind}:{customer_id}") as a big-endian integer, modulo 100. Stable
    across processes and versions (no salted `hash()`); another store or flow shuffles anew."""
    digest = hashlib.sha256(f"{store_id}:{kind}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def in_holdout(store_id: str, kind: FlowKind | str, customer_id: str | None, percent: int) -> bool:
    """The customer is held out when their bucket is below the flow's `holdout_percent`; raising
    the percentage only adds customers to the holdout, never swaps them. A run without a
    customer is never held out (it cannot be bucketed, nor sent to)."""
    if not percent or customer_id is None:
        return False
    return bucket(store_id, kind, customer_id) < percent
