"""round notifications: each candidate told their place when a round's list is published

Revision ID: d9b2f6e1a374
Revises: a7c3e91f2d60
Create Date: 2026-11-30 07:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = 'd9b2f6e1a374'
down_revision: Union[str, Sequence[str], None] = 'a7c3e91f2d60'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Where telling a published list's candidates has got to (an application id; NULL: nobody left to tell).
    op.add_column('rounds', sa.Column('telling_after', sa.String(length=40), nullable=True), schema='publicity')
    # A notification is of a score version (round_id NULL) or of a round's list (one per application).
    op.add_column('notifications', sa.Column('round_id', sa.String(length=40), nullable=True), schema='publicity')
    op.drop_constraint('uq_notifications_application_version', 'notifications', schema='publicity', type_='unique')
    op.create_index('uq_notifications_application_version', 'notifications', ['application_id', 'score_version'],
                    unique=True, schema='publicity', postgresql_where=sa.text('round_id IS NULL'))
    op.create_index('uq_notifications_round_application', 'notifications', ['round_id', 'application_id'],
                    unique=True, schema='publicity', postgresql_where=sa.text('round_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('uq_notifications_round_application', table_name='notifications', schema='publicity')
    op.drop_index('uq_notifications_application_version', table_name='notifications', schema='publicity')
    op.execute("DELETE FROM publicity.notifications WHERE round_id IS NOT NULL")
    op.create_unique_constraint('uq_notifications_application_version', 'notifications',
                                ['application_id', 'score_version'], schema='publicity')
    op.drop_column('notifications', 'round_id', schema='publicity')
    op.drop_column('rounds', 'telling_after', schema='publicity')
