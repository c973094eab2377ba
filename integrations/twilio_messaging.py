"""SMS and WhatsApp through Twilio's official SDK: one `POST .../Messages.json` per message, with a
status callback URL on every one, WhatsApp through approved Content templates."""

import asyncio
import json
import logging
import ssl
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError
from urllib3.exceptions import SSLError as TLSError

from integrations.messaging import (
    AmbiguousSendError,
    OutgoingMessage,
    PermanentSendError,
    TransientSendError,
    is_retryable,
)

log = logging.getLogger("shopstar.twilio")
# The SDK logs every request at INFO; ours say what matters.
_sdk_log = logging.getLogger("shopstar.twilio.sdk")
_sdk_log.setLevel(logging.WARNING)

UNSUBSCRIBED = 21610
# The status callback URL carries our message id, so a callback finds the message even when the
# SID never came back to us (the answer to the create call was lost). Twilio signs the whole URL.
MESSAGE_ID_PARAM = "message_id"
# Reasons we write ourselves: Twilio's own messages quote the number.
REASONS = {
    UNSUBSCRIBED: "the recipient replied STOP to this sender",
    21211: "invalid 'To' number",
    21214: "'To' number cannot be reached",
    21408: "sending to this region is not enabled",
    21612: "'To' number cannot receive from this sender",
    21614: "'To' number is not a mobile number",
    63016: "free-form WhatsApp message outside the 24 h window: use a template",
}


class HostRewritingHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Twilio's client has no base-URL option; its maintainers' advice (twilio-python#521) is an
    HTTP client that sends the SDK's requests to another scheme and host."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout, logger=_sdk_log)
        parts = urlsplit(base_url)
        self._scheme, self._netloc = parts.scheme, parts.netloc

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        url = urlunsplit((self._scheme, self._netloc, parts.path, parts.query, parts.fragment))
        response: Response = super().request(method, url, *args, **kwargs)
        return response


def with_channel(address: str, channel: str) -> str:
    if channel == "whatsapp" and not address.startswith("whatsapp:"):
        return f"whatsapp:{address}"
    return address


class TwilioProvider:
    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str | None,
        whatsapp_from: str | None,
        status_callback_url: str,
        base_url: str | None = None,
        *,
        timeout: float = 15.0,
    ) -> None:
        """`status_callback_url` may hold `{store_id}`, replaced by the message's store."""
        http_client = (
            HostRewritingHttpClient(base_url, timeout)
            if base_url
            else TwilioHttpClient(timeout=timeout, logger=_sdk_log)
        )
        self._client = Client(account_sid, auth_token, http_client=http_client)
        self._senders = {"sms": from_number, "whatsapp": whatsapp_from}
        self._status_callback_url = status_callback_url

    def message_params(self, message: OutgoingMessage) -> dict[str, Any]:
        """The keyword arguments of `messages.create` for one message."""
        sender = message.sender or self._senders.get(message.channel)
        if not sender:
            raise PermanentSendError("not_configured", f"no Twilio sender for {message.channel}")
        params: dict[str, Any] = {
            "to": with_channel(message.to, message.channel),
            "status_callback": self.status_callback(message),
        }
        if sender.startswith("MG"):  # a messaging service picks the number from its pool
            params["messaging_service_sid"] = sender
        else:
            params["from_"] = with_channel(sender, message.channel)
        if message.channel == "whatsapp" and message.content_sid:
            params["content_sid"] = message.content_sid
            params["content_variables"] = json.dumps(message.content_variables or {})
        else:
            params["body"] = message.body
        return params

    def status_callback(self, message: OutgoingMessage) -> str:
        url = self._status_callback_url.replace("{store_id}", message.store_id or "")
        query = urlencode({MESSAGE_ID_PARAM: message.message_id})
        return f"{url}{'&' if '?' in url else '?'}{query}"

    async def send(self, message: OutgoingMessage) -> str:
        params = self.message_params(message)
        try:
            # The SDK is synchronous (requests): keep it off the event loop.
            return await asyncio.to_thread(self._create, params)
        except (TwilioRestException, TwilioServiceException) as exc:
            log.warning(
                "twilio refused a message",
                extra={"message_id": message.message_id, "status": exc.status, "code": exc.code},
            )
            # `from None`: the SDK's error text quotes the number, and the chain would travel
            # into the workflow history.
            raise _failure(int(exc.status), exc.code) from None
        except requests.RequestException as exc:
            name = type(exc).__name__
            if not _maybe_received(exc):
                raise TransientSendError(f"twilio unreachable: {name}") from None
            log.warning(
                "twilio outcome unknown", extra={"message_id": message.message_id, "error": name}
            )
            raise AmbiguousSendError(f"twilio did not answer: {name}") from None

    def _create(self, params: dict[str, Any]) -> str:
        return str(self._client.messages.create(**params).sid)


def _maybe_received(exc: requests.RequestException) -> bool:
    """True when the request may have reached Twilio. The SDK's adapter retries nothing: a
    failure to connect (refused, DNS, connect timeout) comes as a `ConnectTimeoutError` inside a
    `MaxRetryError`; once connected, a reset or a closed connection comes as a `ProtocolError`, a
    lost answer as `ReadTimeout` or a broken body. TLS errors come the same way before the
    request and in the middle of the answer: only a refused certificate is surely before."""
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.ProxyError)):
        return False
    if isinstance(exc, requests.ConnectionError):
        cause = exc.args[0] if exc.args else None
        reason = cause.reason if isinstance(cause, MaxRetryError) else cause
        if isinstance(reason, ConnectTimeoutError):
            return False
        tls = reason.args[0] if isinstance(reason, TLSError) and reason.args else None
        return not isinstance(tls, ssl.SSLCertVerificationError)
    return isinstance(
        exc,
        (
            requests.ReadTimeout,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ),
    )


def _failure(status: int, code: int | None) -> Exception:
    if is_retryable(status):
        return TransientSendError(f"twilio answered HTTP {status} (error {code})")
    reason = REASONS.get(code or 0, f"twilio refused the message (HTTP {status})")
    return PermanentSendError(
        str(code or f"http_{status}"), reason, withdraws_consent=code == UNSUBSCRIBED
    )
