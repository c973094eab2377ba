"""messages: status, channel, flow and suppression reason checked against the flow contract

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The values of `flow_contract` as of this revision (a migration does not follow later code).
# Every status a row has ever had is here: the engine never wrote another one.
KNOWN = {
    "status": ("pending", "unknown", "sent", "delivered", "failed", "suppressed"),
    "channel": ("email", "sms", "whatsapp"),
    "flow": ("abandoned_cart", "browse_reminder", "return_purchase"),
    "suppression_reason": (
        "erased",
        "converted",
        "cart_empty",
        "order_cancelled",
        "flow_disabled",
        "no_contact",
        "no_consent",
        "product_unavailable",
        "recent_order",
        "recent_similar_message",
        "no_promo_code",
    ),
}


def upgrade() -> None:
    for column, values in KNOWN.items():
        listed = ", ".join(f"'{v}'" for v in values)
        op.create_check_constraint(
            op.f(f"ck_messages_{column}_known"), "messages", f"{column} IN ({listed})"
        )


def downgrade() -> None:
    for column in reversed(KNOWN):
        op.drop_constraint(op.f(f"ck_messages_{column}_known"), "messages", type_="check")
