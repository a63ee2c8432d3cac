"""Review rewards: given a shop that gives points for reviews and a customer who bought a
product, when review apps send reviews, then the member earns exactly once per product,
whatever the rating, and only for what they bought."""

import pytest

from loyalty.earning.orders import order_facts
from loyalty.models import LedgerEntry, Member, OrderProduct, Reason, ReviewDelivery
from loyalty.reviews.services import review_delivery_process
from loyalty.services.integrations import integration_secret_for
from loyalty.services.orders import order_settle
from loyalty.services.privacy import customer_redact
from standin.reviews import generic_review, judgeme_review, review_request
from tests import factories
from tests.factories import order_payload

pytestmark = pytest.mark.django_db

ALICE = "alice.myshopify.com"
SCARF = 7001
BOOTS = 7002


@pytest.fixture
def shop():
    made = factories.shop(ALICE, review_points=50, review_photo_bonus_points=25)
    made.secret = integration_secret_for(shop=made)
    return made


def buy(shop, *, order_id=5001, customer_id=1001, product_id=SCARF, **options):
    payload = order_payload(order_id=order_id, customer_id=customer_id, product_id=product_id)
    payload.update(options)
    return order_settle(shop=shop, facts=order_facts(payload))


def send(client, shop, *, source="generic", **review):
    if source == "judgeme":
        body = judgeme_review(**review)
    else:
        review.setdefault("customer_id", 1001)
        body = generic_review(shop=shop.domain, **review)
    signed = review_request(source=source, review=body, secret=shop.secret, shop=shop.domain)
    response = client.post(
        signed.path, data=signed.body, content_type="application/json", headers=signed.headers
    )
    assert response.status_code == 200, response.content
    return response.json()


def review_points(shop, customer_id=1001) -> int:
    member = Member.objects.get(shop=shop, customer_id=customer_id)
    entries = LedgerEntry.objects.filter(member=member, reason=Reason.REVIEW_REWARDED)
    return sum(entry.points for entry in entries)


def test_a_buyer_earns_the_review_points_once(client, shop):
    buy(shop)
    balance_before = Member.objects.get(shop=shop, customer_id=1001).balance

    answer = send(client, shop, review_id="r-1", product_id=SCARF)

    assert answer["status"] == "rewarded"
    assert answer["points"] == 50
    member = Member.objects.get(shop=shop, customer_id=1001)
    assert member.balance == balance_before + 50
    entry = LedgerEntry.objects.get(member=member, reason=Reason.REVIEW_REWARDED)
    assert entry.idempotency_key == f"review:1001:{SCARF}"
    assert entry.note == "generic review r-1"


def test_a_photo_adds_the_bonus(client, shop):
    buy(shop)

    answer = send(client, shop, review_id="r-1", product_id=SCARF, has_photo=True)

    assert answer["points"] == 75
    assert review_points(shop) == 75


def test_one_star_and_five_stars_earn_the_same(client, shop):
    buy(shop, order_id=5001, product_id=SCARF)
    buy(shop, order_id=5002, product_id=BOOTS)

    low = send(client, shop, review_id="r-low", product_id=SCARF, rating=1)
    high = send(client, shop, review_id="r-high", product_id=BOOTS, rating=5)

    assert (low["status"], low["points"]) == ("rewarded", 50)
    assert (high["status"], high["points"]) == ("rewarded", 50)
    assert review_points(shop) == 100


def test_a_second_review_of_the_same_product_is_refused_with_why(client, shop):
    buy(shop)
    send(client, shop, review_id="r-1", product_id=SCARF)

    again = send(client, shop, review_id="r-2", product_id=SCARF, has_photo=True)

    assert again["status"] == "refused"
    assert again["points"] == 0
    assert (
        "already earned points for reviewing product 7001 (generic review r-1)"
        in (again["outcome"])
    )
    assert review_points(shop) == 50


def test_the_same_review_sent_twice_is_stored_once_and_rewards_once(client, shop):
    buy(shop)

    first = send(client, shop, review_id="r-1", product_id=SCARF)
    second = send(client, shop, review_id="r-1", product_id=SCARF)

    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert second["status"] == "rewarded"
    assert ReviewDelivery.objects.filter(shop=shop, review_id="r-1").count() == 1
    assert review_points(shop) == 50


def test_a_product_the_customer_did_not_buy_is_stored_and_refused(client, shop):
    buy(shop, product_id=SCARF)

    answer = send(client, shop, review_id="r-1", product_id=BOOTS)

    assert answer["status"] == "refused"
    assert answer["outcome"] == (
        "Customer 1001 has no paid order with product 7002: only buyers of a product earn "
        "points for reviewing it."
    )
    delivery = ReviewDelivery.objects.get(shop=shop, review_id="r-1")
    assert (delivery.status, delivery.product_id, delivery.member.customer_id) == (
        "refused",
        BOOTS,
        1001,
    )
    assert review_points(shop) == 0


