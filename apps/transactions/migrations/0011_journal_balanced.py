"""The database refuses a journal entry that does not balance (PostgreSQL).

Two deferred constraint triggers, checked at commit, as django-hordak does: the lines of an
entry must add up to zero, be in the entry's currency, and be at least two. SQLite (development
only) has no such trigger; ``apps.transactions.finance.journal`` writes balanced entries
either way, and the trial balance shows any that are not.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION copypool_journal_entry_check(p_entry bigint) RETURNS void AS $$
DECLARE
    total numeric;
    lines integer;
    wrong_currency integer;
    entry_currency varchar;
BEGIN
    SELECT currency INTO entry_currency FROM transactions_journalentry WHERE id = p_entry;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    SELECT COALESCE(SUM(l.amount), 0), COUNT(*),
           COUNT(*) FILTER (WHERE a.currency <> entry_currency)
      INTO total, lines, wrong_currency
      FROM transactions_journalline l
      JOIN transactions_journalaccount a ON a.id = l.account_id
     WHERE l.entry_id = p_entry;
    IF total <> 0 THEN
        RAISE EXCEPTION 'journal entry % does not balance: its lines add up to %', p_entry, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_balanced';
    END IF;
    IF lines < 2 THEN
        RAISE EXCEPTION 'journal entry % has % line(s); an entry has at least two', p_entry, lines
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_balanced';
    END IF;
    IF wrong_currency > 0 THEN
        RAISE EXCEPTION 'journal entry % has lines on accounts in another currency', p_entry
            USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_balanced';
    END IF;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION copypool_journal_line_changed() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM copypool_journal_entry_check(OLD.entry_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM copypool_journal_entry_check(NEW.entry_id);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION copypool_journal_entry_changed() RETURNS trigger AS $$
BEGIN
    PERFORM copypool_journal_entry_check(NEW.id);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER journal_line_balanced
    AFTER INSERT OR UPDATE OR DELETE ON transactions_journalline
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION copypool_journal_line_changed();

CREATE CONSTRAINT TRIGGER journal_entry_balanced
    AFTER INSERT OR UPDATE ON transactions_journalentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION copypool_journal_entry_changed();
"""

DROP = """
DROP TRIGGER IF EXISTS journal_entry_balanced ON transactions_journalentry;
DROP TRIGGER IF EXISTS journal_line_balanced ON transactions_journalline;
DROP FUNCTION IF EXISTS copypool_journal_entry_changed();
DROP FUNCTION IF EXISTS copypool_journal_line_changed();
DROP FUNCTION IF EXISTS copypool_journal_entry_check(bigint);
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("transactions", "0010_finance")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
