from django.db import models

from .shop import Shop

# Each shop-day is spread over this many rows (slots), summed when read, so that
# concurrent crediting transactions of one shop rarely wait for the same row's lock.
SLOTS = 8


class DailyFigures(models.Model):
    """Counters of one slot of one day (in the shop's timezone) of a shop, for the Dashboard.

    Written in the same transaction as the ledger entry, member or order they count
    (loyalty.stats.counters), by atomic `INSERT … ON CONFLICT … DO UPDATE` increments, so
    they stay exact; `manage.py figures_rebuild` recomputes them from the source rows.
    Points are in points, removals as positive numbers; money is in the shop's currency.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="daily_figures")
    day = models.DateField()
    slot = models.SmallIntegerField()
    members_joined = models.IntegerField(db_default=0)
    # Points given (available or pending), by where they came from.
    points_earned = models.BigIntegerField(db_default=0)
    points_bonus = models.BigIntegerField(db_default=0)
    points_imported = models.BigIntegerField(db_default=0)
    points_adjusted_up = models.BigIntegerField(db_default=0)
    # Points taken (available or pending), by why.
    points_redeemed = models.BigIntegerField(db_default=0)
    points_expired = models.BigIntegerField(db_default=0)
    points_reversed = models.BigIntegerField(db_default=0)
    points_adjusted_down = models.BigIntegerField(db_default=0)
    pending_added = models.BigIntegerField(db_default=0)
    pending_released = models.BigIntegerField(db_default=0)
    # Net changes of available and pending points: running sums give the outstanding points.
    points_change = models.BigIntegerField(db_default=0)
    pending_change = models.BigIntegerField(db_default=0)
    member_orders = models.IntegerField(db_default=0)
    member_repeat_orders = models.IntegerField(db_default=0)
    nonmember_orders = models.IntegerField(db_default=0)
    nonmember_repeat_orders = models.IntegerField(db_default=0)
    order_revenue = models.DecimalField(max_digits=18, decimal_places=2, db_default=0)
    reward_orders = models.IntegerField(db_default=0)
    reward_order_revenue = models.DecimalField(max_digits=18, decimal_places=2, db_default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "day", "slot"], name="figures_unique_slot"),
        ]

    def __str__(self) -> str:
        return f"figures {self.day} slot {self.slot}@{self.shop_id}"


class BuyerFirstOrder(models.Model):
    """The earliest counted order of one buyer of a shop: every later order is a repeat.

    A buyer is a customer, or for guest checkouts an email address, kept only as a hash
    (`buyer`, loyalty.stats.orders.buyer_key). The row is also the lock that serialises
    counting two orders of one buyer, so an order that arrives late, placed before the
    buyer's first known one, takes its place exactly once.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="buyer_first_orders")
    buyer = models.CharField(max_length=64)
    order_id = models.BigIntegerField()
    placed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "buyer"], name="buyer_first_unique"),
        ]

    def __str__(self) -> str:
        return f"first order {self.order_id} of {self.buyer[:8]}@{self.shop_id}"
