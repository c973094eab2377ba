"""Local fakes of Google Customer Match and Meta custom audiences (pytest-httpserver) that check
what the networks check: 64-hex SHA-256 values, one identifier per UserIdentifier (a oneof),
create/remove operations in an offline user data job of type CUSTOMER_MATCH_USER_LIST, Meta's
schema and at most 10,000 rows a call. Each keeps the list's members as the network would."""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

HEX64 = re.compile(r"^[0-9a-f]{64}$")
CUSTOMER = "1234567890"


def _answer(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


def _error(status: int, message: str) -> Response:
    return _answer({"error": {"code": status, "message": message}}, status)


@dataclass
class FakeNetworks:
    # Google: user list resource -> identifiers ("hashedEmail:<hex>"); Meta: audience -> rows.
    google: dict[str, set[str]] = field(default_factory=dict)
    meta: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    meta_calls: list[tuple[str, int]] = field(default_factory=list)  # (method, rows)
    google_operations: list[tuple[str, int]] = field(default_factory=list)  # (kind, identifiers)
    down: int = 0  # answer 503 to this many upload calls first
    refused: list[str] = field(default_factory=list)  # what was refused, for the asserts

    def install(self, server: HTTPServer) -> None:
        server.expect_request(re.compile(".*")).respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        path = request.path
        if path == "/oauth2/token":
            return _answer({"access_token": "ya29.token", "expires_in": 3599})
        body = request.get_json(silent=True) or {}
        if path.startswith("/v18/"):
            if request.headers.get("Authorization") != "Bearer ya29.token":
                return _error(401, "UNAUTHENTICATED")
            return self._google(path.removeprefix("/v18/"), body)
        if path.startswith("/v21.0/"):
            if not (request.headers.get("Authorization") or "").startswith("Bearer "):
                return _answer({"error": {"code": 190, "message": "no token"}}, 400)
            return self._meta(request.method, path.removeprefix("/v21.0/"), body)
        return _error(404, f"no such path {path}")

    def _refuse(self, why: str) -> Response:
        self.refused.append(why)
        return _error(400, why)

    def _google(self, path: str, body: dict[str, Any]) -> Response:
        prefix = f"customers/{CUSTOMER}/"
        if not path.startswith(prefix):
            return self._refuse("customer id must be digits")
        rest = path.removeprefix(prefix)
        if rest == "userLists:mutate":
            created = body["operations"][0]["create"]
            if created["crmBasedUserList"]["uploadKeyType"] != "CONTACT_INFO":
                return self._refuse("upload key type")
            name = f"{prefix}userLists/{len(self.google) + 1}"
            self.google[name] = set()
            return _answer({"results": [{"resourceName": name}]})
        if rest == "offlineUserDataJobs:create":
            job = body["job"]
            user_list = job["customerMatchUserListMetadata"]["userList"]
            if job["type"] != "CUSTOMER_MATCH_USER_LIST" or user_list not in self.google:
                return self._refuse("job type or user list")
            name = f"{prefix}offlineUserDataJobs/{len(self.jobs) + 1}"
            self.jobs[name] = {"list": user_list, "ops": [], "ran": False}
            return _answer({"resourceName": name})
        job_name, _, action = path.partition(":")
        job = self.jobs.get(job_name)
        if job is None or job["ran"]:
            return self._refuse("no such job, or it ran")
        if action == "addOperations":
            if self.down:
                self.down -= 1
                return _error(503, "UNAVAILABLE")
            for op in body["operations"]:
                if len(op) != 1 or next(iter(op)) not in ("create", "remove"):
                    return self._refuse("an operation is create or remove")
                kind, data = next(iter(op.items()))
                for identifier in data["userIdentifiers"]:
                    if len(identifier) != 1:
                        return self._refuse("one identifier per UserIdentifier")
                    ((key, value),) = identifier.items()
                    if key not in ("hashedEmail", "hashedPhoneNumber") or not HEX64.match(value):
                        return self._refuse("hashed identifiers only")
                self.google_operations.append((kind, len(data["userIdentifiers"])))
                job["ops"].append((kind, data["userIdentifiers"]))
            return _answer({})
        if action == "run":
            members = self.google[job["list"]]
            for kind, identifiers in job["ops"]:
                keys = {f"{k}:{v}" for i in identifiers for k, v in i.items()}
                members |= keys if kind == "create" else set()
                members -= keys if kind == "remove" else set()
            job["ran"] = True
            return _answer({"name": f"operations/{job_name}"})
        return _error(404, "no such action")

    def _meta(self, method: str, path: str, body: dict[str, Any]) -> Response:
        if path.endswith("/customaudiences") and method == "POST":
            if body.get("subtype") != "CUSTOM":
                return self._refuse("subtype")
            audience = str(6000 + len(self.meta))
            self.meta[audience] = set()
            return _answer({"id": audience})
        audience, _, tail = path.partition("/")
        if tail != "users" or audience not in self.meta:
            return _error(404, "no such audience")
        payload = body.get("payload") or {}
        data = payload.get("data") or []
        if payload.get("schema") != ["EMAIL", "PHONE"]:
            return self._refuse("schema")
        if not 1 <= len(data) <= 10_000:
            return self._refuse("1 to 10,000 rows a call")
        for row in data:
            if len(row) != 2 or not any(row) or not all(v == "" or HEX64.match(v) for v in row):
                return self._refuse("rows of hashed values")
        if self.down:
            self.down -= 1
            return _error(503, "Service temporarily unavailable")
        self.meta_calls.append((method, len(data)))
        rows = {(r[0], r[1]) for r in data}
        if method == "POST":
            self.meta[audience] |= rows
        else:
            self.meta[audience] -= rows
        return _answer({"audience_id": audience, "num_received": len(data)})
