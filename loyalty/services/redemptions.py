"""Redeeming rewards: points become a Shopify discount code or store credit, never lost.

The debit and the redemption row are one transaction under the member's lock, so many
redemptions at once never spend more than the balance. Shopify is asked afterwards, as
many times as it takes, always for the same code; when it refuses or stays unreachable the
redemption fails and its points come back, once (docs/redemptions.md).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from loyalty.models import (
    Member,
    NotificationKind,
    Reason,
    Redemption,
    RedemptionStatus,
    Reward,
    RewardKind,
    Shop,
    Tier,
)
from loyalty.shopify.discounts import (
    Grant,
    GrantRefused,
    GrantUnavailable,
    grant_find,
    grant_make,
)

from .ledger import points_record
from .notifications import notification_record
from .programs import program_for

logger = logging.getLogger(__name__)

# Tries at Shopify before a redemption fails and gives its points back. A discount code's
# last try that gets no answer is followed by tries that only ask Shopify whether the code
# exists (the unanswered call may have made it): the points come back only once Shopify
# says it has no such code.
MAX_ATTEMPTS = 8
# How long one try may take before another worker may start one (well past any timeout).
CLAIM_SECONDS = 120
# A code is marked expired this long after its end, so an order placed just before the end
# whose webhook comes late still finds it unexpired.
EXPIRY_GRACE = timedelta(days=1)
# No 0/O, 1/I/L: a shopper reads the code off a screen and types it.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class RedemptionRefused(Exception):
    """The member cannot have this reward now; nothing was changed. `code` names why."""

    code = "refused"


class RewardUnavailable(RedemptionRefused):
    code = "reward_unavailable"


class PointsInvalid(RedemptionRefused):
    code = "invalid_points"


class NotEnoughPoints(RedemptionRefused):
    code = "not_enough_points"


class NegativeBalance(RedemptionRefused):
    code = "negative_balance"


class TierRequired(RedemptionRefused):
    code = "tier_required"


def reward_redeem(
    *,
    shop: Shop,
    customer_id: int,
    reward: Reward,
    points: int | None = None,
    now: datetime | None = None,
) -> Redemption:
    """Spend a member's points on `reward`: debit them and store a pending redemption with
    its code, in one transaction. `points` is the amount chosen for a variable reward
    (None: the reward's `points_cost`).

    Raises RewardUnavailable (disabled or deleted), TierRequired (the reward's minimum tier
    is above the member's), PointsInvalid (an amount the reward does not offer),
    NegativeBalance or NotEnoughPoints; nothing changes then. Shopify is not
    called here: `redemption_deliver` does that once this has committed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # The member's lock serialises every redemption (and every other points change) of
        # one member, so the balance read here is still the balance when the debit lands.
        member = (
            Member.objects.select_for_update().filter(shop=shop, customer_id=customer_id).first()
        )
        current = (
            Reward.objects.filter(shop=shop, pk=reward.pk).select_related("minimum_tier").first()
        )
        if current is None or current.deleted_at is not None or not current.enabled:
            raise RewardUnavailable("This reward is no longer offered.")
        _check_tier(member, current.minimum_tier)
        spend = _points_to_spend(current, points)
        balance = member.balance if member else 0
        if balance < 0:
            raise NegativeBalance(
                f"Your balance is {balance} points, below zero after a refund; "
                "earn points again before redeeming."
            )
        if balance < spend:
            raise NotEnoughPoints(
                f"This reward costs {spend} points and you have {balance}; "
                f"earn {spend - balance} more to redeem it."
            )
        redemption = _insert_with_fresh_code(
            Redemption(
                shop=shop,
                member=member,
                reward=current,
                kind=current.kind,
                points=spend,
                value=current.value_for(spend),
                currency=shop.currency,
                expires_at=(
                    now + timedelta(days=current.expires_after_days)
                    if current.expires_after_days and current.kind != RewardKind.STORE_CREDIT
                    else None
                ),
                retry_at=now,
            )
        )
        points_record(
            member=member,
            points=-spend,
            reason=Reason.REWARD_REDEEMED,
            idempotency_key=f"redemption:{redemption.pk}:redeemed",
            note=f"{current.title(shop.currency)} ({redemption.code})",
        )
    return redemption


def _check_tier(member: Member | None, minimum: Tier | None) -> None:
    if minimum is None:
        return
    # Read under the member's lock, so a demotion that committed first is seen.
    reached = member.tier if member is not None and member.tier_id is not None else None
    if reached is None or reached.threshold < minimum.threshold:
        raise TierRequired(
            f"This reward is for {minimum.name} members and higher tiers; reach {minimum.name} "
            "to redeem it."
        )


def _points_to_spend(reward: Reward, points: int | None) -> int:
    if not reward.variable:
        if points is not None and points != reward.points_cost:
            raise PointsInvalid(f"This reward costs exactly {reward.points_cost} points.")
        return reward.points_cost
    if points is None:
        return reward.points_cost
    if (
        points < reward.points_cost
        or points > reward.maximum_points
        or points % reward.points_step != 0
    ):
        raise PointsInvalid(
            f"Choose from {reward.points_cost} to {reward.maximum_points} points "
            f"in steps of {reward.points_step}."
        )
    return points


def code_generate() -> str:
    """An unguessable code a shopper can type: PRN-XXXX-XXXX, 40 random bits."""
    letters = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"PRN-{letters[:4]}-{letters[4:]}"


def _insert_with_fresh_code(redemption: Redemption) -> Redemption:
    # A clash of 40 random bits within one shop is rare but possible; draw again.
    for _ in range(5):
        redemption.code = code_generate()
        try:
            with transaction.atomic():
                redemption.save(force_insert=True)
            return redemption
        except IntegrityError:
            if Redemption.objects.filter(shop=redemption.shop, code=redemption.code).exists():
                redemption.pk = None
                continue
            raise
    raise RuntimeError("could not draw an unused redemption code in 5 tries")


def redemption_deliver(
    *,
    redemption_id: int,
    timeout: float | None = None,
    now: datetime | None = None,
) -> tuple[Redemption, bool]:
    """One try at making a pending redemption's discount (or store credit) at Shopify.

    Answers the redemption as it is afterwards, and whether this call tried: ready (made),
    failed (Shopify refused, or this was the last try; the points are back), or still
    pending (try again at `retry_at`). A redemption that is not due yet, that another
    worker is trying right now, or that is no longer pending is answered untouched (False):
    a second job message for one redemption never tries early or twice.
    """
    now = now or timezone.now()
    claimed = (
        Redemption.objects.filter(
            pk=redemption_id, status=RedemptionStatus.PENDING, retry_at__lte=now
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    redemption = Redemption.objects.select_related("shop", "member", "reward").get(pk=redemption_id)
    if not claimed:
        return redemption, False
    has_code = redemption.kind != RewardKind.STORE_CREDIT
    try:
        if has_code and redemption.attempts > MAX_ATTEMPTS:
            shopify_id = grant_find(redemption.shop, redemption.code, timeout=timeout)
            if shopify_id is None:
                why = (
                    f"Shopify could not be reached in {MAX_ATTEMPTS} tries: {redemption.last_error}"
                )
                return _fail(redemption, why=why), True
        else:
            shopify_id = grant_make(redemption.shop, _grant(redemption, now), timeout=timeout)
    except GrantRefused as exc:
        logger.warning("Shopify refused redemption %s: %s", redemption.pk, exc)
        return _fail(redemption, why=f"Shopify refused the reward: {exc}"), True
    except GrantUnavailable as exc:
        if redemption.attempts >= MAX_ATTEMPTS and not has_code:
            why = f"Shopify could not be reached in {redemption.attempts} tries: {exc}"
            return _fail(redemption, why=why), True
        redemption.retry_at = now + retry_delay(redemption.attempts)
        redemption.last_error = str(exc)[:2000]
        redemption.claimed_until = None
        Redemption.objects.filter(pk=redemption.pk).update(
            retry_at=redemption.retry_at,
            last_error=redemption.last_error,
            claimed_until=None,
            updated_at=now,
        )
        return redemption, True
    return _ready(redemption, shopify_id=shopify_id, now=now), True


def retry_delay(attempts: int) -> timedelta:
    """Backoff after `attempts` failed tries: 10 s, 20 s, 40 s … capped at 10 minutes."""
    return timedelta(seconds=min(10 * 2 ** (attempts - 1), 600))


def _grant(redemption: Redemption, now: datetime) -> Grant:
    reward = redemption.reward
    return Grant(
        code=redemption.code,
        title=f"{reward.title(redemption.currency)} ({redemption.code})",
        kind=redemption.kind,
        value=redemption.value,
        currency=redemption.currency,
        customer_id=redemption.member.customer_id,
        starts_at=redemption.created_at or now,
        ends_at=redemption.expires_at,
        minimum_subtotal=reward.minimum_subtotal,
        product_id=reward.product_id,
    )


def _ready(redemption: Redemption, *, shopify_id: str, now: datetime) -> Redemption:
    credit = redemption.kind == RewardKind.STORE_CREDIT
    column = "store_credit_transaction_id" if credit else "discount_id"
    with transaction.atomic():
        Redemption.objects.filter(pk=redemption.pk, status=RedemptionStatus.PENDING).update(
            # An order already carried the code (redemptions_use): it is used, not ready.
            status=Case(
                When(used_order_id__isnull=False, then=Value(RedemptionStatus.USED)),
                default=Value(RedemptionStatus.READY),
            ),
            claimed_until=None,
            retry_at=None,
            last_error="",
            updated_at=now,
            **{column: shopify_id},
        )
        redemption.refresh_from_db()
        if redemption.status == RedemptionStatus.READY and redemption.member_id is not None:
            notification_record(
                member=redemption.member,
                kind=NotificationKind.REWARD_READY,
                key=f"redemption:{redemption.pk}:ready",
                code="" if credit else redemption.code,
            )
    return redemption


def _fail(redemption: Redemption, *, why: str) -> Redemption:
    """Mark the redemption failed and give its points back, once."""
    with transaction.atomic():
        locked = Redemption.objects.select_for_update().get(pk=redemption.pk)
        if locked.status != RedemptionStatus.PENDING:
            return locked
        locked.status = RedemptionStatus.FAILED
        locked.last_error = why[:2000]
        locked.claimed_until = None
        locked.retry_at = None
        locked.save(
            update_fields=["status", "last_error", "claimed_until", "retry_at", "updated_at"]
        )
        points_record(
            member=redemption.member,
            points=locked.points,
            reason=Reason.REDEMPTION_REFUNDED,
            idempotency_key=f"redemption:{locked.pk}:refunded",
            note=why[:1000],
        )
    return locked


def redemptions_overdue(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Pending redemptions whose next try is more than a minute overdue: their job message
    was lost (a worker killed, a broker restarted). The sweeper sends them again."""
    now = now or timezone.now()
    return list(
        Redemption.objects.filter(
            status=RedemptionStatus.PENDING, retry_at__lt=now - timedelta(minutes=1)
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("retry_at")
        .values_list("pk", flat=True)[:limit]
    )


def redemptions_expire(*, now: datetime | None = None, limit: int = 2000) -> int:
    """Mark ready codes past their end (and the grace) expired; with the program's
    `expired_code_points_return` on, give their points back, once. Answers how many."""
    now = now or timezone.now()
    due = list(
        Redemption.objects.filter(
            status=RedemptionStatus.READY, expires_at__lte=now - EXPIRY_GRACE
        ).values_list("pk", flat=True)[:limit]
    )
    expired = 0
    for pk in due:
        try:
            expired += _expire(pk=pk, now=now)
        except Exception:  # noqa: BLE001 - one broken row must not hold back the others
            logger.exception("could not expire redemption %s", pk)
    return expired


def _expire(*, pk: int, now: datetime) -> int:
    with transaction.atomic():
        redemption = (
            Redemption.objects.select_for_update(of=("self",))
            .select_related("member", "shop")
            .get(pk=pk)
        )
        if redemption.status != RedemptionStatus.READY or redemption.expires_at is None:
            return 0
        if redemption.expires_at > now - EXPIRY_GRACE:
            return 0
        redemption.status = RedemptionStatus.EXPIRED
        redemption.save(update_fields=["status", "updated_at"])
        if program_for(shop=redemption.shop).expired_code_points_return:
            points_record(
                member=redemption.member,
                points=redemption.points,
                reason=Reason.CODE_EXPIRED_REFUND,
                idempotency_key=f"redemption:{redemption.pk}:expired",
                note=f"Code {redemption.code} expired unused",
            )
        return 1


def redemptions_use(*, shop: Shop, order_id: int, codes: list[str]) -> list[Redemption]:
    """Mark the shop's redemptions whose codes an order carries as used by that order.

    Answers the redemptions that became used now (none when the order was seen before), so
    the caller records each reward's revenue once. Codes are matched ignoring case, as
    Shopify does at checkout. Ready codes become used. A pending one keeps the order and
    becomes used when its try finds the discount: the order proves Shopify made it, though
    its answer to the app was lost (the shopper sees pending codes in the account answer).
    An expired or failed code is left alone: its points may already be back.

    The order's customer is not compared with the code's: Shopify applies a code limited
    to one customer only to that customer's checkout, so an order carrying it has used up
    the code's one use whoever it names (a staff draft order, a merged customer).
    """
    wanted = {code.strip().upper() for code in codes if code and code.strip()}
    if not wanted:
        return []
    used = []
    with transaction.atomic():
        found = (
            Redemption.objects.select_for_update()
            .filter(shop=shop, code__in=wanted)
            .filter(
                Q(status=RedemptionStatus.READY)
                | Q(status=RedemptionStatus.PENDING, used_order_id__isnull=True)
            )
        )
        for redemption in found:
            if redemption.status == RedemptionStatus.READY:
                redemption.status = RedemptionStatus.USED
            redemption.used_order_id = order_id
            redemption.used_at = timezone.now()
            redemption.save(update_fields=["status", "used_order_id", "used_at", "updated_at"])
            used.append(redemption)
    return used
