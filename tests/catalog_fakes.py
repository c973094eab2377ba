"""Local fakes of the Merchant API (products) and of Meta's catalog batch API
(pytest-httpserver) that check what the networks check: the Bearer token, the data source, the
required fields, the price as micros (Google) or `15.00 USD` (Meta), the 5,000 requests of an
`items_batch`; and answer with the networks' error shapes (`{error: {code, message, status}}`
for Google, `{error: {message, type, code}}` and per-item batch errors for Meta)."""

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

GOOGLE_TOKEN = "ya29.merchant-access-token"
MERCHANT = {
    "merchant_id": "5550001",
    "data_source_id": "10041",
    "refresh_token": "1//merchant-refresh-token",
    "client_id": "client-id.apps.googleusercontent.com",
    "client_secret": "client-secret-qrst",
}
META_TOKEN = "EAAB-meta-catalog-token-0042"
META = {
    "pixel_id": "1234567890",
    "ad_account_id": "998877",
    "catalog_id": "771100",
    "access_token": META_TOKEN,
}
PRICE = re.compile(r"^[0-9]+(\.[0-9]+)? [A-Z]{3}$")
META_REQUIRED = ("id", "title", "description", "availability", "condition", "price", "link")


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


def google_error(code: int, status: str, message: str) -> Response:
    return _json({"error": {"code": code, "message": message, "status": status}}, code)


def graph_error(code: int, message: str, status: int = 400) -> Response:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "A1"}
    return _json({"error": error}, status)


@dataclass
class FakeMerchant:
    server: HTTPServer
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # offerId: input
    inserts: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    down: bool = False  # 503 UNAVAILABLE on product calls
    token_revoked: bool = False

    def install(self) -> "FakeMerchant":
        account = f"accounts/{MERCHANT['merchant_id']}"
        source = f"{account}/dataSources/{MERCHANT['data_source_id']}"

        def token(request: Request) -> Response:
            if self.token_revoked or request.form.get("refresh_token") != MERCHANT["refresh_token"]:
                return _json({"error": "invalid_grant", "error_description": "Bad Request"}, 400)
            return _json({"access_token": GOOGLE_TOKEN, "expires_in": 3599})

        def refused(request: Request) -> Response | None:
            if request.headers.get("Authorization") != f"Bearer {GOOGLE_TOKEN}":
                return google_error(401, "UNAUTHENTICATED", "Request had invalid credentials.")
            if self.down:
                return google_error(503, "UNAVAILABLE", "The service is currently unavailable.")
            if request.path != f"/accounts/v1beta/{account}" and (
                request.args.get("dataSource") != source
            ):
                return google_error(400, "INVALID_ARGUMENT", "Invalid data source name.")
            return None

        def who(request: Request) -> Response:
            return refused(request) or _json({"name": account, "accountName": "Tents Inc"})

        def insert(request: Request) -> Response:
            if answer := refused(request):
                return answer
            body = json.loads(request.get_data())
            attributes = body.get("attributes") or {}
            price = attributes.get("price") or {}
            missing = [f for f in ("offerId", "contentLanguage", "feedLabel") if not body.get(f)]
            missing += [
                f
                for f in ("title", "link", "imageLink", "availability", "condition")
                if not attributes.get(f)
            ]
            if body.get("channel") != "ONLINE":
                missing.append("channel")
            micros = price.get("amountMicros")
            if not (isinstance(micros, str) and micros.isdigit()):
                missing.append("price.amountMicros")
            if not re.fullmatch("[A-Z]{3}", str(price.get("currencyCode"))):
                missing.append("price.currencyCode")
            if missing:
                return google_error(400, "INVALID_ARGUMENT", f"Invalid or missing {missing}")
            self.inputs[body["offerId"]] = body
            self.inserts.append(body["offerId"])
            name = f"{account}/productInputs/online~{body['contentLanguage']}~"
            return _json({**body, "name": name + f"{body['feedLabel']}~{body['offerId']}"})

        def delete(request: Request) -> Response:
            if answer := refused(request):
                return answer
            offer = unquote(request.path.rsplit("/", 1)[1]).split("~", 3)[3]
            if self.inputs.pop(offer, None) is None:
                return google_error(404, "NOT_FOUND", "Requested entity was not found.")
            self.deleted.append(offer)
            return _json({})

        expect = self.server.expect_request
        expect("/oauth2/token", method="POST").respond_with_handler(token)
        expect(f"/accounts/v1beta/{account}", method="GET").respond_with_handler(who)
        expect(
            f"/products/v1beta/{account}/productInputs:insert", method="POST"
        ).respond_with_handler(insert)
        expect(
            re.compile(f"/products/v1beta/{account}/productInputs/.+"), method="DELETE"
        ).respond_with_handler(delete)
        return self


