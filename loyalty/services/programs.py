"""The loyalty program's settings: read with defaults, change some, preview what they earn."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from loyalty.earning.orders import points_for, source_earns
from loyalty.models import Program, Reward, Shop, Tier

from .rewards import RewardInvalid, reward_check
from .storefront_sync import storefront_settings_changed
from .tiers import tiers_recompute_request

# The settings a merchant may change, in the order the program document lists them.
PROGRAM_SETTINGS = (
    "points_per_unit",
    "rounding",
    "pos_orders_earn",
    "hold_days",
    "signup_points",
    "birthday_points",
    "review_points",
    "review_photo_bonus_points",
    "referral_advocate_points",
    "referral_friend_reward",
    "referral_monthly_cap",
    "expiry_days",
    "expiry_reminder_days",
    "expired_code_points_return",
    "tier_basis",
    "tier_window",
    "tiers",
)
# The settings kept in more than one column, or in rows of their own.
_COMPOSITE_SETTINGS = ("referral_friend_reward", "tiers")
_FRIEND_REWARD_COLUMNS = (
    "referral_friend_reward_kind",
    "referral_friend_reward_value",
    "referral_friend_reward_minimum_subtotal",
    "referral_friend_reward_expires_after_days",
)
# Out of reach of real thresholds (at most 1,000,000,000), inside a 32-bit column: where a
# kept tier waits while thresholds are swapped, as each UPDATE is checked for uniqueness.
_PARKED_THRESHOLD = 2_000_000_000
TIER_NAMES_CLASH = (
    'Two of these tier names count as the same name (such as "İ" and "i"); give each '
    "tier a name that differs by more than capital and small letters."
)


@dataclass(frozen=True)
class FriendReward:
    """The discount a referred friend gets: a reward definition without a points cost.

    `value` is an amount in the shop's currency, or a percent for percent_off (0 for
    free_shipping).
    """

    kind: str
    value: Decimal
    minimum_subtotal: Decimal | None = None
    expires_after_days: int | None = None


@dataclass(frozen=True)
class TierSetting:
    """One VIP tier as the merchant sets it: members from `threshold` earn × `multiplier`,
    and are given `entry_points` once on first reaching it."""

    name: str
    threshold: int
    multiplier: Decimal
    entry_points: int = 0


@dataclass(frozen=True)
class Preview:
    """What an example order earns: `points` for a member without a tier, `by_tier` as
    (tier name, points) from the lowest tier up, pending for `pending_days` (0: at once)."""

    points: int
    pending_days: int
    by_tier: tuple[tuple[str, int], ...]


class ProgramInvalid(Exception):
    """The settings would break a rule between them; `errors` maps each key to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def program_for(*, shop: Shop) -> Program:
    """The shop's program, made with the defaults the first time it is asked for.

    Uses the program already loaded with the shop (`select_related("program")`) if any.
    """
    try:
        return shop.program
    except Program.DoesNotExist:
        program, _ = Program.objects.get_or_create(shop=shop)
        shop.program = program
        return program


def program_tiers(*, shop: Shop) -> list[Tier]:
    """The shop's VIP tiers, lowest threshold first."""
    return list(Tier.objects.filter(shop=shop).order_by("threshold"))


def program_friend_reward(*, program: Program) -> FriendReward | None:
    """The referred friend's reward, or None when friends get none."""
    if not program.referral_friend_reward_kind:
        return None
    return FriendReward(
        kind=program.referral_friend_reward_kind,
        value=program.referral_friend_reward_value,
        minimum_subtotal=program.referral_friend_reward_minimum_subtotal,
        expires_after_days=program.referral_friend_reward_expires_after_days,
    )


def program_update(*, shop: Shop, changes: dict[str, Any]) -> Program:
    """Change the given settings of the shop's program; the others keep their values.

    `changes` maps names in PROGRAM_SETTINGS to values already type-checked: Decimals for
    `points_per_unit`, ints (or None where a setting may be off) for days and points, a
    FriendReward or None for `referral_friend_reward`, a list of TierSetting for `tiers`,
    which replaces the shop's tiers (a tier keeps its id, and its members, while its name
    stays the same, whatever the case). Raises ValueError for a name that is not a setting,
    ProgramInvalid (nothing saved) when a rule between settings fails. Orders keep the
    points they already earned: new rules apply to orders first seen paid after the change.
    Changing `tiers`, `tier_basis` or `tier_window` places every member again in the
    background (loyalty.services.tiers).
    """
    _refuse_unknown(changes)
    program_for(shop=shop)
    with transaction.atomic():
        # Locked, so two saves at once each change only their own keys, and tiers are
        # replaced by one save at a time.
        program = Program.objects.select_for_update().get(shop=shop)
        columns = _apply(program, changes)
        tiers = changes.get("tiers")
        _check(program, tiers)
        program.save(update_fields=[*columns, "updated_at"])
        if tiers is not None:
            try:
                with transaction.atomic():
                    _tiers_replace(shop=shop, tiers=tiers)
            except ProtectedError as exc:  # an IntegrityError too: caught first
                raise ProgramInvalid({"tiers": [_tier_in_use(exc)]}) from exc
            except IntegrityError as exc:
                # The names differ to Python's casefold but not to the database's lower()
                # ("İ" and "i" in PostgreSQL): its unique index has the last word.
                raise ProgramInvalid({"tiers": [TIER_NAMES_CLASH]}) from exc
        storefront_settings_changed(shop=shop, tiers_changed=tiers is not None)
        if tiers is not None or {"tier_basis", "tier_window"} & set(changes):
            tiers_recompute_request(shop=shop)
    shop.program = program
    return program


