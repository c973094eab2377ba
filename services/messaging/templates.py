"""Message templates: Jinja2 in a sandbox, so staff-written templates cannot reach the server,
and bounded, so one store's template cannot stall the worker every store shares.

The sandbox refuses big ranges, repetitions and outputs with a clear error. What it cannot
foresee (a loop nested deep enough, a filter asked for a gigabyte) is bounded by where it runs:
a small set of worker processes, each with a memory limit, and a time limit per render after
which the process is killed and replaced (`TemplateRenderer`)."""

import asyncio
import contextvars
import logging
import multiprocessing
import os
import re
import resource
from functools import lru_cache
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from services.errors import InvalidInput

log = logging.getLogger("shopstar.templates")

MAX_RANGE = 1_000  # items of one range()
MAX_RANGE_TOTAL = 10_000  # items of all range() calls of one render
MAX_REPEAT = 10_000  # length of a string or list made by `*`
MAX_EXPONENT = 64
MAX_OUTPUT = 100_000  # characters of one rendered text
RENDER_SECONDS = 5.0
STARTUP_SECONDS = 60.0
PROCESS_MEMORY = 512 * 1024 * 1024
# `%` formatting with a width or precision of 5 digits or more (`'%99999999s' % x`).
_WIDE_FORMAT = re.compile(r"%[-#0 +]*(\d{5,}|\*|\.\d{5,})")
_range_budget: contextvars.ContextVar[int] = contextvars.ContextVar("range_budget")


class TemplateFailure(InvalidInput):
    """The template cannot be rendered (or took too long): fails the same way every time."""


def _blank_none(value: Any) -> Any:
    return "" if value is None else value


def _bounded_range(*args: int) -> range:
    items = range(*args)
    if len(items) > MAX_RANGE:
        raise SecurityError(f"range() of more than {MAX_RANGE} items")
    left = _range_budget.get(MAX_RANGE_TOTAL) - len(items)
    if left < 0:
        raise SecurityError(f"more than {MAX_RANGE_TOTAL} range() items in one message")
    _range_budget.set(left)
    return items


def _sized(value: Any) -> int | None:
    return len(value) if isinstance(value, str | list | tuple) else None


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "*":
            for seq, times in ((left, right), (right, left)):
                size = _sized(seq)
                if size is not None and isinstance(times, int) and size * times > MAX_REPEAT:
                    raise SecurityError(f"repetition longer than {MAX_REPEAT}")
        elif operator_ == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponent larger than {MAX_EXPONENT}")
        elif operator_ == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
            raise SecurityError("format width or precision too large")
        return super().call_binop(context, operator_, left, right)


# A missing variable is an error (a typo should not send "Hi ,"), a known but empty one renders
# as nothing rather than "None". `intercepted_binops` also stops the compiler from folding
# `'x' * 10**10` at parse time.
_env = _BoundedSandbox(autoescape=False, undefined=StrictUndefined, finalize=_blank_none)
_env.globals["range"] = _bounded_range


@lru_cache(maxsize=1024)
def _compiled(source: str) -> Template:
    """A flow's templates are sent thousands of times: compile each text once."""
    return _env.from_string(source)


def _render_one(source: str, context: dict[str, Any]) -> str:
    out: list[str] = []
    size = 0
    for chunk in _compiled(source).generate(context):
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise SecurityError(f"output longer than {MAX_OUTPUT} characters")
        out.append(chunk)
    return "".join(out)


def render_bounded(sources: dict[str, str], context: dict[str, Any]) -> dict[str, str]:
    """Render several texts with the sandbox's limits, in this process (no time limit)."""
    _range_budget.set(MAX_RANGE_TOTAL)
    try:
        return {name: _render_one(source, context) for name, source in sources.items()}
    except TemplateError as exc:
        raise TemplateFailure(f"template cannot be rendered: {exc}") from exc
    except MemoryError as exc:
        raise TemplateFailure("template cannot be rendered: it needs too much memory") from exc
    except Exception as exc:  # 1/0, int('x'), a too large number: the template's fault
        # An arithmetic error's words are safe to show; others can quote a customer's data.
        words = f" ({exc})" if isinstance(exc, ArithmeticError) else ""
        raise TemplateFailure(f"template cannot be rendered: {type(exc).__name__}{words}") from exc


def render(source: str, context: dict[str, Any]) -> str:
    return render_bounded({"text": source}, context)["text"]


def check_template(source: str) -> None:
    """Reject a template that does not parse, when staff save it rather than at send time."""
    try:
        _env.parse(source)
    except TemplateError as exc:
        raise TemplateFailure(f"template does not parse: {exc}") from exc


