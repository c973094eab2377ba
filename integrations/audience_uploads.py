"""Hashed audience uploads over the networks' documented REST APIs (httpx): Google Customer
Match through an offline user data job, Meta custom audience users. The hashes come ready
(services/channels/hashing.py); nothing here normalises, decides or logs contact data.

Errors: `NetworkUnavailable` (down, rate limited: try again), `CredentialRejected` (a
credential refused), `UploadRefused` (the network refused the request itself)."""

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from integrations.ad_networks import (
    GOOGLE_ADS_API,
    GOOGLE_ADS_VERSION,
    META_API,
    META_VERSION,
    CredentialRejected,
    _call,
    _json,
    google_access_token,
)

META_MAX_ROWS = 10_000  # custom audience users: rows per call (REFERENCE.md)
GOOGLE_MAX_OPERATIONS = 10_000  # operations per addOperations request (well under the limit)
META_SCHEMA = ["EMAIL", "PHONE"]


class UploadRefused(Exception):
    """The network refused the request (not a credential, not an outage): `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _refused(network: str, response: httpx.Response) -> Exception:
    body = _json(response)
    error = body.get("error")
    if response.status_code == 401 or (isinstance(error, dict) and error.get("code") == 190):
        field = "access_token" if network == "Meta" else "refresh_token"
        return CredentialRejected(field, f"{network} refused the credentials")
    message = error.get("message") if isinstance(error, dict) else None
    return UploadRefused(f"{network} answered {response.status_code}: {str(message or '')[:200]}")


def _chunks(rows: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


class GoogleCustomerMatch:
    """A customer's Customer Match lists, as one connection's credentials see them."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        ids: Mapping[str, str],
        secrets: Mapping[str, str],
        base: str | None,
    ) -> None:
        self._client = client
        self._ids = ids
        self._secrets = secrets
        self._base = base
        # The REST API takes the customer id as digits.
        self._customer = ids["customer_id"].replace("-", "")
        self._headers: dict[str, str] | None = None

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if self._headers is None:
            token = await google_access_token(self._client, self._secrets, self._base)
            self._headers = {
                "Authorization": f"Bearer {token}",
                "developer-token": self._secrets["developer_token"],
            }
            if self._ids.get("login_customer_id"):
                self._headers["login-customer-id"] = self._ids["login_customer_id"].replace("-", "")
        url = f"{self._base or GOOGLE_ADS_API}/{GOOGLE_ADS_VERSION}/{path}"
        response = await _call(self._client, "POST", url, json=body, headers=self._headers)
        if response.status_code != 200:
            raise _refused("Google Ads", response)
        return _json(response)

    async def create_list(self, name: str) -> str:
        """A CRM-based user list of contact info; answers its resource name."""
        body = {
            "operations": [
                {
                    "create": {
                        "name": name,
                        "membershipLifeSpan": 10000,  # no expiry: the syncs keep it current
                        "crmBasedUserList": {"uploadKeyType": "CONTACT_INFO"},
                    }
                }
            ]
        }
        answer = await self._post(f"customers/{self._customer}/userLists:mutate", body)
        results = answer.get("results") or [{}]
        name_ = results[0].get("resourceName") if isinstance(results[0], dict) else None
        if not isinstance(name_, str):
            raise UploadRefused("Google Ads created no user list")
        return name_

    async def upload(
        self, user_list: str, adds: Sequence[Sequence[str]], removes: Sequence[Sequence[str]]
    ) -> None:
        """One offline user data job: remove operations, then create operations, then run it.
        Each member is one operation; each of its hashes one UserIdentifier (a oneof)."""
        job = await self._post(
            f"customers/{self._customer}/offlineUserDataJobs:create",
            {
                "job": {
                    "type": "CUSTOMER_MATCH_USER_LIST",
                    "customerMatchUserListMetadata": {"userList": user_list},
                }
            },
        )
        resource = job.get("resourceName")
        if not isinstance(resource, str):
            raise UploadRefused("Google Ads created no offline user data job")
        operations = [{"remove": {"userIdentifiers": _google_ids(h)}} for h in removes]
        operations += [{"create": {"userIdentifiers": _google_ids(h)}} for h in adds]
        for chunk in _chunks(operations, GOOGLE_MAX_OPERATIONS):
            await self._post(
                f"{resource}:addOperations",
                {"operations": list(chunk), "enablePartialFailure": False},
            )
        await self._post(f"{resource}:run", {})


def _google_ids(hashes: Sequence[str]) -> list[dict[str, str]]:
    field = {"email": "hashedEmail", "phone": "hashedPhoneNumber"}
    return [{field[kind]: value} for kind, value in (h.split(":", 1) for h in hashes)]


class MetaCustomAudience:
    def __init__(
        self,
        client: httpx.AsyncClient,
        ids: Mapping[str, str],
        secrets: Mapping[str, str],
        base: str | None,
    ) -> None:
        self._client = client
        self._ids = ids
        self._auth = {"Authorization": f"Bearer {secrets['access_token']}"}
        self._base = f"{base or META_API}/{META_VERSION}"

    async def create_list(self, name: str) -> str:
        response = await _call(
            self._client,
            "POST",
            f"{self._base}/act_{self._ids['ad_account_id']}/customaudiences",
            json={
                "name": name,
                "subtype": "CUSTOM",
                "customer_file_source": "USER_PROVIDED_ONLY",
            },
            headers=self._auth,
        )
        if response.status_code != 200:
            raise _refused("Meta", response)
        audience = _json(response).get("id")
        if not isinstance(audience, str):
            raise UploadRefused("Meta created no custom audience")
        return audience

    async def upload(
        self, audience: str, adds: Sequence[Sequence[str]], removes: Sequence[Sequence[str]]
    ) -> None:
        """`DELETE` then `POST /{audience}/users`, at most 10,000 rows a call; a row is
        [email hash, phone hash], either empty when the customer has none."""
        for method, members in (("DELETE", removes), ("POST", adds)):
            rows = [_meta_row(h) for h in members]
            for chunk in _chunks(rows, META_MAX_ROWS):
                payload = {"schema": META_SCHEMA, "data": list(chunk)}
                response = await _call(
                    self._client,
                    method,
                    f"{self._base}/{audience}/users",
                    json={"payload": payload},
                    headers=self._auth,
                )
                if response.status_code != 200:
                    raise _refused("Meta", response)


def _meta_row(hashes: Sequence[str]) -> list[str]:
    by_kind = dict(h.split(":", 1) for h in hashes)
    return [by_kind.get("email", ""), by_kind.get("phone", "")]
