from loyalty.models import Program, Shop


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
