"""Migration 0020: members from before customer tags are marked for the storefront sync, so
they get their tags without waiting for their next change."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("loyalty", "0019_expiry_reminder_without_sent_at")]
AFTER = [("loyalty", "0020_tag_existing_members")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    # The tests after this one expect every migration applied.
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_untagged_members_of_installed_shops_are_marked_and_no_one_else():
    apps = migrate(BEFORE)
    Shop = apps.get_model("loyalty", "Shop")
    Member = apps.get_model("loyalty", "Member")
    StorefrontSync = apps.get_model("loyalty", "StorefrontSync")
    now = timezone.now()
    alice = Shop.objects.create(domain="alice.myshopify.com")
    gone = Shop.objects.create(domain="gone.myshopify.com", uninstalled_at=now)
    synced = Member.objects.create(shop=alice, customer_id=1)
    tagged = Member.objects.create(shop=alice, customer_id=2)
    rowless = Member.objects.create(shop=alice, customer_id=3)
    redacted = Member.objects.create(shop=alice, customer_id=4, redacted_at=now)
    elsewhere = Member.objects.create(shop=gone, customer_id=5)
    for member, tags in ((synced, ""), (tagged, "perennial-member"), (elsewhere, "")):
        StorefrontSync.objects.create(
            shop=member.shop, member=member, version=3, synced_version=3, changed_at=now, tags=tags
        )

    apps = migrate(AFTER)

    rows = apps.get_model("loyalty", "StorefrontSync").objects
    stale = {row.member.customer_id for row in rows.all() if row.version > row.synced_version}
    assert stale == {1, 3}
    assert not rows.filter(member_id=redacted.pk).exists()
    assert rows.get(member_id=synced.pk).version == 4
    assert rows.get(member_id=rowless.pk).version > rows.get(member_id=rowless.pk).synced_version
