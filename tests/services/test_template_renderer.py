"""A render cancelled mid-way (the step's activity timed out) must not hand its answer to the
next message rendered by the same process: that message would carry another customer's text."""

import asyncio
import os
import signal

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


async def test_a_shutdown_signal_to_the_process_group_does_not_fail_the_renders() -> None:
    """Ctrl-C or systemd signals the worker's whole group: the worker finishes its steps, so its
    render processes must live on (a render would otherwise fail as the template's fault)."""
    renderer = TemplateRenderer(processes=1)
    try:
        assert await renderer.render({"body": "warm {{ n }}"}, {"n": 0}) == {"body": "warm 0"}
        (child,) = [worker.process for worker in renderer._all]
        assert child.pid is not None
        for sent in (signal.SIGINT, signal.SIGTERM):
            os.kill(child.pid, sent)
        await asyncio.sleep(0.2)
        assert await renderer.render({"body": "after {{ n }}"}, {"n": 1}) == {"body": "after 1"}
    finally:
        renderer.close()
