"""Referrals: a member's link gives a friend a discount, and the friend's first paid order
gives the member (the advocate) points, held like an order's and taken back with it.

docs/referrals.md tells the whole story. One order touches two members, so both are locked
together, in id order, before either's points move (`referral_members_lock`): a ledger
entry also updates a row of the Dashboard's figures, and a transaction holding that row
while waiting for a member could deadlock with one holding the member.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from loyalty.earning.orders import refund_base
from loyalty.earning.referrals import OrderReferralFacts
from loyalty.models import (
    Member,
    Order,
    Program,
    Reason,
    Referral,
    ReferralState,
    Refund,
    RefusalReason,
    Reward,
    Shop,
)
from loyalty.shopify.discounts import Grant, GrantRefused, GrantUnavailable, grant_make
from loyalty.stats.counters import shop_zone

from .ledger import points_record
from .programs import program_for
from .redemptions import CODE_ALPHABET

logger = logging.getLogger(__name__)

# Visits from one IP to one advocate's link within this reuse the first visit's referral and
# code, so reloading the link (or a bot hammering it) makes no new rows or discounts.
VISIT_REUSE = timedelta(days=1)
REFERRAL_CODE_LENGTH = 8


def referrals_on(program: Program) -> bool:
    """Whether the program rewards referrals at all (advocate points or a friend reward)."""
    return bool(program.referral_advocate_points or program.referral_friend_reward_kind)


def referral_url(*, shop: Shop, code: str) -> str:
    """The member's link: the app proxy on the shop's domain (Shopify forwards
    /apps/loyalty/r/<code> to the app's /proxy/r/<code>)."""
    return f"https://{shop.domain}/apps/loyalty/r/{code}"


def referral_code_ensure(*, member: Member) -> str:
    """The member's referral code, drawn and stored the first time it is needed."""
    if member.referral_code:
        return member.referral_code
    # 40 random bits: a clash within one shop is rare but possible; draw again.
    for _ in range(5):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(REFERRAL_CODE_LENGTH))
        try:
            with transaction.atomic():
                Member.objects.filter(pk=member.pk, referral_code="").update(referral_code=code)
        except IntegrityError:
            continue
        # Another request may have drawn one first: theirs stays.
        member.referral_code = Member.objects.filter(pk=member.pk).values_list(
            "referral_code", flat=True
        )[0]
        return member.referral_code
    raise RuntimeError("could not draw an unused referral code in 5 tries")


def fingerprint(text: str) -> str:
    """A keyed hash of an IP or an address, blank for blank: compared, never reversed."""
    if not text:
        return ""
    key = f"perennial-referrals:{settings.SECRET_KEY}".encode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def referral_visit(
    *, shop: Shop, code: str, ip: str, now: datetime | None = None
) -> Referral | None:
    """Record a visit to the referral link `code` from `ip` (kept only as a keyed hash).

    Answers the referral, reusing the visitor's own from the last day, with its friend code
    drawn when the program has a friend reward (Shopify is asked by
    `referral_discount_make`). None for a code no member of the shop has: nothing recorded.
    """
    now = now or timezone.now()
    code = code.strip().upper()
    if not code or len(code) > REFERRAL_CODE_LENGTH * 2:
        return None
    visitor = fingerprint(ip)
    with transaction.atomic():
        # The advocate's lock makes two quick visits from one IP find each other's row.
        advocate = Member.objects.select_for_update().filter(shop=shop, referral_code=code).first()
        if advocate is None:
            return None
        recent = (
            Referral.objects.filter(
                shop=shop,
                advocate=advocate,
                visit_ip_fingerprint=visitor,
                state=ReferralState.VISITED,
                visited_at__gte=now - VISIT_REUSE,
            )
            .order_by("-pk")
            .first()
        )
        if recent is not None:
            return recent
        referral = Referral(
            shop=shop, advocate=advocate, visited_at=now, visit_ip_fingerprint=visitor
        )
        if program_for(shop=shop).referral_friend_reward_kind:
            return _insert_with_friend_code(referral)
        referral.save(force_insert=True)
        return referral


