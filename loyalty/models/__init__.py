from .dates import BirthdayChange, DailyRun, ExpiryReminder
from .figures import BuyerFirstOrder, DailyFigures
from .ledger import LedgerEntry, Reason
from .member import Member
from .member_import import ImportStatus, MemberImport
from .notification import Notification, NotificationKind, NotificationTemplate
from .onboarding import Onboarding
from .order import Order, Refund
from .privacy import PrivacyRequest
from .program import Program, Rounding
from .reconciliation import ReconciliationRun
from .redemption import Redemption, RedemptionStatus
from .referral import Referral, ReferralState, RefusalReason
from .review import OrderProduct, ReviewDelivery, ReviewStatus
from .reward import Reward, RewardKind
from .shop import Shop, is_shop_domain
from .storefront_sync import StorefrontSync
from .tier import Tier, TierBasis, TierWindow
from .tier_change import TierChange, TierChangeCause, TierTally
from .widget import LauncherPosition, WidgetSettings

__all__ = [
    "BirthdayChange",
    "BuyerFirstOrder",
    "DailyFigures",
    "DailyRun",
    "ExpiryReminder",
    "ImportStatus",
    "LauncherPosition",
    "LedgerEntry",
    "Member",
    "MemberImport",
    "Notification",
    "NotificationKind",
    "NotificationTemplate",
    "Onboarding",
    "Order",
    "OrderProduct",
    "PrivacyRequest",
    "Program",
    "Reason",
    "ReconciliationRun",
    "Redemption",
    "RedemptionStatus",
    "Referral",
    "ReferralState",
    "Refund",
    "ReviewDelivery",
    "ReviewStatus",
    "RefusalReason",
    "Reward",
    "RewardKind",
    "Rounding",
    "Shop",
    "StorefrontSync",
    "Tier",
    "TierBasis",
    "TierChange",
    "TierChangeCause",
    "TierTally",
    "TierWindow",
    "WidgetSettings",
    "is_shop_domain",
]
