"""The referral link through Shopify's app proxy (against the stand-in), the referral URL in
the account answer, and the admin's list of referrals."""

import re
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client

from loyalty.models import Member, Program, Referral
from loyalty.services.referrals import fingerprint, referral_code_ensure, referral_visit
from standin.signing import app_proxy_params
from tests import factories
from tests.factories import order_payload
from tests.redeeming import account, discounts, install, knobs, shopify
from tests.shopify_signing import ALICE, BOB, as_merchant, session_token
from tests.test_admin_data_pages import page, text
from tests.test_embedded_admin import installed_shop
from webhooks.handlers.orders import order_changed
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db
__all__ = ["shopify"]


def with_referrals(shop, **program) -> None:
    Program.objects.update_or_create(
        shop=shop,
        defaults={
            "referral_advocate_points": 500,
            "referral_friend_reward_kind": "percent_off",
            "referral_friend_reward_value": Decimal("15"),
            "referral_friend_reward_minimum_subtotal": Decimal("50.00"),
            "referral_friend_reward_expires_after_days": 30,
            **program,
        },
    )


def follow_link(client: Client, code: str, *, shop: str = ALICE, ip: str = "203.0.113.7"):
    params = app_proxy_params(shop=shop, secret=settings.SHOPIFY_API_SECRET)
    return client.get(f"/proxy/r/{code}?" + urlencode(params, doseq=True), HTTP_X_FORWARDED_FOR=ip)


def advocate(shop) -> Member:
    member = factories.member(shop, 1001, "ada@example.com")
    referral_code_ensure(member=member)
    return member


def test_the_link_records_the_visit_and_sends_the_friend_to_the_discount_url(
    client: Client, shopify
):
    shop = install()
    with_referrals(shop)
    member = advocate(shop)

    response = follow_link(client, member.referral_code.lower())
    again = follow_link(client, member.referral_code)

    referral = Referral.objects.get(shop=shop)
    assert response.status_code == 302
    assert response["Location"] == f"/discount/{referral.code}?redirect=/"
    assert again["Location"] == response["Location"]
    assert (referral.state, referral.advocate_id) == ("visited", member.pk)
    assert referral.visited_at is not None and referral.discount_id
    [made] = discounts(shopify)
    terms = made["input"]
    assert made["code"] == referral.code
    # Anyone may use it, once; the program's percent as Shopify's fraction.
    assert terms["context"] == {"all": "ALL"}
    assert (terms["usageLimit"], terms["appliesOncePerCustomer"]) == (1, True)
    assert terms["customerGets"]["value"] == {"percentage": 0.15}
    assert terms["minimumRequirement"] == {"subtotal": {"greaterThanOrEqualToSubtotal": "50.00"}}
    assert terms["endsAt"] is not None


def test_an_unknown_code_goes_to_the_store_and_records_nothing(client: Client, shopify):
    shop = install()
    with_referrals(shop)
    response = follow_link(client, "NOSUCHCODE")
    assert (response.status_code, response["Location"]) == (302, "/")
    assert not Referral.objects.exists()
    assert discounts(shopify) == []


def test_another_shops_link_is_unknown_here(client: Client, shopify):
    alice, bob = install(ALICE), install(BOB)
    with_referrals(alice)
    with_referrals(bob)
    member = advocate(alice)
    response = follow_link(client, member.referral_code, shop=BOB)
    assert response["Location"] == "/"
    assert not Referral.objects.exists()


def test_when_shopify_refuses_the_friend_still_reaches_the_store_and_the_next_visit_retries(
    client: Client, shopify
):
    shop = install()
    with_referrals(shop)
    member = advocate(shop)
    knobs(shopify, refuse_count=1)
    assert follow_link(client, member.referral_code)["Location"] == "/"
    referral = Referral.objects.get(shop=shop)
    assert referral.discount_id == ""
    second = follow_link(client, member.referral_code)
    assert second["Location"] == f"/discount/{referral.code}?redirect=/"
    assert Referral.objects.count() == 1


def test_an_unsigned_link_is_refused(client: Client):
    factories.shop()
    assert client.get("/proxy/r/ABCDEFGH?shop=alice.myshopify.com").status_code == 401


def test_the_account_answer_has_the_members_link_once_referrals_are_on(client: Client):
    shop = factories.shop()
    factories.member(shop, 1001)
    assert account(client)["referral_url"] is None
    with_referrals(shop)
    url = account(client)["referral_url"]
    code = Member.objects.get(shop=shop, customer_id=1001).referral_code
    assert len(code) == 8
    assert url == f"https://alice.myshopify.com/apps/loyalty/r/{code}"
    assert account(client)["referral_url"] == url
    assert account(client, customer="")["referral_url"] is None


def friend_order(shop, order_id: int, customer_id: int, code: str) -> None:
    payload = order_payload(order_id, customer_id, discount_codes=[code])
    order_changed(shop=shop, payload=payload, delivery=Delivery())


