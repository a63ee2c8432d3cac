"""The rewards catalogue: the merchant adds, changes and removes what points can buy."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from loyalty.models import Reward, RewardKind, Shop
from loyalty.models.reward import VALUELESS_KINDS

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
)


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
    kinds get 0). Raises RewardInvalid, saving nothing, when a rule between fields fails.
    """
    errors = {
        field: ["Enter this to create a reward."]
        for field in ("kind", "points_cost")
        if fields.get(field) is None
    }
    if errors:
        raise RewardInvalid(errors)
    if fields["kind"] in VALUELESS_KINDS:
        fields.setdefault("value", Decimal("0"))
    elif fields.get("value") is None:
        raise RewardInvalid({"value": ['Enter what the reward is worth, such as "5.00".']})
    reward = Reward(shop=shop, **_present(fields))
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
        kind = fields.get("kind")
        if kind is not None and kind != current.kind:
            if kind in VALUELESS_KINDS:
                fields.setdefault("value", Decimal("0"))
            if kind != RewardKind.FREE_PRODUCT:
                fields.setdefault("product_id", None)
        for field, value in fields.items():
            setattr(current, field, "" if field == "name" and value is None else value)
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


def _present(fields: dict) -> dict:
    present = {field: value for field, value in fields.items() if value is not None}
    if "name" in fields and fields["name"] is None:
        present["name"] = ""
    return present


def reward_check(reward: Reward) -> None:
    """The rules between fields, in words a merchant can act on (the database guards them too)."""
    errors: dict[str, list[str]] = {}
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
