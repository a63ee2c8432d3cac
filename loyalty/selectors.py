"""Reads for views and the storefront: every query scoped by shop."""

from __future__ import annotations

from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Coalesce

from loyalty.models import Member, Shop


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
