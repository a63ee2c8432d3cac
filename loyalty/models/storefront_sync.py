from django.db import models

from .member import Member
from .shop import Shop


class StorefrontSync(models.Model):
    """Something of a shop whose app-owned metafields in Shopify may be behind.

    One row per member (their customer metafields: balance, pending, tier), and one with no
    member for the shop's app-data metafields (widget settings, program summary). Every
    change adds 1 to `version`; the sync job writes what it read, then sets `synced_version`
    to the version it read only if no change came meanwhile, so the row is stale
    (`version > synced_version`) exactly while Shopify may show an older value.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    member = models.OneToOneField(
        Member, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    synced_version = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField()
    # Shopify holds a `tier` metafield for the member: a member who loses their tier needs
    # it deleted (a metafield can't be set to nothing).
    tier_written = models.BooleanField(default=False)
    # The app's tags the customer holds at Shopify, comma-separated
    # (loyalty.services.customer_tags); blank until the member is first tagged.
    # db_default: the upsert that marks rows (storefront_sync._mark) names its columns.
    tags = models.CharField(max_length=200, blank=True, default="", db_default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop"],
                condition=models.Q(member__isnull=True),
                name="storefront_sync_one_per_shop",
            ),
        ]
        indexes = [
            # The job's and the cron's question: this shop's stale rows, oldest change first.
            models.Index(
                fields=["shop", "changed_at"],
                condition=models.Q(version__gt=models.F("synced_version")),
                name="storefront_sync_stale",
            ),
        ]

    def __str__(self) -> str:
        return f"storefront sync of {self.member_id or 'shop'}@{self.shop_id} v{self.version}"