def program_preview(
    *, shop: Shop, changes: dict[str, Any], subtotal: Decimal, source: str
) -> Preview:
    """What an order of `subtotal` (its earning base in shop money: after discounts, before
    shipping and tax) from `source` ("web" or "pos") earns under the saved program with the
    unsaved `changes` (as for program_update) applied. Nothing is saved.

    Raises ValueError and ProgramInvalid as program_update does.
    """
    _refuse_unknown(changes)
    # A copy: the shop's cached program must keep its saved settings.
    draft = copy.copy(program_for(shop=shop))
    _apply(draft, changes)
    tiers = changes.get("tiers")
    _check(draft, tiers)
    if tiers is None:
        tiers = [
            TierSetting(
                name=tier.name,
                threshold=tier.threshold,
                multiplier=tier.multiplier,
                entry_points=tier.entry_points,
            )
            for tier in program_tiers(shop=shop)
        ]
    earns = source_earns(source, pos_orders_earn=draft.pos_orders_earn)

    def points(multiplier: Decimal) -> int:
        if not earns:
            return 0
        return points_for(
            subtotal,
            points_per_unit=draft.points_per_unit,
            rounding=draft.rounding,
            multiplier=multiplier,
        )

    return Preview(
        points=points(Decimal(1)),
        pending_days=draft.hold_days,
        by_tier=tuple(
            (tier.name, points(tier.multiplier))
            for tier in sorted(tiers, key=lambda tier: tier.threshold)
        ),
    )


def _refuse_unknown(changes: dict[str, Any]) -> None:
    unknown = sorted(set(changes) - set(PROGRAM_SETTINGS))
    if unknown:
        raise ValueError(f"not program settings: {', '.join(unknown)}")


def _apply(program: Program, changes: dict[str, Any]) -> list[str]:
    """Set the changed columns on `program` (unsaved); answers their names."""
    columns = []
    for name, value in changes.items():
        if name not in _COMPOSITE_SETTINGS:
            setattr(program, name, value)
            columns.append(name)
    if "referral_friend_reward" in changes:
        # None (friends get nothing) clears every column of the reward.
        reward = changes["referral_friend_reward"] or FriendReward(kind="", value=Decimal(0))
        program.referral_friend_reward_kind = reward.kind
        program.referral_friend_reward_value = reward.value
        program.referral_friend_reward_minimum_subtotal = reward.minimum_subtotal
        program.referral_friend_reward_expires_after_days = reward.expires_after_days
        columns.extend(_FRIEND_REWARD_COLUMNS)
    return columns


def _check(program: Program, tiers: list[TierSetting] | None) -> None:
    """The rules between settings, in words a merchant can act on (the database guards them
    too)."""
    errors: dict[str, list[str]] = {}
    reward = program_friend_reward(program=program)
    if reward is not None:
        try:
            reward_check(Reward(kind=reward.kind, value=reward.value))
        except RewardInvalid as exc:
            for field, messages in exc.errors.items():
                errors[f"referral_friend_reward.{field}"] = messages
    reminder, expiry = program.expiry_reminder_days, program.expiry_days
    if reminder is not None and expiry is not None and reminder >= expiry:
        errors["expiry_reminder_days"] = [
            f"Send the reminder fewer days ahead than points take to expire ({expiry} days), "
            "or null for no reminder."
        ]
    names: dict[str, int] = {}
    thresholds: dict[int, int] = {}
    for index, tier in enumerate(tiers or ()):
        named = names.setdefault(tier.name.casefold(), index)
        if named != index:
            errors[f"tiers[{index}].name"] = [
                f"Tier {named + 1} is already called {tier.name!r}; give each tier its own name."
            ]
        placed = thresholds.setdefault(tier.threshold, index)
        if placed != index:
            errors[f"tiers[{index}].threshold"] = [
                f"Tier {placed + 1} already starts at {tier.threshold}; give each tier its own "
                "threshold."
            ]
    if errors:
        raise ProgramInvalid(errors)


def _tiers_replace(*, shop: Shop, tiers: list[TierSetting]) -> None:
    existing = {tier.name.casefold(): tier for tier in Tier.objects.filter(shop=shop)}
    wanted = {tier.name.casefold(): tier for tier in tiers}
    # Deleting a tier leaves its members without one (SET_NULL) until they are placed again.
    Tier.objects.filter(pk__in=[t.pk for k, t in existing.items() if k not in wanted]).delete()
    kept = [(existing[key], setting) for key, setting in wanted.items() if key in existing]
    moving = [tier for tier, setting in kept if tier.threshold != setting.threshold]
    for place, tier in enumerate(moving):
        Tier.objects.filter(pk=tier.pk).update(threshold=_PARKED_THRESHOLD + place)
    for tier, setting in kept:
        tier.name = setting.name
        tier.threshold = setting.threshold
        tier.multiplier = setting.multiplier
        tier.entry_points = setting.entry_points
        tier.save(update_fields=["name", "threshold", "multiplier", "entry_points", "updated_at"])
    Tier.objects.bulk_create(
        Tier(
            shop=shop,
            name=s.name,
            threshold=s.threshold,
            multiplier=s.multiplier,
            entry_points=s.entry_points,
        )
        for key, s in wanted.items()
        if key not in existing
    )


def _tier_in_use(error: ProtectedError) -> str:
    rewards = sorted({reward.name or f"#{reward.pk}" for reward in error.protected_objects})
    return (
        f"Rewards only a tier can redeem need it: {', '.join(rewards)}. Change their minimum "
        "tier on the Rewards page first, or keep the tier."
    )
