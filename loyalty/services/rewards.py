"""The rewards catalogue: the merchant adds, changes and removes what points can buy."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from loyalty.models import Reward, RewardKind, Shop, Tier
from loyalty.models.reward import VALUELESS_KINDS, VARIABLE_KINDS

from .storefront_sync import storefront_settings_changed

FIELDS = (
    "kind",
    "name",
    "points_cost",
    "value",
    "minimum_subtotal",
    "expires_after_days",
    "product_id",
    "enabled",
    "variable",
    "points_step",
    "value_step",
    "maximum_points",
    "minimum_tier",
)
# Money columns hold 12 digits, 2 after the point: every amount stays below this.
_VALUE = Reward._meta.get_field("value")
AMOUNT_LIMIT = Decimal(10) ** (_VALUE.max_digits - _VALUE.decimal_places)
# What a variable reward needs, and a fixed one must leave out.
STEP_FIELDS = ("points_step", "value_step", "maximum_points")


class RewardInvalid(Exception):
    """The reward would break a catalogue rule; `errors` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


class RewardGone(Exception):
    """The reward was deleted (or never was this shop's) before the change could be made."""


def reward_create(*, shop: Shop, **fields) -> Reward:
    """Add a reward to the shop's catalogue from already type-checked `FIELDS`.

    `kind` and `points_cost` are required, and `value` for kinds that have one (valueless
    kinds get 0); `minimum_tier` is a tier's name (any case). Raises RewardInvalid, saving
    nothing, when a rule between fields fails.
    """
    _tier_by_name(shop.pk, fields)
    errors = {
        field: ["Enter this to create a reward."]
        for field in ("kind", "points_cost")
        if fields.get(field) is None
    }
    if errors:
        raise RewardInvalid(errors)
    if fields["kind"] in VALUELESS_KINDS:
        fields.setdefault("value", Decimal("0"))
    elif fields.get("value") is None and not fields.get("variable"):
        raise RewardInvalid({"value": ['Enter what the reward is worth, such as "5.00".']})
    reward = Reward(shop=shop, **_present(fields))
    if reward.value is None:
        reward.value = Decimal("0")
    _variable_value(reward)
    reward_check(reward)
    with transaction.atomic():
        reward.save()
        storefront_settings_changed(shop=shop)
    return reward


def reward_update(*, reward: Reward, **fields) -> Reward:
    """Change the given `FIELDS` of a reward, leaving the others as they are.

    Changing the kind to a valueless one sets the value to 0, and away from free_product
    forgets the product, unless the request says otherwise. Raises RewardGone when the
    reward was deleted meanwhile, RewardInvalid (nothing saved) when a rule fails.
    """
    with transaction.atomic():
        current = (
            Reward.objects.select_for_update()
            .filter(pk=reward.pk, shop_id=reward.shop_id, deleted_at__isnull=True)
            .first()
        )
        if current is None:
            raise RewardGone(reward.pk)
        _tier_by_name(current.shop_id, fields)
        kind = fields.get("kind")
        if kind is not None and kind != current.kind:
            if kind in VALUELESS_KINDS:
                fields.setdefault("value", Decimal("0"))
            if kind != RewardKind.FREE_PRODUCT:
                fields.setdefault("product_id", None)
        if fields.get("variable") is False:
            for field in STEP_FIELDS:
                fields.setdefault(field, None)
        for field, value in fields.items():
            setattr(current, field, "" if field == "name" and value is None else value)
        _variable_value(current)
        reward_check(current)
        current.save()
        storefront_settings_changed(shop=current.shop)
    return current


def reward_delete(*, reward: Reward) -> None:
    """Take the reward out of the catalogue; its row stays for the redemptions made with it.

    Raises RewardGone when it was already deleted.
    """
    with transaction.atomic():
        deleted = Reward.objects.filter(pk=reward.pk, deleted_at__isnull=True).update(
            deleted_at=timezone.now()
        )
        if not deleted:
            raise RewardGone(reward.pk)
        storefront_settings_changed(shop=reward.shop)


def _tier_by_name(shop_id: int, fields: dict) -> None:
    """Replace the `minimum_tier` name in `fields` with the shop's tier of that name."""
    name = fields.get("minimum_tier")
    if name is None:
        return
    tiers = list(Tier.objects.filter(shop_id=shop_id).order_by("threshold"))
    found = next((tier for tier in tiers if tier.name.casefold() == name.casefold()), None)
    if found is None:
        names = ", ".join(tier.name for tier in tiers) or "none yet; add tiers on the Program page"
        raise RewardInvalid(
            {"minimum_tier": [f"No tier is called {name!r}. The shop's tiers: {names}."]}
        )
    fields["minimum_tier"] = found


def _present(fields: dict) -> dict:
    present = {field: value for field, value in fields.items() if value is not None}
    if "name" in fields and fields["name"] is None:
        present["name"] = ""
    return present


def _variable_value(reward: Reward) -> None:
    # A variable reward's value is what its points cost buys, so it is never sent stale
    # (one too large to store fails the maximum's check: the cost is at most the maximum).
    steps = (reward.points_step, reward.value_step)
    if reward.variable and None not in steps and reward.points_cost:
        reward.value = reward.value_step * (reward.points_cost // reward.points_step)


def reward_check(reward: Reward) -> None:
    """The rules between fields, in words a merchant can act on (the database guards them too)."""
    errors: dict[str, list[str]] = {}
    if reward.variable:
        _check_steps(reward, errors)
    else:
        for field in STEP_FIELDS:
            if getattr(reward, field) is not None:
                errors[field] = [
                    "Only a variable reward has steps; send variable: true or leave it out."
                ]
    if reward.kind in VALUELESS_KINDS:
        if reward.value != 0:
            label = RewardKind(reward.kind).label
            errors["value"] = [f'{label} has no value; leave value out or send "0".']
    elif reward.value <= 0:
        errors["value"] = ['Enter a value above 0, such as "5.00".']
    elif reward.kind == RewardKind.PERCENT_OFF and reward.value > 100:
        errors["value"] = ["A percent off can be at most 100."]
    if reward.kind == RewardKind.FREE_PRODUCT and reward.product_id is None:
        errors["product_id"] = ["Choose the product this reward gives (its Shopify product id)."]
    elif reward.kind != RewardKind.FREE_PRODUCT and reward.product_id is not None:
        errors["product_id"] = ["Only a free_product reward gives a product; leave it out."]
    if errors:
        raise RewardInvalid(errors)


def _check_steps(reward: Reward, errors: dict[str, list[str]]) -> None:
    if reward.kind not in VARIABLE_KINDS:
        errors["variable"] = ["Only amount_off and store_credit rewards can be variable."]
        return
    missing = [field for field in STEP_FIELDS if getattr(reward, field) is None]
    for field in missing:
        errors[field] = ["A variable reward needs this: points_step, value_step, maximum_points."]
    if missing:
        return
    step = reward.points_step
    if reward.points_cost % step:
        errors["points_cost"] = [f"The least a member spends must be a multiple of {step} points."]
    if reward.maximum_points % step or reward.maximum_points < reward.points_cost:
        errors["maximum_points"] = [
            f"Enter a multiple of {step} points, at least the points cost ({reward.points_cost})."
        ]
    elif reward.value_step * (reward.maximum_points // step) >= AMOUNT_LIMIT:
        # What the most points buy is stored with each redemption (12 digits).
        errors["maximum_points"] = [f"The most points at once must buy less than {AMOUNT_LIMIT:,}."]
