"""Points from orders: earned once when an order is first seen paid, taken back by refunds
and cancellations, whatever order Shopify's webhooks arrive in.

Every entry point locks the order's row, merges what the webhook says into it, then
settles: compares what the order should hold now with what it holds and writes the
difference to the ledger. Running it again with the same facts writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from loyalty.earning.orders import (
    OrderFacts,
    RefundFacts,
    net_points,
    points_for,
    refund_base,
    source_earns,
)
from loyalty.earning.referrals import OrderReferralFacts
from loyalty.models import (
    Member,
    NotificationKind,
    Order,
    OrderProduct,
    Program,
    Reason,
    Referral,
    Refund,
    Shop,
)
from loyalty.stats.counters import shop_day
from loyalty.stats.orders import (
    buyer_first_order_lock,
    buyer_key,
    figures_order_add,
    order_count,
    order_reward_record,
)

from .ledger import points_record
from .members import member_from_customer
from .notifications import notification_record
from .programs import program_for
from .redemptions import redemptions_use
from .referrals import referral_members_lock, referral_order_settle, referral_rewards_release
from .rows import insert_or_lock
from .tiers import tier_after_earning, tier_tally_add

logger = logging.getLogger(__name__)


def order_settle(
    *,
    shop: Shop,
    facts: OrderFacts,
    discount_codes: Sequence[str] = (),
    referral: OrderReferralFacts | None = None,
    now: datetime | None = None,
    actor: str = "",
) -> Order:
    """Merge an order webhook (create, paid, updated, cancelled) and settle its points.

    `actor` names who applied it, on the order's ledger entries: blank for a webhook,
    "reconciliation" when loyalty.services.reconciliation read the order back from Shopify
    because its webhook never arrived (same entries, same idempotency keys).

    The first time the order is seen paid (and is not a test order) it is also counted in
    the Dashboard's daily figures (loyalty.stats.orders). A redeemed code among the order's
    `discount_codes` is marked used by it, and the order counted as one that used a reward.
    A friend code among them, or `referral` naming an advocate, settles a referral
    (loyalty.services.referrals).
    """
    now = now or timezone.now()
    with transaction.atomic(savepoint=False):
        order = _locked_order(shop=shop, order_id=facts.order_id)
        settled_before = order.seen
        # Before the member's lock: a redemption's row is always locked before its member's.
        if redemptions_use(shop=shop, order_id=facts.order_id, codes=discount_codes):
            order_reward_record(shop=shop, order=order)
        order.seen = True
        order.name = facts.name or order.name
        order.paid = order.paid or facts.paid
        order.cancelled = order.cancelled or facts.cancelled
        order.test = order.test or facts.test
        order.source_name = facts.source_name or order.source_name
        order.taxes_included = facts.taxes_included
        order.currency = facts.currency or order.currency
        if order.points_earned is None:
            order.earning_base = facts.earning_base
        counting = order.placed_at is None and order.paid and not order.test
        if counting:
            placed_at = facts.placed_at or now
            customer_id = facts.customer.customer_id if facts.customer else None
            if customer_id is None and order.member_id is not None:
                # An earlier delivery named the customer; this one does not.
                customer_id = order.member.customer_id
            order.buyer = buyer_key(customer_id=customer_id, email=facts.email)
            # Before the member's lock (member_from_customer, points_record): see its docs.
            first = buyer_first_order_lock(
                shop=shop, buyer=order.buyer, order_id=order.order_id, placed_at=placed_at
            )
        linked = referral_members_lock(
            order=order,
            customer_id=facts.customer.customer_id if facts.customer else None,
            discount_codes=discount_codes,
            facts=referral,
            settled_before=settled_before,
        )
        # Read locked once here (a new member's insert locks it too), not again in _earn.
        member_locked = order.member_id is None and facts.customer is not None
        if member_locked:
            order.member = member_from_customer(shop=shop, customer=facts.customer, lock=True)
        for refund in facts.refunds:
            _refund_store(order=order, facts=refund)
        if counting:
            changes = order_count(
                shop=shop, order=order, first=first, placed_at=placed_at, revenue=facts.total_price
            )
            _products_store(order=order, product_ids=facts.product_ids)
        _settle(
            order=order,
            program=program_for(shop=shop),
            now=now,
            linked=linked,
            member_locked=member_locked,
            discount_codes=discount_codes,
            referral=referral,
            actor=actor,
        )
        if counting:
            figures_order_add(shop=shop, changes=changes)
        return order


def refund_record(*, shop: Shop, facts: RefundFacts, now: datetime | None = None) -> Order:
    """Merge a refunds/create webhook and take back the points it refunds.

    A refund that arrives before its order is kept and applied when the order arrives.
    """
    now = now or timezone.now()
    with transaction.atomic(savepoint=False):
        order = _locked_order(shop=shop, order_id=facts.order_id)
        linked = referral_members_lock(order=order, settled_before=order.seen)
        _refund_store(order=order, facts=facts)
        _settle(order=order, program=program_for(shop=shop), now=now, linked=linked)
        return order


def pending_points_release(*, now: datetime | None = None, limit: int = 500) -> int:
    """Make the pending points of orders, and of referrals, past their hold available.
    Returns how many orders and referrals were released."""
    now = now or timezone.now()
    due = list(
        Order.objects.filter(release_at__lte=now)
        .order_by("release_at")
        .values_list("pk", flat=True)[:limit]
    )
    released = 0
    for pk in due:
        try:
            released += _release(pk=pk, now=now)
        except Exception:  # noqa: BLE001 - one broken order must not hold back the others
            logger.exception("could not release the pending points of order row %s", pk)
    return released + referral_rewards_release(now=now, limit=limit)


def _release(*, pk: int, now: datetime) -> int:
    with transaction.atomic(savepoint=False):
        order = (
            Order.objects.select_for_update(of=("self",)).select_related("member__shop").get(pk=pk)
        )
        if order.release_at is None or order.release_at > now:
            return 0
        if order.points_held > 0 and order.member is not None:
            points_record(
                member=order.member,
                points=order.points_held,
                pending_points=-order.points_held,
                reason=Reason.POINTS_RELEASED,
                idempotency_key=f"order:{order.order_id}:released",
                order_id=order.order_id,
            )
        order.release_at = None
        order.save(update_fields=["release_at", "updated_at"])
        return 1


def _locked_order(*, shop: Shop, order_id: int) -> Order:
    order = insert_or_lock(Order(shop=shop, order_id=order_id), unique=("shop_id", "order_id"))
    order.shop = shop
    return order


def _products_store(*, order: Order, product_ids: Sequence[int]) -> None:
    # Once, when the order is counted: what its member bought, for review rewards.
    OrderProduct.objects.bulk_create(
        [OrderProduct(shop_id=order.shop_id, order=order, product_id=p) for p in product_ids],
        ignore_conflicts=True,
    )


def _refund_store(*, order: Order, facts: RefundFacts) -> None:
    Refund.objects.bulk_create(
        [
            Refund(
                shop_id=order.shop_id,
                order_id=facts.order_id,
                refund_id=facts.refund_id,
                line_subtotal=facts.line_subtotal,
                line_tax=facts.line_tax,
                refunded_at=facts.refunded_at,
            )
        ],
        ignore_conflicts=True,
    )
    order.has_refunds = True


def _settle(
    *,
    order: Order,
    program: Program,
    now: datetime,
    linked: Referral | None,
    member_locked: bool = False,
    discount_codes: Sequence[str] = (),
    referral: OrderReferralFacts | None = None,
    actor: str = "",
) -> None:
    if order.seen and order.points_earned is None:
        _earn(order=order, program=program, now=now, member_locked=member_locked, actor=actor)
    _apply_refunds(order=order, actor=actor)
    if order.cancelled and order.points_held > 0:
        _take_back(
            order=order,
            points=order.points_held,
            reason=Reason.ORDER_CANCELLED,
            key=f"order:{order.order_id}:cancelled",
            actor=actor,
        )
        tier_tally_add(member=order.member, day=_tally_day(order), amount=-_amount_kept(order))
    order.save()
    referral_order_settle(
        order=order,
        program=program,
        linked=linked,
        discount_codes=discount_codes,
        facts=referral,
        now=now,
    )


def _earn(
    *, order: Order, program: Program, now: datetime, member_locked: bool = False, actor: str = ""
) -> None:
    reason = _why_not_earning(order=order, program=program)
    if reason:
        order.not_earning_reason = reason
        return
    order.not_earning_reason = ""
    member = _member_with_shop(order)
    # Locked before reading the tier, so an order settling at the same time cannot move the
    # member up between this read and this order's points (`member_locked`: read so).
    if member_locked:
        tier = member.tier
    else:
        tier = (
            Member.objects.select_for_update(of=("self",))
            .select_related("tier")
            .get(pk=member.pk)
            .tier
        )
        member.tier = tier
    points = points_for(
        order.earning_base,
        points_per_unit=program.points_per_unit,
        rounding=program.rounding,
        multiplier=tier.multiplier if tier else Decimal(1),
    )
    order.points_earned = points
    if points <= 0:
        return
    held = program.hold_days > 0
    available_at = now + timedelta(days=program.hold_days) if held else None
    points_record(
        member=_member_with_shop(order),
        points=0 if held else points,
        pending_points=points if held else 0,
        reason=Reason.ORDER_EARNED,
        idempotency_key=f"order:{order.order_id}:earned",
        order_id=order.order_id,
        available_at=available_at,
        actor=actor,
        note=order.name,
    )
    order.points_held = points
    order.release_at = available_at
    notification_record(
        member=member,
        kind=NotificationKind.POINTS_EARNED,
        key=f"order:{order.order_id}:earned",
        points=points,
        available_on=shop_day(available_at, order.shop.timezone).isoformat() if held else "",
    )
    # After the points: the order that crosses a threshold earns at the old rate.
    tier_tally_add(member=member, day=_tally_day(order), points=points, amount=order.earning_base)
    tier_after_earning(member=member, program=program, day=shop_day(now, order.shop.timezone))


def _why_not_earning(*, order: Order, program: Program) -> str:
    if not order.paid:
        return "not paid yet"
    if order.cancelled:
        return "cancelled before it was paid"
    if order.test:
        return "test order"
    if order.member_id is None:
        return "no customer"
    if not source_earns(order.source_name, pos_orders_earn=program.pos_orders_earn):
        return "point-of-sale orders do not earn"
    return ""


def _apply_refunds(*, order: Order, actor: str = "") -> None:
    if not order.has_refunds or not order.points_earned:
        return
    refunds = list(
        Refund.objects.filter(shop_id=order.shop_id, order_id=order.order_id).order_by(
            "refunded_at", "refund_id"
        )
    )
    if not refunds or not order.points_earned:
        return
    # The member's lock before the tier tally below, as points_record takes it: an order of
    # theirs settling at once holds the member and then updates the same day's tally.
    list(Member.objects.select_for_update().filter(pk=order.member_id).values_list("pk"))

    def given_back(refund: Refund) -> Decimal:
        return refund_base(
            line_subtotal=refund.line_subtotal,
            line_tax=refund.line_tax,
            taxes_included=order.taxes_included,
        )

    # Cumulative over every refund of the order, so rounding never drifts.
    refunded = sum((given_back(r) for r in refunds if r.applied), Decimal(0))
    for refund in refunds:
        if refund.applied:
            continue
        counted_before = min(refunded, order.earning_base)
        refunded += given_back(refund)
        tier_tally_add(
            member=order.member,
            day=_tally_day(order),
            amount=counted_before - min(refunded, order.earning_base),
        )
        keep = net_points(earned=order.points_earned, base=order.earning_base, refunded=refunded)
        if keep < order.points_held:
            _take_back(
                order=order,
                points=order.points_held - keep,
                reason=Reason.ORDER_REFUNDED,
                key=f"order:{order.order_id}:refund:{refund.refund_id}",
                refund_id=refund.refund_id,
                actor=actor,
            )
        Refund.objects.filter(pk=refund.pk).update(applied=True)


def _take_back(
    *,
    order: Order,
    points: int,
    reason: str,
    key: str,
    refund_id: int | None = None,
    actor: str = "",
) -> None:
    # Until its hold ends every point an order holds is pending; after, all are available.
    pending = order.release_at is not None
    points_record(
        member=_member_with_shop(order),
        points=0 if pending else -points,
        pending_points=-points if pending else 0,
        reason=reason,
        idempotency_key=key,
        order_id=order.order_id,
        refund_id=refund_id,
        actor=actor,
        note=order.name,
    )
    order.points_held -= points
    tier_tally_add(member=order.member, day=_tally_day(order), points=-points)


def _tally_day(order: Order) -> date:
    # Everything about one order counts on the day it was placed, so a refund leaves a
    # rolling window with the order it takes from.
    return shop_day(order.placed_at or order.created_at, order.shop.timezone)


def _amount_kept(order: Order) -> Decimal:
    """What the order still counts as spent: its earning base less the refunds applied."""
    refunds = Refund.objects.filter(shop_id=order.shop_id, order_id=order.order_id, applied=True)
    refunded = sum(
        (
            refund_base(
                line_subtotal=r.line_subtotal,
                line_tax=r.line_tax,
                taxes_included=order.taxes_included,
            )
            for r in refunds
        ),
        Decimal(0),
    )
    return max(order.earning_base - refunded, Decimal(0))


def _member_with_shop(order: Order) -> Member:
    # The order's shop is loaded: the ledger's daily figures read its timezone from here.
    member = order.member
    member.shop = order.shop
    return member
