"""The API docs pages work without internet: every asset they load is served by the api."""

import re

import httpx
import pytest


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_page_loads_only_assets_the_api_serves(
    api: httpx.AsyncClient, page: str
) -> None:
    response = await api.get(page)
    assert response.status_code == 200
    html = response.text

    assert not re.findall(r"(?:https?:)?//[\w.-]+\.\w+/", html), "an asset from another host"
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    assets += re.findall(r"""(?:url|spec-url)\s*[:=]\s*["']([^"']+)["']""", html)
    assert any(a.endswith(".js") for a in assets), assets
    assert "/openapi.json" in assets
    for asset in assets:
        assert (await api.get(asset)).status_code == 200, asset
