"""SQLAlchemy models, one file per aggregate. Importing this package registers them all."""

from models.base import Base
from models.catalog import Product, ProductVariant
from models.commerce import Cart, Order
from models.customer import Customer
from models.event import Event
from models.flow import FlowVersion, RecoveryRun
from models.message import Message
from models.store import ApiKey, Store

__all__ = [
    "ApiKey",
    "Base",
    "Cart",
    "Customer",
    "Event",
    "FlowVersion",
    "Message",
    "Order",
    "Product",
    "ProductVariant",
    "RecoveryRun",
    "Store",
]
