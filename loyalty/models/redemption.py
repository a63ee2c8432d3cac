from django.db import models

from .member import Member
from .reward import Reward
from .shop import Shop


class RedemptionStatus(models.TextChoices):
    # Points debited; the Shopify discount (or store credit) is still being made.
    PENDING = "pending", "Being made"
    READY = "ready", "Ready to use"
    USED = "used", "Used on an order"
    EXPIRED = "expired", "Expired unused"
    # Shopify refused or could not be reached in time; the points came back.
    FAILED = "failed", "Failed, points returned"


class Redemption(models.Model):
    """Points a member spent on a reward, and the Shopify discount code or store credit
    they got for them.

    The code is chosen before Shopify is first asked, so every retry asks for the same code
    and can never make a second discount. The debit's ledger entry is keyed
    `redemption:<id>:redeemed`, a refund's `redemption:<id>:refunded`, an expired code's
    points back `redemption:<id>:expired`.
    """

    # Not indexed alone: the unique (shop, code) and (member, created_at) indexes lead with them.
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="redemptions", db_index=False
    )
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="redemptions", db_index=False
    )
    # Rewards are only soft-deleted, so the row a redemption names stays; only erasing the
    # whole shop (shop/redact) deletes both.
    reward = models.ForeignKey(Reward, on_delete=models.RESTRICT, related_name="redemptions")
    # What the reward was when redeemed: a later change to the catalogue changes no code.
    kind = models.CharField(max_length=16)
    points = models.PositiveIntegerField()
    # An amount in `currency`, or a percent for percent_off; 0 for valueless kinds.
    value = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    code = models.CharField(max_length=32)
    status = models.CharField(
        max_length=16, choices=RedemptionStatus.choices, default=RedemptionStatus.PENDING
    )
    # gid://shopify/DiscountCodeNode/… once the discount exists.
    discount_id = models.CharField(max_length=255, blank=True, default="")
    # gid://shopify/StoreCreditAccountCreditTransaction/… for store credit.
    store_credit_transaction_id = models.CharField(max_length=255, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    # While set in the future, one worker is talking to Shopify for this redemption and
    # no other may start (store credit has no code to make a second try harmless).
    claimed_until = models.DateTimeField(null=True, blank=True)
    # When the next try is due while pending; the sweeper resends one long overdue (its
    # job message was lost).
    retry_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    used_order_id = models.BigIntegerField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "code"], name="redemption_unique_code"),
            models.CheckConstraint(
                condition=models.Q(status__in=RedemptionStatus.values),
                name="redemption_status_known",
            ),
            models.CheckConstraint(
                condition=models.Q(points__gt=0), name="redemption_points_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(value__gte=0), name="redemption_value_not_negative"
            ),
            models.CheckConstraint(condition=~models.Q(code=""), name="redemption_has_code"),
            # Ready or used means Shopify made something, and we kept its id.
            models.CheckConstraint(
                condition=~models.Q(status__in=["ready", "used"])
                | ~models.Q(discount_id="")
                | ~models.Q(store_credit_transaction_id=""),
                name="redemption_delivered_has_shopify_id",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="used") | models.Q(used_order_id__isnull=False),
                name="redemption_used_has_order",
            ),
        ]
        indexes = [
            # The account answer: a member's newest codes.
            models.Index(fields=["member", "-created_at"], name="redemption_member_newest"),
            # The sweeper and the expiry job read only the few rows still in play.
            models.Index(
                fields=["retry_at"],
                name="redemption_pending",
                condition=models.Q(status="pending"),
            ),
            models.Index(
                fields=["expires_at"],
                name="redemption_ready_expiry",
                condition=models.Q(status="ready", expires_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.status})"
