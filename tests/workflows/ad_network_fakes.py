"""Local fakes of Google Ads and Meta's Conversions API (pytest-httpserver) that check what the
real networks check (required fields, formats, exactly one click id, hashed fields, event age)
and answer with their real shapes: Google's partial failure, 429, Graph errors (code 190)."""

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

ACCESS = "ya29.fake-access-token"
GOOGLE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
ACTION = re.compile(r"^customers/\d+/conversionActions/\d+$")
CLICKS = ("gclid", "gbraid", "wbraid")


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


def google_failure(code: str, kind: str = "conversionUploadError") -> dict[str, Any]:
    """A GoogleAdsFailure as `partialFailureError` carries it."""
    return {
        "code": 3,
        "message": f"{code} at conversions[0]",
        "details": [
            {
                "@type": "type.googleapis.com/google.ads.googleads.v18.errors.GoogleAdsFailure",
                "errors": [{"errorCode": {kind: code}, "message": code}],
            }
        ],
    }


def _bad_request(problem: str) -> Response:
    error = {"code": 400, "message": problem, "status": "INVALID_ARGUMENT"}
    return _json({"error": error}, 400)


@dataclass
class Fakes:
    """What the fakes received, and answers to give first (one per request) before the
    normal ones: a status code, or a callable making the response."""

    conversions: list[dict[str, Any]] = field(default_factory=list)
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    meta_events: list[dict[str, Any]] = field(default_factory=list)
    google_first: list[int] = field(default_factory=list)
    meta_first: list[Callable[[], Response]] = field(default_factory=list)
    uploaded_orders: set[str] = field(default_factory=set)
    google_calls: int = 0

    def install(self, server: HTTPServer) -> None:
        server.expect_request("/oauth2/token", method="POST").respond_with_json(
            {"access_token": ACCESS, "expires_in": 3599, "token_type": "Bearer"}
        )
        server.expect_request(
            re.compile(r"^/v18/customers/\d+:uploadClickConversions$"), method="POST"
        ).respond_with_handler(self._click_conversions)
        server.expect_request(
            re.compile(r"^/v18/customers/\d+:uploadConversionAdjustments$"), method="POST"
        ).respond_with_handler(self._adjustments)
        server.expect_request(
            re.compile(r"^/v21\.0/\d+/events$"), method="POST"
        ).respond_with_handler(self._meta)

    def _google_auth(self, request: Request) -> Response | None:
        self.google_calls += 1
        if request.headers.get("Authorization") != f"Bearer {ACCESS}":
            return _json({"error": {"code": 401, "status": "UNAUTHENTICATED"}}, 401)
        if not request.headers.get("developer-token"):
            return _bad_request("developer-token header missing")
        if self.google_first:
            status = self.google_first.pop(0)
            error = {"code": status, "message": "Resource has been exhausted"}
            return _json({"error": {**error, "status": "RESOURCE_EXHAUSTED"}}, status)
        return None

    def _click_conversions(self, request: Request) -> Response:
        if refused := self._google_auth(request):
            return refused
        body = request.get_json()
        if body.get("partialFailure") is not True:
            return _bad_request("partialFailure must be true")
        [conversion] = body["conversions"]
        clicks = [k for k in CLICKS if k in conversion]
        if len(clicks) != 1:
            return _json({"partialFailureError": google_failure("EXACTLY_ONE_ID_REQUIRED")})
        if not ACTION.match(conversion.get("conversionAction", "")):
            return _bad_request("conversionAction is not a resource name")
        if not GOOGLE_TIME.match(conversion.get("conversionDateTime", "")):
            return _bad_request("conversionDateTime: yyyy-mm-dd hh:mm:ss+|-hh:mm")
        if not isinstance(conversion.get("conversionValue"), int | float):
            return _bad_request("conversionValue must be a number")
        if not re.match(r"^[A-Z]{3}$", conversion.get("currencyCode", "")):
            return _bad_request("currencyCode")
        self.conversions.append(conversion)
        if conversion["orderId"] in self.uploaded_orders:
            failure = google_failure("CLICK_CONVERSION_ALREADY_EXISTS")
            return _json({"partialFailureError": failure, "results": [{}]})
        self.uploaded_orders.add(conversion["orderId"])
        return _json({"results": [{"gclid": conversion.get("gclid", ""), "orderId": "x"}]})

    def _adjustments(self, request: Request) -> Response:
        if refused := self._google_auth(request):
            return refused
        body = request.get_json()
        [adjustment] = body["conversionAdjustments"]
        kind = adjustment.get("adjustmentType")
        if kind not in ("RETRACTION", "RESTATEMENT") or not GOOGLE_TIME.match(
            adjustment.get("adjustmentDateTime", "")
        ):
            return _bad_request("adjustmentType / adjustmentDateTime")
        if kind == "RESTATEMENT" and "adjustedValue" not in adjustment.get("restatementValue", {}):
            return _bad_request("a restatement needs restatementValue.adjustedValue")
        self.adjustments.append(adjustment)
        if adjustment.get("orderId") not in self.uploaded_orders:
            failure = google_failure("CONVERSION_NOT_FOUND", "conversionAdjustmentUploadError")
            return _json({"partialFailureError": failure, "results": [{}]})
        return _json({"results": [{"orderId": adjustment["orderId"]}]})

    def _meta(self, request: Request) -> Response:
        body = request.get_json()
        if not body.get("access_token") or "access_token" in request.args:
            return _json({"error": {"message": "An access token is required", "code": 104}}, 400)
        if self.meta_first:
            return self.meta_first.pop(0)()
        for event in body["data"]:
            for name in ("event_name", "event_time", "event_id", "action_source", "user_data"):
                if name not in event:
                    return _meta_invalid(f"{name} is required")
            if time.time() - event["event_time"] > 7 * 86400:
                return _meta_invalid("event_time is more than 7 days in the past", 2804003)
            user = event["user_data"]
            for key in ("em", "ph", "external_id"):
                if key in user and not all(HEX64.match(v) for v in user[key]):
                    return _meta_invalid(f"user_data.{key} must be SHA-256 hashed")
            if "fbp" in user and not user["fbp"].startswith("fb."):
                return _meta_invalid("fbp must be sent unhashed")
        self.meta_events += body["data"]
        return _json({"events_received": len(body["data"]), "messages": [], "fbtrace_id": "Ab"})


def _meta_invalid(message: str, subcode: int = 2804001) -> Response:
    error = {
        "message": "Invalid parameter",
        "type": "OAuthException",
        "code": 100,
        "error_subcode": subcode,
        "error_user_msg": message,
        "fbtrace_id": "AbCdEf",
    }
    return _json({"error": error}, 400)


def meta_expired_token() -> Response:
    error = {
        "message": "Error validating access token: Session has expired",
        "type": "OAuthException",
        "code": 190,
        "error_subcode": 463,
        "fbtrace_id": "AbCdEf",
    }
    return _json({"error": error}, 400)
