"""The local stack: its Temporal helpers (cheap checks with no server running), and how `make dev`
stops."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.common import SearchAttributeKey
from temporalio.testing import WorkflowEnvironment

from devstack.postgres import stop_postgres_in
from devstack.temporal import (
    BROKEN_DB_MARKER,
    SEARCH_ATTRIBUTES,
    TemporalDevServer,
    binary,
    reset_if_broken,
    restartable_port,
)
from workflows import search_attributes


def test_a_db_file_left_by_an_interrupted_first_start_is_moved_aside(tmp_path: Path) -> None:
    db, log = tmp_path / "temporal.db", tmp_path / "temporal.log"
    db.write_bytes(b"half-created")
    log.write_text(f"... unable to start: {BROKEN_DB_MARKER} ...\n")

    assert reset_if_broken(db, log)
    assert not db.exists()
    assert [p.read_bytes() for p in tmp_path.glob("temporal.broken-*")] == [b"half-created"]


def test_an_empty_db_file_is_moved_aside(tmp_path: Path) -> None:
    db, log = tmp_path / "temporal.db", tmp_path / "temporal.log"
    db.touch()
    log.write_text('creating namespace "default": SQL logic error: no such table: namespaces\n')

    assert reset_if_broken(db, log)
    assert not db.exists()


def test_a_healthy_db_file_is_kept(tmp_path: Path) -> None:
    db, log = tmp_path / "temporal.db", tmp_path / "temporal.log"
    db.write_bytes(b"history")
    log.write_text("listen tcp 127.0.0.1:7233: bind: address already in use\n")

    assert not reset_if_broken(db, log)
    assert db.read_bytes() == b"history"


def test_the_dev_server_registers_every_search_attribute_the_workflows_upsert(
    tmp_path: Path,
) -> None:
    server = TemporalDevServer(port=7233, ui_port=8233, db_file=None, log_file=tmp_path / "t.log")
    cmd = server.command()
    registered = dict(
        cmd[i + 1].split("=", 1) for i, arg in enumerate(cmd) if arg == "--search-attribute"
    )

    assert registered == SEARCH_ATTRIBUTES
    upserted = {
        key.name: key.indexed_value_type.name.title()
        for key in vars(search_attributes).values()
        if isinstance(key, SearchAttributeKey)
    }
    assert upserted == registered


# `make dev` itself, as a process: whatever ends it, its PostgreSQL (which pg_ctl detaches, so it
# is no child of `make dev`) must not be left running.


@pytest.fixture(scope="module")
def dev_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("make-dev")
    yield data
    stop_postgres_in(data / "postgres")


def _start_dev(data: Path, temporal: WorkflowEnvironment) -> subprocess.Popen[bytes]:
    """`shopstar-marketing dev --no-api --no-worker` with its output on a pipe, once it is up."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPSTAR_")}
    env.pop("DATABASE_URL", None)
    env |= {
        "SHOPSTAR_DATA_DIR": str(data),
        "TEMPORAL_ADDRESS": temporal.client.service_client.config.target_host,
    }
    process = subprocess.Popen(
        [binary("shopstar-marketing"), "dev", "--no-api", "--no-worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout
    seen = []
    for raw in process.stdout:
        seen.append(raw.decode(errors="replace"))
        if "the local stack is up" in seen[-1]:
            return process
    process.wait()
    raise AssertionError("make dev did not start:\n" + "".join(seen))


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"  # a zombie has stopped; only its parent has not collected it yet


def _wait_until_stopped(pid: int) -> bool:
    deadline = time.monotonic() + 60
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not _running(pid)


@pytest.mark.parametrize("ending", ["pipe closed", "pipe closed, then ctrl-c", "killed"])
def test_make_dev_leaves_no_postgres_running(
    dev_data: Path, temporal_env: WorkflowEnvironment, ending: str
) -> None:
    process = _start_dev(dev_data, temporal_env)
    postgres_pid = int((dev_data / "postgres" / "postmaster.pid").read_text().split()[0])
    try:
        if ending == "killed":
            process.kill()
        else:  # `make dev | tee log`: tee is gone (then, maybe, the SIGINT of Ctrl-C arrives)
            assert process.stdout
            process.stdout.close()
            if ending.endswith("ctrl-c"):
                process.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=60)

        assert process.returncode is not None, "make dev is still running"
        assert _wait_until_stopped(postgres_pid), "PostgreSQL was left running"
    finally:
        process.kill()
        process.wait()


def test_a_restartable_port_is_free_and_below_the_ephemeral_range() -> None:
    """A client's own connection can never take it while its server is down (no self-connect)."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    port = restartable_port()
    assert port < low
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
