"""A flow as the API shows it: its configuration plus the version it has."""

from datetime import datetime

from pydantic import BaseModel, Field

from flow_contract import FlowConfig, FlowKind


class FlowOut(FlowConfig):
    kind: FlowKind
    version: int


class Interval(BaseModel):
    """An estimate with its 95% confidence interval."""

    estimate: float
    low: float
    high: float


class Amount(BaseModel):
    estimate: int
    low: int
    high: int


class GroupRevenue(BaseModel):
    currency: str
    amount: int = Field(description="Minor units: what the group's runs' orders kept.")
    per_run: float | None = Field(description="Minor units per run; null without runs.")


class LiftGroup(BaseModel):
    runs: int
    converted_runs: int
    conversion_rate: float | None
    revenue: list[GroupRevenue]


class RevenueLift(BaseModel):
    currency: str
    per_run_difference: Interval | None = Field(
        description="Treated minus holdout revenue per run (minor units); null with < 2 runs."
    )
    incremental_revenue: Amount | None = Field(
        description="per_run_difference times the treated runs (minor units)."
    )


class LiftMethods(BaseModel):
    conversion_rate: str
    revenue_per_run: str


class FlowLift(BaseModel):
    """`GET /v1/flows/{kind}/lift`: the runs started in [from, to), treated against held out."""

    flow: FlowKind
    start: datetime = Field(serialization_alias="from")
    to: datetime
    holdout_percent: int = Field(description="The flow's current setting.")
    attribution_window_days: int
    confidence_level: float
    methods: LiftMethods
    treated: LiftGroup
    holdout: LiftGroup
    conversion_rate_difference: Interval | None = Field(
        description="Treated minus holdout conversion rate; null while a group has no runs."
    )
    revenue: list[RevenueLift]
