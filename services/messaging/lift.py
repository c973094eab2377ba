"""A flow's lift: the runs it started in a period, treated against held out (docs/holdouts.md).
A run converted when its customer placed an order within the store's attribution window after
the run started; its revenue is what those orders kept (cancelled and refunded ones excluded,
partial refunds deducted, as in the flow stats). Both groups are counted from the run's start,
whatever happened to it after, so they are compared on the same footing."""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import FlowRunGroup, Order, Store
from services.messaging.flows import check_kind
from services.stores.settings import attribution_window_days

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile: a two-sided 95% interval
CONVERSION_METHOD = "newcombe_hybrid_score"
REVENUE_METHOD = "normal_approximation"


@dataclass
class _Group:
    runs: int = 0
    converted: int = 0
    # currency -> (sum, sum of squares) of the revenue per run
    revenue: dict[str, tuple[int, int]] = field(default_factory=dict)


async def flow_lift(
    session: AsyncSession, store_id: str, kind: str, start: datetime, end: datetime
) -> dict[str, Any]:
    kind = check_kind(kind)
    settings = await session.scalar(select(Store.settings).where(Store.id == store_id))
    days = attribution_window_days(settings)
    runs = select(FlowRunGroup).where(
        FlowRunGroup.store_id == store_id,
        FlowRunGroup.kind == kind,
        FlowRunGroup.started_at >= start,
        FlowRunGroup.started_at < end,
    )
    run = runs.subquery()
    in_window = and_(
        Order.store_id == run.c.store_id,
        Order.customer_id == run.c.customer_id,
        Order.placed_at >= run.c.started_at,
        Order.placed_at < run.c.started_at + timedelta(days=days),
        Order.status.not_in(("cancelled", "refunded")),
    )
    groups = {False: _Group(), True: _Group()}
    counted = await session.execute(
        select(run.c.holdout, func.count(), func.count().filter(exists().where(in_window)))
        .select_from(run)
        .group_by(run.c.holdout)
    )
    for holdout, total, converted in counted:
        groups[holdout].runs, groups[holdout].converted = total, converted
    kept = Order.total - func.coalesce(Order.refunded_amount, 0)
    per_run = (
        select(run.c.holdout, Order.currency, func.sum(kept).label("amount"))
        .select_from(run)
        .join(Order, in_window)
        .group_by(run.c.workflow_id, run.c.started_at, run.c.holdout, Order.currency)
        .subquery()
    )
    sums = await session.execute(
        select(
            per_run.c.holdout,
            per_run.c.currency,
            func.sum(per_run.c.amount),
            func.sum(per_run.c.amount * per_run.c.amount),
        )
        .group_by(per_run.c.holdout, per_run.c.currency)
        .order_by(per_run.c.currency)
    )
    for holdout, currency, total, squares in sums:
        groups[holdout].revenue[currency] = (int(total), int(squares))
    return _report(groups[False], groups[True], days)


def _report(treated: _Group, holdout: _Group, days: int) -> dict[str, Any]:
    currencies = sorted({*treated.revenue, *holdout.revenue})
    return {
        "attribution_window_days": days,
        "confidence_level": 0.95,
        "methods": {"conversion_rate": CONVERSION_METHOD, "revenue_per_run": REVENUE_METHOD},
        "treated": _group(treated, currencies),
        "holdout": _group(holdout, currencies),
        "conversion_rate_difference": _proportion_difference(treated, holdout),
        "revenue": [_revenue(treated, holdout, c) for c in currencies],
    }


def _group(g: _Group, currencies: list[str]) -> dict[str, Any]:
    revenue = g.revenue
    return {
        "runs": g.runs,
        "converted_runs": g.converted,
        "conversion_rate": g.converted / g.runs if g.runs else None,
        "revenue": [
            {
                "currency": c,
                "amount": revenue.get(c, (0, 0))[0],
                "per_run": revenue.get(c, (0, 0))[0] / g.runs if g.runs else None,
            }
            for c in currencies
        ],
    }


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval of a proportion."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _proportion_difference(treated: _Group, holdout: _Group) -> dict[str, float] | None:
    """Newcombe's hybrid score interval (his method 10) for p1 - p2, from the two Wilson
    intervals: unlike Wald's it stays inside [-1, 1] and holds up with few conversions."""
    if not treated.runs or not holdout.runs:
        return None
    p1, p2 = treated.converted / treated.runs, holdout.converted / holdout.runs
    l1, u1 = wilson(treated.converted, treated.runs)
    l2, u2 = wilson(holdout.converted, holdout.runs)
    diff = p1 - p2
    return {
        "estimate": diff,
        "low": diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        "high": diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    }


def _revenue(treated: _Group, holdout: _Group, currency: str) -> dict[str, Any]:
    """Revenue per run, treated minus held out, with a normal-approximation interval (the
    unpooled standard error of two means; a run without an order counts as 0), and the
    incremental revenue: that difference times the treated runs."""
    diff = _mean_difference(treated, holdout, currency)
    scaled = {k: round(v * treated.runs) for k, v in diff.items()} if diff is not None else None
    return {"currency": currency, "per_run_difference": diff, "incremental_revenue": scaled}


def _mean_difference(treated: _Group, holdout: _Group, currency: str) -> dict[str, float] | None:
    if treated.runs < 2 or holdout.runs < 2:
        return None  # no variance to estimate
    means, variances = [], []
    for g in (treated, holdout):
        total, squares = g.revenue.get(currency, (0, 0))
        mean = total / g.runs
        means.append(mean)
        variances.append(max(0.0, (squares - g.runs * mean * mean) / (g.runs - 1)))
    diff = means[0] - means[1]
    se = math.sqrt(variances[0] / treated.runs + variances[1] / holdout.runs)
    return {"estimate": diff, "low": diff - Z95 * se, "high": diff + Z95 * se}
