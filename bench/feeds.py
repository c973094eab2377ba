"""Catalog feeds over HTTP: a store of 50,000 products (one in ten with 3 variants, one in a
hundred without an image, so left out), seeded straight into the catalog mirror with SQL, served
by the api (uvicorn, 1 process) as Merchant Center XML and TSV and Meta CSV. For each: time to
the first and the last byte, bytes, items, and the api's peak RSS while it streams, beside the
same feed of a 1,000-product store and the api's idle RSS in the same run; and a 304.
`python -m bench.feeds [--quick] [--products N]`"""

import argparse
import asyncio
import time
from pathlib import Path

import httpx
from rich.console import Console

from bench.report import Report, publish, verdict
from bench.stack import (
    BenchStack,
    BenchStore,
    api_process,
    bench_stack,
    create_store,
    stop_on_sigterm,
)

console = Console()
FEEDS = {"google_xml": b"</item>", "google_tsv": b"\n", "meta_csv": b"\n"}
HEADER_LINES = {"google_xml": 0, "google_tsv": 1, "meta_csv": 1}
MIB = 1024 * 1024
GROWTH_BOUND = 32 * MIB  # over the api's RSS at rest, while it streams any feed

SEED_PRODUCTS = """
INSERT INTO products (store_id, product_id, title, price, currency, category_ids, available,
                      url, image_url, description, brand, gtin, deleted_at, updated_at)
SELECT :store, 'p' || lpad(i::text, 6, '0'), 'Linen shirt ' || i || ' & <co> «été»',
       1000 + i % 5000, 'USD', ARRAY['c' || (i % 50)], i % 7 <> 0,
       'https://shop.example.com/p/' || i,
       CASE WHEN i % 100 = 0 THEN NULL ELSE 'https://cdn.example.com/' || i || '.jpg' END,
       repeat('Soft washed linen, relaxed fit. ', 6), 'Acme', NULL, NULL, now()
FROM generate_series(1, :n) AS i
"""
SEED_VARIANTS = """
INSERT INTO product_variants (store_id, product_id, variant_id, price, available, sku)
SELECT :store, 'p' || lpad(i::text, 6, '0'), 'p' || lpad(i::text, 6, '0') || '-' || v,
       1000 + v * 100, v <> 3, NULL
FROM generate_series(1, :n) AS i, generate_series(1, 3) AS v
WHERE i % 10 = 0
"""


def expected_items(n: int) -> int:
    """Items in the feed: products without variants, plus 3 per product with variants, less
    the products without an image (every 100th, all of them among those with variants)."""
    with_variants = n // 10
    no_image = n // 100
    return (n - with_variants) + 3 * (with_variants - no_image)


async def seed(stack: BenchStack, store: BenchStore, n: int) -> float:
    began = time.perf_counter()
    await stack.execute(SEED_PRODUCTS, store=store.id, n=n)
    await stack.execute(SEED_VARIANTS, store=store.id, n=n)
    await stack.execute("ANALYZE products, product_variants")  # as autovacuum would, in time
    return time.perf_counter() - began


def _status(pid: int, field: str) -> int:
    for text in Path(f"/proc/{pid}/status").read_text().splitlines():
        if text.startswith(field + ":"):
            return int(text.split()[1]) * 1024
    return 0


def reset_peak(pid: int) -> bool:
    """Reset the kernel's peak RSS (VmHWM) of the process; False where that is not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


async def fetch(
    api: httpx.AsyncClient, pid: int, path: str, token: str, marker: bytes
) -> dict[str, float]:
    """Stream the feed, counting bytes and item markers; the api's peak RSS meanwhile (the
    kernel's high-water mark, reset before; also sampled every 10 ms in case it cannot be)."""
    kernel_peak = reset_peak(pid)
    sampled = _status(pid, "VmRSS")
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal sampled
        while not stop.is_set():
            sampled = max(sampled, _status(pid, "VmRSS"))
            await asyncio.sleep(0.01)

    sampler = asyncio.create_task(sample())
    began = time.perf_counter()
    first = 0.0
    size = count = 0
    carry = b""
    async with api.stream("GET", path, params={"token": token}) as response:
        response.raise_for_status()
        async for chunk in response.aiter_raw():
            if not first:
                first = time.perf_counter() - began
            size += len(chunk)
            data = carry + chunk
            count += data.count(marker)
            # A marker split across two chunks is counted once, in the second.
            carry = data[-(len(marker) - 1) :] if len(marker) > 1 else b""
            if carry and marker in carry:
                carry = b""
    total = time.perf_counter() - began
    stop.set()
    await sampler
    peak = _status(pid, "VmHWM") if kernel_peak else sampled
    return {
        "first": first,
        "total": total,
        "bytes": size,
        "items": count,
        "peak": max(peak, sampled),
    }


