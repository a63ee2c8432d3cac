from loyalty.models import Program, Shop


def program_for(*, shop: Shop) -> Program:
    """The shop's program, made with the defaults the first time it is asked for."""
    program, _ = Program.objects.get_or_create(shop=shop)
    return program
