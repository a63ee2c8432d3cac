from django.db import models


class Status(models.TextChoices):
    RECEIVED = "received", "Received, waiting to be processed"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed, will be retried"
    SKIPPED = "skipped", "Not processed (shop uninstalled)"
    DISMISSED = "dismissed", "Dismissed by an operator"


class Delivery(models.Model):
    """One signed webhook delivery from Shopify, stored whole before it is acknowledged.

    Keyed by shop domain rather than a foreign key: a delivery must be stored even for a
    shop the app has not seen yet, and survives until it is processed, replayed or
    dismissed (`manage.py deliveries`).
    """

    shop_domain = models.CharField(max_length=255)
    topic = models.CharField(max_length=128)
    webhook_id = models.CharField(max_length=128, unique=True)
    # Null, not "", when absent: the unique constraint must not treat absent ids as equal.
    event_id = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    triggered_at = models.CharField(max_length=64, blank=True, default="")
    api_version = models.CharField(max_length=32, blank=True, default="")
    body = models.BinaryField()
    received_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    attempts = models.IntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When the sweeper last sent a received delivery's job again (null: only its first job,
    # sent at intake). Its new job waits behind everything received before this moment.
    resent_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Filled in by processing, so customers/redact can find the deliveries to scrub.
    customer_id = models.BigIntegerField(null=True, blank=True)
    order_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop_domain", "topic", "event_id"],
                condition=models.Q(event_id__isnull=False),
                name="delivery_unique_event",
            ),
        ]
        indexes = [
            # The sweeper's and the admin's work lists: small, partial.
            models.Index(
                fields=["status", "received_at"],
                name="delivery_open",
                condition=models.Q(status__in=["received", "failed"]),
            ),
            # The sweeper's "where are the workers" question: the newest processed.
            models.Index(fields=["processed_at"], name="delivery_processed_at"),
            models.Index(fields=["shop_domain", "customer_id"], name="delivery_customer"),
            models.Index(fields=["shop_domain", "order_id"], name="delivery_order"),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.topic} {self.webhook_id} ({self.status})"
