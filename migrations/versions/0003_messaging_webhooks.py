"""messaging webhooks: failure codes, provider-id lookups, webhook receipts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('messages', sa.Column('failure_code', sa.String(length=40), nullable=True))
    op.create_index('ix_messages_provider_message', 'messages', ['store_id', 'provider_message_id'], unique=False)
    op.create_table('webhook_receipts',
    sa.Column('store_id', sa.String(length=40), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('store_id', 'provider', 'event_id', name=op.f('pk_webhook_receipts'))
    )


def downgrade() -> None:
    op.drop_table('webhook_receipts')
    op.drop_index('ix_messages_provider_message', table_name='messages')
    op.drop_column('messages', 'failure_code')
