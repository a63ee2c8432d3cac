"""Members from before customer tags (0017) carry no tags at Shopify until their next change.
Mark every such member of an installed shop stale, so the minute job's storefront sync
(loyalty.tasks.resync_stale_storefronts) tags them in the background, throttled like any
sync; marking is cheap, writing happens after the deploy."""

from django.db import migrations
from django.db.models import F
from django.utils import timezone

BATCH = 5000


def mark_untagged(apps, schema_editor):
    Member = apps.get_model("loyalty", "Member")
    StorefrontSync = apps.get_model("loyalty", "StorefrontSync")
    now = timezone.now()
    installed = {"shop__uninstalled_at__isnull": True}
    StorefrontSync.objects.filter(member__isnull=False, tags="", **installed).update(
        version=F("version") + 1, changed_at=now
    )
    unmarked = (
        Member.objects.filter(redacted_at__isnull=True, **installed)
        .exclude(pk__in=StorefrontSync.objects.filter(member__isnull=False).values("member_id"))
        .order_by("pk")
        .values_list("pk", "shop_id")
    )
    last = 0
    while batch := list(unmarked.filter(pk__gt=last)[:BATCH]):
        StorefrontSync.objects.bulk_create(
            [StorefrontSync(shop_id=shop, member_id=pk, changed_at=now) for pk, shop in batch],
            ignore_conflicts=True,
        )
        last = batch[-1][0]


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0019_expiry_reminder_without_sent_at")]

    operations = [migrations.RunPython(mark_untagged, migrations.RunPython.noop)]
