"""Conversion uploads over the networks' documented REST APIs (httpx): Google Ads
`uploadClickConversions` / `uploadConversionAdjustments` and Meta's Conversions API. The
official SDKs (google-ads, facebook-business) cannot be pointed at a plain local HTTP server,
so the REST API is the one spoken here and faked in tests. No business rule: the caller builds
the conversion; this sends it and sorts the network's answer into sent, refused (permanent) or
retry. Answers are in our words with the network's code, never a credential."""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

from integrations.ad_networks import (
    GOOGLE_ADS_API,
    GOOGLE_ADS_VERSION,
    META_API,
    META_VERSION,
    CredentialRejected,
    NetworkUnavailable,
    google_access_token,
)

# Meta's Graph API: throttling codes (application, user, ads, pixel) are retried.
META_RATE_LIMITS = {4, 17, 32, 613, 80004}
# A Google Ads adjustment may arrive before the conversion it adjusts is processed.
GOOGLE_NOT_YET = {"CONVERSION_NOT_FOUND"}


class Outcome(StrEnum):
    SENT = "sent"
    REFUSED = "refused"  # permanent: recorded, not retried
    RETRY = "retry"


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    message: str  # our words
    code: str | None = None  # the network's code
    # Set when the connection itself failed (a token refused): staff see it on the channel.
    connection_error: str | None = None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def _post(client: httpx.AsyncClient, url: str, **kw: Any) -> httpx.Response | Answer:
    try:
        response = await client.post(url, **kw)
    except httpx.HTTPError as exc:
        return Answer(Outcome.RETRY, f"the network did not answer ({type(exc).__name__})")
    if response.status_code == 429 or response.status_code >= 500:
        code = "RESOURCE_EXHAUSTED" if response.status_code == 429 else None
        return Answer(Outcome.RETRY, f"the network answered {response.status_code}", code)
    return response


def _google_errors(failure: Any) -> list[str]:
    """The error codes of a GoogleAdsFailure (`partialFailureError` or `error`)."""
    codes: list[str] = []
    details = failure.get("details") if isinstance(failure, dict) else None
    for detail in details if isinstance(details, list) else []:
        for error in (detail or {}).get("errors") or []:
            for value in ((error or {}).get("errorCode") or {}).values():
                codes.append(str(value))
    return codes


async def upload_google(
    client: httpx.AsyncClient,
    ids: Mapping[str, str],
    secrets: Mapping[str, str],
    base: str | None,
    method: str,
    body: dict[str, Any],
) -> Answer:
    """`POST /v18/customers/{id}:{method}` (uploadClickConversions or
    uploadConversionAdjustments) with partial failure on: one row per request, so a partial
    failure is that row's permanent refusal."""
    try:
        token = await google_access_token(client, secrets, base)
    except NetworkUnavailable as exc:
        return Answer(Outcome.RETRY, str(exc))
    except CredentialRejected as exc:
        reason = f"Google refused the connection's {exc.field}: {exc.reason}"
        return Answer(Outcome.RETRY, reason, "UNAUTHENTICATED", reason)
    customer = ids["customer_id"].replace("-", "")
    url = f"{base or GOOGLE_ADS_API}/{GOOGLE_ADS_VERSION}/customers/{customer}:{method}"
    headers = {"Authorization": f"Bearer {token}", "developer-token": secrets["developer_token"]}
    if ids.get("login_customer_id"):
        headers["login-customer-id"] = ids["login_customer_id"].replace("-", "")
    response = await _post(client, url, json=body, headers=headers)
    if isinstance(response, Answer):
        return response
    answer = _json(response)
    if response.status_code == 200:
        codes = _google_errors(answer.get("partialFailureError"))
        if not codes:
            return Answer(Outcome.SENT, "Google Ads accepted it")
        if codes[0] in GOOGLE_NOT_YET:
            return Answer(
                Outcome.RETRY, "Google Ads has not processed the conversion yet", codes[0]
            )
        return Answer(Outcome.REFUSED, "Google Ads refused it", codes[0])
    error = answer.get("error") or {}
    codes = _google_errors(error)
    code = codes[0] if codes else str(error.get("status") or response.status_code)
    if response.status_code in (401, 403):
        reason = f"Google Ads refused the connection's credentials ({code})"
        return Answer(Outcome.RETRY, reason, code, reason)
    return Answer(Outcome.REFUSED, "Google Ads refused the request", code)


async def send_meta(
    client: httpx.AsyncClient,
    ids: Mapping[str, str],
    secrets: Mapping[str, str],
    base: str | None,
    events: list[dict[str, Any]],
) -> Answer:
    """`POST /v21.0/{pixel_id}/events`; the token goes in the body, not in the URL (URLs are
    logged). Graph errors: `{"error": {"code", "error_subcode", "message", "fbtrace_id"}}`."""
    url = f"{base or META_API}/{META_VERSION}/{ids['pixel_id']}/events"
    body = {"data": events, "access_token": secrets["access_token"]}
    response = await _post(client, url, json=body)
    if isinstance(response, Answer):
        return response
    answer = _json(response)
    if response.status_code == 200 and answer.get("events_received"):
        return Answer(Outcome.SENT, f"Meta received {answer['events_received']} event(s)")
    error = answer.get("error") or {}
    code = error.get("code") if isinstance(error, dict) else None
    subcode = error.get("error_subcode") if isinstance(error, dict) else None
    shown = f"{code}/{subcode}" if subcode else str(code if code is not None else "")
    if code == 190 or response.status_code == 401:
        reason = "Meta refused the access token (expired?)"
        return Answer(Outcome.RETRY, reason, shown or "190", reason)
    if code in META_RATE_LIMITS:
        return Answer(Outcome.RETRY, "Meta is throttling the pixel", shown)
    return Answer(Outcome.REFUSED, "Meta refused the event", shown or str(response.status_code))
