"""lz4 for the large JSON documents: written once an application, compressed four times faster

PostgreSQL compresses a value over about 2 kB before storing it; with its default (pglz) that took
about 40 % of the insert of a score's explanation (12 kB), and each read decompresses it again.
lz4 (PostgreSQL 14+, built in the Debian and official images) takes a fraction of that for about
the same size. Only values written from now on use it; older ones stay readable as they are.

Revision ID: a3f9c6d2e815
Revises: e7c2a4f9b613
Create Date: 2026-11-30 11:00:00

"""
from typing import Sequence, Union

from alembic import op

revision: str = 'a3f9c6d2e815'
down_revision: Union[str, Sequence[str], None] = 'e7c2a4f9b613'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = [
    ('outbox', 'payload'),
    ('results', 'items'),
    ('results', 'facts'),
    ('results', 'context'),
]


def upgrade() -> None:
    for table, column in COLUMNS:
        op.execute(f'ALTER TABLE verification.{table} ALTER COLUMN {column} SET COMPRESSION lz4')


def downgrade() -> None:
    for table, column in COLUMNS:
        op.execute(f'ALTER TABLE verification.{table} ALTER COLUMN {column} SET COMPRESSION DEFAULT')
