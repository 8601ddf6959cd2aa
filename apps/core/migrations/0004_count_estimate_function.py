"""``cp_count_estimate(query)``: the planner's row estimate of a query, from SQL.

The admin's capped-count paginator (``apps.core.admin_paging``) counts up to its limit and,
past it, asks the planner in the same statement, so a page costs one count query whatever
the table holds. PostgreSQL only: elsewhere there is no planner estimate to ask for.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION cp_count_estimate(query text) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END
$$;
"""
DROP = "DROP FUNCTION IF EXISTS cp_count_estimate(text);"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_staff_records_to_backoffice")]

    operations = [migrations.RunPython(create, drop)]
