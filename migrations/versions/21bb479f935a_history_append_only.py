"""history append-only in the database: the consent ledger, case transitions and referral
events refuse UPDATE, DELETE and TRUNCATE as the audit log does (with the few controlled
exceptions below); audit entries must have a positive id; on SQLite the same rules as triggers

What still may change, and who may change it:
- every role: nothing in case_transitions and referral_events; in consent_entries the name of
  whoever gave consent and the note, once the victim's erasure is on record (`privacy.erase`),
  and the entries of a victim taken off a draft that was never registered;
- the tables' owner (the role of `flask db upgrade` and `flask keys rotate`), besides: the
  encrypted text (re-encryption with a new key) and the time stamps (the demo's clock), never a
  decision, a state, an actor or a link to another row;
- on PostgreSQL the application's own role holds no UPDATE or DELETE right on these tables at
  all (app/core/db_roles.py); on SQLite (development) there are no roles, and the owner's
  exceptions apply to everybody.

SQLite keeps triggers with their table: a later batch migration that recreates one of these
tables must create its triggers again (sqlite_triggers() below).

Revision ID: 21bb479f935a
Revises: b9e9ac429298
Create Date: 2026-12-09 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '21bb479f935a'
down_revision = 'b9e9ac429298'
branch_labels = None
depends_on = None


# The columns the owner may rewrite in place, per table.
OWNER_MAY_REWRITE = {
    'case_transitions': ('at', 'reason', 'data'),
    'referral_events': ('at', 'text'),
    'consent_entries': ('at', 'recorded_at', 'given_by_name', 'note'),
}
# What an erasure empties in the consent ledger (app/privacy/operations.py: erase_identity).
ERASED_BY_PRIVACY = ('given_by_name', 'note')

OWNS_TABLE = "pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER')"

HISTORY_FUNCTION = f"""
CREATE FUNCTION history_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- TG_ARGV: the columns the table's owner may rewrite in place (encrypted text, time stamps)
    IF TG_OP = 'UPDATE'
       AND (to_jsonb(NEW) - TG_ARGV) = (to_jsonb(OLD) - TG_ARGV)
       AND {OWNS_TABLE}
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""

CONSENT_FUNCTION = f"""
CREATE FUNCTION consent_entries_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- an erasure of the victim's identity, once recorded, empties these two columns
        IF (to_jsonb(NEW) - ARRAY['given_by_name', 'note'])
                = (to_jsonb(OLD) - ARRAY['given_by_name', 'note'])
           AND NEW.note IS NULL
           AND EXISTS (SELECT 1 FROM victim_erasures e WHERE e.victim_id = OLD.victim_id)
        THEN
            RETURN NEW;
        END IF;
        -- TG_ARGV: the columns the table's owner may rewrite in place
        IF (to_jsonb(NEW) - TG_ARGV) = (to_jsonb(OLD) - TG_ARGV) AND {OWNS_TABLE} THEN
            RETURN NEW;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        -- a victim taken off a draft that was never registered: nothing of it is history yet
        IF EXISTS (
            SELECT 1 FROM victims v JOIN cases c ON c.id = v.case_id
            WHERE v.id = OLD.victim_id AND c.state = 'draft'
              AND NOT EXISTS (SELECT 1 FROM case_transitions t WHERE t.case_id = c.id)
        ) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'consent_entries is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def _args(columns):
    return ", ".join(f"'{c}'" for c in columns)


def postgres_triggers():
    op.execute(HISTORY_FUNCTION)
    op.execute(CONSENT_FUNCTION)
    for table in ('case_transitions', 'referral_events'):
        op.execute(
            f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION history_append_only({_args(OWNER_MAY_REWRITE[table])})"
        )
    op.execute(
        "CREATE TRIGGER consent_entries_guard BEFORE UPDATE OR DELETE ON consent_entries"
        " FOR EACH ROW EXECUTE FUNCTION"
        f" consent_entries_guard({_args(OWNER_MAY_REWRITE['consent_entries'])})"
    )
    for table in OWNER_MAY_REWRITE:
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION history_append_only()"
        )
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC")


def _changed(columns):
    return " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in columns)


def sqlite_triggers(tables=None):
    """The same rules on SQLite (no roles there: the owner's exceptions apply to all)."""
    inspector = sa.inspect(op.get_bind())
    tables = tables or ('audit_entries', *OWNER_MAY_REWRITE)
    for table in tables:
        refuse = "SELECT RAISE(ABORT, '{table} is append-only: {what} refused');"
        if table == 'audit_entries':
            update_when = ""
        else:
            columns = [c['name'] for c in inspector.get_columns(table)]
            fixed = [c for c in columns if c not in OWNER_MAY_REWRITE[table]]
            update_when = f" WHEN {_changed(fixed)}"
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}{update_when}"
            f" BEGIN {refuse.format(table=table, what='UPDATE')} END"
        )
        delete_when = ""
        if table == 'consent_entries':
            delete_when = (
                " WHEN NOT EXISTS (SELECT 1 FROM victims v JOIN cases c ON c.id = v.case_id"
                " WHERE v.id = OLD.victim_id AND c.state = 'draft'"
                " AND NOT EXISTS (SELECT 1 FROM case_transitions t WHERE t.case_id = c.id))"
            )
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}{delete_when}"
            f" BEGIN {refuse.format(table=table, what='DELETE')} END"
        )


def upgrade():
    bind = op.get_bind()
    forged = bind.scalar(sa.text("SELECT count(*) FROM audit_entries WHERE id <= 0"))
    if forged:
        raise RuntimeError(
            f"audit_entries holds {forged} entries with an id of 0 or less, which the application "
            "never writes: someone wrote them into the database directly. Keep a copy of the "
            "database for the investigation (docs/security.md, 'Audit log') before going on."
        )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_audit_entries_id_positive'), 'id > 0')

    if bind.dialect.name == 'postgresql':
        postgres_triggers()
    elif bind.dialect.name == 'sqlite':
        sqlite_triggers()


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        for table in OWNER_MAY_REWRITE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP TRIGGER IF EXISTS consent_entries_guard ON consent_entries")
        for table in ('case_transitions', 'referral_events'):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}")
        op.execute("DROP FUNCTION IF EXISTS consent_entries_guard()")
        op.execute("DROP FUNCTION IF EXISTS history_append_only()")
    elif bind.dialect.name == 'sqlite':
        for table in ('audit_entries', *OWNER_MAY_REWRITE):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")

    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_audit_entries_id_positive'), type_='check')
