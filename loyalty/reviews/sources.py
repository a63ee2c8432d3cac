"""The review sources that have an endpoint, by the name in their URL."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType

from loyalty.services.integrations import REVIEW_SOURCES

from . import generic, judgeme

# Each adapter module has SIGNATURE_HEADER, shop_domain, signature_valid,
# delivery_review_id, review_facts and review_rating (shown in the admin, never rewarded).
ADAPTERS: Mapping[str, ModuleType] = {"judgeme": judgeme, "generic": generic}

assert set(ADAPTERS) == set(REVIEW_SOURCES), "every listed review source needs an adapter"
