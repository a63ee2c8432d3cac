"""The embedded admin's Members and Rewards pages, rendered by Django (no browser)."""

import re

import pytest

from loyalty import selectors
from loyalty.models import Member, Reward, Tier
from loyalty.services.ledger import points_record
from loyalty.services.members import member_adjust
from tests.shopify_signing import ALICE, BOB, as_merchant, session_token
from tests.test_embedded_admin import admin_load, csp_for, installed_shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(admin_settings):
    return installed_shop(ALICE, "Alice", "EUR"), installed_shop(BOB, "Bob")


def member(shop, customer_id, email, first_name="", last_name="") -> Member:
    return Member.objects.create(
        shop=shop,
        customer_id=customer_id,
        email=email,
        first_name=first_name,
        last_name=last_name,
    )


def page(client, path, shop=ALICE, **query):
    response = admin_load(client, shop=shop, token=session_token(shop=shop), path=path)
    if query:
        params = {
            "embedded": "1",
            "shop": shop,
            "host": "YWRtaW4",
            "id_token": session_token(shop=shop),
        }
        response = client.get(path, params | query)
    return response


def rows(html: str, table_id: str) -> list[str]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert table, f"no table {table_id}"
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r"<tr>(.*?)</tr>", table.group(0).split("<tbody>")[1], re.S)
    ]


def test_members_page_lists_this_shops_members_with_points(client, shops):
    alice, bob = shops
    ada = member(alice, 1001, "ada@example.com", "Ada", "Lovelace")
    member(alice, 1002, "grace@example.com", "Grace", "Hopper")
    member(bob, 1003, "bob@example.com", "Bob", "Bobson")
    member_adjust(member=ada, points=120, reason="Welcome", actor="42", key="a")

    response = page(client, "/members")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == csp_for(ALICE)
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert rows(html, "members") == [
        "Ada Lovelace ada@example.com 1001 120 0",
        "Grace Hopper grace@example.com 1002 0 0",
    ]
    assert "<ui-nav-menu>" in html
    assert 'href="/members/1001?embedded=1&amp;shop=alice.myshopify.com&amp;host=YWRtaW4"' in html
    # Links never carry a token: a later click gets a fresh one through the bounce page.
    assert "id_token" not in re.sub(r"<script[^>]*>", "", html.split("<body>")[1])


def test_members_page_searches_and_says_when_nothing_matches(client, shops):
    alice, _ = shops
    member(alice, 1001, "ada@example.com", "Ada", "Lovelace")
    member(alice, 1002, "grace@example.com", "Grace", "Hopper")

    found = page(client, "/members", q="gra").content.decode()
    by_id = page(client, "/members", q="1001").content.decode()
    nothing = page(client, "/members", q="zed").content.decode()

    assert rows(found, "members") == ["Grace Hopper grace@example.com 1002 0 0"]
    assert rows(by_id, "members") == ["Ada Lovelace ada@example.com 1001 0 0"]
    assert "No member matches “zed”." in nothing
    assert 'id="members"' not in nothing


def test_members_page_search_holding_a_nul_finds_no_one(client, shops):
    """No stored email or name can hold a NUL, and PostgreSQL refuses one in a query."""
    alice, _ = shops
    member(alice, 1001, "ada@example.com", "Ada", "Lovelace")

    response = page(client, "/members", q="ada\x00")

    assert response.status_code == 200
    assert "No member matches" in response.content.decode()
    assert selectors.members_search(shop=alice, q="\x00") == ([], False)


def test_members_page_continues_with_a_next_link(client, shops):
    alice, _ = shops
    page_size = selectors.MEMBERS_PAGE_SIZE
    Member.objects.bulk_create(
        Member(shop=alice, customer_id=1000 + n, email=f"c{1000 + n}@example.com")
        for n in range(1, page_size + 2)
    )

    first = page(client, "/members").content.decode()
    next_href = re.search(r'<a class="button" href="([^"]+)" rel="next">Next</a>', first)
    cursor = re.search(r"cursor=([^&]+)", next_href.group(1).replace("&amp;", "&")).group(1)
    second = page(client, "/members", cursor=cursor).content.decode()

    assert len(rows(first, "members")) == page_size
    assert rows(first, "members")[0].startswith("(no name) c1001@example.com 1001")
    assert rows(second, "members") == [
        f"(no name) c{1001 + page_size}@example.com {1001 + page_size} 0 0"
    ]
    assert 'rel="next"' not in second
    assert "First page" in second
    assert (
        "That page of results is no longer available"
        in page(client, "/members", cursor="not-a-cursor").content.decode()
    )


def test_member_page_shows_balance_pending_and_history_newest_first(client, shops):
    alice, _ = shops
    ada = member(alice, 1001, "ada@example.com", "Ada", "Lovelace")
    points_record(
        member=ada,
        points=0,
        pending_points=30,
        reason="order_earned",
        idempotency_key="o1",
        order_id=5001,
    )
    member_adjust(member=ada, points=50, reason="Damaged parcel", actor="77", key="k1")

    html = page(client, "/members/1001").content.decode()

    assert re.search(r'id="member-balance">50<', html)
    assert re.search(r'id="member-pending">30<', html)
    assert re.search(r'id="member-tier">No tier<', html)
    assert rows(html, "history")[0].endswith(
        "Adjusted by the store Damaged parcel +50 0 50 staff 77"
    )
    assert "Points for an order · order 5001" in rows(html, "history")[1]
    assert 'action="/api/admin/members/1001/adjustments"' in html