async def main(n: int, small: int) -> Report:
    report = Report(name="feeds", title=f"Catalog feeds: {n:,} products, streamed")
    report.notes += [
        "api: uvicorn, 1 process; products seeded with SQL into the catalog mirror; "
        "one in ten has 3 variants, one in a hundred has no image (left out, listed in errors)",
        "peak RSS: the api's high-water mark while it streams (VmHWM reset before each feed)",
        f"baseline: the same feed of a {small:,}-product store, and the api's RSS at rest",
    ]
    async with (
        bench_stack("feeds") as stack,
        api_process(stack) as api_child,
        httpx.AsyncClient(base_url=api_child.base_url, timeout=600) as api,
    ):
        pid = api_child.process.pid
        big, little = await create_store(api, "feeds big"), await create_store(api, "feeds small")
        seed_seconds = await seed(stack, big, n)
        await seed(stack, little, small)
        tokens = {}
        for store in (big, little):
            got = await api.get("/v1/feeds", headers=store.headers)
            got.raise_for_status()
            tokens[store.id] = got.json()["token"]
        report.add(f"seed {n:,} products with SQL, s", f"{seed_seconds:.1f}")
        # Warm the api up (imports, the pool) before anything is measured.
        await fetch(api, pid, "/v1/feeds/google.xml", tokens[little.id], b"</item>")
        for _ in range(20):
            (await api.get("/healthz")).raise_for_status()
        rest = _status(pid, "VmRSS")
        report.add("api RSS at rest, MiB", f"{rest / MIB:.0f}")
        results: dict[str, dict[str, dict[str, float]]] = {}
        for feed, marker in FEEDS.items():
            path = "/v1/feeds/" + feed.replace("_", ".", 1)
            base = await fetch(api, pid, path, tokens[little.id], marker)
            full = await fetch(api, pid, path, tokens[big.id], marker)
            results[feed] = {"small": base, "big": full}
            items = int(full["items"]) - HEADER_LINES[feed]
            want = expected_items(n)
            report.add(
                f"{feed}: time to last byte, s",
                f"{full['total']:.2f}",
                f"{base['total']:.2f} ({small:,} products)",
            )
            report.add(f"{feed}: time to first byte, ms", f"{full['first'] * 1000:.0f}")
            report.add(
                f"{feed}: size, MiB / items/s",
                f"{full['bytes'] / MIB:.1f} / {items / full['total']:,.0f}",
            )
            report.add(f"{feed}: items", f"{items:,}", f"{want:,}", verdict(items == want))
            report.add(
                f"{feed}: api peak RSS, MiB",
                f"{full['peak'] / MIB:.0f}",
                f"{base['peak'] / MIB:.0f} ({small:,} products); {rest / MIB:.0f} at rest; "
                f"target < +{GROWTH_BOUND // MIB}",
                # Streamed: the api grows by a few batches, whatever the size of the feed.
                verdict(full["peak"] - rest < GROWTH_BOUND),
            )
        etag = (await api.get("/v1/feeds/google.xml", params={"token": tokens[big.id]})).headers[
            "etag"
        ]
        began = time.perf_counter()
        cached = await api.get(
            "/v1/feeds/google.xml",
            params={"token": tokens[big.id]},
            headers={"If-None-Match": etag},
        )
        not_modified = time.perf_counter() - began
        report.add(
            "If-None-Match on the 50k feed: status, ms",
            f"{cached.status_code}, {not_modified * 1000:.0f}",
            "304",
            verdict(cached.status_code == 304),
        )
        errors = await api.get(
            "/v1/feeds/google/errors", params={"limit": 500}, headers=big.headers
        )
        listed = len(errors.json()["items"])
        report.add("google errors listed (no image)", str(listed), str(min(n // 100, 500)))
    report.data.update(products=n, small=small, rest_rss=rest, feeds=results, seed=seed_seconds)
    return report


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.feeds", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5,000 products")
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--small", type=int, default=1_000)
    args = parser.parse_args()
    stop_on_sigterm()
    publish(asyncio.run(main(5_000 if args.quick else args.products, args.small)), console)


if __name__ == "__main__":
    cli()
