from django.db import models

from .shop import Shop
from .tier import Tier


class Member(models.Model):
    """A Shopify customer of one shop, with the points they hold there.

    `balance` (available points, may go below zero when a refund takes back points already
    spent) and `pending` (points still on hold) always equal the sums of the member's ledger
    entries; the database enforces it (loyalty.models.ledger).
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="members")
    customer_id = models.BigIntegerField()
    email = models.CharField(max_length=320, blank=True, default="")
    first_name = models.CharField(max_length=255, blank=True, default="")
    last_name = models.CharField(max_length=255, blank=True, default="")
    balance = models.IntegerField(default=0)
    pending = models.IntegerField(default=0)
    # Sequence number of the newest ledger entry; null while the member has none.
    last_sequence = models.IntegerField(null=True, blank=True)
    # Shopify's customer updated_at, so an older customers/update never overwrites a newer.
    customer_updated_at = models.DateTimeField(null=True, blank=True)
    redacted_at = models.DateTimeField(null=True, blank=True)
    # The VIP tier the member has reached; null below the lowest tier or with no tiers.
    tier = models.ForeignKey(
        Tier, on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    # The shopper's birthday (no year); both set or both null. Changed at most once a year
    # (loyalty.services.birthdays; the history is BirthdayChange).
    birthday_month = models.PositiveSmallIntegerField(null=True, blank=True)
    birthday_day = models.PositiveSmallIntegerField(null=True, blank=True)
    birthday_set_at = models.DateTimeField(null=True, blank=True)
    # The last time the member earned or redeemed points (loyalty.services.ledger); points
    # expire `Program.expiry_days` after it. Null: no activity yet.
    last_activity_at = models.DateTimeField(null=True, blank=True)
    # The member's own referral link names this (docs/referrals.md); blank until first needed.
    referral_code = models.CharField(max_length=16, blank=True, default="")
    # Keyed hashes of the default address and checkout IP of the member's latest order, so a
    # friend's order can be compared with its advocate's without keeping either in the clear.
    address_fingerprint = models.CharField(max_length=64, blank=True, default="")
    checkout_ip_fingerprint = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "customer_id"], name="member_unique_customer"),
            models.UniqueConstraint(
                fields=["shop", "referral_code"],
                condition=~models.Q(referral_code=""),
                name="member_unique_referral_code",
            ),
            models.CheckConstraint(
                condition=models.Q(pending__gte=0), name="member_pending_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(last_sequence__isnull=False) | models.Q(balance=0, pending=0),
                name="member_without_entries_has_no_points",
            ),
            models.CheckConstraint(
                condition=models.Q(birthday_month__isnull=True, birthday_day__isnull=True)
                | models.Q(
                    birthday_month__gte=1,
                    birthday_month__lte=12,
                    birthday_day__gte=1,
                    birthday_day__lte=31,
                ),
                name="member_birthday_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "email"], name="member_shop_email"),
            # The daily birthday job's question: whose birthday is this day?
            models.Index(
                fields=["shop", "birthday_month", "birthday_day"],
                condition=models.Q(birthday_month__isnull=False),
                name="member_birthday",
            ),
            # The daily expiry job's question: who holds points and was last active before
            # a day? Only members with points are indexed, so it never scans the others.
            models.Index(
                fields=["shop", "last_activity_at"],
                condition=models.Q(balance__gt=0),
                name="member_expiry_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}@{self.shop_id}"
