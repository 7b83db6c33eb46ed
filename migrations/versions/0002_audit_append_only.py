"""Audit records are append-only: the database refuses UPDATE, DELETE and TRUNCATE.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MESSAGE = "audit records are append-only"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE OR REPLACE FUNCTION audit_record_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}';
            END $$""")
        op.execute("CREATE TRIGGER audit_record_no_change BEFORE UPDATE OR DELETE ON audit_record "
                   "FOR EACH ROW EXECUTE FUNCTION audit_record_append_only()")
        op.execute("CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_record "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_record_append_only()")
    else:
        op.execute(f"CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON audit_record "
                   f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")
        op.execute(f"CREATE TRIGGER audit_record_no_delete BEFORE DELETE ON audit_record "
                   f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")
    op.execute("INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')")


def downgrade():
    op.execute("DELETE FROM audit_chain_head WHERE id = 1")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_record_no_truncate ON audit_record")
        op.execute("DROP TRIGGER audit_record_no_change ON audit_record")
        op.execute("DROP FUNCTION audit_record_append_only()")
    else:
        op.execute("DROP TRIGGER audit_record_no_delete")
        op.execute("DROP TRIGGER audit_record_no_update")
