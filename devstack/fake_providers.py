"""Fake SendGrid and Twilio for the tests and the benchmarks: one real local HTTP server that both
official SDKs talk to, and that records every message it accepted, keyed by our message id.
It can also answer too late (`stall_seconds`: the message is taken, the answer comes after the
client gave up) or not at all (`close_without_answer`), and report back as the real providers
do: a Twilio status callback and a SendGrid event, each signed as the provider signs it.
(pytest-httpserver is a development dependency: import this only from tests and bench/.)"""

import base64
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pytest_httpserver import HTTPServer
from twilio.request_validator import RequestValidator
from werkzeug import Request, Response

TWILIO_ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TWILIO_AUTH_TOKEN = "token"
_TWILIO_MESSAGES = re.compile(r"^/2010-04-01/Accounts/[^/]+/Messages\.json$")


def _message_id_in(text: str) -> str | None:
    """Our links carry the message id as utm_content."""
    match = re.search(r"utm_content=(msg_[0-9a-f]+)", text)
    return match.group(1) if match else None


@dataclass(frozen=True)
class Callback:
    """A webhook request the fake provider makes to the engine, signed."""

    url: str  # absolute, as the provider calls it
    body: bytes
    headers: dict[str, str]

    @property
    def path(self) -> str:
        """Path and query, for a client that talks to the api in process."""
        parts = urlparse(self.url)
        return f"{parts.path}?{parts.query}" if parts.query else parts.path


class FakeProviders:
    def __init__(self, port: int = 0) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=port, threaded=True)
        self._lock = threading.Lock()
        self.emails: list[dict[str, Any]] = []
        self.texts: list[dict[str, str]] = []
        # Numbers that replied STOP at Twilio: a send to one is refused with error 21610.
        self.opted_out: set[str] = set()
        self.refused: list[dict[str, str]] = []
        # Set: each message is taken, then answered only after this long (or at stop()).
        self.stall_seconds: float | None = None
        self._unstall = threading.Event()
        # Set: each message is taken, then the connection is closed with no answer.
        self.close_without_answer = False
        # What the fake answered (or would have): X-Message-Id per email, SID per text.
        self.email_ids: list[str] = []
        self.text_sids: list[str] = []
        self._event_key = ec.generate_private_key(ec.SECP256R1())

    def start(self) -> "FakeProviders":
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per message
        self.server.expect_request("/v3/mail/send", method="POST").respond_with_handler(self._mail)
        self.server.expect_request(_TWILIO_MESSAGES, method="POST").respond_with_handler(self._sms)
        self.server.start()
        return self

    def stop(self) -> None:
        self._unstall.set()
        self.server.clear()
        if self.server.is_running():
            self.server.stop()

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def settings(self) -> dict[str, Any]:
        """Settings fields that send through this fake."""
        return {
            "email_provider": "sendgrid",
            "sendgrid_api_key": "SG.test",
            "sendgrid_host": self.url,
            "sendgrid_from_email": "shop@example.com",
            "sms_provider": "twilio",
            "sendgrid_webhook_public_key": self.event_webhook_public_key(),
            "twilio_account_sid": TWILIO_ACCOUNT,
            "twilio_auth_token": TWILIO_AUTH_TOKEN,
            "twilio_from_number": "+15550001111",
            "twilio_whatsapp_from": "+15550002222",
            "twilio_base_url": self.url,
        }

    def environment(self) -> dict[str, str]:
        return {f"SHOPSTAR_{k.upper()}": str(v) for k, v in self.settings().items()}

    def event_webhook_public_key(self) -> str:
        """The Signed Event Webhook's verification key, as SendGrid's console shows it."""
        der = self._event_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def _stall(self, request: Request) -> None:
        """The message is taken; the answer comes after the client stopped waiting, or never."""
        if self.close_without_answer:
            request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
        if self.stall_seconds is not None:
            self._unstall.wait(self.stall_seconds)

    def _mail(self, request: Request) -> Response:
        mail = json.loads(request.get_data())
        x_message_id = uuid.uuid4().hex[:22]
        with self._lock:
            self.emails.append(mail)
            self.email_ids.append(x_message_id)
        self._stall(request)
        return Response(status=202, headers={"X-Message-Id": x_message_id})

    def _sms(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        if form.get("To", "").removeprefix("whatsapp:") in self.opted_out:
            with self._lock:
                self.refused.append(form)
            error = {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}
            return Response(
                json.dumps({**error, "status": 400}), 400, content_type="application/json"
            )
        sid = f"SM{uuid.uuid4().hex}"
        with self._lock:
            self.texts.append(form)
            self.text_sids.append(sid)
        self._stall(request)
        return Response(
            json.dumps({"sid": sid, "status": "queued"}), 201, content_type="application/json"
        )

    def twilio_status_callbacks(self, status: str = "delivered") -> list[Callback]:
        """Twilio's status callback of every text taken: to the message's `StatusCallback`
        URL, signed with the auth token over that URL and the form."""
        with self._lock:
            texts = list(zip(self.texts, self.text_sids, strict=True))
        callbacks = []
        for form, sid in texts:
            params = {
                "AccountSid": TWILIO_ACCOUNT,
                "MessageSid": sid,
                "SmsSid": sid,
                "MessageStatus": status,
                "From": form.get("From", ""),
                "To": form.get("To", ""),
                "ApiVersion": "2010-04-01",
            }
            url = form["StatusCallback"]
            signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(url, params)
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            }
            callbacks.append(Callback(url, urlencode(params).encode(), headers))
        return callbacks

    def sendgrid_events(self, url: str, event: str = "delivered") -> Callback:
        """One event-webhook batch to `url` with an event for every email taken, its custom
        args flattened in, signed (ECDSA over the timestamp and the body) as SendGrid signs."""
        now = int(time.time())
        with self._lock:
            mails = list(zip(self.emails, self.email_ids, strict=True))
        events = [
            {
                "email": mail["personalizations"][0]["to"][0]["email"],
                "timestamp": now,
                "event": event,
                "sg_event_id": uuid.uuid4().hex,
                "sg_message_id": f"{x_message_id}.filterdrecv-5d8f7b-1-{now}-0.0",
                **mail.get("custom_args", {}),
            }
            for mail, x_message_id in mails
        ]
        body = json.dumps(events).encode()
        timestamp = str(now)
        signature = self._event_key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        headers = {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        }
        return Callback(url, body, headers)

    def count(self) -> int:
        with self._lock:
            return len(self.emails) + len(self.texts)

    def message_ids(self) -> Counter[str]:
        """How many times each of our messages reached a provider."""
        ids: Counter[str] = Counter()
        with self._lock:
            for mail in self.emails:
                args = mail.get("custom_args") or mail["personalizations"][0].get("custom_args", {})
                ids[args["shopstar_message_id"]] += 1
            for text in self.texts:
                found = _message_id_in(text.get("Body", "")) or _message_id_in(
                    text.get("ContentVariables", "")
                )
                ids[found or "?"] += 1
        return ids

    def email_to(self, address: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.emails if m["personalizations"][0]["to"][0]["email"] == address]

    def texts_to(self, number: str) -> list[dict[str, str]]:
        with self._lock:
            return [t for t in self.texts if t.get("To", "").endswith(number)]


def query_of(link: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(link).query).items()}
