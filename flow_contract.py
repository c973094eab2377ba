"""The flow contract: what the relay, the workflows, the activities, the services and the API
say to each other about a flow run. A leaf module: it imports nothing of ours, so every layer
(workflows in their sandbox included) can depend on it. The enum values are the strings stored
in the database and shown by the API."""

import re
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

# A flow step is tried this many times (about an hour with its backoff) before it fails: the
# workflow's retry policy and the activity's "last attempt" agree on it.
STEP_MAX_ATTEMPTS = 20


class FlowKind(StrEnum):
    ABANDONED_CART = "abandoned_cart"
    BROWSE_REMINDER = "browse_reminder"
    RETURN_PURCHASE = "return_purchase"


class ProgramKind(StrEnum):
    """The growth programs' runs, filed under the same `FlowKind` search attribute as the flows
    (a Keyword), but not flows: no flow can be configured with these kinds."""

    GROUP_DEAL = "group_deal"
    COMMISSION = "commission"
    AFFILIATE_PAYOUT = "affiliate_payout"
    REFERRAL = "referral"
    SHARING = "sharing"
    CONVERSION = "conversion"  # an order's conversion (or adjustment) for an ad network
    AUDIENCE_SYNC = "audience_sync"
    AUDIENCE_REMOVAL = "audience_removal"


class ReferralStatus(StrEnum):
    """A referral's status (`referrals.status`): `pending` until its holding period ends."""

    PENDING = "pending"
    REWARDED = "rewarded"
    VOIDED = "voided"
    REJECTED = "rejected"


class ReferralReason(StrEnum):
    """Why a referral was rejected or voided: what staff see in `GET /v1/referrals`."""

    SELF_REFERRAL = "self_referral"
    NOT_FIRST_ORDER = "not_first_order"
    LIMIT_REACHED = "limit_reached"
    ALREADY_REFERRED = "already_referred"
    PROGRAM_DISABLED = "program_disabled"
    UNKNOWN_CODE = "unknown_code"  # the code was disabled (its customer erased) meanwhile
    ORDER_CANCELLED = "order_cancelled"
    ORDER_REFUNDED = "order_refunded"
    REWARD_UNAVAILABLE = "reward_unavailable"  # the coupon's promotion ended, say
    CUSTOMER_ERASED = "customer_erased"  # the one to be rewarded was erased before the grant


class DealStatus(StrEnum):
    """A group deal's status (`group_deals.status`); the last three are final."""

    SCHEDULED = "scheduled"
    OPEN = "open"
    ACTIVATED = "activated"
    FAILED = "failed"
    CANCELLED = "cancelled"


class CommissionStatus(StrEnum):
    """An affiliate commission's status (`affiliate_commissions.status`)."""

    PENDING = "pending"  # held for the affiliate's holding days
    APPROVED = "approved"  # owed: the next payout takes it
    PAID = "paid"  # taken by a payout (a later refund is clawed back on the next one)
    VOIDED = "voided"  # cancelled or refunded in full before any payout


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"

    @property
    def contact_field(self) -> str:
        """The customer's field a message of this channel goes to."""
        return "email" if self is Channel.EMAIL else "phone"


class MessageStatus(StrEnum):
    """A message-log row's status (`messages.status`, checked by the database)."""

    PENDING = "pending"  # decided to send, not answered yet
    UNKNOWN = "unknown"  # handed over, no answer: maybe sent, never sent again
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"  # the gate said no (`suppression_reason` says why)


class RunEnding(StrEnum):
    """A run's outcome when something ended it before its last step (`FlowOutcome`)."""

    CONVERTED = "converted"  # the customer ordered
    CANCELLED = "cancelled"  # the cart was cleared, or a browse turned into a cart
    ERASED = "suppressed:erased"
    ORDER_CANCELLED = "suppressed:order_cancelled"
    FLOW_DISABLED = "suppressed:flow_disabled"