def test_unpaid_test_and_cancelled_orders_do_not_make_a_buyer(client, shop):
    buy(shop, order_id=5001, product_id=SCARF, financial_status="pending")
    buy(shop, order_id=5002, product_id=BOOTS, test=True)
    buy(shop, order_id=5003, product_id=7003)
    buy(shop, order_id=5003, product_id=7003, cancelled_at="2026-01-02T00:00:00Z")

    for n, product in enumerate((SCARF, BOOTS, 7003)):
        assert send(client, shop, review_id=f"r-{n}", product_id=product)["status"] == "refused"
    assert not LedgerEntry.objects.filter(reason=Reason.REVIEW_REWARDED).exists()


def test_the_order_stores_its_products_when_counted(shop):
    payload = order_payload(order_id=5001, customer_id=1001, product_id=SCARF)
    payload["line_items"].append({**payload["line_items"][0], "id": 2, "product_id": BOOTS})
    payload["line_items"].append({**payload["line_items"][0], "id": 3, "product_id": None})

    order = order_settle(shop=shop, facts=order_facts(payload))
    order_settle(shop=shop, facts=order_facts(payload))

    stored = OrderProduct.objects.filter(order=order).values_list("product_id", flat=True)
    assert sorted(stored) == [SCARF, BOOTS]


def test_a_reviewer_named_by_email_is_found_without_case(client, shop):
    buy(shop)

    answer = send(
        client, shop, review_id="r-1", product_id=SCARF, customer_id=None, email="C1001@Example.com"
    )

    assert (answer["status"], answer["points"]) == ("rewarded", 50)


def test_someone_who_is_not_a_member_is_refused(client, shop):
    answer = send(client, shop, review_id="r-1", product_id=SCARF, customer_id=4242)

    assert answer["status"] == "refused"
    assert answer["outcome"] == (
        "No member with customer id 4242: only members earn points for reviews."
    )


def test_a_program_without_review_points_refuses_and_says_so(client, shop):
    factories.shop(ALICE, review_points=0, review_photo_bonus_points=0)
    buy(shop)

    answer = send(client, shop, review_id="r-1", product_id=SCARF, has_photo=True)

    assert answer["status"] == "refused"
    assert "no points for reviews" in answer["outcome"]


def test_a_review_missing_its_product_is_refused_naming_the_field(client, shop):
    buy(shop)

    answer = send(client, shop, review_id="r-1", product_id="not-a-product")

    assert answer["status"] == "refused"
    assert answer["outcome"] == "product_id is not a Shopify id: 'not-a-product'"


def test_judgeme_reviews_earn_by_email_with_the_photo_bonus(client, shop):
    buy(shop)

    answer = send(
        client,
        shop,
        source="judgeme",
        review_id=901,
        product_id=SCARF,
        email="c1001@example.com",
        rating=2,
        pictures=2,
    )

    assert (answer["status"], answer["points"]) == ("rewarded", 75)
    entry = LedgerEntry.objects.get(reason=Reason.REVIEW_REWARDED)
    assert entry.note == "judgeme review 901"


def test_a_judgeme_and_a_generic_review_of_one_product_reward_once(client, shop):
    buy(shop)

    send(client, shop, source="judgeme", review_id=901, product_id=SCARF, email="c1001@example.com")
    other = send(client, shop, review_id="r-1", product_id=SCARF)

    assert other["status"] == "refused"
    assert review_points(shop) == 50


def test_a_failure_stays_visible_and_a_replay_rewards(client, shop, monkeypatch):
    buy(shop)

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("loyalty.reviews.services.points_record", broken)
    answer = send(client, shop, review_id="r-1", product_id=SCARF)
    assert answer["status"] == "failed"
    assert answer["outcome"] == "RuntimeError: database went away"
    assert review_points(shop) == 0
    monkeypatch.undo()

    delivery = ReviewDelivery.objects.get(review_id="r-1")
    replayed = review_delivery_process(delivery_id=delivery.pk)

    assert (replayed.status, replayed.points, replayed.attempts) == ("rewarded", 50, 2)
    assert review_points(shop) == 50


def test_a_refused_review_is_decided_again_only_when_asked(client, shop):
    send(client, shop, review_id="r-1", product_id=SCARF)
    buy(shop)
    delivery = ReviewDelivery.objects.get(review_id="r-1")

    assert review_delivery_process(delivery_id=delivery.pk).status == "refused"
    assert review_delivery_process(delivery_id=delivery.pk, again=True).status == "rewarded"
    assert review_points(shop) == 50


def test_redacting_a_customer_deletes_their_stored_reviews_and_keeps_the_points(client, shop):
    buy(shop)
    buy(shop, order_id=6001, customer_id=2002)
    send(client, shop, review_id="r-1", product_id=SCARF)
    send(client, shop, review_id="r-2", product_id=SCARF, customer_id=2002)

    customer_redact(shop=shop, customer_id=1001, email="c1001@example.com")

    assert list(ReviewDelivery.objects.values_list("review_id", flat=True)) == ["r-2"]
    assert review_points(shop) == 50