def _insert_with_friend_code(referral: Referral) -> Referral:
    # A prefix of its own: a friend code never collides with a redeemed code at Shopify.
    for _ in range(5):
        letters = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        referral.code = f"FRIEND-{letters[:4]}-{letters[4:]}"
        try:
            with transaction.atomic():
                referral.save(force_insert=True)
            return referral
        except IntegrityError:
            referral.pk = None
    raise RuntimeError("could not draw an unused friend code in 5 tries")


def referral_discount_make(
    *, referral: Referral, timeout: float | None = None, now: datetime | None = None
) -> bool:
    """Make the referral's friend discount at Shopify unless made: the program's friend
    reward, for any buyer, used once (new customers only is enforced when the order comes:
    a friend who ordered before earns the advocate nothing). Answers whether it exists;
    a refusal or an outage is logged and the next visit tries again."""
    if referral.discount_id:
        return True
    if not referral.code:
        return False
    shop = referral.shop
    program = program_for(shop=shop)
    if not program.referral_friend_reward_kind:
        return False
    now = now or timezone.now()
    starts_at = referral.visited_at or now
    days = program.referral_friend_reward_expires_after_days
    reward = Reward(
        kind=program.referral_friend_reward_kind, value=program.referral_friend_reward_value
    )
    grant = Grant(
        code=referral.code,
        title=f"Friend reward: {reward.title(shop.currency)} ({referral.code})",
        kind=program.referral_friend_reward_kind,
        value=program.referral_friend_reward_value,
        currency=shop.currency,
        customer_id=None,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(days=days) if days else None,
        minimum_subtotal=program.referral_friend_reward_minimum_subtotal,
    )
    try:
        discount_id = grant_make(shop, grant, timeout=timeout)
    except (GrantRefused, GrantUnavailable) as exc:
        logger.warning("friend discount %s not made: %s", referral.code, exc)
        return False
    Referral.objects.filter(pk=referral.pk).update(discount_id=discount_id, updated_at=now)
    referral.discount_id = discount_id
    return True


def referral_members_lock(
    *,
    order: Order,
    customer_id: int | None = None,
    discount_codes: Sequence[str] = (),
    facts: OrderReferralFacts | None = None,
    settled_before: bool = True,
) -> Referral | None:
    """Order settlement calls this with the order's row locked, before any member's lock:
    when the order has (or may get) a referral, it locks the referral, then the advocate
    and the friend (the order's customer) in id order.

    Answers the referral already linked to the order (locked), for referral_order_settle.
    `settled_before` False says the order's row was never settled as seen: a referral is
    only linked to an order by its own settlement, so none can be and it is not read.
    """
    linked = None
    if settled_before:
        linked = (
            Referral.objects.select_for_update()
            .filter(shop_id=order.shop_id, order_id=order.order_id)
            .first()
        )
    referral = linked or _referral_named(
        shop_id=order.shop_id, discount_codes=discount_codes, facts=facts
    )
    if referral is None:
        return None
    members = {referral.advocate_id}
    if order.member_id is not None:
        members.add(order.member_id)
    elif customer_id is not None:
        members.update(
            Member.objects.filter(shop_id=order.shop_id, customer_id=customer_id).values_list(
                "pk", flat=True
            )
        )
    list(Member.objects.select_for_update().filter(pk__in=members).order_by("pk"))
    return linked


def referral_order_settle(
    *,
    order: Order,
    program: Program,
    linked: Referral | None,
    discount_codes: Sequence[str] = (),
    facts: OrderReferralFacts | None = None,
    now: datetime,
) -> None:
    """Order settlement's hook (the order's row is locked, its own points settled).

    `linked` is what referral_members_lock answered in the same transaction: the order's
    row lock keeps any other settlement from linking a referral to it in between.

    Keeps the buyer's fingerprints current, links the friend's first paid order to its
    referral once (by friend code, else by the referral code in the note attributes),
    refuses abuse with its reason or gives the advocate the program's points (pending for
    the hold), and takes them back when the order is fully refunded or cancelled within it.
    """
    if facts is not None and order.member_id is not None:
        _fingerprints_keep(member=order.member, facts=facts)
    referral = linked
    if referral is not None:
        if referral.state == ReferralState.ORDERED and _undone(order=order):
            _reverse(referral=referral, order=order, now=now)
        return
    if not order.paid or order.test or order.cancelled or order.member_id is None:
        return
    referral = _referral_named(shop_id=order.shop_id, discount_codes=discount_codes, facts=facts)
    if referral is not None:
        _link(referral=referral, order=order, program=program, facts=facts, now=now)


