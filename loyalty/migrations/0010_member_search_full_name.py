"""An index for the admin's two-word member search ("ada love": a first name and a last
name, each by prefix; loyalty.selectors.members_search).

With only one index per column, PostgreSQL answered that search by walking the shop's
members in id order and testing each one, as the pair's matches are few but the planner
expects them sooner: 0.4 s for "john smith" among 1,000,000 members (bench/admin_scale.py,
docs/PERFORMANCE.md). An index on (shop, first name, last name) finds the pair's matches
directly (3 ms). It also serves a first name alone, so it replaces the first-name index.
"""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX member_search_full_name ON loyalty_member "
            "(shop_id, lower(first_name) text_pattern_ops, lower(last_name) text_pattern_ops)"
        )
        schema_editor.execute("DROP INDEX member_search_first_name")
        # The planner knows how common a name prefix is only from statistics on the
        # indexed expressions, which a new index lacks until the table is analysed (and
        # autovacuum analyses only after many rows change): without them it guesses, and
        # walked every member for a prefix nobody has (1 s instead of 0.1 ms).
        schema_editor.execute("ANALYZE loyalty_member")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX member_search_first_name "
            "ON loyalty_member (shop_id, lower(first_name) text_pattern_ops)"
        )
        schema_editor.execute("DROP INDEX member_search_full_name")
        schema_editor.execute("ANALYZE loyalty_member")


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0009_daily_figures")]
    operations = [migrations.RunPython(forward, backward)]
