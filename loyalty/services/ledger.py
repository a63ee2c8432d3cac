"""The one writer of points: every change to a balance goes through `points_record`."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef

from loyalty.models import LedgerEntry, Member


def points_record(
    *,
    member: Member,
    reason: str,
    idempotency_key: str,
    points: int = 0,
    pending_points: int = 0,
    order_id: int | None = None,
    refund_id: int | None = None,
    available_at: datetime | None = None,
    actor: str = "",
    note: str = "",
) -> LedgerEntry:
    """Append one ledger entry and move the member's balances with it, atomically.

    `points` changes available points, `pending_points` points on hold; either may be
    negative. Safe to retry: an entry with the same `idempotency_key` in the member's shop
    is returned as it is and nothing changes. Locks the member row, so concurrent writers
    to one member are serialised and none can lose an update. Raises ValueError for an
    entry that changes nothing or would take pending points below zero.
    """
    if points == 0 and pending_points == 0:
        raise ValueError("a ledger entry must change points")
    # No savepoint of its own: any failure here fails the caller's whole operation.
    with transaction.atomic(savepoint=False):
        # Lock, and look for the key under the lock (one query): a key always belongs to
        # one member, so two retries of one operation queue on this lock and the second
        # finds the first's entry.
        key_used = LedgerEntry.objects.filter(
            shop_id=OuterRef("shop_id"), idempotency_key=idempotency_key
        )
        locked = (
            Member.objects.select_for_update().annotate(key_used=Exists(key_used)).get(pk=member.pk)
        )
        if locked.key_used:
            return LedgerEntry.objects.get(shop_id=locked.shop_id, idempotency_key=idempotency_key)
        if locked.pending + pending_points < 0:
            raise ValueError(
                f"member {locked.customer_id} has {locked.pending} pending points, "
                f"cannot take {-pending_points}"
            )
        sequence = (locked.last_sequence or 0) + 1
        entry = LedgerEntry.objects.create(
            shop_id=locked.shop_id,
            member=locked,
            sequence=sequence,
            prev_sequence=locked.last_sequence,
            prev_balance=locked.balance,
            prev_pending=locked.pending,
            points=points,
            pending_points=pending_points,
            balance_after=locked.balance + points,
            pending_after=locked.pending + pending_points,
            reason=reason,
            idempotency_key=idempotency_key,
            order_id=order_id,
            refund_id=refund_id,
            available_at=available_at,
            actor=actor[:255],
            note=note,
        )
        Member.objects.filter(pk=locked.pk).update(
            balance=entry.balance_after, pending=entry.pending_after, last_sequence=sequence
        )
        member.balance = entry.balance_after
        member.pending = entry.pending_after
        member.last_sequence = sequence
        return entry
