"""final list guard per statement: a city's list is written without a trigger call per entry

Revision ID: a7d3e9c41b20
Revises: c5d1e8a92b34
Create Date: 2026-11-30 05:00:00

The per-row guard cost about a second for every 200,000 entries a close inserts or a re-rank
moves. The same refusal is now checked once per statement, over the rows the statement changed
(transition tables); PostgreSQL allows those only on single-event triggers, hence three triggers.
The update trigger keeps the name `final_list_entries` (shared.rekey disables it by that name).
"""
from typing import Sequence, Union

from alembic import op

revision: str = 'a7d3e9c41b20'
down_revision: Union[str, Sequence[str], None] = 'c5d1e8a92b34'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

GUARD = """CREATE FUNCTION publicity.refuse_changes_to_final_lists() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE rid text;
BEGIN
  SELECT r.id INTO rid FROM publicity.rounds r
  WHERE r.status = 'final' AND r.id IN (SELECT DISTINCT round_id FROM changed) LIMIT 1;
  IF rid IS NOT NULL THEN
    RAISE EXCEPTION 'round % is final: its list does not change', rid;
  END IF;
  RETURN NULL;
END $$"""
TRIGGERS = {
    "final_list_inserts": "INSERT ON publicity.round_entries REFERENCING NEW TABLE AS changed",
    "final_list_entries": "UPDATE ON publicity.round_entries REFERENCING NEW TABLE AS changed",
    "final_list_deletes": "DELETE ON publicity.round_entries REFERENCING OLD TABLE AS changed",
}
ROW_GUARD = [
    """CREATE FUNCTION publicity.refuse_change_to_final_list() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE rid text := CASE WHEN TG_OP = 'DELETE' THEN OLD.round_id ELSE NEW.round_id END;
BEGIN
  IF EXISTS (SELECT 1 FROM publicity.rounds WHERE id = rid AND status = 'final') THEN
    RAISE EXCEPTION 'round % is final: its list does not change', rid;
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$""",
    """CREATE TRIGGER final_list_entries BEFORE INSERT OR UPDATE OR DELETE ON publicity.round_entries
  FOR EACH ROW EXECUTE FUNCTION publicity.refuse_change_to_final_list()""",
]


def upgrade() -> None:
    op.execute("DROP TRIGGER final_list_entries ON publicity.round_entries")
    op.execute("DROP FUNCTION publicity.refuse_change_to_final_list()")
    op.execute(GUARD)
    for name, event in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} FOR EACH STATEMENT "
            "EXECUTE FUNCTION publicity.refuse_changes_to_final_lists()"
        )


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON publicity.round_entries")
    op.execute("DROP FUNCTION publicity.refuse_changes_to_final_lists()")
    for statement in ROW_GUARD:
        op.execute(statement)
