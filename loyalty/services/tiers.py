"""VIP tiers: what members count towards them, moving them up and down, entry rewards.

A member's measure is what the program's `tier_basis` counts (points from orders, or whole
units of currency spent on them, both net of refunds and cancellations) over its
`tier_window`, summed from their daily TierTally rows. Members move up in the transaction
of the order that crosses a threshold, and down only by the nightly `tiers_daily` or a
recompute after the merchant changes the tiers (docs/tiers.md).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial

from django.db import connection, transaction
from django.db.models import DecimalField, F, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from loyalty.models import (
    Member,
    NotificationKind,
    Program,
    Reason,
    Shop,
    Tier,
    TierBasis,
    TierChange,
    TierChangeCause,
    TierTally,
    TierWindow,
)
from loyalty.selectors import TIER_WINDOW_DAYS, tier_progress
from loyalty.stats.counters import shop_day

from .ledger import points_record
from .notifications import notification_record
from .storefront_sync import storefront_member_changed

# Members placed again per job after the merchant changes the tiers.
RECOMPUTE_BATCH = 1000


def tier_tally_add(
    *, member: Member, day: date, points: int = 0, amount: Decimal = Decimal(0)
) -> None:
    """Add to what the member's orders counted towards tiers on `day` (the shop's day the
    order was placed); negative to take back. Call it holding the member's lock (inside
    points_record's transaction), so two orders of one member never race here."""
    if points == 0 and amount == 0:
        return
    # One statement where get_or_create, its savepoint and an UPDATE took four; both
    # PostgreSQL and SQLite speak it. The decimal goes as text, exact (stats/counters.py).
    with connection.cursor() as cursor:
        cursor.execute(_TALLY_ADD, [member.pk, day, points, str(amount)])


_TALLY_ADD = (
    "INSERT INTO loyalty_tiertally (member_id, day, points, amount) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (member_id, day) DO UPDATE SET "
    "points = loyalty_tiertally.points + EXCLUDED.points, "
    "amount = loyalty_tiertally.amount + EXCLUDED.amount"
)


def tier_for(*, tiers: list[Tier], measure: int) -> Tier | None:
    """The highest of `tiers` whose threshold `measure` reaches; None below them all."""
    reached = [tier for tier in tiers if tier.threshold <= measure]
    return max(reached, key=lambda tier: tier.threshold, default=None)


def tier_after_earning(*, member: Member, program: Program, day: date) -> Tier | None:
    """Move the member up if what they now count reaches a higher tier; answers the tier
    they moved to (None: no move). Never moves down: that is the nightly job's. Call it
    holding the member's lock, after the order's points are recorded, so the order that
    crosses the threshold has earned at the old rate."""
    tiers = list(Tier.objects.filter(shop_id=member.shop_id))
    if not tiers:
        return None
    measure = tier_progress(member=member, program=program, day=day)
    reached = tier_for(tiers=tiers, measure=measure)
    current = next((tier for tier in tiers if tier.pk == member.tier_id), None)
    if reached is None or (current is not None and reached.threshold <= current.threshold):
        return None
    _move(
        member=member,
        current=current,
        target=reached,
        cause=TierChangeCause.EARNED,
        measure=measure,
    )
    return reached


