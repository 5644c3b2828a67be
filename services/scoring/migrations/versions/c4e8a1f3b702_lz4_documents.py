"""lz4 for the large JSON documents: written once an application, compressed four times faster

PostgreSQL compresses a value over about 2 kB before storing it; with its default (pglz) that took
about 40 % of the insert of a score's explanation (12 kB), and each read decompresses it again.
lz4 (PostgreSQL 14+, built in the Debian and official images) takes a fraction of that for about
the same size. Only values written from now on use it; older ones stay readable as they are.

Revision ID: c4e8a1f3b702
Revises: f2a6c8e4d915
Create Date: 2026-11-30 11:00:00

"""
from typing import Sequence, Union

from alembic import op

revision: str = 'c4e8a1f3b702'
down_revision: Union[str, Sequence[str], None] = 'f2a6c8e4d915'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = [
    ('scores', 'explanation'),
    ('scores', 'answers'),
    ('outbox', 'payload'),
    ('received_verifications', 'items'),
    ('received_verifications', 'facts'),
]


def upgrade() -> None:
    for table, column in COLUMNS:
        op.execute(f'ALTER TABLE scoring.{table} ALTER COLUMN {column} SET COMPRESSION lz4')


def downgrade() -> None:
    for table, column in COLUMNS:
        op.execute(f'ALTER TABLE scoring.{table} ALTER COLUMN {column} SET COMPRESSION DEFAULT')
