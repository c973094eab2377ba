"""Email through SendGrid's official SDK: one `POST /v3/mail/send` per message, with a text and an
HTML body, an unsubscribe link and header, and our message id in `custom_args` so the event
webhook can find the message again."""

import asyncio
import html
import logging
import re
from collections.abc import Callable
from http.client import HTTPException
from typing import Any
from urllib.error import URLError

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from integrations.messaging import (
    AmbiguousSendError,
    OutgoingMessage,
    PermanentSendError,
    TransientSendError,
    is_retryable,
)

log = logging.getLogger("shopstar.sendgrid")

API_HOST = "https://api.sendgrid.com"
# Custom args come back flattened into every event of the message (see services/provider_events).
MESSAGE_ID_ARG = "shopstar_message_id"
STORE_ID_ARG = "shopstar_store_id"
# Trailing punctuation usually ends the sentence, not the URL.
_URL = re.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,;:!?)\]]")


def html_body(text: str, unsubscribe_url: str) -> str:
    """The text body, escaped, its links made clickable, and an unsubscribe footer."""
    parts: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url = html.escape(match.group(0))
        parts += [html.escape(text[position : match.start()]), f'<a href="{url}">{url}</a>']
        position = match.end()
    parts.append(html.escape(text[position:]))
    body = "".join(parts).replace("\n", "<br>\n")
    footer = (
        '<p style="font-size:12px;color:#666">Don\'t want these emails? '
        f'<a href="{html.escape(unsubscribe_url)}">Unsubscribe</a>.</p>'
    )
    return f"<!DOCTYPE html><html><body><p>{body}</p>{footer}</body></html>"


class SendGridProvider:
    name = "sendgrid"

    def __init__(
        self,
        api_key: str,
        from_email: str,
        unsubscribe_url: Callable[[OutgoingMessage], str],
        *,
        host: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        self._client = SendGridAPIClient(api_key, host=host or API_HOST)
        self._from_email = from_email
        self._unsubscribe_url = unsubscribe_url
        self._timeout = timeout
        # The SDK logs whole request bodies (addresses included) at DEBUG: never let it.
        logging.getLogger("python_http_client").setLevel(logging.INFO)

    def mail_request(self, message: OutgoingMessage) -> dict[str, Any]:
        """The body of `POST /v3/mail/send` for one message."""
        unsubscribe = self._unsubscribe_url(message)
        custom_args = {MESSAGE_ID_ARG: message.message_id}
        if message.store_id:
            custom_args[STORE_ID_ARG] = message.store_id
        sender = {"email": message.sender or self._from_email}
        if message.sender_name:
            sender["name"] = message.sender_name
        extra = {"reply_to": {"email": message.reply_to}} if message.reply_to else {}
        return {
            **extra,
            "personalizations": [{"to": [{"email": message.to}]}],
            "from": sender,
            "subject": message.subject or "",
            # SendGrid wants text/plain before text/html.
            "content": [
                {"type": "text/plain", "value": f"{message.body}\n\nUnsubscribe: {unsubscribe}"},
                {"type": "text/html", "value": html_body(message.body, unsubscribe)},
            ],
            "custom_args": custom_args,
            "headers": {
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        }

    async def send(self, message: OutgoingMessage) -> str:
        request = self.mail_request(message)
        try:
            # The SDK is synchronous (urllib): keep it off the event loop.
            return await asyncio.to_thread(self._post, request)
        except HTTPError as exc:
            log.warning(
                "sendgrid refused a message",
                extra={"message_id": message.message_id, "status": exc.status_code},
            )
            # `from None`: the SDK's error text can quote the address, and the chain would
            # travel into the workflow history.
            raise _failure(exc) from None
        except URLError as exc:
            # urllib wraps in URLError only what fails before the request was sent whole
            # (refused, connect timeout, DNS, TLS): SendGrid cannot have taken the message.
            raise TransientSendError(f"sendgrid unreachable: {type(exc.reason).__name__}") from None
        except (OSError, HTTPException) as exc:
            # Sent, then no answer (read timeout, reset, incomplete response): maybe accepted.
            log.warning(
                "sendgrid outcome unknown",
                extra={"message_id": message.message_id, "error": type(exc).__name__},
            )
            raise AmbiguousSendError(f"sendgrid did not answer: {type(exc).__name__}") from None

    def _post(self, request: dict[str, Any]) -> str:
        response = self._client.client.mail.send.post(request_body=request, timeout=self._timeout)
        provider_id = response.headers.get("X-Message-Id")
        return str(provider_id or "")


def _failure(exc: HTTPError) -> Exception:
    status = int(exc.status_code)
    if is_retryable(status):
        return TransientSendError(f"sendgrid answered HTTP {status}")
    fields = _error_fields(exc)
    detail = f"HTTP {status}: {', '.join(fields)}" if fields else f"HTTP {status}"
    return PermanentSendError(f"http_{status}", f"sendgrid refused the message ({detail})")


def _error_fields(exc: HTTPError) -> list[str]:
    """Names of the fields SendGrid complains about: useful, and free of personal data."""
    try:
        errors = exc.to_dict.get("errors", [])
        return sorted({str(e["field"]) for e in errors if isinstance(e, dict) and e.get("field")})
    except (ValueError, AttributeError, TypeError):
        return []
