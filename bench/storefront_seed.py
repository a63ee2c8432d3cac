"""What the storefront's account answer reads besides members and ledger entries, seeded at
scale for bench/storefront.py on top of bench/admin_seed.py's rows.

`catalogue_make` (Django ORM, a few rows): the program (expiry, birthdays and referrals on,
tiers over a rolling 12 months), three VIP tiers and a rewards catalogue with tier-only,
variable, disabled and deleted rewards. `seed` (SQL, set-based): each member's daily tier
tallies from their order entries, their tier from the last 365 days of tallies, a
birthday for about a third of them, a referral code for every member, and redeemed codes
for about one member in seven (25 each for the regulars, more than the answer shows).

The codes are rows of the redemptions table only: their debits are not in the seeded
ledger (admin_seed's chains are fixed), which the account answer never compares.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

# (name, threshold in points earned over 12 months, multiplier, entry points)
TIERS = (
    ("Silver", 500, Decimal("1.25"), 100),
    ("Gold", 2000, Decimal("1.5"), 250),
    ("Platinum", 5000, Decimal("2"), 500),
)
BIRTHDAY_SHARE = 0.35
# One member in REDEEMER_EVERY of those with entries has 1 to 3 codes; regulars have more.
REDEEMER_EVERY = 7
REGULAR_CODES = 25
REFERRAL_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def catalogue_make(shop) -> dict:
    """The shop's program, tiers and rewards (replacing any), as a merchant sets them up."""
    from loyalty.models import Program, Reward, Tier

    Program.objects.update_or_create(
        shop=shop,
        defaults={
            "signup_points": 100,
            "birthday_points": 200,
            "review_points": 50,
            "review_photo_bonus_points": 25,
            "referral_advocate_points": 500,
            "expiry_days": 365,
            "tier_basis": "points_earned",
            "tier_window": "rolling_12_months",
        },
    )
    Reward.objects.filter(shop=shop).delete()
    Tier.objects.filter(shop=shop).delete()
    tiers = [
        Tier.objects.create(
            shop=shop, name=name, threshold=threshold, multiplier=multiplier, entry_points=entry
        )
        for name, threshold, multiplier, entry in TIERS
    ]
    rewards = [
        Reward(shop=shop, kind="amount_off", points_cost=250 * n, value=Decimal(5 * n))
        for n in range(1, 9)
    ]
    rewards += [
        Reward(shop=shop, kind="percent_off", points_cost=1500, value=Decimal("15")),
        Reward(shop=shop, kind="free_shipping", points_cost=400),
        Reward(
            shop=shop, kind="amount_off", points_cost=3000, value=Decimal("40"),
            minimum_tier=tiers[1], minimum_subtotal=Decimal("100"),
        ),
        Reward(
            shop=shop, kind="amount_off", points_cost=100, value=Decimal("1"), variable=True,
            points_step=100, value_step=Decimal("1"), maximum_points=5000,
        ),
        Reward(shop=shop, kind="amount_off", points_cost=600, value=Decimal("12"), enabled=False),
    ]  # fmt: skip
    Reward.objects.bulk_create(rewards)
    from django.utils import timezone

    Reward.objects.create(
        shop=shop, kind="amount_off", points_cost=700, value=Decimal("14"),
        deleted_at=timezone.now(),
    )  # fmt: skip
    return {"tiers": len(tiers), "rewards": len(rewards) + 1}


def _referral_code_sql() -> str:
    """An 8-character code from the member id: id * 1000003 modulo 31^8 is one-to-one (31 is
    prime and does not divide 1000003), written in the app's code alphabet."""
    size = len(REFERRAL_ALPHABET)
    scrambled = f"mod(m.id * 1000003, {size**8})"
    return " || ".join(
        f"substr('{REFERRAL_ALPHABET}', 1 + mod({scrambled} / {size**k}, {size})::int, 1)"
        for k in range(8)
    )


