"""The "who am I" call of each ad network and social shop, made when a store saves a connection,
over the networks' documented REST APIs (httpx). Each answers the account's name, or says which
credential the network refused (`CredentialRejected`), or that the network could not be asked
(`NetworkUnavailable`). No business rule here; credentials are never logged or put in errors.

`base_url` points a connection at a network's sandbox, or at a local fake in tests; None: the
network's real API."""

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

META_API = "https://graph.facebook.com"
META_VERSION = "v21.0"
GOOGLE_ADS_API = "https://googleads.googleapis.com"
GOOGLE_ADS_VERSION = "v18"
GOOGLE_OAUTH = "https://oauth2.googleapis.com"
MERCHANT_API = "https://merchantapi.googleapis.com"
TIKTOK_SHOP_API = "https://open-api.tiktokglobalshop.com"


class CredentialRejected(Exception):
    """The network refused a credential: `field` names it, `reason` is our words."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NetworkUnavailable(Exception):
    """The network could not be asked (down, rate limited, timed out): try again later."""


@dataclass(frozen=True)
class Account:
    name: str


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def _call(client: httpx.AsyncClient, method: str, url: str, **kw: Any) -> httpx.Response:
    try:
        response = await client.request(method, url, **kw)
    except httpx.HTTPError as exc:
        raise NetworkUnavailable(f"the network did not answer ({type(exc).__name__})") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise NetworkUnavailable(f"the network answered {response.status_code}")
    return response


async def check_meta(
    client: httpx.AsyncClient, ids: Mapping[str, str], secrets: Mapping[str, str], base: str | None
) -> Account:
    """`GET /{version}/act_{ad_account_id}?fields=id,name`; Graph API errors carry `code`
    190 (the access token) or 100 / 803 (an id the token cannot see)."""
    url = f"{base or META_API}/{META_VERSION}/act_{ids['ad_account_id']}"
    response = await _call(
        client,
        "GET",
        url,
        params={"fields": "id,name"},
        headers={"Authorization": f"Bearer {secrets['access_token']}"},
    )
    if response.status_code == 200:
        return Account(str(_json(response).get("name") or ids["ad_account_id"]))
    error = _json(response).get("error") or {}
    code = error.get("code") if isinstance(error, dict) else None
    if code == 190 or response.status_code == 401:
        raise CredentialRejected("access_token", "Meta refused the access token (expired?)")
    raise CredentialRejected("ad_account_id", "Meta does not show this ad account to the token")


async def google_access_token(
    client: httpx.AsyncClient, secrets: Mapping[str, str], base: str | None
) -> str:
    """OAuth refresh-token grant: `invalid_grant` is the refresh token, `invalid_client` the
    client id or secret."""
    url = f"{base}/oauth2/token" if base else f"{GOOGLE_OAUTH}/token"
    response = await _call(
        client,
        "POST",
        url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": secrets["refresh_token"],
            "client_id": secrets["client_id"],
            "client_secret": secrets["client_secret"],
        },
    )
    body = _json(response)
    if response.status_code == 200 and isinstance(body.get("access_token"), str):
        return str(body["access_token"])
    if body.get("error") == "invalid_client":
        raise CredentialRejected("client_secret", "Google refused the OAuth client id or secret")
    raise CredentialRejected("refresh_token", "Google refused the refresh token (revoked?)")


async def check_google_ads(
    client: httpx.AsyncClient, ids: Mapping[str, str], secrets: Mapping[str, str], base: str | None
) -> Account:
    """`GET /{version}/customers/{customer_id}` with the developer token."""
    token = await google_access_token(client, secrets, base)
    url = f"{base or GOOGLE_ADS_API}/{GOOGLE_ADS_VERSION}/customers/{ids['customer_id']}"
    headers = {"Authorization": f"Bearer {token}", "developer-token": secrets["developer_token"]}
    if ids.get("login_customer_id"):
        headers["login-customer-id"] = ids["login_customer_id"]
    response = await _call(client, "GET", url, headers=headers)
    if response.status_code == 200:
        return Account(str(_json(response).get("descriptiveName") or ids["customer_id"]))
    text = response.text
    if "DEVELOPER_TOKEN" in text:
        raise CredentialRejected("developer_token", "Google Ads refused the developer token")
    raise CredentialRejected("customer_id", "Google Ads does not let these credentials see it")


async def check_merchant_center(
    client: httpx.AsyncClient, ids: Mapping[str, str], secrets: Mapping[str, str], base: str | None
) -> Account:
    """Merchant API `GET /accounts/v1beta/accounts/{merchant_id}`."""
    token = await google_access_token(client, secrets, base)
    url = f"{base or MERCHANT_API}/accounts/v1beta/accounts/{ids['merchant_id']}"
    response = await _call(client, "GET", url, headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 200:
        return Account(str(_json(response).get("accountName") or ids["merchant_id"]))
    raise CredentialRejected("merchant_id", "Merchant Center does not show this account")


def tiktok_sign(app_secret: str, path: str, params: Mapping[str, str], body: str = "") -> str:
    """TikTok Shop's request signature (REFERENCE.md): HMAC-SHA256 keyed by the app secret over
    secret + path + the sorted params but `sign` and `access_token` (key then value) + body +
    secret, in hex."""
    ordered = "".join(
        f"{k}{params[k]}" for k in sorted(params) if k not in ("sign", "access_token")
    )
    text = f"{app_secret}{path}{ordered}{body}{app_secret}"
    return hmac.new(app_secret.encode(), text.encode(), hashlib.sha256).hexdigest()


async def check_tiktok_shop(
    client: httpx.AsyncClient, ids: Mapping[str, str], secrets: Mapping[str, str], base: str | None
) -> Account:
    """`GET /authorization/202309/shops` (signed): the shop's cipher must be among the shops
    the token is authorized for."""
    path = "/authorization/202309/shops"
    params = {"app_key": ids["app_key"], "timestamp": str(int(time.time()))}
    params["sign"] = tiktok_sign(secrets["app_secret"], path, params)
    response = await _call(
        client,
        "GET",
        f"{base or TIKTOK_SHOP_API}{path}",
        params=params,
        headers={"x-tts-access-token": secrets["access_token"]},
    )
    body = _json(response)
    code = body.get("code")
    if response.status_code == 200 and code == 0:
        shops = (body.get("data") or {}).get("shops") or []
        for shop in shops:
            if isinstance(shop, dict) and shop.get("cipher") == ids["shop_cipher"]:
                return Account(str(shop.get("name") or ids["shop_cipher"]))
        raise CredentialRejected("shop_cipher", "the token is not authorized for this shop")
    if code in (106001, 106002):  # the signature, so the app secret (or key)
        raise CredentialRejected("app_secret", "TikTok Shop refused the request's signature")
    if code in (105001, 105002, 105005):
        raise CredentialRejected("access_token", "TikTok Shop refused the access token")
    raise CredentialRejected("app_key", "TikTok Shop refused the app")
