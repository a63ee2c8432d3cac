"""Members: made from the customers Shopify tells us about, adjusted by the merchant."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from loyalty.earning.orders import Customer
from loyalty.models import LedgerEntry, Member, Reason, Referral, Shop
from loyalty.stats.counters import figures_member_add

from .ledger import points_record
from .programs import program_for
from .rows import insert_if_absent


def member_from_customer(*, shop: Shop, customer: Customer, lock: bool = False) -> Member:
    """The member for a Shopify customer, made on first sight; keeps email and name current.

    An older customer record never overwrites a newer one (webhooks arrive out of order),
    and a redacted member's personal data is never stored again. `lock` answers the
    member's row locked for the caller's transaction, with its tier loaded (order
    settlement, which would otherwise read it a second time to lock it).
    """
    members = Member.objects.filter(shop=shop, customer_id=customer.customer_id)
    if lock:
        members = members.select_for_update(of=("self",)).select_related("tier")
    member = members.first()
    if member is None:
        made = Member(
            shop=shop,
            customer_id=customer.customer_id,
            email=customer.email,
            first_name=customer.first_name,
            last_name=customer.last_name,
            customer_updated_at=customer.updated_at,
        )
        # The member and its count in the daily figures are written together.
        with transaction.atomic(savepoint=False):
            member = insert_if_absent(made, unique=("shop_id", "customer_id"))
            if member is not None:
                member.shop = shop
                figures_member_add(member=member)
                return member
        # A concurrent delivery made it first: carry on with theirs.
        member = members.get()
    # Ledger entries written for this member find the shop's timezone here.
    member.shop = shop
    if member.redacted_at is not None:
        return member
    changes = {
        "email": customer.email or member.email,
        "first_name": customer.first_name or member.first_name,
        "last_name": customer.last_name or member.last_name,
    }
    newer = customer.updated_at is None or member.customer_updated_at is None
    newer = newer or customer.updated_at >= member.customer_updated_at
    if not newer or all(getattr(member, k) == v for k, v in changes.items()):
        return member
    if customer.updated_at is not None:
        changes["customer_updated_at"] = customer.updated_at
    # Conditional update: a concurrent newer update must not be overwritten by this one.
    stale_guard = Q(customer_updated_at__isnull=True)
    if customer.updated_at is not None:
        stale_guard |= Q(customer_updated_at__lte=customer.updated_at)
    Member.objects.filter(stale_guard, pk=member.pk, redacted_at__isnull=True).update(**changes)
    for field, value in changes.items():
        setattr(member, field, value)
    return member


def signup_bonus_award(*, member: Member) -> LedgerEntry | None:
    """Award the program's signup bonus once per member; None when the program has none."""
    program = program_for(shop=member.shop)
    if program.signup_points <= 0:
        return None
    return points_record(
        member=member,
        points=program.signup_points,
        reason=Reason.SIGNUP_BONUS,
        idempotency_key=f"signup:{member.customer_id}",
    )


def member_adjust(*, member: Member, points: int, reason: str, actor: str, key: str) -> LedgerEntry:
    """A manual change by the store, recorded with who made it and why.

    `key` makes a retried request safe (the admin sends one per submitted form). Raises
    ledger.BalanceOutOfRange for a change the balance cannot hold; nothing is written.
    """
    if not reason.strip():
        raise ValueError("an adjustment needs a reason")
    # Its own savepoint: a refused adjustment leaves a caller's transaction usable.
    with transaction.atomic():
        return points_record(
            member=member,
            points=points,
            reason=Reason.MANUAL_ADJUSTMENT,
            idempotency_key=f"adjust:{key}",
            actor=actor,
            note=reason.strip(),
        )


def member_redact(*, shop: Shop, customer_id: int) -> Member:
    """Erase what identifies a customer, keeping their points and ledger as anonymous totals.

    A customer the app has not seen yet is kept as an empty, redacted member, so a delivery
    about them processed later cannot store their data again.
    """
    with transaction.atomic():
        member, created = Member.objects.select_for_update().get_or_create(
            shop=shop, customer_id=customer_id, defaults={"redacted_at": timezone.now()}
        )
        if created:
            figures_member_add(member=member)
            return member
        Member.objects.filter(pk=member.pk).update(
            email="",
            first_name="",
            last_name="",
            address_fingerprint="",
            checkout_ip_fingerprint="",
            redacted_at=timezone.now(),
        )
        # Merchant-written notes on adjustments may name the customer.
        LedgerEntry.objects.filter(member=member).exclude(note="").update(note="")
        # A referral keeps the friend's email for the merchant's list (docs/referrals.md).
        Referral.objects.filter(shop=shop, friend_customer_id=customer_id).update(friend_email="")
        member.refresh_from_db()
        return member
