"""The review commands: send a signed review to a running app over HTTP, list the stored
reviews with their outcome, and replay a failed one."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from loyalty.earning.orders import order_facts
from loyalty.models import Member, ReviewDelivery, ReviewStatus
from loyalty.reviews.services import review_delivery_process, review_delivery_store
from loyalty.services.orders import order_settle
from standin.reviews import generic_review
from tests import factories
from tests.factories import order_payload

DEMO = "demo.myshopify.com"


def bought_scarf():
    shop = factories.shop(DEMO, review_points=40, review_photo_bonus_points=10)
    order_settle(shop=shop, facts=order_facts(order_payload(order_id=5001, customer_id=1001)))
    return shop


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("source", "who"),
    [("generic", ["--customer", "1001"]), ("judgeme", ["--email", "c1001@example.com"])],
)
def test_send_review_rewards_through_the_running_app(live_server, source, who):
    shop = bought_scarf()
    out = StringIO()

    call_command(
        "send_review",
        "--shop",
        DEMO,
        "--product",
        "7001",
        "--source",
        source,
        "--photo",
        "--url",
        live_server.url,
        *who,
        stdout=out,
    )

    assert ": 200" in out.getvalue()
    assert '"status": "rewarded"' in out.getvalue()
    assert Member.objects.get(shop=shop, customer_id=1001).balance == 100 + 50


@pytest.mark.django_db
def test_send_review_names_what_is_missing():
    with pytest.raises(CommandError, match="no shop carol.myshopify.com"):
        call_command(
            "send_review", "--shop", "carol.myshopify.com", "--product", "1", "--customer", "1"
        )


@pytest.mark.django_db
def test_list_shows_outcomes_and_replay_decides_again(client):
    shop = factories.shop(DEMO, review_points=40)
    review = generic_review(shop=DEMO, review_id="r-1", customer_id=1001, product_id=7001)
    body = json.dumps(review).encode()
    delivery, _ = review_delivery_store(shop=shop, source="generic", review_id="r-1", body=body)
    review_delivery_process(delivery_id=delivery.pk)
    listed = StringIO()
    call_command("review_deliveries", "list", "--status", "refused", stdout=listed)
    assert (
        f"{delivery.pk}\trefused\t{DEMO}\tgeneric:r-1\tproduct=7001\tpoints=0" in listed.getvalue()
    )
    assert "No member with customer id 1001" in listed.getvalue()

    order_settle(shop=shop, facts=order_facts(order_payload(order_id=5001, customer_id=1001)))
    replayed = StringIO()
    call_command("review_deliveries", "replay", str(delivery.pk), stdout=replayed)

    assert replayed.getvalue() == f"{delivery.pk}\trewarded\tpoints=40\t\n"
    assert ReviewDelivery.objects.get(pk=delivery.pk).status == ReviewStatus.REWARDED
    with pytest.raises(CommandError, match="name review delivery ids"):
        call_command("review_deliveries", "replay")
