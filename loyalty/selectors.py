"""Reads for views and the storefront: every query scoped by shop."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Coalesce, Lower

from loyalty.models import LedgerEntry, Member, PrivacyRequest, Reward, Shop


def member_account(*, shop: Shop | None, customer_id: int) -> dict:
    """What a shopper sees of their points: zeros for a customer with none yet."""
    member = None
    if shop is not None:
        member = (
            Member.objects.filter(shop=shop, customer_id=customer_id)
            .only("balance", "pending")
            .first()
        )
    return {
        "guest": False,
        "customer_id": str(customer_id),
        "balance": member.balance if member else 0,
        "pending": member.pending if member else 0,
    }


def ledger_drift(*, shop: Shop) -> list[dict]:
    """Members of a shop whose stored balances differ from their ledger's sums, or whose
    last sequence is not their number of entries. Empty when the invariant holds."""
    zero = Value(0)
    return list(
        Member.objects.filter(shop=shop)
        .annotate(
            ledger_balance=Coalesce(Sum("ledger_entries__points"), zero),
            ledger_pending=Coalesce(Sum("ledger_entries__pending_points"), zero),
            entries=Count("ledger_entries"),
            sequence=Coalesce("last_sequence", zero),
        )
        .filter(
            ~Q(balance=F("ledger_balance"))
            | ~Q(pending=F("ledger_pending"))
            | ~Q(sequence=F("entries"))
        )
        .values(
            "customer_id",
            "balance",
            "ledger_balance",
            "pending",
            "ledger_pending",
            "last_sequence",
            "entries",
        )
    )


MEMBERS_PAGE_SIZE = 50
MEMBER_ENTRIES_SHOWN = 100
# Shopify ids are positive 64-bit integers; a longer run of digits cannot be one.
_LARGEST_ID = 2**63 - 1


def members_search(
    *, shop: Shop, q: str = "", after_id: int | None = None, limit: int = MEMBERS_PAGE_SIZE
) -> tuple[list[Member], bool]:
    """One page of a shop's members matching `q`, in member id order, after `after_id`.

    `q` matches an email, first name or last name by prefix, ignoring case; all digits, it
    also matches a customer id exactly; two words match a first name and a last name by
    prefix ("ada love"). An empty `q` lists every member. Returns the page and whether
    more members follow it. Each match is served by an index (migration 0004).
    """
    members = Member.objects.filter(shop=shop)
    q = q.strip()
    if "\x00" in q:
        # No stored email or name holds a NUL, and PostgreSQL refuses one as a parameter.
        return [], False
    if q:
        prefix = q.lower()
        matches = (
            Q(email_lower__startswith=prefix)
            | Q(first_name_lower__startswith=prefix)
            | Q(last_name_lower__startswith=prefix)
        )
        first, _, last = prefix.partition(" ")
        if last.strip():
            matches |= Q(
                first_name_lower__startswith=first, last_name_lower__startswith=last.strip()
            )
        if q.isascii() and q.isdigit() and int(q) <= _LARGEST_ID:
            matches |= Q(customer_id=int(q))
        members = members.alias(
            email_lower=Lower("email"),
            first_name_lower=Lower("first_name"),
            last_name_lower=Lower("last_name"),
        ).filter(matches)
    if after_id is not None:
        members = members.filter(id__gt=after_id)
    page = list(members.order_by("id")[: limit + 1])
    return page[:limit], len(page) > limit


def member_find(*, shop: Shop, customer_id: int) -> Member | None:
    """The shop's member for a customer id; None when this shop has no such member."""
    if not 0 < customer_id <= _LARGEST_ID:
        return None
    return Member.objects.filter(shop=shop, customer_id=customer_id).first()


def member_tier_name(*, member: Member) -> str | None:
    """The name of the member's VIP tier; None below the lowest tier or when the shop has none."""
    return member.tier.name if member.tier_id is not None else None


def member_entries(*, member: Member, limit: int = MEMBER_ENTRIES_SHOWN) -> list[LedgerEntry]:
    """A member's newest ledger entries, newest first."""
    return list(LedgerEntry.objects.filter(member=member).order_by("-sequence")[:limit])


def rewards_catalogue(*, shop: Shop) -> list[Reward]:
    """The shop's rewards that are not deleted, cheapest first, disabled ones included."""
    return list(
        Reward.objects.filter(shop=shop, deleted_at__isnull=True).order_by("points_cost", "id")
    )


def reward_find(*, shop: Shop, reward_id: int) -> Reward | None:
    """The shop's reward with this id; None when it is another shop's, deleted or unknown."""
    return Reward.objects.filter(shop=shop, pk=reward_id, deleted_at__isnull=True).first()


EXPORT_PAGE_SIZE = 2000


def members_export_pages(
    *, shop: Shop, page_size: int = EXPORT_PAGE_SIZE
) -> Iterator[list[Member]]:
    """Every member of a shop in member id order, one page at a time.

    Pages are read by keyset (id after the last one seen), each in its own short query, so
    an export of a million members holds one page in memory and no long-lived cursor.
    """
    members = Member.objects.filter(shop=shop).order_by("id")
    last_id = 0
    while page := list(members.filter(id__gt=last_id)[:page_size]):
        yield page
        last_id = page[-1].pk


def ledger_export_pages(
    *, shop: Shop, start: datetime, end: datetime, page_size: int = EXPORT_PAGE_SIZE
) -> Iterator[list[dict]]:
    """A shop's ledger entries made in [start, end), in entry id order, a page at a time.

    Each entry is a dict of its columns with the member's `customer_id`. Read by keyset
    like `members_export_pages`.
    """
    entries = (
        LedgerEntry.objects.filter(shop=shop, created_at__gte=start, created_at__lt=end)
        .order_by("id")
        .values(
            "id",
            "created_at",
            "member__customer_id",
            "points",
            "pending_points",
            "balance_after",
            "pending_after",
            "reason",
            "order_id",
            "refund_id",
            "actor",
            "note",
        )
    )
    last_id = 0
    while page := list(entries.filter(id__gt=last_id)[:page_size]):
        yield page
        last_id = page[-1]["id"]


PRIVACY_REQUESTS_SHOWN = 200


def privacy_requests_recent(
    *, shop: Shop, limit: int = PRIVACY_REQUESTS_SHOWN
) -> list[PrivacyRequest]:
    """The shop's newest customer data requests from Shopify, newest first."""
    return list(PrivacyRequest.objects.filter(shop=shop).order_by("-received_at", "-id")[:limit])