class GateReason(StrEnum):
    """Why the send gate said no to a step (`messages.suppression_reason`)."""

    ERASED = "erased"
    CONVERTED = "converted"
    CART_EMPTY = "cart_empty"
    ORDER_CANCELLED = "order_cancelled"
    FLOW_DISABLED = "flow_disabled"  # staff turned the flow off: runs stop at their next step
    NO_CONTACT = "no_contact"
    NO_CONSENT = "no_consent"
    PRODUCT_UNAVAILABLE = "product_unavailable"
    RECENT_ORDER = "recent_order"
    RECENT_SIMILAR_MESSAGE = "recent_similar_message"
    NO_PROMO_CODE = "no_promo_code"
    # The run's customer is in the flow's holdout group: the step would have gone out, and is
    # held back so that the flow's lift can be measured (docs/holdouts.md).
    HOLDOUT = "holdout"

    @property
    def ending(self) -> RunEnding | None:
        """The run's outcome when this reason ends the run; None when it skips one step."""
        return _ENDINGS.get(self)


_ENDINGS = {
    GateReason.CONVERTED: RunEnding.CONVERTED,
    GateReason.CART_EMPTY: RunEnding.CANCELLED,
    GateReason.ERASED: RunEnding.ERASED,
    GateReason.ORDER_CANCELLED: RunEnding.ORDER_CANCELLED,
    GateReason.FLOW_DISABLED: RunEnding.FLOW_DISABLED,
}

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# Every number and text of a flow is bounded (docs/flows.md, "Limits"): a flow is read by every
# step (and cached by every worker), so its size is every run's cost, and a number past these
# bounds is a typo.
DAY = 86400
MAX_DELAY = 90 * DAY
MAX_WINDOW = 365 * DAY
MAX_BODY = 10_000
MAX_SUBJECT = 500
MAX_VARIABLES = 20
MAX_VARIABLE_NAME = 64
MAX_VARIABLE_VALUE = 1_000
MAX_CONFIG_BYTES = 64 * 1024
# At most half the runs are held out: past that the flow is mostly off, and the lift is better
# measured by turning it off.
MAX_HOLDOUT_PERCENT = 50

VariableName = Annotated[str, StringConstraints(min_length=1, max_length=MAX_VARIABLE_NAME)]
VariableValue = Annotated[str, StringConstraints(max_length=MAX_VARIABLE_VALUE)]


