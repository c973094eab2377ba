"""SQLAlchemy models, one file per aggregate. Importing this package registers them all."""

from models.ad_campaign import AdAssignment, AdCampaign, AdConversion, AdImpression
from models.affiliate import (
    Affiliate,
    AffiliateClick,
    Commission,
    CommissionAdjustment,
    Payout,
    PayoutSchedule,
)
from models.audience import Audience, AudienceMember, AudienceNetwork
from models.base import Base
from models.bundle import Bundle
from models.catalog import Product, ProductVariant
from models.catalog_sync import CatalogSyncItem
from models.channel_connection import ChannelConnection
from models.channel_conversion import ChannelConversion
from models.checkout import CompletedCheckout
from models.commerce import Cart, Order
from models.conversion import Conversion
from models.customer import Customer
from models.event import Event
from models.feed import FeedToken
from models.flow import FlowRunGroup, FlowVersion, RecoveryRun
from models.gift_card import GiftCard, GiftCardTransaction
from models.group_deal import GroupDeal, GroupDealParticipant
from models.message import Message
from models.order_attribution import OrderAttribution
from models.program import ProgramConfig
from models.promo_code_rule import PromoCodeRule
from models.promotion import Coupon, CouponRedemption, Promotion
from models.recommendation import RecommendationPin
from models.referral import Referral, ReferralCode
from models.relay_failure import RelayFailure
from models.share_link import ShareLink, ShareVisit
from models.store import ApiKey, Store, StoreSettingsChange
from models.store_credit import StoreCreditAccount, StoreCreditEntry
from models.visit import Visit, Visitor
from models.webhook import WebhookReceipt
from models.webhook_endpoint import WebhookDelivery, WebhookEndpoint

__all__ = [
    "AdAssignment",
    "AdCampaign",
    "AdConversion",
    "AdImpression",
    "Affiliate",
    "AffiliateClick",
    "ApiKey",
    "Audience",
    "AudienceMember",
    "AudienceNetwork",
    "Base",
    "Bundle",
    "Cart",
    "CatalogSyncItem",
    "ChannelConnection",
    "ChannelConversion",
    "Commission",
    "CommissionAdjustment",
    "CompletedCheckout",
    "Conversion",
    "Coupon",
    "CouponRedemption",
    "Customer",
    "Event",
    "FeedToken",
    "FlowRunGroup",
    "FlowVersion",
    "GiftCard",
    "GiftCardTransaction",
    "GroupDeal",
    "GroupDealParticipant",
    "Message",
    "Order",
    "OrderAttribution",
    "Payout",
    "PayoutSchedule",
    "Product",
    "ProductVariant",
    "ProgramConfig",
    "PromoCodeRule",
    "Promotion",
    "RecommendationPin",
    "RecoveryRun",
    "Referral",
    "ReferralCode",
    "RelayFailure",
    "ShareLink",
    "ShareVisit",
    "Store",
    "StoreCreditAccount",
    "StoreCreditEntry",
    "StoreSettingsChange",
    "Visit",
    "Visitor",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookReceipt",
]
