from typing import Any

from loyalty.earning.orders import customer_facts
from loyalty.models import Shop
from loyalty.services.members import member_from_customer, signup_bonus_award

from ..models import Delivery
from .privacy import scrub_if_redacted


def customer_created(*, shop: Shop, payload: Any, delivery: Delivery) -> None:
    customer = customer_facts(payload)
    delivery.customer_id = customer.customer_id
    member = member_from_customer(shop=shop, customer=customer)
    signup_bonus_award(member=member)
    scrub_if_redacted(delivery=delivery, member=member)


def customer_updated(*, shop: Shop, payload: Any, delivery: Delivery) -> None:
    customer = customer_facts(payload)
    delivery.customer_id = customer.customer_id
    member = member_from_customer(shop=shop, customer=customer)
    scrub_if_redacted(delivery=delivery, member=member)
