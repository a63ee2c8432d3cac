"""When Shopify is slow, throttled, failing or refusing: the shopper ends with their code or
with their points back, never neither and never both, and never with two discounts."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty import tasks
from loyalty.models import LedgerEntry, Reason, Redemption, RedemptionStatus
from loyalty.services.redemptions import (
    MAX_ATTEMPTS,
    redemption_deliver,
    redemptions_overdue,
    retry_delay,
)
from tests import redeeming
from tests.redeeming import account, discounts, install, knobs, member_with, redeem, reward

pytestmark = pytest.mark.django_db
shopify = redeeming.shopify


@pytest.fixture
def enqueued(monkeypatch):
    """The job messages the app sends, instead of a broker."""
    sent = []
    monkeypatch.setattr(tasks, "redemption_enqueue", lambda pk, at=None: sent.append((pk, at)))
    return sent


def refunds(redemption: Redemption) -> list[LedgerEntry]:
    return list(
        LedgerEntry.objects.filter(member=redemption.member, reason=Reason.REDEMPTION_REFUNDED)
    )


def run_jobs_until_settled(redemption_id: int) -> Redemption:
    """What the workers do: try again at each retry_at until the redemption is settled."""
    now = timezone.now()
    for _ in range(MAX_ATTEMPTS + 1):
        redemption = Redemption.objects.get(pk=redemption_id)
        if redemption.status != RedemptionStatus.PENDING:
            return redemption
        now = max(now, redemption.retry_at or now) + timedelta(seconds=1)
        redemption_deliver(redemption_id=redemption_id, now=now)
    return Redemption.objects.get(pk=redemption_id)


def test_a_slow_shopify_answers_202_and_the_retry_finds_the_discount_the_first_call_made(
    client, shopify, settings, enqueued
):
    settings.REDEMPTION_SHOPIFY_TIMEOUT = 0.3
    shop = install()
    member = member_with(shop, 1000)
    five_off = reward(shop, points_cost=400)
    # Shopify holds the call past our limit, then makes the discount anyway.
    knobs(shopify, hang_count=1, hang_seconds=1.0)

    response = redeem(client, {"reward_id": five_off.pk})

    assert response.status_code == 202, response.content
    answer = response.json()
    assert answer == {"id": answer["id"], "status": "pending", "balance": 600}
    redemption = Redemption.objects.get(pk=answer["id"])
    assert enqueued == [(redemption.pk, redemption.retry_at)]
    assert redemption.retry_at - redemption.updated_at == retry_delay(1)
    [code] = account(client)["codes"]
    assert (code["code"], code["status"]) == (redemption.code, "pending")
    deadline = time.monotonic() + 5
    while not discounts(shopify) and time.monotonic() < deadline:
        time.sleep(0.05)

    settled = run_jobs_until_settled(redemption.pk)

    [made] = discounts(shopify)
    assert settled.status == RedemptionStatus.READY
    assert settled.discount_id.startswith("gid://shopify/DiscountCodeNode/")
    assert made["code"] == redemption.code
    assert settled.attempts == 2
    assert refunds(settled) == []
    member.refresh_from_db()
    assert member.balance == 600
    assert account(client)["codes"][0]["status"] == "ready"


@pytest.mark.parametrize(
    "fault",
    [
        {"fail_status": 503, "fail_count": 1},
        {"fail_status": 429, "fail_count": 1},
        {"fail_status": 500, "fail_count": 3},
        {"throttle": 2},
    ],
    ids=["503", "429", "three-500s", "THROTTLED"],
)
def test_transient_failures_end_with_the_code_delivered(client, shopify, enqueued, fault):
    shop = install()
    member = member_with(shop, 500)
    five_off = reward(shop, points_cost=500)
    knobs(shopify, **fault)

    response = redeem(client, {"reward_id": five_off.pk})

    assert response.status_code == 202
    assert response.json()["balance"] == 0
    settled = run_jobs_until_settled(response.json()["id"])
    assert settled.status == RedemptionStatus.READY
    assert len(discounts(shopify)) == 1
    assert refunds(settled) == []
    member.refresh_from_db()
    assert member.balance == 0


def test_a_refusal_fails_at_once_and_gives_the_points_back_with_the_reason(
    client, shopify, enqueued
):
    shop = install()
    member = member_with(shop, 700)
    five_off = reward(shop, points_cost=500)
    knobs(shopify, refuse_count=1)

    response = redeem(client, {"reward_id": five_off.pk})

    assert response.status_code == 502
    answer = response.json()
    assert (answer["code"], answer["status"], answer["balance"]) == (
        "reward_not_created",
        "failed",
        700,
    )
    assert "points are back" in answer["error"]
    assert enqueued == []
    redemption = Redemption.objects.get(pk=answer["id"])
    [refund] = refunds(redemption)
    assert refund.points == 500
    assert refund.idempotency_key == f"redemption:{redemption.pk}:refunded"
    assert "Refused by the stand-in" in refund.note
    assert redemption.status == RedemptionStatus.FAILED
    # Running the job again changes nothing: the points came back once.
    redemption_deliver(redemption_id=redemption.pk)
    assert len(refunds(redemption)) == 1
    member.refresh_from_db()
    assert member.balance == 700
    assert discounts(shopify) == []
    assert account(client)["codes"][0]["status"] == "failed"


def test_shopify_down_for_good_fails_after_the_last_try_and_refunds_once(client, shopify, enqueued):
    shop = install()
    member = member_with(shop, 500)
    credit = reward(shop, "store_credit", points_cost=500)
    knobs(shopify, fail_status=503, fail_count=1000)

    response = redeem(client, {"reward_id": credit.pk})
    assert response.status_code == 202

    settled = run_jobs_until_settled(response.json()["id"])

    assert settled.status == RedemptionStatus.FAILED
    assert settled.attempts == MAX_ATTEMPTS
    [refund] = refunds(settled)
    assert refund.points == 500
    assert f"in {MAX_ATTEMPTS} tries" in refund.note
    member.refresh_from_db()
    assert member.balance == 500
    with shopify.state.lock:
        assert shopify.state.store_credit == {}


def test_backoff_doubles_up_to_ten_minutes():
    assert [retry_delay(n).total_seconds() for n in range(1, 9)] == [
        10,
        20,
        40,
        80,
        160,
        320,
        600,
        600,
    ]


def test_a_try_already_under_way_is_not_started_twice(client, shopify, enqueued):
    shop = install()
    member_with(shop, 500)
    five_off = reward(shop, points_cost=500)
    knobs(shopify, fail_status=503, fail_count=1)
    pending = Redemption.objects.get(pk=redeem(client, {"reward_id": five_off.pk}).json()["id"])
    now = timezone.now()
    Redemption.objects.filter(pk=pending.pk).update(claimed_until=now + timedelta(seconds=60))

    untouched = redemption_deliver(redemption_id=pending.pk, now=now)

    assert (untouched.status, untouched.attempts) == (RedemptionStatus.PENDING, 1)
    assert discounts(shopify) == []


def test_the_job_tries_once_and_sends_itself_again_at_the_retry_time(client, shopify, enqueued):
    shop = install()
    member_with(shop, 500)
    five_off = reward(shop, points_cost=500)
    knobs(shopify, fail_status=503, fail_count=2)
    pending_id = redeem(client, {"reward_id": five_off.pk}).json()["id"]
    Redemption.objects.filter(pk=pending_id).update(retry_at=timezone.now())

    tasks.deliver_redemption(pending_id)

    after = Redemption.objects.get(pk=pending_id)
    assert after.status == RedemptionStatus.PENDING and after.attempts == 2
    assert enqueued[-1] == (pending_id, after.retry_at)
    tasks.deliver_redemption(pending_id)
    assert Redemption.objects.get(pk=pending_id).status == RedemptionStatus.READY
    assert len(enqueued) == 2


def test_sending_a_retry_asks_the_broker_for_a_delay_with_a_little_jitter(monkeypatch):
    monkeypatch.setattr(tasks, "start_in_process_runner", lambda: None)
    sent = []
    monkeypatch.setattr(
        tasks.deliver_redemption, "send_with_options", lambda **options: sent.append(options)
    )

    tasks.redemption_enqueue(41, at=timezone.now() + timedelta(seconds=20))
    tasks.redemption_enqueue(42)

    later, now = sent
    assert later["args"] == (41,)
    assert 19_000 <= later["delay"] <= 24_000
    assert now == {"args": (42,), "delay": None}


def test_a_broker_that_is_down_leaves_the_redemption_for_the_sweeper(monkeypatch, caplog):
    monkeypatch.setattr(tasks, "start_in_process_runner", lambda: None)

    def refuse(**options):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.deliver_redemption, "send_with_options", refuse)

    tasks.redemption_enqueue(43)

    assert "redemption 43 waits for the sweeper" in caplog.text


def test_the_sweeper_resends_only_redemptions_whose_message_was_lost(
    client, shopify, enqueued, monkeypatch
):
    shop = install()
    member_with(shop, 2000)
    five_off = reward(shop, points_cost=500)
    knobs(shopify, fail_status=503, fail_count=3)
    ids = [redeem(client, {"reward_id": five_off.pk}).json()["id"] for _ in range(3)]
    now = timezone.now()
    lost, waiting, busy = ids
    Redemption.objects.filter(pk=lost).update(retry_at=now - timedelta(minutes=5))
    Redemption.objects.filter(pk=waiting).update(retry_at=now + timedelta(seconds=30))
    Redemption.objects.filter(pk=busy).update(
        retry_at=now - timedelta(minutes=5), claimed_until=now + timedelta(seconds=60)
    )

    assert redemptions_overdue(now=now) == [lost]
    resent = []
    monkeypatch.setattr(tasks, "redemption_enqueue", lambda pk, at=None: resent.append(pk))
    tasks.resend_overdue_redemptions()
    assert resent == [lost]