def test_the_admin_lists_referrals_with_their_state_and_why(client: Client, admin_settings):
    shop = installed_shop(ALICE, "Alice")
    with_referrals(shop, hold_days=10)
    member = advocate(shop)
    ordered = referral_visit(shop=shop, code=member.referral_code, ip="192.0.2.1")
    friend_order(shop, 6001, 2002, ordered.code)
    refused = referral_visit(shop=shop, code=member.referral_code, ip="192.0.2.2")
    friend_order(shop, 6002, 1001, refused.code)
    visited = referral_visit(shop=shop, code=member.referral_code, ip="192.0.2.3")

    answer = client.get("/api/admin/referrals", headers=as_merchant()).json()
    rows = answer["referrals"]
    assert answer["next_cursor"] is None
    assert [(r["id"], r["state"], r["refusal_reason"]) for r in rows] == [
        (visited.pk, "visited", ""),
        (refused.pk, "refused", "same_customer"),
        (ordered.pk, "ordered", ""),
    ]
    assert rows[1]["refusal"] == "The friend is the advocate"
    # The advocate's own order (the refused one) brought their email up to date.
    assert rows[2]["advocate"] == {"customer_id": "1001", "email": "c1001@example.com"}
    assert (rows[2]["friend_customer_id"], rows[2]["order_id"], rows[2]["points"]) == (
        "2002",
        "6001",
        500,
    )
    assert rows[2]["release_at"] is not None

    only = client.get("/api/admin/referrals?state=refused", headers=as_merchant()).json()
    assert [r["id"] for r in only["referrals"]] == [refused.pk]
    bad = client.get("/api/admin/referrals?state=lost", headers=as_merchant())
    assert bad.status_code == 400 and "state" in bad.json()["errors"]
    # Bob's token sees none of Alice's referrals.
    installed_shop(BOB, "Bob")
    assert client.get("/api/admin/referrals", headers=as_merchant(BOB)).json()["referrals"] == []


def test_the_admin_list_pages_by_cursor(client: Client, admin_settings):
    shop = installed_shop(ALICE, "Alice")
    with_referrals(shop)
    member = advocate(shop)
    made = [
        referral_visit(shop=shop, code=member.referral_code, ip=f"192.0.2.{n}").pk
        for n in range(55)
    ]
    first = client.get("/api/admin/referrals", headers=as_merchant()).json()
    assert len(first["referrals"]) == 50 and first["next_cursor"]
    rest = client.get(
        "/api/admin/referrals", {"cursor": first["next_cursor"]}, headers=as_merchant()
    ).json()
    seen = [r["id"] for r in first["referrals"] + rest["referrals"]]
    assert seen == sorted(made, reverse=True) and rest["next_cursor"] is None
    bad = client.get("/api/admin/referrals?cursor=nope", headers=as_merchant())
    assert bad.status_code == 400 and "cursor" in bad.json()["errors"]


def test_the_referrals_page_is_linked_from_members_and_shows_only_the_shops_referrals(
    client: Client, admin_settings
):
    shop = installed_shop(ALICE, "Alice")
    installed_shop(BOB, "Bob")
    with_referrals(shop, hold_days=10)
    member = advocate(shop)
    ordered = referral_visit(shop=shop, code=member.referral_code, ip="192.0.2.1")
    friend_order(shop, 6001, 2002, ordered.code)
    refused = referral_visit(shop=shop, code=member.referral_code, ip="192.0.2.2")
    friend_order(shop, 6002, 1001, refused.code)

    members_html = page(client, "/members")
    assert re.search(r'href="/members/referrals\?[^"]+">Referrals<', members_html)
    html = page(client, "/members/referrals")
    rows = [text(row) for row in re.findall(r"<tr data-referral=.*?</tr>", html, re.S)]
    assert len(rows) == 2
    assert "Refused: The friend is the advocate" in rows[0] and refused.code in rows[0]
    assert "Friend ordered (on hold until" in rows[1] and "c2002@example.com" in rows[1]
    assert "500" in rows[1]
    params = {"embedded": "1", "shop": ALICE, "host": "YWRtaW4", "state": "refused"}
    only = client.get("/members/referrals", {**params, "id_token": session_token(shop=ALICE)})
    assert only.content.decode().count("<tr data-referral=") == 1
    assert "<tr data-referral=" not in page(client, "/members/referrals", shop=BOB)


def test_the_visit_is_recorded_from_the_address_shopify_saw_not_one_the_shopper_sent(
    client: Client, shopify
):
    shop = install()
    with_referrals(shop)
    member = advocate(shop)

    # Left to right: what the shopper's browser claimed, the shopper as Shopify's proxy saw
    # them, and Shopify's proxy as our TLS proxy saw it (README: one proxy of our own).
    follow_link(client, member.referral_code, ip="198.51.100.66, 203.0.113.7, 23.227.38.65")

    referral = Referral.objects.get(shop=shop)
    assert referral.visit_ip_fingerprint == fingerprint("203.0.113.7")
