"""Keeping the app-owned metafields the storefront's Liquid reads in step with Perennial.

Changes mark rows of `StorefrontSync` stale (in the transaction that makes them) and ask for
the shop's sync job once committed; the job (`storefront_sync_run`) writes the stale rows'
metafields in batches of 25 and marks written only what did not change meanwhile.
docs/shopify-sync.md has the keys, types and JSON shapes; the widget reads exactly these.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from loyalty.models import Member, Program, Reward, Shop, StorefrontSync, Tier, WidgetSettings
from loyalty.models.widget import COLORS, WIDGET_TEXTS
from loyalty.shopify.admin_api import AdminApiError, admin_graphql

from .customer_tags import customer_tags_write

logger = logging.getLogger(__name__)

CUSTOMER_NAMESPACE = "$app:loyalty"
APP_DATA_NAMESPACE = "loyalty"
# metafieldsSet takes at most 25 metafields a call ("metafieldsSet", Arguments).
METAFIELDS_PER_CALL = 25
# Rows one run takes on; the rest wait for the next run, which the job sends at once.
ROWS_PER_RUN = 500
# The program summary lists at most this many rewards, cheapest first.
SUMMARY_REWARDS = 50
# A job's calls may wait out Shopify's rate limit and retries for this long.
CALL_BUDGET_SECONDS = 60.0

SET_METAFIELDS = """
mutation StorefrontMetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { key }
    userErrors { field message code }
  }
}
"""
DELETE_METAFIELDS = """
mutation StorefrontMetafieldsDelete($metafields: [MetafieldIdentifierInput!]!) {
  metafieldsDelete(metafields: $metafields) {
    deletedMetafields { key }
    userErrors { field message code }
  }
}
"""
APP_INSTALLATION = "query StorefrontAppInstallation { currentAppInstallation { id } }"


class StorefrontSyncRefused(Exception):
    """Shopify refused metafields for a reason trying again won't fix (`userErrors`)."""


@dataclass
class SyncRun:
    """What one run did: `calls` to Shopify, `members` whose metafields it wrote, whether
    the shop's app data was written, whether stale rows were left for the next run, and the
    ids of members whose metafields Shopify refused (`skipped`)."""

    calls: int = 0
    # Calls that wrote customer tags (loyalty.services.customer_tags), apart from `calls`.
    tag_calls: int = 0
    members: int = 0
    app_data: bool = False
    more: bool = False
    skipped: list[int] = field(default_factory=list)


def storefront_member_changed(*, member: Member) -> None:
    """Mark the member's customer metafields stale; their shop's sync job runs after the
    surrounding transaction commits. One statement: call it wherever balance, pending or
    tier change, inside that change's transaction."""
    _mark(shop_id=member.shop_id, member_id=member.pk)
    transaction.on_commit(partial(_request_sync, member.shop_id))


def storefront_settings_changed(*, shop: Shop, tiers_changed: bool = False) -> None:
    """Mark the shop's app-data metafields (widget settings, program summary) stale after
    the merchant changed the widget, the program or a reward. `tiers_changed` also marks
    every member who has a tier or had one written, since their tier's name may be new or
    gone."""
    with transaction.atomic():
        _mark(shop_id=shop.pk, member_id=None)
        if tiers_changed:
            _mark_tier_holders(shop=shop)
    transaction.on_commit(partial(_request_sync, shop.pk))


def storefront_stale_shops() -> list[int]:
    """Ids of installed shops with anything stale (for the minute safety net)."""
    return list(
        StorefrontSync.objects.filter(
            version__gt=F("synced_version"), shop__uninstalled_at__isnull=True
        )
        .values_list("shop_id", flat=True)
        .distinct()
    )


def storefront_sync_run(*, shop: Shop, limit: int = ROWS_PER_RUN) -> SyncRun:
    """Write the shop's stale metafields to Shopify: app data first, then members' in
    batches of METAFIELDS_PER_CALL, oldest change first, at most `limit` rows.

    Raises AdminApiError when Shopify can't be reached or keeps failing (what was written
    before stays marked written), StorefrontSyncRefused when it refuses the app data.
    A member whose metafields Shopify refuses is logged and marked written, so one bad
    customer never holds up the shop.
    """
    run = SyncRun()
    rows = list(
        StorefrontSync.objects.filter(shop=shop, version__gt=F("synced_version"))
        .select_related("member__tier")
        .order_by("changed_at", "id")[: limit + 1]
    )
    run.more = len(rows) > limit
    rows = rows[:limit]
    shop_rows = [row for row in rows if row.member_id is None]
    if shop_rows:
        _write_app_data(shop, shop_rows[0], run)
    members = [row for row in rows if row.member_id is not None]
    _delete_lost_tiers(shop, members, run)
    customer_tags_write(shop=shop, rows=members, call=partial(_tag_call, shop, run))
    _write_members(shop, members, run)
    return run