class Template(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str | None = Field(default=None, max_length=MAX_SUBJECT)
    body: str | None = Field(default=None, max_length=MAX_BODY)
    content_sid: str | None = Field(default=None, max_length=64)
    variables: dict[VariableName, VariableValue] | None = Field(
        default=None, max_length=MAX_VARIABLES
    )


class FlowStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delay_seconds: int = Field(ge=0, le=MAX_DELAY)
    channel: Channel
    template: Template
    promo_code_rule_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _template_fits_channel(self) -> Self:
        t = self.template
        if self.channel == Channel.EMAIL and not (t.subject and t.body):
            raise ValueError("an email step needs template.subject and template.body")
        if self.channel == Channel.SMS and not t.body:
            raise ValueError("an sms step needs template.body")
        if self.channel == Channel.WHATSAPP and not t.content_sid:
            raise ValueError("a whatsapp step needs template.content_sid (an approved template)")
        return self


class Suppression(BaseModel):
    model_config = ConfigDict(extra="forbid")

    similar_message_window_seconds: int = Field(default=DAY, ge=0, le=MAX_WINDOW)
    recent_order_window_seconds: int = Field(default=DAY, ge=0, le=MAX_WINDOW)


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(pattern=_CLOCK.pattern, examples=["21:00"])
    end: str = Field(pattern=_CLOCK.pattern, examples=["08:00"])


class FlowConfig(BaseModel):
    """The body of `PUT /v1/flows/{kind}`."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    trigger_delay_seconds: int = Field(default=3600, ge=0, le=MAX_DELAY)
    steps: list[FlowStep] = Field(default_factory=list, max_length=10)
    suppression: Suppression = Field(default_factory=Suppression)
    quiet_hours: QuietHours | None = None
    # This share of the runs, by the customer's bucket, runs without sending (docs/holdouts.md).
    holdout_percent: int = Field(default=0, ge=0, le=MAX_HOLDOUT_PERCENT)

    @model_validator(mode="after")
    def _enabled_needs_steps(self) -> Self:
        if self.enabled and not self.steps:
            raise ValueError("an enabled flow needs at least one step")
        return self

    @model_validator(mode="after")
    def _fits_in_a_run(self) -> Self:
        size = len(self.model_dump_json())
        if size > MAX_CONFIG_BYTES:
            raise ValueError(f"the flow is {size} bytes as JSON; at most {MAX_CONFIG_BYTES}")
        return self


# The signals of a run: one input each, named once here (`SIGNAL`, not a field: never sent);
# the workflows declare their handlers with it and the relay signals by the handler method.


@dataclass
class CartActivity:
    """The cart changed (the newest state of a batch); `item_count` 0 means cleared."""

    SIGNAL: ClassVar[str] = "cart_updated"

    event_id: str
    seq: int
    item_count: int
    customer_id: str | None = None
    # How long the event waited in this system before the relay sent it: the quiet wait counts
    # from when the api accepted it.
    waited_seconds: float = 0.0


@dataclass
class ProductView:
    SIGNAL: ClassVar[str] = "product_viewed"

    event_id: str
    seq: int
    product_id: str
    waited_seconds: float = 0.0  # as `CartActivity`'s


@dataclass
class OrderCompleted:
    SIGNAL: ClassVar[str] = "order_placed"

    event_id: str
    order_id: str


@dataclass
class CustomerErased:
    SIGNAL: ClassVar[str] = "customer_erased"

    event_id: str


Signal = CartActivity | ProductView | OrderCompleted | CustomerErased


@dataclass(frozen=True)
class FlowPlan:
    """What a run needs of its flow to keep time: the delays. The steps' content stays in
    PostgreSQL (`flow_versions`, immutable) and the step activity reads it by the pinned
    version: a run's input and every step's input stay a few hundred bytes, whatever the
    templates (payload conversion and history size were most of the worker's CPU)."""

    trigger_delay_seconds: int
    step_delays: list[int]

    @classmethod
    def of(cls, config: FlowConfig) -> "FlowPlan":
        return cls(config.trigger_delay_seconds, [s.delay_seconds for s in config.steps])


@dataclass(frozen=True)
class RunStep:
    """One step of a run to gate and send, as the workflow asks its step activity: ids only."""

    store_id: str
    workflow_id: str
    run_key: str
    flow: FlowKind
    # The flow version the run pinned: a later version that turns the flow off stops the run.
    flow_version: int
    step: int
    customer_id: str | None
    cart_id: str | None
    product_id: str | None = None
    order_id: str | None = None
    # The run's clock when it asks (the workflow's time, not the worker's): the gate's clock.
    now: datetime | None = None


@dataclass(frozen=True)
class StepRequest(RunStep):
    """A `RunStep` with its pinned flow version's config (loaded by the activity): what the
    gate and the send read."""

    flow_config: FlowConfig = field(kw_only=True)

    @classmethod
    def of(cls, step: RunStep, config: FlowConfig) -> "StepRequest":
        return cls(**{f.name: getattr(step, f.name) for f in fields(RunStep)}, flow_config=config)

    @property
    def channel(self) -> Channel:
        return self.flow_config.steps[self.step].channel


@dataclass
class StepOutcome:
    """What a step did: `status` is the message's (`sent`, `unknown`, `delivered`, `failed` of an
    earlier attempt, or `suppressed` with the gate's `reason`); with `hold_until` the step was
    not decided yet: it waits through quiet hours and asks again then."""

    status: MessageStatus
    reason: GateReason | None = None
    hold_until: datetime | None = None
    message_id: str | None = None


@dataclass
class ReferralRewardInput:
    """`ReferralRewardWorkflow` (`referral:{store}:{order_id}`): an order carrying `code`."""

    store_id: str
    order_id: str
    code: str


@dataclass
class ReferralRecorded:
    """The referral the order made: `pending` (held `hold_seconds`), or rejected/voided."""

    referral_id: str
    status: ReferralStatus
    reason: ReferralReason | None = None
    hold_seconds: float = 0.0


@dataclass
class SharingRewardInput:
    """`SharingRewardWorkflow` (`sharing:{store}:{link_id}`): a share link that qualified."""

    store_id: str
    link_id: str


@dataclass
class RewardSettled:
    """What a program's grant step ended as: `rewarded`, or `voided` with its reason."""

    status: ReferralStatus
    reason: ReferralReason | None = None


@dataclass
class RunClosed:
    store_id: str
    workflow_id: str
    outcome: str
