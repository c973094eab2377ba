"""SQLAlchemy models, one file per aggregate. Importing this package registers them all."""

from models.base import Base
from models.bundle import Bundle
from models.catalog import Product, ProductVariant
from models.checkout import CompletedCheckout
from models.commerce import Cart, Order
from models.conversion import Conversion
from models.customer import Customer
from models.event import Event
from models.feed import FeedToken
from models.flow import FlowVersion, RecoveryRun
from models.gift_card import GiftCard, GiftCardTransaction
from models.group_deal import GroupDeal, GroupDealParticipant
from models.message import Message
from models.promo_code_rule import PromoCodeRule
from models.promotion import Coupon, CouponRedemption, Promotion
from models.recommendation import RecommendationPin
from models.relay_failure import RelayFailure
from models.store import ApiKey, Store, StoreSettingsChange
from models.store_credit import StoreCreditAccount, StoreCreditEntry
from models.webhook import WebhookReceipt
from models.webhook_endpoint import WebhookDelivery, WebhookEndpoint

__all__ = [
    "ApiKey",
    "Base",
    "Bundle",
    "Cart",
    "CompletedCheckout",
    "Conversion",
    "Coupon",
    "CouponRedemption",
    "Customer",
    "Event",
    "FeedToken",
    "FlowVersion",
    "GiftCard",
    "GiftCardTransaction",
    "GroupDeal",
    "GroupDealParticipant",
    "Message",
    "Order",
    "Product",
    "ProductVariant",
    "PromoCodeRule",
    "Promotion",
    "RecommendationPin",
    "RecoveryRun",
    "RelayFailure",
    "Store",
    "StoreCreditAccount",
    "StoreCreditEntry",
    "StoreSettingsChange",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookReceipt",
]