def app_data_metafields(*, shop: Shop) -> dict[str, dict]:
    """The app-data metafields' values: {"widget": {...}, "program": {...}}."""
    widget, _ = WidgetSettings.objects.get_or_create(shop=shop)
    program, _ = Program.objects.get_or_create(shop=shop)
    tiers = Tier.objects.filter(shop=shop).order_by("threshold")
    rewards = Reward.objects.filter(shop=shop, enabled=True, deleted_at__isnull=True).order_by(
        "points_cost", "id"
    )[:SUMMARY_REWARDS]
    return {
        "widget": {
            **{color: getattr(widget, color) for color in COLORS},
            "launcher_position": widget.launcher_position,
            "texts": {"en": {name: getattr(widget, name) for name in WIDGET_TEXTS}},
        },
        "program": {
            "currency": shop.currency,
            "ways_to_earn": _ways_to_earn(program),
            "tiers": [
                {"name": t.name, "threshold": t.threshold, "multiplier": _number(t.multiplier)}
                for t in tiers
            ],
            "tier_basis": program.tier_basis,
            "rewards": [
                {
                    "id": reward.pk,
                    "name": reward.title(shop.currency),
                    "kind": reward.kind,
                    "points_cost": reward.points_cost,
                    "value": f"{reward.value:.2f}",
                    "minimum_subtotal": None
                    if reward.minimum_subtotal is None
                    else f"{reward.minimum_subtotal:.2f}",
                }
                for reward in rewards
            ],
        },
    }


def customer_metafields(member: Member) -> list[dict[str, str]]:
    """metafieldsSet inputs for the member's customer: balance, pending, and tier if any."""
    owner = customer_gid(member.customer_id)
    metafields = [
        _metafield(owner, CUSTOMER_NAMESPACE, "balance", "number_integer", str(member.balance)),
        _metafield(owner, CUSTOMER_NAMESPACE, "pending", "number_integer", str(member.pending)),
    ]
    if member.tier is not None:
        tier = member.tier.name
        metafields.append(
            _metafield(owner, CUSTOMER_NAMESPACE, "tier", "single_line_text_field", tier)
        )
    return metafields


def customer_gid(customer_id: int) -> str:
    return f"gid://shopify/Customer/{customer_id}"


def _request_sync(shop_id: int) -> None:
    # Imported when called: the job module imports this one.
    from loyalty.tasks import storefront_sync_request

    storefront_sync_request(shop_id)


def _mark(*, shop_id: int, member_id: int | None) -> None:
    # One upsert: a new stale row, or one more version of the existing one.
    table = StorefrontSync._meta.db_table
    target = "(member_id)" if member_id is not None else "(shop_id) WHERE member_id IS NULL"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} "  # noqa: S608 - the table name is the model's own
            "(shop_id, member_id, version, synced_version, changed_at, tier_written) "
            f"VALUES (%s, %s, 1, 0, %s, %s) ON CONFLICT {target} "
            f"DO UPDATE SET version = {table}.version + 1, changed_at = EXCLUDED.changed_at",
            [shop_id, member_id, timezone.now(), False],
        )


def _mark_tier_holders(*, shop: Shop) -> None:
    now = timezone.now()
    holders = Q(tier_written=True) | Q(member__tier__isnull=False)
    StorefrontSync.objects.filter(holders, shop=shop).update(
        version=F("version") + 1, changed_at=now
    )
    unmarked = Member.objects.filter(shop=shop, tier__isnull=False).exclude(
        pk__in=StorefrontSync.objects.filter(shop=shop, member__isnull=False).values("member_id")
    )
    StorefrontSync.objects.bulk_create(
        [StorefrontSync(shop=shop, member=member, changed_at=now) for member in unmarked],
        ignore_conflicts=True,
    )


def _write_app_data(shop: Shop, row: StorefrontSync, run: SyncRun) -> None:
    installation = admin_graphql(shop, APP_INSTALLATION, timeout=CALL_BUDGET_SECONDS)
    owner = installation["currentAppInstallation"]["id"]
    values = app_data_metafields(shop=shop)
    metafields = [
        _metafield(owner, APP_DATA_NAMESPACE, key, "json", json.dumps(value, sort_keys=True))
        for key, value in values.items()
    ]
    payload = _call(shop, SET_METAFIELDS, metafields, run)["metafieldsSet"]
    if payload["userErrors"]:
        raise StorefrontSyncRefused(
            f"Shopify refused the widget settings for {shop.domain}: {payload['userErrors']}"
        )
    _mark_written([row])
    run.app_data = True


