"""A render cancelled mid-way (the step's activity timed out) must not hand its answer to the
next message rendered by the same process: that message would carry another customer's text."""

import asyncio

from services.messaging.templates import TemplateRenderer


async def test_a_cancelled_render_never_answers_the_next_one() -> None:
    renderer = TemplateRenderer(processes=1)
    try:
        assert await renderer.render({"body": "warm {{ n }}"}, {"n": 0}) == {"body": "warm 0"}
        first = asyncio.create_task(renderer.render({"body": "for k1 {{ n }}"}, {"n": 1}))
        for _ in range(3):  # sent to the process, waiting for its answer (a few loop turns)
            await asyncio.sleep(0)
        assert not first.done()
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        second = await renderer.render({"body": "for k2 {{ n }}"}, {"n": 2})
        assert second == {"body": "for k2 2"}
    finally:
        renderer.close()
