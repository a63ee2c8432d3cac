"""Customer tags for Shopify Flow and marketing tools (docs/notifications.md): every member
carries `perennial-member`, and a member with a VIP tier `perennial-tier-<slug>`. App-owned
`$app` metafields are readable only by the app and its theme extension; tags are readable
by everyone the merchant lets in.

Written by the storefront sync run (loyalty.services.storefront_sync) for the members whose
rows are stale, so every change that marks a member (a tier reached or lost, a tier renamed)
brings the tags along, in batches of aliased `tagsAdd` / `tagsRemove` fields.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.utils.text import slugify

from loyalty.models import StorefrontSync, Tier

logger = logging.getLogger(__name__)

MEMBER_TAG = "perennial-member"
TIER_TAG_PREFIX = "perennial-tier-"
# Changes (one tagsAdd or tagsRemove each) sent in one call; each costs 10 of the 1,000 a
# query may cost.
TAG_CHANGES_PER_CALL = 25


def tier_tag(tier: Tier | None) -> str:
    """The tag of `tier` (`perennial-tier-gold`), or "" for no tier."""
    if tier is None:
        return ""
    return TIER_TAG_PREFIX + (slugify(tier.name) or str(tier.pk))


def member_tags(tier: Tier | None) -> list[str]:
    """The app's tags of a member with `tier` (or none)."""
    return [MEMBER_TAG, *([tier_tag(tier)] if tier is not None else [])]


def customer_tags_write(
    *, shop, rows: list[StorefrontSync], call: Callable[[str, dict], dict]
) -> None:
    """Bring the tags of the members of `rows` (not redacted) up to date, recording on each
    row the tags written. `call(document, variables)` runs a mutation (it counts the calls
    and raises AdminApiError as the sync run does). A member whose change Shopify refuses is
    logged and left as it was, to be tried with their next change."""
    changes: list[tuple[StorefrontSync, str, str, list[str]]] = []
    for row in rows:
        if row.member.redacted_at is not None:
            continue
        wanted = member_tags(row.member.tier)
        held = row.tags.split(",") if row.tags else []
        if held == wanted:
            continue
        gid = f"gid://shopify/Customer/{row.member.customer_id}"
        lost = [tag for tag in held if tag not in wanted]
        if lost:
            changes.append((row, "tagsRemove", gid, lost))
        changes.append((row, "tagsAdd", gid, wanted))
    refused: set[int] = set()
    for start in range(0, len(changes), TAG_CHANGES_PER_CALL):
        batch = changes[start : start + TAG_CHANGES_PER_CALL]
        data = call(*_document(batch))
        for index, (row, mutation, _, tags) in enumerate(batch):
            errors = data[f"t{index}"]["userErrors"]
            if errors:
                logger.warning(
                    "Shopify refused %s %s of member %s of %s: %s",
                    mutation,
                    tags,
                    row.member_id,
                    shop.domain,
                    errors,
                )
                refused.add(row.pk)
    for row in {id(row): row for row, *_ in changes}.values():
        if row.pk in refused:
            continue
        row.tags = ",".join(member_tags(row.member.tier))
        StorefrontSync.objects.filter(pk=row.pk).update(tags=row.tags)


def _document(batch: list[tuple[StorefrontSync, str, str, list[str]]]) -> tuple[str, dict]:
    # One mutation of aliased fields, each with its own variables: GraphQL runs them in order.
    declarations, fields, variables = [], [], {}
    for index, (_, mutation, gid, tags) in enumerate(batch):
        declarations.append(f"$id{index}: ID!, $tags{index}: [String!]!")
        arguments = f"id: $id{index}, tags: $tags{index}"
        fields.append(f"t{index}: {mutation}({arguments}) {{ userErrors {{ message }} }}")
        variables[f"id{index}"] = gid
        variables[f"tags{index}"] = tags
    body = "\n  ".join(fields)
    return f"mutation CustomerTags({', '.join(declarations)}) {{\n  {body}\n}}", variables
