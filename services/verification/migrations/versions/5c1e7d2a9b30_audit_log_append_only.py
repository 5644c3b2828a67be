"""audit log append-only: the database refuses updates, deletes and truncation

Revision ID: 5c1e7d2a9b30
Revises: 2013063611d1
Create Date: 2026-11-27 00:40:00

"""
from typing import Sequence, Union

from alembic import op

revision: str = "5c1e7d2a9b30"
down_revision: Union[str, Sequence[str], None] = "2013063611d1"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # A trigger, not only a REVOKE: it holds for the service's own role too, whatever its grants.
    op.execute("""
        CREATE FUNCTION verification.refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
    """)
    op.execute("CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON verification.audit_log "
               "FOR EACH ROW EXECUTE FUNCTION verification.refuse_audit_change()")
    op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON verification.audit_log "
               "FOR EACH STATEMENT EXECUTE FUNCTION verification.refuse_audit_change()")


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_log_no_truncate ON verification.audit_log")
    op.execute("DROP TRIGGER audit_log_append_only ON verification.audit_log")
    op.execute("DROP FUNCTION verification.refuse_audit_change()")
