"""The lift of a flow over its holdout group, against a hand-computed example; its 422s."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models import FlowRunGroup, Order
from models.database import SessionMaker
from tests.conftest import StoreKeys

T0 = datetime(2026, 11, 10, tzinfo=UTC)
PERIOD = {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}


async def seed(
    sessionmaker: SessionMaker,
    store_id: str,
    runs: list[tuple[str, bool]],
    orders: list[tuple[str, float, int, str]],
    kind: str = "abandoned_cart",
    started_at: datetime = T0,
) -> None:
    """Runs (customer, held out) started at `started_at`; orders (customer, days after T0,
    total, status), in USD."""
    async with sessionmaker.begin() as session:
        for customer_id, holdout in runs:
            session.add(
                FlowRunGroup(
                    store_id=store_id,
                    workflow_id=f"{kind}:{store_id}:{customer_id}",
                    started_at=started_at,
                    kind=kind,
                    customer_id=customer_id,
                    holdout=holdout,
                )
            )
        for n, (customer_id, days, total, status) in enumerate(orders):
            placed = T0 + timedelta(days=days)
            session.add(
                Order(
                    store_id=store_id,
                    order_id=f"o_{n}",
                    customer_id=customer_id,
                    currency="USD",
                    items=[],
                    total=total,
                    status=status,
                    refunded_amount=1000 if status == "partially_refunded" else 0,
                    placed_at=placed,
                    updated_at=placed,
                )
            )


async def lift(
    api: httpx.AsyncClient, store: StoreKeys, kind: str = "abandoned_cart", **params: str
) -> dict[str, Any]:
    response = await api.get(
        f"/v1/flows/{kind}/lift", params={**PERIOD, **params}, headers=store.auth()
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_lift_against_a_hand_computed_example(
    api: httpx.AsyncClient, store: StoreKeys, sessionmaker: SessionMaker
) -> None:
    treated = [("t1", False), ("t2", False), ("t3", False), ("t4", False)]
    held = [("h1", True), ("h2", True), ("h3", True)]
    await seed(
        sessionmaker,
        store.id,
        treated + held,
        [
            ("t1", -1, 9999, "placed"),  # before the run started: not the run's
            ("t1", 1, 5000, "placed"),
            ("t2", 2, 3000, "partially_refunded"),  # 1000 refunded: 2000 kept
            ("t2", 3, 1000, "placed"),  # a second order of the same run: revenue, one conversion
            ("t3", 1, 2000, "cancelled"),
            ("t4", 6, 7000, "placed"),  # after the 5-day window
            ("h1", 4, 3000, "placed"),
            ("h2", 1, 800, "refunded"),
        ],
    )
    # Not counted: another flow's runs, and runs started outside the period.
    await seed(sessionmaker, store.id, [("b1", False)], [], kind="browse_reminder")
    await seed(sessionmaker, store.id, [("t9", False)], [], started_at=T0 - timedelta(days=20))
    body = await lift(api, store)
    assert body["flow"] == "abandoned_cart" and body["from"] == "2026-11-01T00:00:00Z"
    assert body["attribution_window_days"] == 5
    assert body["methods"] == {
        "conversion_rate": "newcombe_hybrid_score",
        "revenue_per_run": "normal_approximation",
    }
    # Treated: 4 runs, t1 and t2 converted (2/4), kept 5000 + 2000 + 1000 = 8000 (2000 a run).
    # Held out: 3 runs, h1 converted (1/3), 3000 (1000 a run).
    assert body["treated"] == {
        "runs": 4,
        "converted_runs": 2,
        "conversion_rate": 0.5,
        "revenue": [{"currency": "USD", "amount": 8000, "per_run": 2000.0}],
    }
    assert body["holdout"] == {
        "runs": 3,
        "converted_runs": 1,
        "conversion_rate": pytest.approx(1 / 3),
        "revenue": [{"currency": "USD", "amount": 3000, "per_run": 1000.0}],
    }
    # Wilson 95%: 2/4 -> [0.15003, 0.84997], 1/3 -> [0.06149, 0.79234]; Newcombe:
    # 1/6 - sqrt(0.34997^2 + 0.45901^2) = -0.41054, 1/6 + sqrt(0.34997^2 + 0.27185^2) = 0.60982.
    diff = body["conversion_rate_difference"]
    assert diff["estimate"] == pytest.approx(1 / 6)
    assert (round(diff["low"], 4), round(diff["high"], 4)) == (-0.4105, 0.6098)
    # Revenue per run 2000 - 1000 = 1000. Per run, treated [5000, 3000, 0, 0]: s^2 =
    # (34e6 - 4 * 2000^2) / 3 = 6e6; held out [3000, 0, 0]: s^2 = (9e6 - 3 * 1000^2) / 2 = 3e6;
    # se = sqrt(6e6/4 + 3e6/3) = 1581.139;
    # 1000 -/+ 1.959964 * 1581.139 = -2098.97 .. 4098.97; incremental: times 4 treated runs.
    (revenue,) = body["revenue"]
    assert revenue["currency"] == "USD"
    per_run = revenue["per_run_difference"]
    assert per_run["estimate"] == 1000.0
    assert (round(per_run["low"], 1), round(per_run["high"], 1)) == (-2099.0, 4099.0)
    assert revenue["incremental_revenue"] == {"estimate": 4000, "low": -8396, "high": 16396}


async def test_lift_without_runs_has_no_intervals(api: httpx.AsyncClient, store: StoreKeys) -> None:
    body = await lift(api, store, "browse_reminder")
    assert body["treated"]["runs"] == 0 and body["treated"]["conversion_rate"] is None
    assert body["conversion_rate_difference"] is None and body["revenue"] == []
    assert body["holdout_percent"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-11-24T00:00:00Z", "to": "2026-11-01T00:00:00Z"},  # backwards
        {"from": "2026-11-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"},  # empty
        {"from": "2026-11-24T00:00:00"},  # no time zone
        {"to": "yesterday"},
        {"to": "0001-01-01T00:00:00Z"},  # the default from would be before year 1
    ],
)
@pytest.mark.parametrize("report", ["lift", "stats"])
async def test_a_bad_period_is_422(
    api: httpx.AsyncClient, store: StoreKeys, params: dict[str, str], report: str
) -> None:
    response = await api.get(
        f"/v1/flows/abandoned_cart/{report}", params=params, headers=store.auth()
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"]


async def test_an_unknown_flow_is_404(api: httpx.AsyncClient, store: StoreKeys) -> None:
    response = await api.get("/v1/flows/nope/lift", headers=store.auth())
    assert response.status_code == 404
    assert response.json()["error"]["code"].endswith("not_found")


@pytest.mark.parametrize("percent", [-1, 51, 100, "ten", 12.5])
async def test_holdout_percent_outside_0_to_50_is_422(
    api: httpx.AsyncClient, store: StoreKeys, percent: Any
) -> None:
    flow = (await api.get("/v1/flows/abandoned_cart", headers=store.auth())).json()
    body = {k: v for k, v in flow.items() if k not in ("kind", "version")}
    response = await api.put(
        "/v1/flows/abandoned_cart", json={**body, "holdout_percent": percent}, headers=store.auth()
    )
    assert response.status_code == 422, response.text
    assert "holdout_percent" in response.text
    ok = await api.put(
        "/v1/flows/abandoned_cart", json={**body, "holdout_percent": 50}, headers=store.auth()
    )
    assert ok.status_code == 200 and ok.json()["holdout_percent"] == 50
    assert (await lift(api, store))["holdout_percent"] == 50