def _delete_lost_tiers(shop: Shop, rows: list[StorefrontSync], run: SyncRun) -> None:
    lost = [row for row in rows if row.tier_written and row.member.tier is None]
    for start in range(0, len(lost), METAFIELDS_PER_CALL):
        batch = lost[start : start + METAFIELDS_PER_CALL]
        identifiers = [
            {
                "ownerId": customer_gid(row.member.customer_id),
                "namespace": CUSTOMER_NAMESPACE,
                "key": "tier",
            }
            for row in batch
        ]
        payload = _call(shop, DELETE_METAFIELDS, identifiers, run)["metafieldsDelete"]
        if payload["userErrors"]:
            logger.warning("Shopify refused to delete tiers for %s: %s", shop.domain, payload)
            continue
        StorefrontSync.objects.filter(pk__in=[row.pk for row in batch]).update(tier_written=False)
        for row in batch:
            row.tier_written = False


def _write_members(shop: Shop, rows: list[StorefrontSync], run: SyncRun) -> None:
    # A redacted member's customer is gone from Shopify: nothing to write.
    gone = [row for row in rows if row.member.redacted_at is not None]
    _mark_written(gone)
    queue = [
        (row, metafield)
        for row in rows
        if row.member.redacted_at is None
        for metafield in customer_metafields(row.member)
    ]
    while queue:
        batch, queue = queue[:METAFIELDS_PER_CALL], queue[METAFIELDS_PER_CALL:]
        payload = _call(shop, SET_METAFIELDS, [m for _, m in batch], run)["metafieldsSet"]
        refused = _refused_rows(batch, payload["userErrors"])
        if payload["userErrors"] and not refused:
            raise StorefrontSyncRefused(
                f"Shopify refused metafields for {shop.domain}: {payload['userErrors']}"
            )
        if refused:
            # All or nothing: nothing of this batch was written. Drop the refused members
            # (logged, given up) and send the others again.
            logger.warning(
                "Shopify refused metafields of members %s of %s: %s",
                [row.member_id for row in refused],
                shop.domain,
                payload["userErrors"],
            )
            run.skipped.extend(row.member_id for row in refused)
            _mark_written(refused)
            queue = [item for item in batch + queue if item[0] not in refused]
            continue
        # A member whose metafields straddle two calls is done when the second succeeds.
        pending = {id(row) for row, _ in queue}
        done = list({id(row): row for row, _ in batch if id(row) not in pending}.values())
        tiered = [row for row in done if row.member.tier is not None and not row.tier_written]
        StorefrontSync.objects.filter(pk__in=[row.pk for row in tiered]).update(tier_written=True)
        _mark_written(done)
        run.members += len(done)


def _refused_rows(batch: list[tuple[StorefrontSync, dict]], errors: list) -> list:
    # userErrors name the input: ["metafields", "<index>", "<field>"].
    refused = []
    for error in errors:
        path = error.get("field") or []
        if len(path) >= 2 and path[0] == "metafields" and str(path[1]).isdigit():
            index = int(path[1])
            if index < len(batch) and batch[index][0] not in refused:
                refused.append(batch[index][0])
    return refused


def _mark_written(rows: list[StorefrontSync]) -> None:
    # Only rows still at the version read: a change since then keeps its row stale. One
    # statement for the batch.
    if not rows:
        return
    still_as_read = Q()
    for row in rows:
        still_as_read |= Q(pk=row.pk, version=row.version)
    StorefrontSync.objects.filter(still_as_read).update(synced_version=F("version"))


def _call(shop: Shop, mutation: str, metafields: list[dict], run: SyncRun) -> dict:
    run.calls += 1
    try:
        return admin_graphql(
            shop, mutation, {"metafields": metafields}, timeout=CALL_BUDGET_SECONDS
        )
    except AdminApiError:
        logger.info("storefront sync of %s stopped after %s calls", shop.domain, run.calls)
        raise


def _tag_call(shop: Shop, run: SyncRun, document: str, variables: dict) -> dict:
    run.tag_calls += 1
    return admin_graphql(shop, document, variables, timeout=CALL_BUDGET_SECONDS)


def _metafield(owner: str, namespace: str, key: str, kind: str, value: str) -> dict[str, str]:
    return {"ownerId": owner, "namespace": namespace, "key": key, "type": kind, "value": value}


def _ways_to_earn(program: Program) -> list[dict]:
    ways: list[dict] = []
    if program.points_per_unit > 0:
        ways.append({"key": "purchase", "points_per_unit": _number(program.points_per_unit)})
    for key, points in (("signup", program.signup_points), ("birthday", program.birthday_points)):
        if points:
            ways.append({"key": key, "points": points})
    if program.review_points:
        ways.append(
            {
                "key": "review",
                "points": program.review_points,
                "photo_bonus": program.review_photo_bonus_points,
            }
        )
    if program.referral_advocate_points:
        ways.append({"key": "referral", "points": program.referral_advocate_points})
    return ways


def _number(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: 1.2500 -> "1.25", 1.0000 -> "1"."""
    return format(value.normalize(), "f")
