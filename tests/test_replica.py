"""With DATABASE_REPLICA_URL set, the admin's lag-tolerant reads (member search, exports,
dashboard figures, referrals) come from the replica and everything else from the primary.

Two real PostgreSQL databases stand for a primary and a replica that has fallen behind: the
replica is a copy of the primary, then the member is renamed on the primary only. Each side
is run in its own process, started as a deploy starts the app (settings from the environment).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.conftest import needs_postgres

pytestmark = needs_postgres

ROOT = Path(__file__).resolve().parent.parent
SHOP = "replica-shop.myshopify.com"

SEED = f"""
from loyalty.models import Member, Shop
shop = Shop.objects.create(domain="{SHOP}")
Member.objects.create(shop=shop, customer_id=1001, first_name="Ada", email="ada@example.com")
"""
RENAME_ON_PRIMARY = """
from loyalty.models import Member
Member.objects.filter(customer_id=1001).update(first_name="Grace")
"""
READ = f"""
import json, datetime
from loyalty.models import Shop
from loyalty.selectors import member_find, members_export_pages, members_search
from loyalty.stats.reads import stats_for_range
shop = Shop.objects.get(domain="{SHOP}")
found, _ = members_search(shop=shop, q="")
exported = [m.first_name for page in members_export_pages(shop=shop) for m in page]
day = datetime.date(2026, 11, 26)
print(json.dumps({{
    "search": [m.first_name for m in found],
    "export": exported,
    "detail": member_find(shop=shop, customer_id=1001).first_name,
    "stats_members": stats_for_range(shop=shop, first=day, last=day).totals.members,
}}))
"""


def url(name: str) -> str:
    base = settings.DATABASES["default"]
    return f"postgres://{base['USER']}@{base['HOST']}:{base['PORT'] or 5432}/{name}"


def admin_connection() -> psycopg.Connection:
    base = settings.DATABASES["default"]
    return psycopg.connect(
        host=base["HOST"],
        port=base["PORT"] or 5432,
        user=base["USER"],
        dbname="postgres",
        autocommit=True,
    )


def run(code: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_REPLICA_URL"}
    environment.update(env)
    preamble = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; "
    preamble += "django.setup()\n"
    done = subprocess.run(
        [sys.executable, "-c", preamble + code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def primary_and_replica():
    names = (f"perennial_primary_{os.getpid()}", f"perennial_replica_{os.getpid()}")
    with admin_connection() as conn:
        for name in names:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {names[0]}")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url(names[0])},
        check=True,
        timeout=300,
    )
    run(SEED, DATABASE_URL=url(names[0]))
    with admin_connection() as conn:
        conn.execute(f"CREATE DATABASE {names[1]} TEMPLATE {names[0]}")
    run(RENAME_ON_PRIMARY, DATABASE_URL=url(names[0]))
    yield tuple(url(name) for name in names)
    with admin_connection() as conn:
        for name in names:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_the_admins_heavy_reads_come_from_the_replica_and_the_rest_from_the_primary(
    primary_and_replica,
):
    primary, replica = primary_and_replica

    read = json.loads(run(READ, DATABASE_URL=primary, DATABASE_REPLICA_URL=replica))

    # The replica is behind: search and export still show the old name, while a member's
    # own page (read right after an adjustment) shows the primary's.
    assert read == {"search": ["Ada"], "export": ["Ada"], "detail": "Grace", "stats_members": 0}


def test_without_a_replica_every_read_comes_from_the_primary(primary_and_replica):
    primary, _ = primary_and_replica

    read = json.loads(run(READ, DATABASE_URL=primary))

    assert (read["search"], read["export"], read["detail"]) == (["Grace"], ["Grace"], "Grace")
