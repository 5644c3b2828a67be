"""lz4 for the large JSON documents: written once an application, compressed four times faster

PostgreSQL compresses a value over about 2 kB before storing it; with its default (pglz) that took
about 40 % of the insert of a score's explanation (12 kB), and each read decompresses it again.
lz4 (PostgreSQL 14+, built in the Debian and official images) takes a fraction of that for about
the same size. Only values written from now on use it; older ones stay readable as they are.

Revision ID: e1b5d8a4c627
Revises: d9b2f6e1a374
Create Date: 2026-11-30 11:00:00

"""
from typing import Sequence, Union

from alembic import op

revision: str = 'e1b5d8a4c627'
down_revision: Union[str, Sequence[str], None] = 'd9b2f6e1a374'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = [
    ('outbox', 'payload'),
    ('notices', 'lines'),
    ('scores', 'lines'),
    ('round_scores', 'lines'),
]


def upgrade() -> None:
    for table, column in COLUMNS:
        op.execute(f'ALTER TABLE publicity.{table} ALTER COLUMN {column} SET COMPRESSION lz4')


def downgrade() -> None:
    for table, column in COLUMNS:
        op.execute(f'ALTER TABLE publicity.{table} ALTER COLUMN {column} SET COMPRESSION DEFAULT')