@dataclass
class FakeMetaCatalog:
    server: HTTPServer
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # retailer id: item
    updates: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # retailer id: Meta's message
    token_revoked: bool = False
    _batches: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _polled: set[str] = field(default_factory=set)

    def install(self) -> "FakeMetaCatalog":
        catalog = f"/v21.0/{META['catalog_id']}"

        def refused(request: Request) -> Response | None:
            if self.token_revoked or (
                request.headers.get("Authorization") != f"Bearer {META_TOKEN}"
            ):
                return graph_error(190, "Error validating access token: Session has expired")
            return None

        def who(request: Request) -> Response:
            return refused(request) or _json({"id": "act_998877", "name": "Shop Ads"})

        def batch(request: Request) -> Response:
            if answer := refused(request):
                return answer
            form = request.form
            if form.get("allow_upsert") != "true" or form.get("item_type") != "PRODUCT_ITEM":
                return graph_error(100, "(#100) Invalid parameter")
            requests = json.loads(form.get("requests") or "[]")
            if not requests or len(requests) > 5000:
                return graph_error(100, "(#100) requests must have between 1 and 5000 items")
            errors = []
            for line, item in enumerate(requests):
                data = item.get("data") or {}
                rid = str(data.get("id"))
                problem = self.refuse.get(rid)
                if item.get("method") == "UPDATE" and not problem:
                    missing = [f for f in META_REQUIRED if not data.get(f)]
                    if not (data.get("brand") or data.get("gtin")):
                        missing.append("brand")
                    if not PRICE.match(str(data.get("price"))):
                        missing.append("price")
                    if data.get("availability") not in ("in stock", "out of stock"):
                        missing.append("availability")
                    problem = f"Missing or invalid field(s): {missing}" if missing else None
                if problem:
                    errors.append({"line": line, "id": rid, "message": problem})
                elif item.get("method") == "UPDATE":
                    self.items[rid] = data
                    self.updates.append(rid)
                elif item.get("method") == "DELETE" and self.items.pop(rid, None) is not None:
                    self.deleted.append(rid)
            handle = f"AcxBatch{len(self._batches)}"
            self._batches[handle] = errors
            return _json({"handles": [handle], "validation_status": []})

        def status(request: Request) -> Response:
            if answer := refused(request):
                return answer
            handle = request.args.get("handle", "")
            if handle not in self._batches:
                return graph_error(100, "(#100) Invalid handle")
            if handle not in self._polled:  # the first look finds it still in progress
                self._polled.add(handle)
                return _json({"data": [{"status": "in_progress", "handle": handle}]})
            errors = self._batches[handle]
            done = {"status": "finished", "handle": handle, "errors_total_count": len(errors)}
            return _json({"data": [{**done, "errors": errors, "warnings": []}]})

        expect = self.server.expect_request
        expect("/v21.0/act_998877", method="GET").respond_with_handler(who)
        expect(f"{catalog}/items_batch", method="POST").respond_with_handler(batch)
        expect(f"{catalog}/check_batch_request_status", method="GET").respond_with_handler(status)
        return self


async def connect_catalogs(api: httpx.AsyncClient, auth: dict[str, str], base: str) -> None:
    for network, body in (("merchant_center", MERCHANT), ("meta", META)):
        response = await api.put(
            f"/v1/channels/{network}", json={**body, "api_base_url": base}, headers=auth
        )
        assert response.status_code == 200, response.text
        assert response.json()["state"] == "connected", response.text