def test_member_page_names_the_members_tier_as_the_api_does(client, shops):
    alice, _ = shops
    silver = Tier.objects.create(shop=alice, name="Silver", threshold=500, multiplier="1.25")
    gold = Tier.objects.create(shop=alice, name="Gold <b>", threshold=2000, multiplier="1.5")
    ada = member(alice, 1001, "ada@example.com", "Ada", "Lovelace")
    member(alice, 1002, "grace@example.com", "Grace", "Hopper")
    Member.objects.filter(pk=ada.pk).update(tier=gold)

    html = page(client, "/members/1001").content.decode()
    api = client.get("/api/admin/members/1001", headers=as_merchant(ALICE)).json()

    # The merchant's own text, escaped, never markup.
    assert re.search(r'id="member-tier">Gold &lt;b&gt;<', html)
    assert api["tier"] == "Gold <b>"
    assert re.search(r'id="member-tier">No tier<', page(client, "/members/1002").content.decode())
    Member.objects.filter(pk=ada.pk).update(tier=silver)
    assert re.search(r'id="member-tier">Silver<', page(client, "/members/1001").content.decode())


def test_another_shops_member_or_reward_is_not_found(client, shops):
    alice, _ = shops
    member(alice, 1001, "ada@example.com", "Ada", "Lovelace")
    reward = Reward.objects.create(shop=alice, kind="amount_off", points_cost=500, value="5")

    as_bob_member = page(client, "/members/1001", shop=BOB)
    as_bob_reward = page(client, f"/rewards/{reward.pk}", shop=BOB)

    assert as_bob_member.status_code == 404
    assert "ada@example.com" not in as_bob_member.content.decode()
    assert as_bob_reward.status_code == 404
    assert "This shop has no reward" in as_bob_reward.content.decode()


def test_pages_without_a_token_go_to_the_bounce_page(client, shops):
    for path in ("/members", "/members/1001", "/rewards", "/rewards/1"):
        response = admin_load(client, shop=ALICE, path=path)
        assert response.status_code == 302
        assert response["Location"].startswith("/auth/session-token?")


def test_rewards_page_lists_the_catalogue_cheapest_first_without_deleted_ones(client, shops):
    alice, bob = shops
    Reward.objects.create(shop=alice, kind="percent_off", points_cost=800, value="10")
    Reward.objects.create(shop=alice, kind="amount_off", points_cost=500, value="5", enabled=False)
    Reward.objects.create(shop=alice, kind="free_shipping", points_cost=300)
    gone = Reward.objects.create(shop=alice, kind="amount_off", points_cost=100, value="1")
    gone.deleted_at = gone.created_at
    gone.save()
    Reward.objects.create(shop=bob, kind="amount_off", points_cost=50, value="2")

    html = page(client, "/rewards").content.decode()

    assert [re.sub(r" (Disable|Enable)$", "", row) for row in rows(html, "rewards")] == [
        "Free shipping Free shipping 300 — Offered",
        "5.00 EUR off Amount off 500 5.00 EUR Disabled",
        "10% off Percent off 800 10% Offered",
    ]
    assert 'action="/api/admin/rewards"' in html


def test_reward_page_fills_the_form_with_the_reward(client, shops):
    alice, _ = shops
    reward = Reward.objects.create(
        shop=alice, kind="amount_off", points_cost=500, value="5", minimum_subtotal="40"
    )

    html = page(client, f"/rewards/{reward.pk}").content.decode()

    assert re.search(r'<option value="amount_off" selected>', html)
    assert re.search(r'name="points_cost"[^>]*value="500"', html)
    assert re.search(r'name="value"[^>]*value="5.00"', html)
    assert re.search(r'name="name"[^>]*value=""', html)
    assert "<title>5.00 EUR off · Rewards · Perennial</title>" in html
    assert re.search(r'name="minimum_subtotal"[^>]*value="40.00"', html)
    assert f'action="/api/admin/rewards/{reward.pk}"' in html


def test_shopper_and_merchant_text_is_shown_as_text_never_as_markup(client, shops):
    """Names come from Shopify's customers, reasons and reward names from staff: each page
    escapes them, in text and in attributes (the title bar, the delete confirmation)."""
    alice, _ = shops
    attack = '"><img src=x onerror=alert(1)>'
    ada = member(alice, 1001, f"ada{attack}@example.com", f"Ada{attack}", "<script>x</script>")
    member_adjust(member=ada, points=5, reason=f"Goodwill{attack}", actor="42", key="k1")
    reward = Reward.objects.create(
        shop=alice, kind="free_shipping", points_cost=300, name=f"Ship{attack}"
    )

    pages = [
        page(client, "/members").content.decode(),
        page(client, "/members", q="ada").content.decode(),
        page(client, "/members/1001").content.decode(),
        page(client, "/rewards").content.decode(),
        page(client, f"/rewards/{reward.pk}").content.decode(),
    ]

    for html in pages:
        assert "<img src=x" not in html
        assert "<script>x</script>" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'title="Ada&quot;&gt;&lt;img src=x onerror=alert(1)&gt; &lt;script&gt;' in pages[2]
    assert 'data-confirm="Delete Ship&quot;&gt;&lt;img src=x' in pages[4]
