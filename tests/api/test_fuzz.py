"""Schemathesis over every operation of /openapi.json, against the real app on the test
PostgreSQL: no input gets a 5xx, and every answer matches what the schema documents (status,
content type, body). Each generated case is sent as generated, then again with the path's ids
replaced by real ones of the store, so operations on an existing resource are reached too.
An endpoint added later is in this run without editing it."""

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.fuzz_server import OPENAPI, LiveApi

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 25


# The schema the app serves, read at collection time (building the app connects to nothing), so
# that each operation is a test of its own.
schema = schemathesis.openapi.from_dict(OPENAPI)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_breaks_the_api(case: schemathesis.Case[Any], live_api: LiveApi) -> None:
    access = case.operation.definition.raw.get("x-access", "public")
    headers = live_api.headers(access)
    case.call_and_validate(base_url=live_api.url, headers=headers, checks=CHECKS)
    if case.path_parameters:
        for name in case.path_parameters:
            assert name in live_api.ids, f"no real id for path parameter {name}: add one to seed()"
        case.path_parameters = {name: live_api.ids[name] for name in case.path_parameters}
        if case.query:
            case.query = {
                **case.query,
                **{k: v for k, v in live_api.query.items() if k in case.query},
            }
        case.call_and_validate(base_url=live_api.url, headers=headers, checks=CHECKS)
