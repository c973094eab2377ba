"""What the growth programs tell a customer outside the flows (a group deal's end, a referral
reward): service messages about something the customer did, sent at most once each (marked
before the provider call), to the customer's email when one is known, else by SMS, from the
store's sender. They need no marketing consent; an erased customer or one without a contact
gets none."""

from flow_contract import Channel
from integrations.messaging import OutgoingMessage
from models import Customer
from services.stores.settings import StoreSettings


def reach(customer: Customer | None) -> tuple[Channel, str] | None:
    if customer is None or customer.erased_at is not None:
        return None
    if customer.email:
        return Channel.EMAIL, customer.email
    if customer.phone:
        return Channel.SMS, customer.phone
    return None


def notice(
    message_id: str,
    store_id: str,
    own: StoreSettings,
    to: tuple[Channel, str],
    subject: str,
    body: str,
) -> OutgoingMessage:
    channel, address = to
    email = channel is Channel.EMAIL
    return OutgoingMessage(
        message_id=message_id,
        channel=channel,
        to=address,
        subject=subject if email else None,
        body=body,
        store_id=store_id,
        sender=own.sender_for(channel),
        sender_name=own.email_from.name if email else None,
        reply_to=own.reply_to if email else None,
    )
