"""Indexes for the admin's member search (loyalty.selectors.members_search).

Searches compare `lower(column) LIKE 'prefix%'` within one shop. On PostgreSQL a btree
serves such a prefix only with a pattern opclass (the database's collation may not be C),
so these are expression indexes written in SQL: Django's model indexes cannot say
`text_pattern_ops` on an expression in a way SQLite also accepts. SQLite's LIKE cannot use
an index on lower() at all, so there only the listing's (shop, id) index is made.
"""

from django.db import migrations

PREFIX_COLUMNS = ("email", "first_name", "last_name")


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    # The listing without a query: one shop's members in id order, a page at a time.
    schema_editor.execute("CREATE INDEX member_shop_id ON loyalty_member (shop_id, id)")
    if vendor == "postgresql":
        for column in PREFIX_COLUMNS:
            schema_editor.execute(
                f"CREATE INDEX member_search_{column} "
                f"ON loyalty_member (shop_id, lower({column}) text_pattern_ops)"
            )


def backward(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS member_shop_id")
    for column in PREFIX_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS member_search_{column}")


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0003_order_has_refunds")]
    operations = [migrations.RunPython(forward, backward)]
