"""The audit log is append-only below the ORM too (docs/oversight.md): on PostgreSQL a trigger
refuses UPDATE and DELETE on ``core_auditentry``.

The one change allowed is the database's own when an account is deleted: ``actor_id`` becomes
NULL (``on_delete=SET_NULL``) and nothing else moves. TRUNCATE (a test database's flush) does
not fire row triggers. SQLite has the model's guard only (``AuditEntry.save``/``delete`` and its
queryset raise): it is the embedded default, not the system of record.
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION core_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id')
       AND NEW.actor_id IS NULL THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER core_audit_append_only BEFORE UPDATE OR DELETE ON core_auditentry
    FOR EACH ROW EXECUTE FUNCTION core_audit_refuse_change();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS core_audit_append_only ON core_auditentry;
DROP FUNCTION IF EXISTS core_audit_refuse_change();
"""


def _run(schema_editor, sql: str) -> None:
    # Statements with a $$ body: run without parameters (psycopg's simple protocol).
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)


def forward(apps, schema_editor) -> None:
    _run(schema_editor, FORWARD)


def backward(apps, schema_editor) -> None:
    _run(schema_editor, BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_holiday"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
