"""A render cancelled mid-way (the step's activity timed out) must not hand its answer to the
next message rendered by the same process: that message would carry another customer's text."""

import asyncio
import subprocess
import sys

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


_SHUTDOWN = """
import asyncio, os, signal
from services.messaging.templates import TemplateRenderer

async def main():
    renderer = TemplateRenderer(processes=1)
    print(await renderer.render({"body": "warm"}, {}), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: print("stopping", flush=True))
    os.killpg(os.getpgrp(), signal.SIGTERM)  # as a supervisor stopping the worker's group
    await asyncio.sleep(0.3)
    print(await renderer.render({"body": "last step {{ n }}"}, {"n": 1}), flush=True)
    renderer.close()

asyncio.run(main())
"""


def test_a_shutdown_signal_to_the_process_group_does_not_fail_the_last_renders() -> None:
    """A supervisor (or Ctrl-C) signals the worker's whole group; the worker finishes its steps,
    so its render processes must still answer (a render would fail as the template's fault)."""
    done = subprocess.run(
        [sys.executable, "-c", _SHUTDOWN],
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # the group signalled is the script's own
        check=False,
    )
    assert done.stdout.splitlines() == [
        "{'body': 'warm'}",
        "stopping",
        "{'body': 'last step 1'}",
    ], done.stderr
