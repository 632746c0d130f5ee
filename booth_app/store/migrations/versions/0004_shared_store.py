"""several booths on one database: the exit's booth, outbox claims, the park's upload pace

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 21:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import booth_app.store.tables


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pace = op.create_table('relay_pace',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('next_upload_at', booth_app.store.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relay_pace'))
    )
    # The one row every booth's relay takes its turn from (written here, so no two booths ever race to create it).
    op.bulk_insert(pace, [{'id': 1, 'next_upload_at': datetime(2000, 1, 1, tzinfo=UTC)}])
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('claimed_until', booth_app.store.tables.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('stays', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exit_booth', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))  # stays closed before it: unknown


def downgrade() -> None:
    with op.batch_alter_table('stays', schema=None) as batch_op:
        batch_op.drop_column('exit_booth')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')

    op.drop_table('relay_pace')
