"""One run of the order reconciliation (loyalty.services.reconciliation): which window of
Shopify's orders it read, and what it repaired."""

from django.db import models

from .shop import Shop


class ReconciliationRun(models.Model):
    """A shop's orders updated in [window_start, window_end) read back from the Admin API,
    and those whose webhooks never arrived applied.

    `complete` is False until every page was read and every order it had to apply was
    applied or refused for good; only a complete run moves the next run's window on, so a
    run cut short by Shopify (or a crash) is read again by the next one.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="reconciliation_runs")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    complete = models.BooleanField(default=False)
    # Orders Shopify listed in the window; the ones the app had not applied, and applied now.
    orders_read = models.PositiveIntegerField(default=0)
    repaired = models.PositiveIntegerField(default=0)
    # Points the repairs wrote to the ledger: credited (available and pending) and taken back.
    points_credited = models.IntegerField(default=0)
    points_reversed = models.IntegerField(default=0)
    # Orders that could not be applied, and why (one line each), or why the run stopped.
    errors = models.PositiveIntegerField(default=0)
    error_text = models.TextField(blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["shop", "-started_at"], name="reconciliation_newest")]

    def __str__(self) -> str:
        return f"{self.shop_id}: {self.window_start:%Y-%m-%d %H:%M}…{self.window_end:%H:%M}"