def seed(conn, shop_id: int, *, say: Callable[[str], None] = print) -> dict:
    """Fill tallies, tiers, birthdays, referral codes and codes for the shop's members."""
    conn.execute("SET work_mem = '512MB'")
    conn.execute("SET maintenance_work_mem = '1GB'")
    timezone_name = conn.execute(
        "SELECT timezone FROM loyalty_shop WHERE id = %s", [shop_id]
    ).fetchone()[0]
    started = time.monotonic()
    # The unique (member, day) index is put back after the rows, as admin_seed does. Rows
    # are written in day order, as orders add them: a member's tallies lie on many pages.
    conn.execute("ALTER TABLE loyalty_tiertally DROP CONSTRAINT tier_tally_unique_day")
    conn.execute(
        """
        INSERT INTO loyalty_tiertally (member_id, day, points, amount)
        SELECT member_id, (created_at AT TIME ZONE %(tz)s)::date, sum(points), sum(points)
        FROM loyalty_ledgerentry
        WHERE shop_id = %(shop)s
          AND reason IN ('order_earned', 'points_released', 'order_refunded', 'order_cancelled')
        GROUP BY 1, 2
        ORDER BY 2
        """,
        {"tz": timezone_name, "shop": shop_id},
    )
    conn.execute(
        "ALTER TABLE loyalty_tiertally ADD CONSTRAINT tier_tally_unique_day UNIQUE (member_id, day)"
    )
    conn.execute("VACUUM (ANALYZE) loyalty_tiertally")
    say(f"  tier tallies ({time.monotonic() - started:.0f} s)")

    started = time.monotonic()
    # One rewrite of every member row: tier, birthday and referral code together.
    conn.execute(
        f"""
        WITH measure AS (
          SELECT member_id, sum(points) AS points FROM loyalty_tiertally
          WHERE day > (now() AT TIME ZONE %(tz)s)::date - 365
          GROUP BY member_id
        )
        UPDATE loyalty_member AS m SET
          tier_id = (
            SELECT t.id FROM loyalty_tier AS t
            WHERE t.shop_id = m.shop_id AND t.threshold <= measure.points
            ORDER BY t.threshold DESC LIMIT 1
          ),
          birthday_month = CASE WHEN mod(abs(hashint8(m.id)), 1000) < {BIRTHDAY_SHARE * 1000}
            THEN 1 + mod(abs(hashint8(m.id * 7)), 12) END,
          birthday_day = CASE WHEN mod(abs(hashint8(m.id)), 1000) < {BIRTHDAY_SHARE * 1000}
            THEN 1 + mod(abs(hashint8(m.id * 11)), 28) END,
          birthday_set_at = CASE WHEN mod(abs(hashint8(m.id)), 1000) < {BIRTHDAY_SHARE * 1000}
            THEN m.created_at + (now() - m.created_at) * 0.5 END,
          referral_code = {_referral_code_sql()}
        FROM loyalty_member AS plain LEFT JOIN measure ON measure.member_id = plain.id
        WHERE m.id = plain.id AND m.shop_id = %(shop)s
        """,
        {"tz": timezone_name, "shop": shop_id},
    )
    say(f"  tiers, birthdays and referral codes ({time.monotonic() - started:.0f} s)")

    started = time.monotonic()
    conn.execute(
        f"""
        WITH catalogue AS (
          SELECT row_number() OVER (ORDER BY id) - 1 AS place, id, kind, points_cost, value,
            count(*) OVER () AS size
          FROM loyalty_reward
          WHERE shop_id = %(shop)s AND deleted_at IS NULL AND NOT variable
        ), redeemers AS (
          SELECT id, created_at,
            CASE WHEN last_sequence > 150 THEN {REGULAR_CODES}
              ELSE 1 + mod(abs(hashint8(id * 3)), 3) END AS codes
          FROM loyalty_member
          WHERE shop_id = %(shop)s AND last_sequence IS NOT NULL
            AND (last_sequence > 150 OR mod(abs(hashint8(id * 5)), {REDEEMER_EVERY}) = 0)
        ), drawn AS (
          SELECT r.id AS member_id, n,
            r.created_at + (now() - r.created_at) * (n - 0.5) / r.codes AS created_at,
            abs(hashint8(r.id * 64 + n)) AS h
          FROM redeemers AS r CROSS JOIN LATERAL generate_series(1, r.codes) AS n
        ), placed AS (
          SELECT d.*, c.id AS reward_id, c.kind, c.points_cost, c.value,
            CASE
              WHEN d.created_at > now() - interval '30 days' THEN 'ready'
              WHEN mod(d.h, 10) < 7 THEN 'used'
              WHEN mod(d.h, 10) < 9 THEN 'expired'
              ELSE 'failed'
            END AS status
          FROM drawn AS d JOIN catalogue AS c ON c.place = mod(d.h, c.size)
        )
        INSERT INTO loyalty_redemption (shop_id, member_id, reward_id, kind, points, value,
          currency, code, status, discount_id, store_credit_transaction_id, attempts,
          last_error, expires_at, used_order_id, used_at, created_at, updated_at)
        SELECT %(shop)s, member_id, reward_id, kind, points_cost, value, 'USD',
          'LOYAL-' || member_id || '-' || n, status,
          CASE WHEN status = 'failed' THEN ''
            ELSE 'gid://shopify/DiscountCodeNode/' || (member_id * 64 + n) END,
          '', 1, CASE WHEN status = 'failed' THEN 'refused by Shopify' ELSE '' END,
          created_at + interval '90 days',
          CASE WHEN status = 'used' THEN 7000000000000 + member_id * 64 + n END,
          CASE WHEN status = 'used' THEN created_at + interval '3 days' END,
          created_at, created_at
        FROM placed ORDER BY created_at
        """,
        {"shop": shop_id},
    )
    say(f"  redeemed codes ({time.monotonic() - started:.0f} s)")
    started = time.monotonic()
    conn.execute("VACUUM (ANALYZE) loyalty_member")
    conn.execute("VACUUM (ANALYZE) loyalty_redemption")
    say(f"  vacuum analyze ({time.monotonic() - started:.0f} s)")
    counts = conn.execute(
        """
        SELECT (SELECT count(*) FROM loyalty_tiertally),
          (SELECT count(*) FROM loyalty_member WHERE shop_id = %(shop)s AND tier_id IS NOT NULL),
          (SELECT count(*) FROM loyalty_member
           WHERE shop_id = %(shop)s AND birthday_month IS NOT NULL),
          (SELECT count(*) FROM loyalty_redemption WHERE shop_id = %(shop)s)
        """,
        {"shop": shop_id},
    ).fetchone()
    return dict(zip(("tallies", "in_a_tier", "birthdays", "codes"), counts, strict=True))
