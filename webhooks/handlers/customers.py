from typing import Any

from loyalty.earning.orders import customer_facts
from loyalty.models import Shop
from loyalty.services.members import member_from_customer, signup_bonus_award

from ..models import Delivery


def customer_created(*, shop: Shop, payload: Any, delivery: Delivery) -> None:
    customer = customer_facts(payload)
    delivery.customer_id = customer.customer_id
    member = member_from_customer(shop=shop, customer=customer)
    signup_bonus_award(member=member)


def customer_updated(*, shop: Shop, payload: Any, delivery: Delivery) -> None:
    customer = customer_facts(payload)
    delivery.customer_id = customer.customer_id
    member_from_customer(shop=shop, customer=customer)
