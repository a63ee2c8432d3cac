"""Seed a migrated database with a large shop, set-based, for bench/admin_scale.py.

Members get varied names and emails (common names are common, so a prefix such as "j" or
"smith" matches as many members as it would in a real store) and join over two years,
more of them recently. Ledger entries are spread over members with a long tail (1% of
members hold hundreds of entries) and over the time since each member joined, and keep
every invariant of the ledger (loyalty.models.ledger, migration 0002): each member's chain
of sequences and balances, after = before + change, unique idempotency keys, and the
member's (last_sequence, balance, pending) equal to its newest entry.

Rows are made by SQL (`generate_series`, window functions for the running balances) with
the two tables' secondary indexes and constraints dropped, then every one of them is put
back exactly as the migrations made it, which also checks the seeded rows against them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

# Most common first: a name's chance falls with its place in the list. Written as text,
# a dozen to a line, rather than one name a line as a list literal would be formatted.
FIRST_NAMES = (  # noqa: SIM905
    "James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Christopher Karen Charles Lisa Daniel Nancy "
    "Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily "
    "Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah "
    "Timothy Stephanie Ronald Dorothy Jason Rebecca Edward Sharon Jeffrey Laura Ryan Cynthia "
    "Jacob Amy Gary Kathleen Nicholas Angela Eric Shirley Jonathan Brenda Stephen Emma Larry "
    "Anna Justin Pamela Scott Nicole Brandon Samantha Benjamin Katherine Samuel Christine "
    "Gregory Helen Alexander Debra Patrick Rachel Frank Carolyn Raymond Janet Jack Maria "
    "Dennis Catherine Jerry Heather Tyler Diane Aaron Olivia Jose Julie Adam Joyce Nathan "
    "Victoria Henry Ruth Zachary Virginia Douglas Lauren Peter Kelly Kyle Christina Noah "
    "Joan Ethan Evelyn Jeremy Judith Walter Andrea Christian Hannah Keith Megan Roger Cheryl "
    "Terry Jacqueline Austin Martha Sean Madison Gerald Teresa Carl Gloria Harold Sara "
    "Dylan Janice Arthur Ann Lawrence Kathryn Jordan Abigail Jesse Sophia Bryan Frances "
    "Billy Jean Bruce Alice Gabriel Judy Joe Isabella Logan Julia Alan Grace Juan Amber "
    "Albert Denise Willie Danielle Elijah Marilyn Wayne Beverly Randy Charlotte Vincent "
    "Natalie Mason Theresa Roy Diana Ralph Brittany Bobby Doris Russell Kayla Bradley Alexis "
    "Philip Lori Eugene Marie Ada Yusuf Priya Wei Hiroshi Ingrid Mateo Zoe Quentin Xavier"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
    "Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart "
    "Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed "
    "Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray "
    "Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez "
    "Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales "
    "Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds "
    "Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar "
    "Stevens Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington "
    "Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson "
    "Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes "
    "Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice "
    "Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant "
    "Dunn Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley "
    "Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Lovelace "
    "Okafor Nakamura Kowalski Quintero Xu Yilmaz Zielinski Ivanova Haddad Lindqvist"
).split()
EMAIL_DOMAINS = (  # noqa: SIM905
    "gmail.com gmail.com gmail.com gmail.com yahoo.com hotmail.com outlook.com icloud.com "
    "aol.com proton.me live.com msn.com comcast.net example.org"
).split()
# A name's place in its list is floor(len * random()^SKEW): the first names are the most
# common (with 1.6 about 3% of members are Smiths, more than in the US: a harder search).
NAME_SKEW = 1.6
# 1% of a shop's members are regulars with hundreds of entries; 5% joined and never earned.
REGULAR_SHARE, REGULAR_ENTRIES = 0.01, (200, 800)
IDLE_SHARE = 0.05
HISTORY_DAYS = 730
# Member ids per INSERT: about a million ledger entries, sorted in memory for the window.
BATCH_MEMBERS = 50_000
# Entry n of a member's chain is held as pending points when n % 10 == 3 and released by
# entry n + 1, so pending points come and go as with a hold period.
HOLD_DAYS = 14


MEMBER_COLUMNS = (
    "id, shop_id, customer_id, email, first_name, last_name, balance, pending, "
    "last_sequence, created_at"
)
# Three columns, each given '' by the INSERT below.
MEMBER_BLANK_COLUMNS = "referral_code, address_fingerprint, checkout_ip_fingerprint"
# The steps `seed` times, in order.
STEPS = ("plan members", "insert rows", "restore indexes and constraints", "vacuum analyze")


@dataclass(frozen=True)
class ShopSize:
    shop_id: int
    members: int
    entries: int


@dataclass(frozen=True)
class Seeded:
    members: int
    entries: int
    restored: list[str]
    seconds: dict[str, float]


def _sql_array(words: list[str]) -> str:
    return "(ARRAY[" + ", ".join(f"'{word}'" for word in words) + "])"


def members_plan(conn, sizes: list[ShopSize]) -> None:
    """bench_seed_member: each member's id, shop, names, join time and number of entries.

    Ids follow join time across shops, so shops' members interleave in the table as they
    would in production. Each shop's entry counts are then nudged (regulars only) so that
    they add up to exactly the shop's number of entries.
    """
    conn.execute("SELECT setseed(0.2026)")
    conn.execute("DROP TABLE IF EXISTS bench_seed_member")
    conn.execute(
        "CREATE UNLOGGED TABLE bench_seed_member (id bigint, shop_id bigint, "
        "customer_id bigint, first_name text, last_name text, email text, "
        "created_at timestamptz, entries int, regular boolean)"
    )
    first, last = _sql_array(FIRST_NAMES), _sql_array(LAST_NAMES)
    domains = _sql_array(EMAIL_DOMAINS)
    for size in sizes:
        regular_mean = sum(REGULAR_ENTRIES) / 2
        light_share = 1 - REGULAR_SHARE - IDLE_SHARE
        # Everyone else: 1 + an exponential number of entries, with this mean.
        light_mean = (size.entries / size.members - REGULAR_SHARE * regular_mean) / light_share
        conn.execute(
            f"""
            INSERT INTO bench_seed_member
            SELECT NULL, %(shop)s, 0, f, l,
              CASE
                WHEN style < 0.35 THEN lower(f) || '.' || lower(l) || digits
                WHEN style < 0.55 THEN lower(f) || lower(l) || digits
                WHEN style < 0.70 THEN lower(left(f, 1)) || lower(l) || digits
                WHEN style < 0.80 THEN lower(l) || '.' || lower(f)
                ELSE substr(md5(k::text || %(shop)s::text), 1, 6 + mod(k, 5)::int)
              END || '@' || {domains}[1 + floor(random() * {len(EMAIL_DOMAINS)})::int],
              now() - make_interval(secs => {HISTORY_DAYS} * 86400 * (1 - sqrt(random()))),
              CASE
                WHEN kind < {REGULAR_SHARE}
                  THEN {REGULAR_ENTRIES[0]} + floor(random() * {REGULAR_ENTRIES[1] - REGULAR_ENTRIES[0]})
                WHEN kind < {REGULAR_SHARE + IDLE_SHARE} THEN 0
                ELSE 1 + floor(-ln(1 - random()) * %(light_mean)s)::int
              END,
              kind < {REGULAR_SHARE}
            FROM (
              SELECT k, random() AS style, random() AS kind,
                CASE WHEN random() < 0.5 THEN floor(random() * 100)::text ELSE '' END AS digits,
                {first}[1 + floor({len(FIRST_NAMES)} * power(random(), {NAME_SKEW}))::int] AS f,
                {last}[1 + floor({len(LAST_NAMES)} * power(random(), {NAME_SKEW}))::int] AS l
              FROM generate_series(1, %(members)s) AS k
            ) AS drawn
            """,  # noqa: E501 - one SQL expression per line reads better than wrapped
            {"shop": size.shop_id, "members": size.members, "light_mean": light_mean - 0.5},
        )
        conn.execute(
            """
            WITH missing AS (
              SELECT %(entries)s - sum(entries) AS n, count(*) FILTER (WHERE regular) AS regulars
              FROM bench_seed_member WHERE shop_id = %(shop)s
            ), ranked AS (
              SELECT ctid, row_number() OVER (ORDER BY ctid) - 1 AS place
              FROM bench_seed_member WHERE shop_id = %(shop)s AND regular
            )
            UPDATE bench_seed_member AS m
            SET entries = m.entries + missing.n / missing.regulars
              + CASE WHEN ranked.place < abs(mod(missing.n, missing.regulars))
                THEN sign(missing.n)::int ELSE 0 END
            FROM missing, ranked WHERE m.ctid = ranked.ctid
            """,
            {"shop": size.shop_id, "entries": size.entries},
        )
    conn.execute(
        """
        UPDATE bench_seed_member AS m SET id = ordered.id,
          customer_id = 6000000000000 + ordered.id * 13 + mod(ordered.id, 7)
        FROM (SELECT ctid, row_number() OVER (ORDER BY created_at, shop_id) AS id
              FROM bench_seed_member) AS ordered
        WHERE m.ctid = ordered.ctid
        """
    )
    conn.execute("CREATE INDEX ON bench_seed_member (id)")
    conn.execute("ANALYZE bench_seed_member")


def _entries_sql() -> str:
    """One batch of members' ledger entries, and the members' rows (into a staging table,
    copied into the members table at the end in order of last activity), in one statement.

    Each entry's draws come from a hash of (member, sequence), so a release entry can
    recompute the points its held entry added. Balances are running sums over the member's
    sequence; prev_* are the after-values minus this entry's change, which is exactly the
    previous entry's after-values. Entries are written in time order within the batch,
    so a member's entries lie on many pages, as when they arrive over months.
    """
    # 0 .. 2^32-1 from a member and a sequence (sequences stay below 4096).
    draw = "(hashint8({member} * 4096 + {seq})::bigint + 2147483648)"
    h = draw.format(member="m.id", seq="s.n")
    held = draw.format(member="m.id", seq="s.n - 1")
    order_id = "(5000000000000 + m.id * 4096 + s.n)"
    held_order_id = "(5000000000000 + m.id * 4096 + s.n - 1)"
    return f"""
    WITH m AS (
      SELECT * FROM bench_seed_member WHERE id BETWEEN %(first)s AND %(last)s
    ), drawn AS (
      SELECT m.id AS member_id, m.shop_id, m.customer_id, s.n AS sequence,
        m.created_at + (now() - m.created_at)
          * ((s.n - 1 + mod({h}, 1000) / 1000.0) / m.entries) AS created_at,
        CASE
          WHEN s.n = 1 THEN 'signup_bonus'
          WHEN mod(s.n, 10) = 3 THEN 'held'
          WHEN mod(s.n, 10) = 4 THEN 'points_released'
          WHEN mod({h}, 100) < 3 THEN 'order_refunded'
          WHEN mod({h}, 100) = 3 THEN 'order_cancelled'
          WHEN mod({h}, 100) = 4 THEN 'manual_adjustment'
          ELSE 'order_earned'
        END AS kind,
        {h} AS h, 5 + mod({held} / 100, 300) AS released, {order_id} AS order_id,
        {held_order_id} AS held_order_id
      FROM m CROSS JOIN LATERAL generate_series(1, m.entries) AS s(n)
    ), changed AS (
      SELECT *,
        CASE kind
          WHEN 'signup_bonus' THEN 100
          WHEN 'held' THEN 0
          WHEN 'points_released' THEN released
          WHEN 'order_refunded' THEN -(1 + mod(h / 100, 150))
          WHEN 'order_cancelled' THEN -(5 + mod(h / 100, 300))
          WHEN 'manual_adjustment'
            THEN (1 + mod(h / 100, 500)) * (CASE WHEN mod(h / 7, 2) = 0 THEN 1 ELSE -1 END)
          ELSE 5 + mod(h / 100, 300)
        END AS points,
        CASE kind WHEN 'held' THEN 5 + mod(h / 100, 300) WHEN 'points_released' THEN -released
          ELSE 0 END AS pending_points
      FROM drawn
    ), chained AS (
      SELECT *,
        sum(points) OVER chain AS balance_after, sum(pending_points) OVER chain AS pending_after
      FROM changed WINDOW chain AS (PARTITION BY member_id ORDER BY sequence)
    ), written AS (
      INSERT INTO loyalty_ledgerentry (shop_id, member_id, sequence, points, pending_points,
        prev_sequence, prev_balance, prev_pending, balance_after, pending_after, reason,
        idempotency_key, order_id, refund_id, available_at, actor, note, created_at)
      SELECT shop_id, member_id, sequence, points, pending_points, nullif(sequence - 1, 0),
        balance_after - points, pending_after - pending_points, balance_after, pending_after,
        CASE kind WHEN 'held' THEN 'order_earned' ELSE kind END,
        CASE kind
          WHEN 'signup_bonus' THEN 'signup:' || customer_id
          WHEN 'points_released' THEN 'order:' || held_order_id || ':released'
          WHEN 'order_refunded'
            THEN 'order:' || order_id || ':refund:' || (order_id + 4000000000000)
          WHEN 'order_cancelled' THEN 'order:' || order_id || ':cancelled'
          WHEN 'manual_adjustment'
            THEN 'adjust:' || customer_id || ':' || md5(member_id || ':' || sequence)
          ELSE 'order:' || order_id || ':earned'
        END,
        CASE kind WHEN 'signup_bonus' THEN NULL WHEN 'manual_adjustment' THEN NULL
          WHEN 'points_released' THEN held_order_id ELSE order_id END,
        CASE kind WHEN 'order_refunded' THEN order_id + 4000000000000 END,
        CASE kind WHEN 'held' THEN created_at + interval '{HOLD_DAYS} days' END,
        CASE kind WHEN 'manual_adjustment' THEN '42' ELSE '' END,
        '', created_at
      FROM chained ORDER BY created_at
    )
    INSERT INTO bench_seed_member_row
    SELECT m.id, m.shop_id, m.customer_id, m.email, m.first_name, m.last_name,
      coalesce(newest.balance_after, 0), coalesce(newest.pending_after, 0),
      newest.sequence, m.created_at, coalesce(newest.created_at, m.created_at)
    FROM m LEFT JOIN chained AS newest
      ON newest.member_id = m.id AND newest.sequence = m.entries
    """


def _secondary_schema(conn) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str]]]:
    """The two tables' constraints other than primary keys (table, name, type, definition),
    and their indexes that back no constraint (name, definition)."""
    constraints = conn.execute(
        """
        SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
        FROM pg_constraint
        WHERE conrelid IN ('loyalty_member'::regclass, 'loyalty_ledgerentry'::regclass)
          AND contype <> 'p'
        ORDER BY conname
        """
    ).fetchall()
    indexes = conn.execute(
        """
        SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
        WHERE indrelid IN ('loyalty_member'::regclass, 'loyalty_ledgerentry'::regclass)
          AND NOT indisprimary
          AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE contype IN ('u', 'p'))
        ORDER BY 1
        """
    ).fetchall()
    return constraints, indexes


def seed(conn, sizes: list[ShopSize], *, say: Callable[[str], None] = print) -> Seeded:
    """Fill an empty, migrated database's members and ledger for `sizes` (shops that exist)."""
    seconds: dict[str, float] = {}
    started = time.monotonic()
    conn.execute("SET maintenance_work_mem = '1GB'")
    conn.execute("SET work_mem = '512MB'")
    constraints, indexes = _secondary_schema(conn)
    # Foreign keys first (they depend on the unique constraints), then the rest.
    for table, name, _, _ in sorted(constraints, key=lambda c: c[2] != "f"):
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")

    members_plan(conn, sizes)
    seconds["plan members"] = time.monotonic() - started
    say(f"planned {sum(s.members for s in sizes):,} members in {seconds['plan members']:.0f} s")
    started = time.monotonic()
    total = conn.execute("SELECT max(id) FROM bench_seed_member").fetchone()[0]
    conn.execute(
        "CREATE UNLOGGED TABLE bench_seed_member_row AS SELECT "
        f"{MEMBER_COLUMNS}, created_at AS active_at FROM loyalty_member WITH NO DATA"
    )
    statement = _entries_sql()
    for first in range(1, total + 1, BATCH_MEMBERS):
        conn.execute(statement, {"first": first, "last": first + BATCH_MEMBERS - 1})
        elapsed = time.monotonic() - started
        done = min(first + BATCH_MEMBERS - 1, total)
        say(f"  members 1..{done:,} of {total:,} with their entries ({elapsed:.0f} s)")
    # A member's row is rewritten whenever their points change, so the table holds the
    # rows in about the order of each member's last activity, not in id order.
    # The text columns the migrations give no database default are blank, as the app
    # writes them; a member's last activity is their newest entry (none without one).
    conn.execute(
        f"INSERT INTO loyalty_member ({MEMBER_COLUMNS}, {MEMBER_BLANK_COLUMNS}, "
        f"last_activity_at) SELECT {MEMBER_COLUMNS}, '', '', '', "
        "CASE WHEN last_sequence IS NOT NULL THEN active_at END "
        "FROM bench_seed_member_row ORDER BY active_at"
    )
    conn.execute("DROP TABLE bench_seed_member_row")
    conn.execute(
        "SELECT setval(pg_get_serial_sequence('loyalty_member', 'id'), "
        "(SELECT max(id) FROM loyalty_member))"
    )
    conn.execute("DROP TABLE bench_seed_member")
    seconds["insert rows"] = time.monotonic() - started

    started = time.monotonic()
    restored = []
    for name, definition in indexes:
        conn.execute(definition)
        restored.append(name)
    # Unique constraints (with their indexes), then checks, then foreign keys: adding each
    # one checks every seeded row against it.
    order = {"u": 0, "c": 1, "f": 2}
    for table, name, _, definition in sorted(constraints, key=lambda c: order[c[2]]):
        step = time.monotonic()
        conn.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
        restored.append(name)
        say(f"  restored {name} ({time.monotonic() - step:.0f} s)")
    if _secondary_schema(conn) != (constraints, indexes):
        raise RuntimeError("the restored indexes and constraints differ from the migrations'")
    seconds["restore indexes and constraints"] = time.monotonic() - started

    started = time.monotonic()
    conn.execute("VACUUM (ANALYZE) loyalty_member")
    conn.execute("VACUUM (ANALYZE) loyalty_ledgerentry")
    seconds["vacuum analyze"] = time.monotonic() - started
    members, entries = conn.execute(
        "SELECT (SELECT count(*) FROM loyalty_member), (SELECT count(*) FROM loyalty_ledgerentry)"
    ).fetchone()
    return Seeded(members=members, entries=entries, restored=restored, seconds=seconds)
