"""The local stack's Temporal helpers: cheap checks with no server running."""

from pathlib import Path

from temporalio.common import SearchAttributeKey

from devstack.temporal import (
    BROKEN_DB_MARKER,
    SEARCH_ATTRIBUTES,
    TemporalDevServer,
    reset_if_broken,
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
