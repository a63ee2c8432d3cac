from django.db import models

from .member import Member
from .shop import Shop


class ReferralState(models.TextChoices):
    VISITED = "visited", "Visited"
    # The friend's first paid order used the referral; the advocate's points are on hold.
    ORDERED = "ordered", "Friend ordered"
    REWARDED = "rewarded", "Rewarded"
    # The friend's order was fully refunded or cancelled during the hold.
    REVERSED = "reversed", "Reward taken back"
    REFUSED = "refused", "Refused"


class RefusalReason(models.TextChoices):
    SAME_CUSTOMER = "same_customer", "The friend is the advocate"
    SAME_EMAIL = "same_email", "The friend has the advocate's email"
    SAME_ADDRESS = "same_address", "The friend has the advocate's default address"
    SAME_CHECKOUT_IP = "same_checkout_ip", "The friend checked out from the advocate's IP"
    ORDERED_BEFORE = "ordered_before", "The friend had ordered before"
    MONTHLY_CAP = "monthly_cap", "The advocate reached the monthly cap"


class Referral(models.Model):
    """One friend sent by a member's referral link, from the visit to the advocate's reward.

    A visit makes the row and the friend's single-use discount code; the friend's first
    paid order that uses the code (or names the advocate's referral code in its note
    attributes) moves it on, once (loyalty.services.referrals).
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="referrals")
    advocate = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="referrals")
    state = models.CharField(
        max_length=16, choices=ReferralState.choices, default=ReferralState.VISITED
    )
    refusal_reason = models.CharField(
        max_length=24, choices=RefusalReason.choices, blank=True, default=""
    )
    # The friend's discount code; blank for a referral named only by an order's attributes.
    code = models.CharField(max_length=32, blank=True, default="")
    # Shopify's id of the friend's discount; blank until Shopify made it.
    discount_id = models.CharField(max_length=100, blank=True, default="")
    visited_at = models.DateTimeField(null=True, blank=True)
    # A keyed hash of the visitor's IP: repeated visits reuse the row, the IP is not kept.
    visit_ip_fingerprint = models.CharField(max_length=64, blank=True, default="")
    friend_customer_id = models.BigIntegerField(null=True, blank=True)
    friend_email = models.CharField(max_length=320, blank=True, default="")
    order_id = models.BigIntegerField(null=True, blank=True)
    order_name = models.CharField(max_length=64, blank=True, default="")
    ordered_at = models.DateTimeField(null=True, blank=True)
    # The advocate's points for this referral, and when held ones become available.
    points = models.IntegerField(default=0)
    release_at = models.DateTimeField(null=True, blank=True)
    rewarded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "code"],
                condition=~models.Q(code=""),
                name="referral_unique_code",
            ),
            # An order settles at most one referral.
            models.UniqueConstraint(
                fields=["shop", "order_id"],
                condition=models.Q(order_id__isnull=False),
                name="referral_unique_order",
            ),
            models.CheckConstraint(
                condition=models.Q(state=ReferralState.REFUSED) ^ models.Q(refusal_reason=""),
                name="referral_refused_says_why",
            ),
            models.CheckConstraint(condition=models.Q(points__gte=0), name="referral_points"),
        ]
        indexes = [
            models.Index(fields=["shop", "state", "-id"], name="referral_shop_state"),
            models.Index(fields=["advocate", "visit_ip_fingerprint"], name="referral_visitor"),
            models.Index(
                fields=["release_at"],
                name="referral_release_due",
                condition=models.Q(release_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"referral {self.pk} of {self.advocate_id} ({self.state})"
