from typing import Any

from django.db import transaction

from loyalty.models import Program, Shop

# The settings a merchant may change, in the order the program document lists them.
PROGRAM_SETTINGS = ("points_per_unit", "rounding", "pos_orders_earn", "hold_days", "signup_points")


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


def program_update(*, shop: Shop, changes: dict[str, Any]) -> Program:
    """Change the given settings of the shop's program; the others keep their values.

    `changes` maps names in PROGRAM_SETTINGS to values already validated
    (`points_per_unit` a Decimal, `hold_days` and `signup_points` ints). Raises ValueError
    for a name that is not a setting. Orders keep the points they already earned: new
    rules apply to orders first seen paid after the change.
    """
    unknown = sorted(set(changes) - set(PROGRAM_SETTINGS))
    if unknown:
        raise ValueError(f"not program settings: {', '.join(unknown)}")
    program_for(shop=shop)
    with transaction.atomic():
        # Locked, so two saves at once each change only their own keys.
        program = Program.objects.select_for_update().get(shop=shop)
        for name, value in changes.items():
            setattr(program, name, value)
        program.save(update_fields=[*changes, "updated_at"])
    shop.program = program
    return program