def _limit_memory() -> None:
    """At most PROCESS_MEMORY more than the process has mapped once started (what it imported
    is not the template's doing)."""
    try:
        with open("/proc/self/statm") as statm:
            mapped = int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:
        return  # not Linux: the time limit still holds
    limit = mapped + PROCESS_MEMORY
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _serve(conn: Connection) -> None:
    """A render process: one job at a time, the answer (or the failure's text) sent back.

    It leaves the worker's process group: a signal to the whole group at shutdown (Ctrl-C, a
    supervisor's kill of the group) would kill it while the worker finishes its steps, and those
    renders would fail as the template's fault. It ends when the worker closes the pipe, or
    kills or terminates it (multiprocessing does at exit)."""
    os.setpgid(0, 0)
    _limit_memory()
    conn.send(("ready", None))
    while True:
        try:
            sources, context = conn.recv()
        except EOFError:
            return
        try:
            conn.send(("ok", render_bounded(sources, context)))
        except TemplateFailure as exc:
            conn.send(("error", exc.message))


class _Process:
    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process: BaseProcess = ctx.Process(target=_serve, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.ready = False

    async def started(self) -> None:
        """A new process imports before it can render: that time is not the template's."""
        if not self.ready:
            await asyncio.wait_for(_receive(self.conn), STARTUP_SECONDS)
            self.ready = True

    def kill(self) -> None:
        self.process.kill()
        self.conn.close()


class TemplateRenderer:
    """Renders in a few processes of its own with a time limit: a render that takes longer is
    killed with its process (replaced by a fresh one), and fails as a template error. Only the
    render's own time counts: waiting for a free process does not."""

    def __init__(self, processes: int = 2, seconds: float = RENDER_SECONDS) -> None:
        self._size = processes
        self._seconds = seconds
        self._idle: asyncio.Queue[_Process] | None = None
        self._all: list[_Process] = []
        self._settling: set[asyncio.Task[None]] = set()

    async def render(self, sources: dict[str, str], context: dict[str, Any]) -> dict[str, str]:
        idle = self._pool()
        worker = await idle.get()
        try:
            await worker.started()
        except (TimeoutError, EOFError, OSError):
            idle.put_nowait(self._replace(worker))
            raise
        except BaseException:
            # Cancelled while the process starts: it goes on starting for the next render (a
            # new one would start from scratch, and under load never be ready in time).
            idle.put_nowait(worker)
            raise
        try:
            worker.conn.send((sources, context))
            status, value = await asyncio.wait_for(_receive(worker.conn), self._seconds)
        except TimeoutError:
            idle.put_nowait(self._replace(worker))
            raise TemplateFailure(
                f"template cannot be rendered: it took longer than {self._seconds:g} s"
            ) from None
        except (EOFError, OSError) as exc:
            # The process died (its memory limit, or killed): the render is at fault.
            idle.put_nowait(self._replace(worker))
            raise TemplateFailure("template cannot be rendered: its process died") from exc
        except BaseException:
            # Cancelled (the step's timeout) while the process renders: its answer is still
            # coming and must never be read as the next message's. The process goes back to the
            # pool once that answer is read (killing it instead would cost a new process's
            # start-up on every timeout, when the worker is busiest).
            task = asyncio.get_running_loop().create_task(self._settle(worker))
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)
            raise
        idle.put_nowait(worker)
        if status != "ok":
            raise TemplateFailure(value)
        rendered: dict[str, str] = value
        return rendered

    async def _settle(self, worker: _Process) -> None:
        """Read and drop the late answer of a cancelled render, then give the process back."""
        try:
            await asyncio.wait_for(_receive(worker.conn), self._seconds)
        except (TimeoutError, EOFError, OSError):
            if self._idle is None:  # closed meanwhile
                return
            worker = self._replace(worker)
        if self._idle is not None:
            self._idle.put_nowait(worker)

    def close(self) -> None:
        for worker in self._all:
            worker.kill()
        self._all.clear()
        self._idle = None

    def _pool(self) -> "asyncio.Queue[_Process]":
        if self._idle is None:
            self._idle = asyncio.Queue()
            for _ in range(self._size):
                self._idle.put_nowait(self._spawn())
        return self._idle

    def _spawn(self) -> _Process:
        worker = _Process()
        self._all.append(worker)
        return worker

    def _replace(self, worker: _Process) -> _Process:
        log.warning("template render process killed and replaced")
        worker.kill()
        self._all.remove(worker)
        return self._spawn()


async def _receive(conn: Connection) -> Any:
    loop = asyncio.get_running_loop()
    readable = asyncio.Event()
    loop.add_reader(conn.fileno(), readable.set)
    try:
        await readable.wait()
    finally:
        loop.remove_reader(conn.fileno())
    return conn.recv()


_shared: TemplateRenderer | None = None


def shared_renderer() -> TemplateRenderer:
    """The process's renderer for whoever was not given one (the api's checks at save time)."""
    global _shared
    if _shared is None:
        _shared = TemplateRenderer(processes=1)
    return _shared
