"""Promo-code rules: where flow messages take their one-off codes from."""

from api.deps import SecretKey, SessionDep
from api.errors import ERROR_SCHEMA
from api.guard import guarded_router
from api.schemas.common import Page
from api.schemas.promo_code_rules import PromoCodeRuleIn, PromoCodeRuleOut, PromoCodeRulePatch
from models import PromoCodeRule
from services.messaging import promo_codes

router = guarded_router(
    prefix="/v1/promo-code-rules",
    tags=["promo-code rules"],
    responses={401: ERROR_SCHEMA, 403: ERROR_SCHEMA},
)


def _out(rule: PromoCodeRule) -> PromoCodeRuleOut:
    return PromoCodeRuleOut.model_validate(
        {
            **{c: getattr(rule, c) for c in PromoCodeRuleOut.model_fields if c != "enabled"},
            "enabled": rule.disabled_at is None,
        }
    )


@router.post("", status_code=201, response_model=PromoCodeRuleOut, responses={422: ERROR_SCHEMA})
async def create_rule(
    body: PromoCodeRuleIn, session: SessionDep, caller: SecretKey
) -> PromoCodeRuleOut:
    """Create a rule for a promotion that requires a coupon."""
    rule = await promo_codes.create_rule(
        session,
        caller.store_id,
        promotion_id=body.promotion_id,
        prefix=body.prefix,
        expires_after_days=body.expires_after_days,
        max_codes=body.max_codes,
    )
    return _out(rule)


@router.get("", response_model=Page[PromoCodeRuleOut])
async def list_rules(session: SessionDep, caller: SecretKey) -> Page[PromoCodeRuleOut]:
    """Every rule of the store, oldest first."""
    rules = await promo_codes.list_rules(session, caller.store_id)
    return Page(items=[_out(r) for r in rules], next_cursor=None)


@router.get("/{rule_id}", response_model=PromoCodeRuleOut, responses={404: ERROR_SCHEMA})
async def get_rule(rule_id: str, session: SessionDep, caller: SecretKey) -> PromoCodeRuleOut:
    """One rule, with how many codes it issued."""
    return _out(await promo_codes.get_rule(session, caller.store_id, rule_id))


@router.patch("/{rule_id}", response_model=PromoCodeRuleOut, responses={404: ERROR_SCHEMA})
async def patch_rule(
    rule_id: str, body: PromoCodeRulePatch, session: SessionDep, caller: SecretKey
) -> PromoCodeRuleOut:
    """Enable or disable a rule; a disabled rule gives no codes (its steps are suppressed)."""
    rule = await promo_codes.set_rule_enabled(session, caller.store_id, rule_id, body.enabled)
    return _out(rule)
