"""Statements compiled once for the driver (shared.db._form) take what SQLAlchemy would bind, and
give rows read as SQLAlchemy's are; what the driver cannot take as it is stays with SQLAlchemy."""

from __future__ import annotations

import json

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from shared.db import _form

DIALECT = postgresql.asyncpg.dialect()
t = Table(
    "probe",
    MetaData(schema="s"),
    Column("id", Integer, primary_key=True),
    Column("name", String),
    Column("doc", JSONB),
    Column("amount", Numeric(asdecimal=False)),
)


def test_an_insert_binds_the_columns_given_in_order_and_serialises_json():
    form = _form(insert(t), DIALECT, {"name": "张三", "doc": {"a": 1}})
    assert form is not None
    # No RETURNING of the key nobody asked for (as in an executemany).
    assert form.sql == "INSERT INTO s.probe (name, doc) VALUES ($1::VARCHAR, $2::JSONB)"
    name, doc = form.args({"doc": {"a": 1}, "name": "张三"})
    assert name == "张三" and json.loads(doc) == {"a": 1}


def test_a_literal_in_the_statement_is_bound_without_the_caller_naming_it():
    statement = select(literal("verification", String), t.c.id).where(t.c.name == bindparam("who"))
    form = _form(statement, DIALECT, {"who": "x"})
    assert form is not None
    assert form.args({"who": "x"}) == ["verification", "x"]


def test_the_same_statement_is_compiled_once_per_set_of_parameter_names():
    statement = update(t).where(t.c.id == bindparam("key"))
    first = _form(statement, DIALECT, {"key": 1, "name": "a"})
    assert _form(statement, DIALECT, {"name": "b", "key": 2}) is first
    other = _form(statement, DIALECT, {"key": 1, "doc": {}})
    assert other is not first and "doc=" in other.sql and "name=" not in other.sql


def test_an_expanding_in_list_and_a_numeric_result_are_left_to_sqlalchemy():
    assert _form(select(t.c.id).where(t.c.id.in_([1, 2])), DIALECT, {}) is None
    assert _form(select(t.c.amount), DIALECT, {}) is None
    assert _form(select(t.c.id).where(t.c.id == func.any(bindparam("ids", type_=ARRAY(Integer)))), DIALECT, {})


class Record(tuple):
    """What the driver returns: values by position, and keys()."""

    def __new__(cls, names: list[str], values: list) -> Record:
        record = super().__new__(cls, values)
        record.names = names
        return record

    def keys(self) -> list[str]:
        return self.names


def test_rows_read_by_position_slice_name_attribute_and_mapping():
    form = _form(select(t.c.id, t.c.name, t.c.doc), DIALECT, {})
    assert form is not None
    (row,) = form.rows([Record(["id", "name", "doc"], [7, "李四", {"a": [1]}])])
    assert (row[0], row[1:], row["name"], row.doc) == (7, ("李四", {"a": [1]}), "李四", {"a": [1]})
    assert row._mapping == {"id": 7, "name": "李四", "doc": {"a": [1]}}
    assert form.rows([]) == []
    assert not hasattr(row, "missing")  # an unknown column is an error, not None
