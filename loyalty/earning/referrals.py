"""What an order webhook says about a referral: pure functions, no database.

Fields of the REST order resource (the webhook payload): `note_attributes[]` (`name`,
`value`: cart attributes the theme set), `browser_ip` (with `client_details.browser_ip` as
its older twin), `email`, and `customer.default_address`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The note attribute (a cart attribute set by the theme) that names an advocate's code.
REFERRAL_ATTRIBUTE = "referral_code"
_ADDRESS_PARTS = ("address1", "address2", "city", "zip", "province_code", "country_code")


@dataclass(frozen=True)
class OrderReferralFacts:
    """The parts of an order the referral rules read; blank when the payload lacks them."""

    # The advocate's referral code named in the order's note attributes.
    referral_code: str = ""
    checkout_ip: str = ""
    # The customer's default address, normalised (see `address_text`).
    address: str = ""


def order_referral_facts(payload: Any) -> OrderReferralFacts:
    """Read the referral facts of an order webhook payload (tolerates missing fields)."""
    if not isinstance(payload, dict):
        return OrderReferralFacts()
    code = ""
    for attribute in payload.get("note_attributes") or []:
        if isinstance(attribute, dict) and attribute.get("name") == REFERRAL_ATTRIBUTE:
            code = str(attribute.get("value") or "").strip().upper()[:16]
    ip = payload.get("browser_ip") or (payload.get("client_details") or {}).get("browser_ip")
    customer = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    return OrderReferralFacts(
        referral_code=code,
        checkout_ip=str(ip or "").strip()[:64],
        address=address_text(customer.get("default_address")),
    )


def address_text(address: Any) -> str:
    """One line for an address that two spellings of the same place share: street, city,
    postcode, province and country, lower-cased, spaces collapsed. Blank without a street."""
    if not isinstance(address, dict) or not str(address.get("address1") or "").strip():
        return ""
    parts = (" ".join(str(address.get(key) or "").lower().split()) for key in _ADDRESS_PARTS)
    return "|".join(parts)
