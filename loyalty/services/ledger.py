"""The one writer of points: every change to a balance goes through `points_record`."""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction

from loyalty.models import LedgerEntry, Member, Reason
from loyalty.stats.counters import figures_entry_add

from .rows import insert_if_absent
from .storefront_sync import storefront_member_changed

# Balances are 32-bit integers in the database.
LARGEST_BALANCE = 2**31 - 1


# Points given back or moved from pending to available are not something the member did.
NOT_ACTIVITY = frozenset(
    {Reason.POINTS_RELEASED, Reason.REDEMPTION_REFUNDED, Reason.CODE_EXPIRED_REFUND}
)


def is_activity(*, reason: str, points: int, pending_points: int) -> bool:
    """Whether an entry restarts the member's points-expiry clock (docs/dates.md): every
    redemption, and every entry that adds points (earned, a bonus, an import, a merchant's
    adjustment up) except points given back or released."""
    if reason == Reason.REWARD_REDEEMED:
        return True
    return points + pending_points > 0 and reason not in NOT_ACTIVITY


class BalanceOutOfRange(ValueError):
    """An entry would take a balance past what the database can hold."""


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
    counted_with: Member | None = None,
) -> LedgerEntry:
    """Append one ledger entry and move the member's balances with it, atomically.

    `points` changes available points, `pending_points` points on hold; either may be
    negative. Safe to retry: an entry with the same `idempotency_key` in the member's shop
    is returned as it is and nothing changes. Locks the member row, so concurrent writers
    to one member are serialised and none can lose an update. Counts the entry in the
    shop's daily figures (loyalty.stats.counters), marks the member's storefront
    metafields stale (loyalty.services.storefront_sync) and, for earning or redeeming
    (`is_activity`), moves `Member.last_activity_at`, all in the same transaction. Raises
    ValueError for an entry that changes nothing or would take pending points below zero,
    KeyError for a reason the daily figures do not map.

    `counted_with`: another member whose daily figures row counts the entry, for one
    transaction that moves two members' points (a referral): counting both in one row keeps
    two such transactions from each holding one row and waiting for the other's.
    """
    if points == 0 and pending_points == 0:
        raise ValueError("a ledger entry must change points")
    # No savepoint of its own: any failure here fails the caller's whole operation.
    with transaction.atomic(savepoint=False):
        # Lock the member first: a key always belongs to one member, so two retries of one
        # operation queue on this lock, and the second finds the first's entry by its key.
        balance, pending, last_sequence = _locked_balances(member.pk)
        if pending + pending_points < 0:
            raise ValueError(
                f"member {member.customer_id} has {pending} pending points, "
                f"cannot take {-pending_points}"
            )
        if not -LARGEST_BALANCE <= balance + points <= LARGEST_BALANCE or (
            pending + pending_points > LARGEST_BALANCE
        ):
            raise BalanceOutOfRange(
                f"This would take member {member.customer_id}'s points past "
                f"{LARGEST_BALANCE:,}, the most a balance can hold."
            )
        sequence = (last_sequence or 0) + 1
        entry = insert_if_absent(
            LedgerEntry(
                shop_id=member.shop_id,
                member_id=member.pk,
                sequence=sequence,
                prev_sequence=last_sequence,
                prev_balance=balance,
                prev_pending=pending,
                points=points,
                pending_points=pending_points,
                balance_after=balance + points,
                pending_after=pending + pending_points,
                reason=reason,
                idempotency_key=idempotency_key,
                order_id=order_id,
                refund_id=refund_id,
                available_at=available_at,
                actor=actor[:255],
                note=note,
            ),
            unique=("shop_id", "idempotency_key"),
        )
        if entry is None:
            return LedgerEntry.objects.get(shop_id=member.shop_id, idempotency_key=idempotency_key)
        activity = is_activity(reason=reason, points=points, pending_points=pending_points)
        active_at = connection.ops.adapt_datetimefield_value(entry.created_at) if activity else None
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE loyalty_member SET balance = %s, pending = %s, last_sequence = %s, "
                "last_activity_at = COALESCE(%s, last_activity_at) WHERE id = %s",
                [entry.balance_after, entry.pending_after, sequence, active_at, member.pk],
            )
        if activity:
            member.last_activity_at = entry.created_at
        member.balance = entry.balance_after
        member.pending = entry.pending_after
        member.last_sequence = sequence
        figures_entry_add(member=counted_with or member, entry=entry)
        storefront_member_changed(member=member)
        return entry


LOCK_BALANCES = "SELECT balance, pending, last_sequence FROM loyalty_member WHERE id = %s"


def _locked_balances(member_id: int) -> tuple[int, int, int | None]:
    # SQLite has no FOR UPDATE; its write transactions are serialised anyway.
    sql = LOCK_BALANCES + (" FOR UPDATE" if connection.features.has_select_for_update else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, [member_id])
        row = cursor.fetchone()
    if row is None:
        raise Member.DoesNotExist(f"no member {member_id}")
    return row
