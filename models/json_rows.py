"""Many rows in one statement of constant text: the rows travel as one JSON document, read back
by `jsonb_to_recordset`. The statement is built and compiled once whatever the number of rows,
PostgreSQL prepares it once per connection, and the driver sends one parameter (serialised by
orjson, in C) rather than one per value: a batch of events used to build, compile and send a
multi-row VALUES list of a few hundred parameters per table.

The JSON keys are the column names; a key a row leaves out is NULL. Datetimes go as orjson
writes them (RFC 3339, with the offset), JSON arrays into array columns."""

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Table, Text, bindparam, cast, column, func, select
from sqlalchemy.dialects.postgresql import JSONB, Insert, insert
from sqlalchemy.sql.selectable import TableValuedAlias

from models.base import Base

STORE_ID = bindparam("store_id", type_=Text)


def json_rows(model: type[Base], columns: Sequence[str]) -> TableValuedAlias:
    """`jsonb_to_recordset(:rows) AS r(column type, ...)`, typed as the model's columns."""
    document = func.jsonb_to_recordset(cast(bindparam("rows", type_=Text), JSONB))
    typed = [column(name, model.__table__.c[name].type) for name in columns]
    return document.table_valued(*typed).render_derived(name="r", with_types=True)


def insert_json_rows(model: type[Base], columns: Sequence[str]) -> Insert:
    """`INSERT INTO table (store_id, columns) SELECT :store_id, r.columns FROM json_rows`;
    columns with a default and not named get their default."""
    rows = json_rows(model, columns)
    # The table, not the mapped class: the ORM would take the parameters for rows to insert.
    table = model.__table__
    assert isinstance(table, Table)
    return insert(table).from_select(["store_id", *columns], select(STORE_ID, *rows.c))


def rows_param(store_id: str, rows: list[dict[str, Any]]) -> dict[str, str]:
    """The parameters of a statement over json_rows."""
    return {"store_id": store_id, "rows": orjson.dumps(rows).decode()}
