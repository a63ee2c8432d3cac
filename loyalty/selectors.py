"""Reads for views and the storefront: every query scoped by shop."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from loyalty.models import (
    LedgerEntry,
    Member,
    PrivacyRequest,
    Program,
    Reason,
    Redemption,
    Referral,
    Reward,
    RewardKind,
    Shop,
    Tier,
    TierBasis,
    TierChange,
    TierTally,
    TierWindow,
)
from loyalty.models.reward import percent_text
from loyalty.replica import admin_reads
from loyalty.stats.counters import shop_day

ACCOUNT_CODES_SHOWN = 20
# "Not more than once a year": a birthday can be changed this long after it was last set.
BIRTHDAY_CHANGE_AFTER = timedelta(days=365)
ACCOUNT_ACTIVITY_SHOWN = 10
# A rolling tier window counts the day itself and the 364 before it.
TIER_WINDOW_DAYS = 365
TIER_CHANGES_SHOWN = 20


def member_account(
    *, shop: Shop | None, customer_id: int | None, now: datetime | None = None
) -> dict:
    """What a shopper sees of the program and their points (docs/redemptions.md, "The
    account answer"): the guest answer for `customer_id` None, zeros for a customer with
    no points yet, the default program and no rewards for a shop not stored yet (None).
    Every key is always present.

    A handful of indexed queries whatever the shop's size: the member (with tier), the
    program, its tiers, the catalogue, the member's newest codes and ledger entries, and
    one sum for the progress to the next tier. The one write: a member's referral code is
    drawn the first time their account is shown with referrals on.
    """
    # Imported here: the services import the selectors (tiers reads tier_progress).
    from loyalty.services.referrals import referral_code_ensure, referral_url, referrals_on

    now = now or timezone.now()
    if shop is None:
        shop = Shop()
    member = None
    if customer_id is not None and shop.pk is not None:
        member = (
            Member.objects.filter(shop=shop, customer_id=customer_id).select_related("tier").first()
        )
    if member is not None:
        member.shop = shop
    balance = member.balance if member else 0
    program, catalogue = Program(), []
    if shop.pk is not None:
        program = _stored_program(shop) or program
        catalogue = Reward.objects.filter(shop=shop, enabled=True, deleted_at__isnull=True)
        catalogue = catalogue.select_related("minimum_tier")
    reached = member.tier.threshold if member and member.tier else None
    rewards = sorted(
        (
            _account_reward(reward, shop.currency, balance, customer_id, reached)
            for reward in catalogue
        ),
        key=lambda reward: (not reward["affordable"], reward["points_cost"], reward["id"]),
    )
    return {
        "guest": customer_id is None,
        "customer_id": str(customer_id) if customer_id is not None else None,
        "currency": shop.currency,
        "balance": balance,
        "pending": member.pending if member else 0,
        "tier": _account_tier(member, program, now) if member else None,
        "rewards": rewards,
        "codes": _account_codes(member, shop.currency) if member else [],
        "ways_to_earn": _ways_to_earn(program),
        "activity": _account_activity(member) if member else [],
        "referral_url": (
            referral_url(shop=shop, code=referral_code_ensure(member=member))
            if member and referrals_on(program)
            else None
        ),
        "birthday": member_birthday(member=member) if member else None,
        "expiring": member_expiring(member=member, program=program, timezone_name=shop.timezone)
        if member
        else None,
    }


def _stored_program(shop: Shop) -> Program | None:
    """The shop's stored program, None when it has none; no query when the shop was loaded
    with it (`select_related("program")`, as the app proxy does)."""
    try:
        return shop.program
    except Program.DoesNotExist:
        return None


def program_of(*, shop: Shop) -> Program:
    """The shop's program, or the defaults (unsaved) when it has none stored yet."""
    return Program.objects.filter(shop=shop).first() or Program(shop=shop)


def member_birthday(*, member: Member) -> dict | None:
    """The birthday as the shopper sees it: `{"month", "day", "changeable_on"}` (the UTC
    day from which it can be changed, YYYY-MM-DD); None when not given."""
    if member.birthday_month is None:
        return None
    return {
        "month": member.birthday_month,
        "day": member.birthday_day,
        "changeable_on": (member.birthday_set_at + BIRTHDAY_CHANGE_AFTER).date().isoformat(),
    }


def expiry_date(*, member: Member, program: Program, timezone_name: str) -> date | None:
    """The shop's day the member's points expire; None when they do not (expiry off, or no
    activity yet)."""
    if not program.expiry_days or member.last_activity_at is None:
        return None
    return shop_day(member.last_activity_at, timezone_name) + timedelta(days=program.expiry_days)


def member_expiring(*, member: Member, program: Program, timezone_name: str) -> dict | None:
    """`{"points", "on": "YYYY-MM-DD"}`: the available points that expire on that shop's
    day unless the member earns or redeems first; None when none will. Pending points never
    expire."""
    on = expiry_date(member=member, program=program, timezone_name=timezone_name)
    if on is None or member.balance <= 0:
        return None
    return {"points": member.balance, "on": on.isoformat()}


def _account_reward(
    reward: Reward, currency: str, balance: int, customer_id, reached: int | None
) -> dict:
    percent = reward.kind == RewardKind.PERCENT_OFF
    minimum = reward.minimum_tier
    # `reached`: the threshold of the member's tier; a tier at or above the minimum's may.
    tier_allows = minimum is None or (reached is not None and reached >= minimum.threshold)
    return {
        "id": reward.pk,
        "name": reward.title(currency),
        "kind": reward.kind,
        "points_cost": reward.points_cost,
        "value": percent_text(reward.value) if percent else f"{reward.value:.2f}",
        "minimum_subtotal": (
            f"{reward.minimum_subtotal:.2f}" if reward.minimum_subtotal is not None else None
        ),
        "affordable": customer_id is not None and tier_allows and balance >= reward.points_cost,
        "minimum_tier": minimum.name if minimum else None,
        # Why a member cannot redeem it whatever their balance; null when points decide.
        "reason": None if tier_allows or customer_id is None else "tier_required",
        "variable": (
            {
                "points_step": reward.points_step,
                "value_step": f"{reward.value_step:.2f}",
                "maximum_points": reward.maximum_points,
            }
            if reward.variable
            else None
        ),
    }


def _account_tier(member: Member, program: Program, now: datetime) -> dict | None:
    """The member's tier and the progress to the one above (docs/tiers.md, "Progress").

    A member below every tier gets the same shape with `name` null and the multiplier they
    earn at, "1", so the widget can show how far the first tier is; null only when the
    shop has no tiers. The lowest tier above where the member stands is one query."""
    reached = member.tier
    above = Tier.objects.filter(shop_id=member.shop_id)
    if reached is not None:
        above = above.filter(threshold__gt=reached.threshold)
    higher = above.order_by("threshold").first()
    if reached is None and higher is None:
        return None
    following = None
    if higher is not None:
        day = shop_day(now, member.shop.timezone)
        progress = tier_progress(member=member, program=program, day=day)
        following = {
            "name": higher.name,
            "threshold": higher.threshold,
            "remaining": max(0, higher.threshold - progress),
        }
    return {
        "name": reached.name if reached else None,
        "multiplier": format(reached.multiplier.normalize(), "f") if reached else "1",
        "next": following,
    }


def tier_progress(*, member: Member, program: Program, day: date) -> int:
    """What the program's `tier_basis` counts for the member on `day` (the shop's day) over
    its `tier_window`: points from orders, or whole units of currency spent on them, both
    net of refunds and cancellations (docs/tiers.md). One indexed sum of the member's daily
    tallies."""
    tallies = TierTally.objects.filter(member=member)
    if program.tier_window == TierWindow.ROLLING_12_MONTHS:
        tallies = tallies.filter(day__gt=day - timedelta(days=TIER_WINDOW_DAYS))
    column = "amount" if program.tier_basis == TierBasis.AMOUNT_SPENT else "points"
    return int(tallies.aggregate(total=Sum(column))["total"] or 0)


def tier_names(*, shop: Shop) -> list[str]:
    """The names of the shop's VIP tiers, lowest threshold first."""
    return list(Tier.objects.filter(shop=shop).order_by("threshold").values_list("name", flat=True))


def member_tier_changes(*, member: Member) -> list[TierChange]:
    """The member's newest moves between tiers, newest first."""
    return list(
        TierChange.objects.filter(shop_id=member.shop_id, member=member).order_by(
            "-created_at", "-id"
        )[:TIER_CHANGES_SHOWN]
    )


def _account_codes(member: Member, currency: str) -> list[dict]:
    redemptions = (
        Redemption.objects.filter(member=member)
        .select_related("reward")
        .order_by("-created_at", "-id")[:ACCOUNT_CODES_SHOWN]
    )
    return [
        {
            "id": redemption.pk,
            "code": redemption.code,
            "reward_id": redemption.reward_id,
            "reward_name": redemption.reward.title(currency),
            "status": redemption.status,
            "value": (
                percent_text(redemption.value)
                if redemption.kind == RewardKind.PERCENT_OFF
                else f"{redemption.value:.2f}"
            ),
            "created_at": _utc_text(redemption.created_at),
            "expires_at": _utc_text(redemption.expires_at) if redemption.expires_at else None,
        }
        for redemption in redemptions
    ]


def _ways_to_earn(program: Program) -> list[dict]:
    ways: list[dict] = []
    if program.points_per_unit > 0:
        ways.append(
            {"key": "purchase", "points_per_unit": format(program.points_per_unit.normalize(), "f")}
        )
    if program.signup_points:
        ways.append({"key": "signup", "points": program.signup_points})
    if program.birthday_points:
        ways.append({"key": "birthday", "points": program.birthday_points})
    if program.review_points:
        ways.append(
            {
                "key": "review",
                "points": program.review_points,
                "photo_bonus": program.review_photo_bonus_points,
            }
        )
    if program.referral_advocate_points:
        ways.append({"key": "referral", "points": program.referral_advocate_points})
    return ways


def _account_activity(member: Member) -> list[dict]:
    entries = LedgerEntry.objects.filter(member=member).order_by("-sequence")[
        :ACCOUNT_ACTIVITY_SHOWN
    ]
    labels = dict(Reason.choices)
    return [
        {
            "at": _utc_text(entry.created_at),
            "points": entry.points,
            "pending_points": entry.pending_points,
            "reason": entry.reason,
            "description": labels.get(entry.reason, entry.reason),
        }
        for entry in entries
    ]


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    more members follow it. Each match is served by an index (migrations 0004 and 0010).
    """
    members = Member.objects.using(admin_reads()).filter(shop=shop)
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


REFERRALS_PAGE_SIZE = 50


def referrals_list(
    *, shop: Shop, state: str = "", before_id: int | None = None
) -> tuple[list[Referral], bool]:
    """The shop's referrals, newest first, 50 to a page, optionally in one `state`; answers
    the page and whether more follow (continue with `before_id` = the last one's id)."""
    found = Referral.objects.using(admin_reads()).filter(shop=shop).select_related("advocate")
    if state:
        found = found.filter(state=state)
    if before_id is not None:
        found = found.filter(pk__lt=before_id)
    page = list(found.order_by("-pk")[: REFERRALS_PAGE_SIZE + 1])
    return page[:REFERRALS_PAGE_SIZE], len(page) > REFERRALS_PAGE_SIZE


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
        Reward.objects.filter(shop=shop, deleted_at__isnull=True)
        .select_related("minimum_tier")
        .order_by("points_cost", "id")
    )


def reward_find(*, shop: Shop, reward_id: int) -> Reward | None:
    """The shop's reward with this id; None when it is another shop's, deleted or unknown."""
    return (
        Reward.objects.filter(shop=shop, pk=reward_id, deleted_at__isnull=True)
        .select_related("minimum_tier")
        .first()
    )


EXPORT_PAGE_SIZE = 2000


def members_export_pages(
    *, shop: Shop, page_size: int = EXPORT_PAGE_SIZE
) -> Iterator[list[Member]]:
    """Every member of a shop in member id order, one page at a time.

    Pages are read by keyset (id after the last one seen), each in its own short query, so
    an export of a million members holds one page in memory and no long-lived cursor.
    """
    members = Member.objects.using(admin_reads()).filter(shop=shop).order_by("id")
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
        LedgerEntry.objects.using(admin_reads())
        .filter(shop=shop, created_at__gte=start, created_at__lt=end)
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
