"""A flow's configuration as staff write it (`PUT /v1/flows/{kind}`) and as a run pins it."""

import re
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

FlowKind = Literal["abandoned_cart", "browse_reminder", "return_purchase"]
FLOW_KINDS: tuple[str, ...] = ("abandoned_cart", "browse_reminder", "return_purchase")
Channel = Literal["email", "sms", "whatsapp"]
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# Every number and text of a flow is bounded (docs/flows.md, "Limits"): a flow is copied into
# every run's input, so its size is every run's cost, and a number past these bounds is a typo.
DAY = 86400
MAX_DELAY = 90 * DAY
MAX_WINDOW = 365 * DAY
MAX_BODY = 10_000
MAX_SUBJECT = 500
MAX_VARIABLES = 20
MAX_VARIABLE_NAME = 64
MAX_VARIABLE_VALUE = 1_000
MAX_CONFIG_BYTES = 64 * 1024

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
        if self.channel == "email" and not (t.subject and t.body):
            raise ValueError("an email step needs template.subject and template.body")
        if self.channel == "sms" and not t.body:
            raise ValueError("an sms step needs template.body")
        if self.channel == "whatsapp" and not t.content_sid:
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


# MyCart's rules, the defaults of every kind: a browse reminder 30 minutes after a view, an
# abandoned-cart reminder the following day (with a promo code once a rule is named), a one-off
# code the day after each order (by then most cancellations have come in).
DEFAULT_TRIGGER_DELAY = {"abandoned_cart": 86400, "browse_reminder": 1800, "return_purchase": 86400}
_DEFAULT_SUBJECT = {
    "abandoned_cart": "You left something in your cart",
    "browse_reminder": "Still thinking about {{ product.title }}?",
    "return_purchase": "A thank-you code for your next order",
}
_DEFAULT_BODY = {
    "abandoned_cart": "Hi {{ customer.first_name or 'there' }}, your cart is waiting: {{ link }}"
    "{% if promo_code %} Use {{ promo_code }} at checkout for a little extra.{% endif %}",
    "browse_reminder": "Hi {{ customer.first_name or 'there' }}, take another look: {{ link }}",
    "return_purchase": "Thank you for your order, {{ customer.first_name or 'there' }}!"
    "{% if promo_code %} Your code for the next one: {{ promo_code }}.{% endif %} {{ link }}",
}


def default_flow(kind: str) -> FlowConfig:
    """What a new store has before staff configure anything: MyCart's flow, disabled. The code
    steps name no promo-code rule yet: the store picks one (its promotion) before enabling."""
    template = Template(subject=_DEFAULT_SUBJECT[kind], body=_DEFAULT_BODY[kind])
    step = FlowStep(delay_seconds=0, channel="email", template=template)
    return FlowConfig(
        enabled=False, trigger_delay_seconds=DEFAULT_TRIGGER_DELAY[kind], steps=[step]
    )


def with_kind_defaults(kind: str, config: FlowConfig) -> FlowConfig:
    """A PUT that leaves out `trigger_delay_seconds` gets its kind's default, not one for all."""
    if "trigger_delay_seconds" in config.model_fields_set or kind not in DEFAULT_TRIGGER_DELAY:
        return config
    return config.model_copy(update={"trigger_delay_seconds": DEFAULT_TRIGGER_DELAY[kind]})
