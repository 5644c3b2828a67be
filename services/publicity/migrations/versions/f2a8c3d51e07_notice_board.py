"""notice board: the current notice of each application, searchable by surname and ID ending

Revision ID: f2a8c3d51e07
Revises: e4c7a2d9f105
Create Date: 2026-11-30 02:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = 'f2a8c3d51e07'
down_revision: Union[str, Sequence[str], None] = 'e4c7a2d9f105'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('notices', sa.Column('current', sa.Boolean(), nullable=False, server_default=sa.true()),
                  schema='publicity')
    op.add_column('notices', sa.Column('surname', sa.String(length=4), nullable=False, server_default=''),
                  schema='publicity')
    op.add_column('notices', sa.Column('id_tail', sa.String(length=4), nullable=False, server_default=''),
                  schema='publicity')
    op.execute("""
        UPDATE publicity.notices n SET surname = left(holder_name_masked, 1), id_tail = right(id_number_masked, 4),
               current = NOT EXISTS (SELECT 1 FROM publicity.notices m
                                     WHERE m.application_id = n.application_id AND m.score_version > n.score_version)
    """)
    # Keyset pages of the board, newest first: all current notices, or those of a surname or ID ending.
    op.create_index('ix_notices_board', 'notices', [sa.text('published_at DESC'), sa.text('id DESC')],
                    schema='publicity', postgresql_where=sa.text('current'))
    op.create_index('ix_notices_board_surname', 'notices',
                    ['surname', sa.text('published_at DESC'), sa.text('id DESC')],
                    schema='publicity', postgresql_where=sa.text('current'))
    op.create_index('ix_notices_board_id_tail', 'notices',
                    ['id_tail', sa.text('published_at DESC'), sa.text('id DESC')],
                    schema='publicity', postgresql_where=sa.text('current'))


def downgrade() -> None:
    for name in ('ix_notices_board_id_tail', 'ix_notices_board_surname', 'ix_notices_board'):
        op.drop_index(name, table_name='notices', schema='publicity')
    for column in ('id_tail', 'surname', 'current'):
        op.drop_column('notices', column, schema='publicity')