def _fingerprints_keep(*, member: Member, facts: OrderReferralFacts) -> None:
    # Hashes of an address or IP are personal data: a redacted member's are never kept again.
    if member.redacted_at is not None:
        return
    changes = {}
    for field, text in (
        ("address_fingerprint", facts.address),
        ("checkout_ip_fingerprint", facts.checkout_ip),
    ):
        value = fingerprint(text)
        if value and getattr(member, field) != value:
            changes[field] = value
            setattr(member, field, value)
    if changes:
        Member.objects.filter(pk=member.pk, redacted_at__isnull=True).update(**changes)


def _referral_named(
    *, shop_id: int, discount_codes: Sequence[str], facts: OrderReferralFacts | None
) -> Referral | None:
    """The unlinked referral whose friend code the order used (locked), or a new one for the
    advocate its note attributes name; None for neither."""
    codes = {code.strip().upper() for code in discount_codes if code and code.strip()}
    if codes:
        found = (
            Referral.objects.select_for_update()
            .filter(shop_id=shop_id, code__in=codes, order_id__isnull=True)
            .order_by("pk")
            .first()
        )
        if found is not None:
            return found
    if facts is None or not facts.referral_code:
        return None
    advocate = Member.objects.filter(shop_id=shop_id, referral_code=facts.referral_code).first()
    if advocate is None:
        return None
    return Referral(shop_id=shop_id, advocate=advocate)


def _link(
    *,
    referral: Referral,
    order: Order,
    program: Program,
    facts: OrderReferralFacts | None,
    now: datetime,
) -> None:
    friend = order.member
    referral.order_id = order.order_id
    referral.order_name = order.name
    referral.ordered_at = order.placed_at or now
    referral.friend_customer_id = friend.customer_id
    referral.friend_email = friend.email
    # Already locked (referral_members_lock): two friends' orders count the cap in turn.
    advocate = Member.objects.select_for_update().get(pk=referral.advocate_id)
    advocate.shop = order.shop
    refusal = _refusal(advocate=advocate, friend=friend, order=order, program=program, facts=facts)
    if refusal:
        referral.state = ReferralState.REFUSED
        referral.refusal_reason = refusal
        referral.save()
        return
    points = program.referral_advocate_points
    held = program.hold_days > 0 and points > 0
    referral.points = points
    referral.state = ReferralState.ORDERED if held else ReferralState.REWARDED
    referral.release_at = now + timedelta(days=program.hold_days) if held else None
    referral.rewarded_at = None if held else now
    referral.save()
    if points:
        points_record(
            member=advocate,
            points=0 if held else points,
            pending_points=points if held else 0,
            reason=Reason.REFERRAL_REWARDED,
            idempotency_key=f"referral:{referral.pk}:rewarded",
            order_id=order.order_id,
            available_at=referral.release_at,
            note=f"Friend's order {order.name}".strip(),
            # In the friend's figures row, which their own entry already holds.
            counted_with=friend,
        )


