"""Fake SendGrid and Twilio for the tests and the benchmarks: one real local HTTP server that both
official SDKs talk to, and that records every message it accepted, keyed by our message id.
(pytest-httpserver is a development dependency: import this only from tests and bench/.)"""

import json
import logging
import re
import threading
import uuid
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlparse

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

TWILIO_ACCOUNT = "AC0123456789abcdef0123456789abcdef"
_TWILIO_MESSAGES = re.compile(r"^/2010-04-01/Accounts/[^/]+/Messages\.json$")


def _message_id_in(text: str) -> str | None:
    """Our links carry the message id as utm_content."""
    match = re.search(r"utm_content=(msg_[0-9a-f]+)", text)
    return match.group(1) if match else None


class FakeProviders:
    def __init__(self) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self._lock = threading.Lock()
        self.emails: list[dict[str, Any]] = []
        self.texts: list[dict[str, str]] = []
        # Numbers that replied STOP at Twilio: a send to one is refused with error 21610.
        self.opted_out: set[str] = set()
        self.refused: list[dict[str, str]] = []

    def start(self) -> "FakeProviders":
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per message
        self.server.expect_request("/v3/mail/send", method="POST").respond_with_handler(self._mail)
        self.server.expect_request(_TWILIO_MESSAGES, method="POST").respond_with_handler(self._sms)
        self.server.start()
        return self

    def stop(self) -> None:
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
            "twilio_account_sid": TWILIO_ACCOUNT,
            "twilio_auth_token": "token",
            "twilio_from_number": "+15550001111",
            "twilio_whatsapp_from": "+15550002222",
            "twilio_base_url": self.url,
        }

    def environment(self) -> dict[str, str]:
        return {f"SHOPSTAR_{k.upper()}": str(v) for k, v in self.settings().items()}

    def _mail(self, request: Request) -> Response:
        mail = json.loads(request.get_data())
        with self._lock:
            self.emails.append(mail)
        return Response(status=202, headers={"X-Message-Id": f"sg-{uuid.uuid4().hex}"})

    def _sms(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        if form.get("To", "").removeprefix("whatsapp:") in self.opted_out:
            with self._lock:
                self.refused.append(form)
            error = {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}
            return Response(
                json.dumps({**error, "status": 400}), 400, content_type="application/json"
            )
        with self._lock:
            self.texts.append(form)
        sid = f"SM{uuid.uuid4().hex}"
        return Response(
            json.dumps({"sid": sid, "status": "queued"}), 201, content_type="application/json"
        )

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
