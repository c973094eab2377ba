"""Fixtures of the provider tests: the fakes are real local HTTP servers (pytest-httpserver)
that the official SDKs talk to and that record what they received."""

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer


@pytest.fixture
def provider_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()
