from .figures import BuyerFirstOrder, DailyFigures
from .ledger import LedgerEntry, Reason
from .member import Member
from .member_import import ImportStatus, MemberImport
from .order import Order, Refund
from .privacy import PrivacyRequest
from .program import Program, Rounding
from .reward import Reward, RewardKind
from .shop import Shop, is_shop_domain

__all__ = [
    "BuyerFirstOrder",
    "DailyFigures",
    "ImportStatus",
    "LedgerEntry",
    "Member",
    "MemberImport",
    "Order",
    "PrivacyRequest",
    "Program",
    "Reason",
    "Refund",
    "Reward",
    "RewardKind",
    "Rounding",
    "Shop",
    "is_shop_domain",
]
