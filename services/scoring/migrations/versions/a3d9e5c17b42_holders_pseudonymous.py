"""holders pseudonymous: no names or ID numbers kept in scoring

Revision ID: a3d9e5c17b42
Revises: d8b2f5a7c913
Create Date: 2026-11-29 23:40:00

Each `holder` document (received answers, submitted applications, score versions) held the
holder's full name, ID number and permit number. It becomes what scoring needs: the holder's
pseudonymous key (shared.pseudonyms, under CANDIDATE_KEY_SALT: run this with the services'
salt, or holders can no longer read their existing scores) and the masked forms notices show
(shared.masking, done here in SQL the same way). Irreversible by design: the numbers are gone.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from shared.settings import get_settings

# revision identifiers, used by Alembic.
revision: str = 'a3d9e5c17b42'
down_revision: Union[str, Sequence[str], None] = 'd8b2f5a7c913'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("received_verifications", "applications", "scores")
# shared.masking.mask_name and mask_id_number, and shared.pseudonyms.holder_key, in SQL.
_NAME = "btrim(holder->>'name')"
_ID = "upper(btrim(holder->>'id_number'))"
_MASKED_NAME = (f"CASE WHEN length({_NAME}) <= 1 THEN repeat('*', length({_NAME})) "
                f"ELSE left({_NAME}, 1) || repeat('*', length({_NAME}) - 1) END")
_MASKED_ID = (f"CASE WHEN length({_ID}) <= 8 THEN repeat('*', length({_ID})) "
              f"ELSE left({_ID}, 4) || repeat('*', length({_ID}) - 8) || right({_ID}, 4) END")
_KEY = f"encode(sha256(convert_to(:salt || ':' || {_ID}, 'UTF8')), 'hex')"


def pseudonymise(table: str) -> sa.TextClause:
    """Replace each full holder document in `table` (schema-qualified); run with the salt."""
    return sa.text(f"UPDATE {table} SET holder = jsonb_build_object("
                   f"'key', {_KEY}, 'name_masked', coalesce({_MASKED_NAME}, ''), 'id_number_masked', {_MASKED_ID}) "
                   f"WHERE holder ? 'id_number'")


def upgrade() -> None:
    salt = get_settings().candidate_key_salt
    if not salt:
        full = any(op.get_bind().execute(sa.text(f"SELECT 1 FROM scoring.{t} WHERE holder ? 'id_number' LIMIT 1")).first()
                   for t in TABLES)
        if full:  # keys made without the services' salt would never match a holder again
            raise RuntimeError("CANDIDATE_KEY_SALT is not set: this migration turns stored ID numbers into keys "
                               "salted with it; run it with the services' value")
    for table in TABLES:
        op.get_bind().execute(pseudonymise(f"scoring.{table}"), {"salt": salt})


def downgrade() -> None:
    # Irreversible by design: the names and ID numbers are gone from scoring, and nothing may put them back.
    raise RuntimeError("irreversible: the names and ID numbers are gone from scoring")
