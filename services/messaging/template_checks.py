"""A flow's templates checked when staff save it: each parses and renders against sample data
of its flow, with the bounds of send time (in a render process, with its time limit), so a
template that would fail every send is a 422 naming its step and field instead."""

from typing import Any

from flow_contract import FlowConfig, FlowStep
from services.errors import invalid_field
from services.messaging.content import tracked_link
from services.messaging.templates import (
    TemplateFailure,
    TemplateRenderer,
    check_template,
    shared_renderer,
)

_STOREFRONT = "https://shop.example"


def sample_scope(kind: str, step: FlowStep) -> dict[str, Any]:
    """What `message_content.message_scope` gives a template of this flow, with sample values."""
    promo_code = "THANKS-7Q2X" if step.promo_code_rule_id else None
    product = {
        "id": "p_1",
        "title": "Linen shirt",
        "price": 4900,
        "currency": "USD",
        "url": f"{_STOREFRONT}/products/p_1",
        "image_url": None,
    }
    cart = {
        "items": [{"product_id": "p_1", "quantity": 1, "unit_price": 4900, "title": "Linen shirt"}],
        "subtotal": 4900,
        "currency": "USD",
    }
    link = tracked_link(
        _STOREFRONT, channel=step.channel, flow=kind, message_id="msg_sample", promo_code=promo_code
    )
    return {
        "customer": {"first_name": "Ana", "locale": "en"},
        "cart": cart if kind == "abandoned_cart" else None,
        "product": product if kind == "browse_reminder" else None,
        "order": {"id": "o_1", "total": 4900, "currency": "USD"}
        if kind == "return_purchase"
        else None,
        "promo_code": promo_code,
        "link": link,
    }


async def check_flow_templates(
    kind: str, config: FlowConfig, renderer: TemplateRenderer | None = None
) -> None:
    renderer = renderer or shared_renderer()
    for i, step in enumerate(config.steps):
        scope = sample_scope(kind, step)
        template = step.template
        sources = {"subject": template.subject, "body": template.body}
        sources |= {f"variables.{k}": v for k, v in (template.variables or {}).items()}
        for field, source in sources.items():
            if not source:
                continue
            try:
                check_template(source)
                await renderer.render({field: source}, scope)
            except TemplateFailure as exc:
                raise invalid_field(f"steps.{i}.template.{field}", exc.message) from exc
