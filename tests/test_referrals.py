"""Given an advocate's referral link and a friend who visits it, when the friend's order
webhooks arrive, then the advocate holds exactly the points the program says, or the
referral is refused and says why."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from loyalty.earning.orders import refund_facts
from loyalty.earning.referrals import order_referral_facts
from loyalty.models import LedgerEntry, Member, Reason, Referral, ReferralState, RefusalReason
from loyalty.services.members import member_redact
from loyalty.services.orders import pending_points_release, refund_record
from loyalty.services.referrals import fingerprint, referral_code_ensure, referral_visit
from tests import factories
from tests.factories import order_payload, refund_payload
from webhooks.handlers.orders import order_changed
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db

ADDRESS = {"address1": "1 Main St", "city": "Springfield", "zip": "12345", "country_code": "US"}


def referring_shop(**program):
    program = {
        "referral_advocate_points": 500,
        "referral_friend_reward_kind": "amount_off",
        "referral_friend_reward_value": Decimal("10.00"),
        **program,
    }
    return factories.shop(**program)


def advocate_of(shop, customer_id=1001) -> Member:
    member = factories.member(shop, customer_id, f"advocate{customer_id}@example.com")
    referral_code_ensure(member=member)
    return member


def visit(shop, advocate, ip="203.0.113.7") -> Referral:
    return referral_visit(shop=shop, code=advocate.referral_code, ip=ip)


def order_webhook(shop, order_id=6001, customer_id=2002, *, ip="", address=None, **options):
    """One orders/* delivery, through the webhook handler."""
    payload = order_payload(order_id, customer_id, **options)
    payload["browser_ip"] = ip or None
    if address is not None:
        payload["customer"]["default_address"] = address
    order_changed(shop=shop, payload=payload, delivery=Delivery())


def refund_webhook(shop, order_id=6001, refund_id=9001, subtotal="100.00"):
    refund_record(
        shop=shop,
        facts=refund_facts(refund_payload(order_id, refund_id, lines=((subtotal, "0.00"),))),
    )


def points_of(member: Member) -> tuple[int, int]:
    member.refresh_from_db()
    return member.balance, member.pending


def test_friend_order_holds_the_advocates_points_then_releases_them():
    shop = referring_shop(hold_days=14)
    advocate = advocate_of(shop)
    referral = visit(shop, advocate)
    assert referral.code.startswith("FRIEND-")
    order_webhook(shop, discount_codes=[referral.code.lower()])
    referral.refresh_from_db()
    assert (referral.state, referral.points, referral.order_id) == ("ordered", 500, 6001)
    assert (referral.friend_customer_id, referral.friend_email) == (2002, "c2002@example.com")
    assert points_of(advocate) == (0, 500)
    # The friend earns their own order's points as ever.
    assert points_of(Member.objects.get(shop=shop, customer_id=2002)) == (0, 100)

    assert pending_points_release(now=timezone.now() + timedelta(days=13)) == 0
    assert points_of(advocate) == (0, 500)
    assert pending_points_release(now=timezone.now() + timedelta(days=15)) == 2
    assert points_of(advocate) == (500, 0)
    referral.refresh_from_db()
    assert (referral.state, referral.release_at) == ("rewarded", None)
    entries = LedgerEntry.objects.filter(member=advocate).order_by("sequence")
    assert [(e.reason, e.points, e.pending_points, e.idempotency_key) for e in entries] == [
        (Reason.REFERRAL_REWARDED, 0, 500, f"referral:{referral.pk}:rewarded"),
        (Reason.POINTS_RELEASED, 500, -500, f"referral:{referral.pk}:released"),
    ]


def test_without_a_hold_the_advocate_is_rewarded_at_once_and_only_once():
    shop = referring_shop(hold_days=0)
    advocate = advocate_of(shop)
    referral = visit(shop, advocate)
    for _ in range(3):  # orders/create, orders/paid, orders/updated
        order_webhook(shop, discount_codes=[referral.code])
    assert points_of(advocate) == (500, 0)
    referral.refresh_from_db()
    assert referral.state == ReferralState.REWARDED
    assert LedgerEntry.objects.filter(member=advocate).count() == 1


def test_unpaid_order_waits_for_payment():
    shop = referring_shop()
    advocate = advocate_of(shop)
    referral = visit(shop, advocate)
    order_webhook(shop, discount_codes=[referral.code], financial_status="pending")
    referral.refresh_from_db()
    assert referral.state == ReferralState.VISITED
    order_webhook(shop, discount_codes=[referral.code])
    assert points_of(advocate) == (500, 0)


def test_full_refund_within_the_hold_takes_the_reward_back_a_partial_one_does_not():
    shop = referring_shop(hold_days=14)
    advocate = advocate_of(shop)
    referral = visit(shop, advocate)
    order_webhook(shop, discount_codes=[referral.code])
    refund_webhook(shop, refund_id=9001, subtotal="40.00")
    assert points_of(advocate) == (0, 500)
    refund_webhook(shop, refund_id=9002, subtotal="60.00")
    assert points_of(advocate) == (0, 0)
    referral.refresh_from_db()
    assert (referral.state, referral.release_at) == ("reversed", None)
    taken = LedgerEntry.objects.get(member=advocate, reason=Reason.REFERRAL_REVERSED)
    assert (taken.points, taken.pending_points) == (0, -500)
    # A repeated refund takes nothing more, and the hold's end gives nothing back.
    refund_webhook(shop, refund_id=9002, subtotal="60.00")
    pending_points_release(now=timezone.now() + timedelta(days=15))
    assert points_of(advocate) == (0, 0)
    assert LedgerEntry.objects.filter(member=advocate).count() == 2


def test_cancellation_within_the_hold_takes_the_reward_back():
    shop = referring_shop(hold_days=7)
    advocate = advocate_of(shop)
    referral = visit(shop, advocate)
    order_webhook(shop, discount_codes=[referral.code])
    order_webhook(shop, discount_codes=[referral.code], cancelled=True)
    assert points_of(advocate) == (0, 0)
    referral.refresh_from_db()
    assert referral.state == ReferralState.REVERSED


def test_refund_after_the_hold_leaves_the_reward():
    shop = referring_shop(hold_days=7)
    advocate = advocate_of(shop)
    referral = visit(shop, advocate)
    order_webhook(shop, discount_codes=[referral.code])
    pending_points_release(now=timezone.now() + timedelta(days=8))
    refund_webhook(shop, subtotal="100.00")
    assert points_of(advocate) == (500, 0)
    referral.refresh_from_db()
    assert referral.state == ReferralState.REWARDED


def test_note_attribute_names_the_advocate_without_a_code():
    shop = referring_shop(hold_days=0)
    advocate = advocate_of(shop)
    order_webhook(
        shop,
        note_attributes=[{"name": "referral_code", "value": advocate.referral_code.lower()}],
    )
    referral = Referral.objects.get(shop=shop)
    assert (referral.advocate_id, referral.code, referral.state) == (advocate.pk, "", "rewarded")
    assert points_of(advocate) == (500, 0)


def test_order_without_a_referral_changes_nothing():
    shop = referring_shop()
    advocate = advocate_of(shop)
    visit(shop, advocate)
    order_webhook(shop, discount_codes=["SUMMER10"])
    assert points_of(advocate) == (0, 0)
    assert Referral.objects.get(shop=shop).state == ReferralState.VISITED


@pytest.mark.parametrize(
    ("friend", "reason"),
    [
        ({"customer_id": 1001}, RefusalReason.SAME_CUSTOMER),
        ({"email": "ADVOCATE1001@example.com"}, RefusalReason.SAME_EMAIL),
        ({"address": {**ADDRESS, "address1": " 1  main st"}}, RefusalReason.SAME_ADDRESS),
        ({"ip": "198.51.100.4"}, RefusalReason.SAME_CHECKOUT_IP),
    ],
)
def test_self_referral_is_refused_with_its_reason(friend, reason):
    shop = referring_shop()
    advocate = advocate_of(shop)
    # The advocate's own earlier order tells the app their address and checkout IP.
    order_webhook(
        shop,
        order_id=5001,
        customer_id=1001,
        ip="198.51.100.4",
        address=ADDRESS,
        email="advocate1001@example.com",
    )
    referral = visit(shop, advocate)
    customer_id = friend.get("customer_id", 2002)
    order_webhook(
        shop,
        customer_id=customer_id,
        email=friend.get("email", f"c{customer_id}@example.com"),
        ip=friend.get("ip", "192.0.2.50"),
        address=friend.get("address", {**ADDRESS, "address1": "9 Elm St"}),
        discount_codes=[referral.code],
        created_at="2026-11-20T12:00:00Z",
    )
    referral.refresh_from_db()
    assert (referral.state, referral.refusal_reason) == ("refused", reason)
    assert referral.points == 0
    # The advocate holds only the points of their own orders.
    assert (
        not LedgerEntry.objects.filter(member=advocate).exclude(reason=Reason.ORDER_EARNED).exists()
    )


def test_a_friend_who_ordered_before_is_refused():
    shop = referring_shop()
    advocate = advocate_of(shop)
    order_webhook(shop, order_id=6000, created_at="2026-10-01T12:00:00Z")
    referral = visit(shop, advocate)
    order_webhook(
        shop, order_id=6001, discount_codes=[referral.code], created_at="2026-11-01T12:00:00Z"
    )
    referral.refresh_from_db()
    assert (referral.state, referral.refusal_reason) == ("refused", "ordered_before")
    assert referral.get_refusal_reason_display() == "The friend had ordered before"
    assert points_of(advocate) == (0, 0)


def test_monthly_cap_counts_the_shops_calendar_month():
    shop = referring_shop(referral_monthly_cap=2)
    shop.timezone = "America/New_York"
    shop.save()
    advocate = advocate_of(shop)
    placed = [
        "2026-11-02T12:00:00Z",
        "2026-11-15T12:00:00Z",
        # 22:00 on 30 November in New York: still November there, so over the cap.
        "2026-12-01T03:00:00Z",
        # December in New York.
        "2026-12-01T06:00:00Z",
    ]
    for number, created_at in enumerate(placed):
        referral = visit(shop, advocate, ip=f"192.0.2.{number}")
        order_webhook(
            shop,
            order_id=7000 + number,
            customer_id=3000 + number,
            discount_codes=[referral.code],
            created_at=created_at,
        )
    states = list(
        Referral.objects.filter(shop=shop)
        .order_by("order_id")
        .values_list("state", "refusal_reason")
    )
    assert states == [
        ("rewarded", ""),
        ("rewarded", ""),
        ("refused", "monthly_cap"),
        ("rewarded", ""),
    ]
    assert points_of(advocate) == (1500, 0)


def test_a_visit_is_recorded_once_per_visitor_a_day_and_an_unknown_code_records_nothing():
    shop = referring_shop()
    advocate = advocate_of(shop)
    assert referral_visit(shop=shop, code="NOSUCHCODE", ip="203.0.113.7") is None
    assert not Referral.objects.exists()
    first = visit(shop, advocate)
    assert visit(shop, advocate).pk == first.pk
    other = visit(shop, advocate, ip="203.0.113.8")
    assert other.pk != first.pk and other.code != first.code
    assert first.visit_ip_fingerprint == fingerprint("203.0.113.7")
    assert "203.0.113.7" not in first.visit_ip_fingerprint
    # A day later the same visitor gets a fresh referral.
    later = referral_visit(
        shop=shop,
        code=advocate.referral_code,
        ip="203.0.113.7",
        now=timezone.now() + timedelta(days=1, minutes=1),
    )
    assert later.pk not in (first.pk, other.pk)


def test_another_shops_code_is_unknown():
    alice = referring_shop()
    bob = referring_shop_of("bob.myshopify.com")
    advocate = advocate_of(alice)
    assert referral_visit(shop=bob, code=advocate.referral_code, ip="203.0.113.7") is None
    assert not Referral.objects.exists()


def referring_shop_of(domain):
    return factories.shop(domain, referral_advocate_points=500)


def test_order_facts_read_note_attributes_ip_and_address():
    payload = order_payload(
        note_attributes=[
            {"name": "gift", "value": "yes"},
            {"name": "referral_code", "value": " abc "},
        ]
    )
    payload["browser_ip"] = None
    payload["client_details"] = {"browser_ip": "192.0.2.9"}
    payload["customer"]["default_address"] = {**ADDRESS, "city": "  SPRINGFIELD "}
    facts = order_referral_facts(payload)
    assert facts.referral_code == "ABC"
    assert facts.checkout_ip == "192.0.2.9"
    assert facts.address == "1 main st||springfield|12345||us"


def test_redacting_a_friend_forgets_their_email_on_referrals_and_their_fingerprints():
    shop = referring_shop()
    advocate = advocate_of(shop)
    referral = visit(shop, advocate)
    order_webhook(shop, discount_codes=[referral.code], ip="192.0.2.50", address=ADDRESS)
    friend = Member.objects.get(shop=shop, customer_id=2002)
    assert friend.address_fingerprint and friend.checkout_ip_fingerprint
    member_redact(shop=shop, customer_id=2002)
    referral.refresh_from_db()
    friend.refresh_from_db()
    assert (referral.friend_email, referral.friend_customer_id) == ("", 2002)
    assert (friend.address_fingerprint, friend.checkout_ip_fingerprint) == ("", "")


def test_a_redacted_customers_next_order_stores_no_fingerprints_again():
    shop = referring_shop()
    advocate_of(shop)
    order_webhook(shop, order_id=6001, ip="192.0.2.50", address=ADDRESS)
    member_redact(shop=shop, customer_id=2002)
    # Shopify may still deliver an order of theirs (placed before the request, or updated).
    order_webhook(shop, order_id=6002, ip="192.0.2.51", address=ADDRESS)
    friend = Member.objects.get(shop=shop, customer_id=2002)
    assert friend.redacted_at is not None
    assert (friend.address_fingerprint, friend.checkout_ip_fingerprint) == ("", "")
