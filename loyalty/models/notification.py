"""Shopper emails: the merchant's template for each kind, and each event that asks for one
(docs/notifications.md)."""

from django.db import models

from .member import Member
from .shop import Shop


class NotificationKind(models.TextChoices):
    POINTS_EARNED = "points_earned", "Points earned"
    REWARD_READY = "reward_ready", "Reward ready"
    POINTS_EXPIRING = "points_expiring", "Points about to expire"
    TIER_REACHED = "tier_reached", "Tier reached"
    BIRTHDAY = "birthday", "Birthday"


class NotificationTemplate(models.Model):
    """The merchant's own subject and body for one kind. A kind without a row sends the
    English default (loyalty.services.notifications.DEFAULT_TEMPLATES)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "kind"], name="notification_template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.shop_id}: {self.kind}"


class Notification(models.Model):
    """One event a shopper may be emailed about, recorded in the transaction that made it.

    `key` names the event, so recording it again adds nothing. The sender sets `sent_at`,
    or `skipped` with the reason it sent nothing (at most one email a day per member)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+", db_index=False)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    key = models.CharField(max_length=128)
    # The values the template may show (loyalty.services.notifications.CONTEXT_NAMES).
    context = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    skipped = models.CharField(max_length=200, blank=True, default="")
    # Sends that raised (the mail server down or refusing), and the last error: the sender
    # tries such a row again after the fresh ones, and gives it up in the end.
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "key"], name="notification_once_per_event")
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(sent_at__isnull=True, skipped=""),
                name="notification_pending",
            ),
            models.Index(fields=["member", "-sent_at"], name="notification_member_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.kind} ({self.key})"