def tiers_daily(*, shop: Shop, day: date) -> int:
    """Move down the members whose measure on `day` (the shop's day) is below their tier's
    threshold — a rolling window dropping old orders, or refunds — to the tier it still
    reaches. At most once per member per day, whatever reruns it. Answers members moved."""
    program = Program.objects.filter(shop=shop).first()
    if program is None:
        return 0
    tiers = list(Tier.objects.filter(shop=shop))
    if not tiers:
        return 0
    below = (
        Member.objects.filter(shop=shop, tier__isnull=False)
        .annotate(measure=_measure_expression(program, day))
        .filter(measure__lt=F("tier__threshold"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    moved = 0
    for member_id in below.iterator():
        with transaction.atomic():
            # The member's row only: locking the joined shop too would stop every write of
            # the shop (their rows' foreign keys share-lock it) until this move commits.
            member = (
                Member.objects.select_for_update(of=("self",))
                .select_related("shop")
                .get(pk=member_id)
            )
            measure = tier_progress(member=member, program=program, day=day)
            target = tier_for(tiers=tiers, measure=measure)
            current = next((tier for tier in tiers if tier.pk == member.tier_id), None)
            if current is None or (target is not None and target.threshold >= current.threshold):
                continue
            moved += _move(
                member=member,
                current=current,
                target=target,
                cause=TierChangeCause.WINDOW,
                measure=measure,
                key=f"down:{day.isoformat()}",
            )
    return moved


def tiers_recompute(*, shop: Shop, after_id: int = 0, now: datetime | None = None) -> int | None:
    """Place up to RECOMPUTE_BATCH members (ids above `after_id`, in id order) in the tier
    their measure reaches under the shop's current tiers, up or down; entry rewards are
    given for tiers reached. Answers the last member id done, None when none was left."""
    now = now or timezone.now()
    program = Program.objects.filter(shop=shop).first() or Program(shop=shop)
    day = shop_day(now, shop.timezone)
    tiers = list(Tier.objects.filter(shop=shop))
    batch = list(
        Member.objects.filter(shop=shop, pk__gt=after_id)
        .annotate(measure=_measure_expression(program, day))
        .order_by("pk")
        .values_list("pk", "tier_id", "measure")[:RECOMPUTE_BATCH]
    )
    for member_id, tier_id, measure in batch:
        target = tier_for(tiers=tiers, measure=int(measure))
        if (target.pk if target else None) == tier_id:
            continue
        with transaction.atomic():
            member = (
                Member.objects.select_for_update(of=("self",))
                .select_related("shop")
                .get(pk=member_id)
            )
            measure = tier_progress(member=member, program=program, day=day)
            target = tier_for(tiers=tiers, measure=measure)
            if (target.pk if target else None) == member.tier_id:
                continue
            current = next((tier for tier in tiers if tier.pk == member.tier_id), None)
            _move(
                member=member,
                current=current,
                target=target,
                cause=TierChangeCause.RECOMPUTED,
                measure=measure,
            )
    return batch[-1][0] if batch else None


def tiers_recompute_request(*, shop: Shop) -> None:
    """Place every member of the shop again, in the background, once this transaction
    commits (the program's tiers, basis or window changed)."""
    transaction.on_commit(partial(_request_recompute, shop.pk))


def _request_recompute(shop_id: int) -> None:
    # Imported when called: the job module imports this one.
    from loyalty.tasks import tiers_recompute_enqueue

    tiers_recompute_enqueue(shop_id)


def _measure_expression(program: Program, day: date):
    window = Q(member=OuterRef("pk"))
    if program.tier_window == TierWindow.ROLLING_12_MONTHS:
        window &= Q(day__gt=day - timedelta(days=TIER_WINDOW_DAYS))
    if program.tier_basis == TierBasis.AMOUNT_SPENT:
        column, output = "amount", DecimalField(max_digits=20, decimal_places=2)
    else:
        column, output = "points", IntegerField()
    total = (
        TierTally.objects.filter(window)
        .values("member")
        .annotate(total=Sum(column))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=output), Value(0), output_field=output)


def _move(
    *,
    member: Member,
    current: Tier | None,
    target: Tier | None,
    cause: str,
    measure: int,
    key: str = "",
) -> int:
    """Record the move and make it; answers 1, or 0 when `key` shows it was already made."""
    if key and TierChange.objects.filter(member=member, key=key).exists():
        return 0
    TierChange.objects.create(
        shop_id=member.shop_id,
        member=member,
        from_tier=current,
        to_tier=target,
        from_name=current.name if current else "",
        to_name=target.name if target else "",
        cause=cause,
        measure=measure,
        key=key,
    )
    Member.objects.filter(pk=member.pk).update(tier=target)
    member.tier = target
    storefront_member_changed(member=member)
    moving_up = target is not None and (current is None or target.threshold > current.threshold)
    if moving_up:
        notification_record(
            member=member,
            kind=NotificationKind.TIER_REACHED,
            # Once per member per tier, as the entry points.
            key=f"tier:{target.pk}:reached",
            tier=target.name,
        )
    if moving_up and target.entry_points > 0:
        points_record(
            member=member,
            points=target.entry_points,
            reason=Reason.TIER_ENTRY,
            # Once per member per tier, even after moving down and up again.
            idempotency_key=f"tier:{target.pk}:entry:{member.pk}",
            note=target.name,
        )
    return 1