def _refusal(
    *,
    advocate: Member,
    friend: Member,
    order: Order,
    program: Program,
    facts: OrderReferralFacts | None,
) -> str:
    if friend.pk == advocate.pk:
        return RefusalReason.SAME_CUSTOMER
    if friend.email and friend.email.strip().lower() == advocate.email.strip().lower():
        return RefusalReason.SAME_EMAIL
    if facts is not None:
        address = fingerprint(facts.address)
        if address and address == advocate.address_fingerprint:
            return RefusalReason.SAME_ADDRESS
        ip = fingerprint(facts.checkout_ip)
        if ip and ip == advocate.checkout_ip_fingerprint:
            return RefusalReason.SAME_CHECKOUT_IP
    earlier = Order.objects.filter(
        shop_id=order.shop_id, member_id=friend.pk, paid=True, test=False
    ).exclude(order_id=order.order_id)
    if order.placed_at is not None:
        earlier = earlier.filter(placed_at__lt=order.placed_at)
    if earlier.exists():
        return RefusalReason.ORDERED_BEFORE
    if program.referral_monthly_cap is not None:
        start, end = _month(order.placed_at or timezone.now(), order.shop.timezone)
        rewarded = Referral.objects.filter(
            advocate=advocate,
            state__in=(ReferralState.ORDERED, ReferralState.REWARDED),
            ordered_at__gte=start,
            ordered_at__lt=end,
        ).count()
        if rewarded >= program.referral_monthly_cap:
            return RefusalReason.MONTHLY_CAP
    return ""


def _month(moment: datetime, timezone_name: str) -> tuple[datetime, datetime]:
    """The calendar month around `moment` in the shop's timezone, as aware times."""
    local = moment.astimezone(shop_zone(timezone_name))
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    # Python adds to a zoned time on the wall clock, so this is the next month's midnight
    # even across a change of UTC offset.
    return start, (start + timedelta(days=32)).replace(day=1)


def _undone(*, order: Order) -> bool:
    """Whether the order was cancelled or refunded in full (its whole earning base)."""
    if order.cancelled:
        return True
    if not order.has_refunds or not order.earning_base:
        return False
    refunded = sum(
        refund_base(
            line_subtotal=refund.line_subtotal,
            line_tax=refund.line_tax,
            taxes_included=order.taxes_included,
        )
        for refund in Refund.objects.filter(shop_id=order.shop_id, order_id=order.order_id)
    )
    return refunded >= order.earning_base


def _reverse(*, referral: Referral, order: Order, now: datetime) -> None:
    if referral.release_at is None or referral.release_at <= now:
        # The hold is over: the reward stands (the release job makes it available).
        return
    advocate = Member.objects.select_for_update().get(pk=referral.advocate_id)
    advocate.shop = order.shop
    points_record(
        member=advocate,
        pending_points=-referral.points,
        reason=Reason.REFERRAL_REVERSED,
        idempotency_key=f"referral:{referral.pk}:reversed",
        order_id=order.order_id,
        note=f"Friend's order {order.name} {'cancelled' if order.cancelled else 'refunded'}",
        # In the friend's figures row, which their refund's entry already holds.
        counted_with=order.member,
    )
    referral.state = ReferralState.REVERSED
    referral.release_at = None
    referral.save(update_fields=["state", "release_at", "updated_at"])


def referral_rewards_release(*, now: datetime | None = None, limit: int = 500) -> int:
    """Make held referral points past their hold available. Answers referrals released."""
    now = now or timezone.now()
    due = list(
        Referral.objects.filter(release_at__lte=now, state=ReferralState.ORDERED)
        .order_by("release_at")
        .values_list("pk", flat=True)[:limit]
    )
    released = 0
    for pk in due:
        try:
            released += _release(pk=pk, now=now)
        except Exception:  # noqa: BLE001 - one broken referral must not hold back the others
            logger.exception("could not release the points of referral %s", pk)
    return released


def _release(*, pk: int, now: datetime) -> int:
    with transaction.atomic(savepoint=False):
        referral = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("advocate__shop")
            .get(pk=pk)
        )
        if referral.state != ReferralState.ORDERED or referral.release_at is None:
            return 0
        if referral.release_at > now:
            return 0
        points_record(
            member=referral.advocate,
            points=referral.points,
            pending_points=-referral.points,
            reason=Reason.POINTS_RELEASED,
            idempotency_key=f"referral:{referral.pk}:released",
            order_id=referral.order_id,
        )
        referral.state = ReferralState.REWARDED
        referral.rewarded_at = now
        referral.release_at = None
        referral.save(update_fields=["state", "rewarded_at", "release_at", "updated_at"])
        return 1
