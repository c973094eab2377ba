"""The OpenAPI schema renders and carries every path of the public contract."""

import httpx

CONTRACT_PATHS = {
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("post", "/v1/stores"),
    ("post", "/v1/stores/{store_id}/keys"),
    ("delete", "/v1/stores/{store_id}/keys/{key_id}"),
    ("post", "/v1/events"),
    ("get", "/v1/flows"),
    ("get", "/v1/flows/{kind}"),
    ("put", "/v1/flows/{kind}"),
    ("get", "/v1/flows/{kind}/stats"),
    ("post", "/v1/promo-code-rules"),
    ("get", "/v1/promo-code-rules"),
    ("get", "/v1/promo-code-rules/{rule_id}"),
    ("get", "/v1/messages"),
    ("get", "/v1/relay-failures"),
    ("post", "/v1/promotions"),
    ("get", "/v1/promotions"),
    ("get", "/v1/promotions/{promotion_id}"),
    ("patch", "/v1/promotions/{promotion_id}"),
    ("delete", "/v1/promotions/{promotion_id}"),
    ("post", "/v1/coupons"),
    ("post", "/v1/coupons/batch"),
    ("post", "/v1/gift-cards"),
    ("get", "/v1/gift-cards/{code}"),
    ("post", "/v1/customers/{customer_id}/store-credit"),
    ("get", "/v1/customers/{customer_id}/store-credit"),
    ("post", "/v1/bundles"),
    ("put", "/v1/products/{product_id}/recommendations"),
    ("get", "/v1/storefront/products/{product_id}/recommendations"),
    ("post", "/v1/checkout/evaluate"),
    ("post", "/v1/checkout/complete"),
    ("post", "/v1/shopper-tokens"),
    ("get", "/v1/settings"),
    ("patch", "/v1/settings"),
    ("get", "/v1/settings/history"),
    ("post", "/v1/webhook-endpoints"),
    ("get", "/v1/webhook-endpoints"),
    ("delete", "/v1/webhook-endpoints/{endpoint_id}"),
    ("get", "/v1/webhook-deliveries"),
    ("post", "/v1/group-deals"),
    ("get", "/v1/group-deals"),
    ("get", "/v1/group-deals/{deal_id}"),
    ("post", "/v1/group-deals/{deal_id}/cancel"),
    ("post", "/v1/group-deals/{deal_id}/participants"),
    ("delete", "/v1/group-deals/{deal_id}/participants/{customer_id}"),
    ("get", "/v1/storefront/group-deals/{deal_id}"),
    ("get", "/v1/feeds"),
    ("post", "/v1/feeds/rotate-token"),
    ("get", "/v1/feeds/google.xml"),
    ("get", "/v1/feeds/google.tsv"),
    ("get", "/v1/feeds/meta.csv"),
    ("get", "/v1/feeds/{network}/errors"),
}


async def test_openapi_has_every_contract_path(api: httpx.AsyncClient) -> None:
    response = await api.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    served = {(method, path) for path, item in paths.items() for method in item}
    assert CONTRACT_PATHS - served == set()
