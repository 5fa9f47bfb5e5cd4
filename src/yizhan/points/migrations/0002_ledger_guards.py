"""PostgreSQL guards of the ledger's invariants, below the ORM (docs/points.md).

* entries and postings are append-only: UPDATE and DELETE are refused (a posting may only lose
  the person who acted or approved, when that account is deleted: ON DELETE SET NULL);
* every posting balances: at commit, its entries are exactly two and sum to zero (a deferred
  constraint trigger, so the posting and its entries can be inserted in any order).

SQLite has the CHECK constraints (non-negative balances, positive amounts) but not these
triggers: its test flush deletes rows, and it is the embedded default, not the system of record.
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION points_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_row jsonb;
    new_row jsonb;
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'points_posting' THEN
        -- Read the columns through jsonb: the same function guards points_entry, which has
        -- no actor_id, and PL/pgSQL resolves NEW.actor_id against the row's own columns.
        old_row := to_jsonb(OLD);
        new_row := to_jsonb(NEW);
        IF (new_row - 'actor_id' - 'approved_by_id') = (old_row - 'actor_id' - 'approved_by_id')
           AND (new_row->'actor_id' = 'null'::jsonb
                OR new_row->'actor_id' = old_row->'actor_id')
           AND (new_row->'approved_by_id' = 'null'::jsonb
                OR new_row->'approved_by_id' = old_row->'approved_by_id') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'the points ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER points_entry_append_only BEFORE UPDATE OR DELETE ON points_entry
    FOR EACH ROW EXECUTE FUNCTION points_refuse_change();
CREATE TRIGGER points_posting_append_only BEFORE UPDATE OR DELETE ON points_posting
    FOR EACH ROW EXECUTE FUNCTION points_refuse_change();

CREATE FUNCTION points_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pid bigint;
    total bigint;
    legs integer;
    moved bigint;
BEGIN
    IF TG_TABLE_NAME = 'points_entry' THEN pid := NEW.posting_id; ELSE pid := NEW.id; END IF;
    SELECT COALESCE(SUM(amount), 0), COUNT(*), COALESCE(MAX(amount), 0)
        INTO total, legs, moved FROM points_entry WHERE posting_id = pid;
    IF total <> 0 OR legs <> 2
       OR moved <> (SELECT amount FROM points_posting WHERE id = pid) THEN
        RAISE EXCEPTION 'posting % does not balance: % legs summing to %', pid, legs, total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER points_entry_balanced AFTER INSERT ON points_entry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION points_check_balanced();
CREATE CONSTRAINT TRIGGER points_posting_balanced AFTER INSERT ON points_posting
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION points_check_balanced();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS points_posting_balanced ON points_posting;
DROP TRIGGER IF EXISTS points_entry_balanced ON points_entry;
DROP FUNCTION IF EXISTS points_check_balanced();
DROP TRIGGER IF EXISTS points_posting_append_only ON points_posting;
DROP TRIGGER IF EXISTS points_entry_append_only ON points_entry;
DROP FUNCTION IF EXISTS points_refuse_change();
"""


def _run(schema_editor, sql: str) -> None:
    # Several statements with $$ bodies: run without parameters (psycopg's simple protocol).
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)


def forward(apps, schema_editor):
    _run(schema_editor, FORWARD)


def backward(apps, schema_editor):
    _run(schema_editor, BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
