"""The default flows: what each kind sends before staff configure it (MyCart's rules)."""

from flow_contract import Channel, FlowConfig, FlowKind, FlowStep, Template

# MyCart's rules, the defaults of every kind: a browse reminder 30 minutes after a view, an
# abandoned-cart reminder the following day (with a promo code once a rule is named), a one-off
# code the day after each order (by then most cancellations have come in).
DEFAULT_TRIGGER_DELAY = {
    FlowKind.ABANDONED_CART: 86400,
    FlowKind.BROWSE_REMINDER: 1800,
    FlowKind.RETURN_PURCHASE: 86400,
}
_DEFAULT_SUBJECT = {
    FlowKind.ABANDONED_CART: "You left something in your cart",
    FlowKind.BROWSE_REMINDER: "Still thinking about {{ product.title }}?",
    FlowKind.RETURN_PURCHASE: "A thank-you code for your next order",
}
_DEFAULT_BODY = {
    FlowKind.ABANDONED_CART: "Hi {{ customer.first_name or 'there' }}, your cart is waiting: "
    "{{ link }}{% if promo_code %} Use {{ promo_code }} at checkout for a little extra.{% endif %}",
    FlowKind.BROWSE_REMINDER: "Hi {{ customer.first_name or 'there' }}, take another look: "
    "{{ link }}",
    FlowKind.RETURN_PURCHASE: "Thank you for your order, {{ customer.first_name or 'there' }}!"
    "{% if promo_code %} Your code for the next one: {{ promo_code }}.{% endif %} {{ link }}",
}


def default_flow(kind: FlowKind) -> FlowConfig:
    """What a new store has before staff configure anything: MyCart's flow, disabled. The code
    steps name no promo-code rule yet: the store picks one (its promotion) before enabling."""
    template = Template(subject=_DEFAULT_SUBJECT[kind], body=_DEFAULT_BODY[kind])
    step = FlowStep(delay_seconds=0, channel=Channel.EMAIL, template=template)
    return FlowConfig(
        enabled=False, trigger_delay_seconds=DEFAULT_TRIGGER_DELAY[kind], steps=[step]
    )


def with_kind_defaults(kind: FlowKind, config: FlowConfig) -> FlowConfig:
    """A PUT that leaves out `trigger_delay_seconds` gets its kind's default, not one for all."""
    if "trigger_delay_seconds" in config.model_fields_set:
        return config
    return config.model_copy(update={"trigger_delay_seconds": DEFAULT_TRIGGER_DELAY[kind]})
