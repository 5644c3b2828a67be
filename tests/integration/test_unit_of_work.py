"""A unit of work begins and commits on the driver, its hot statements run there too (`run`,
`fetch`), and SQLAlchemy's statements fall inside the same transaction: all commit or none does.
The driver's errors come out as SQLAlchemy's; a connection the server dropped is an outage, and
the pool does not hand out its dead siblings again."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from shared.db import Database
from shared.outages import is_outage

probe = Table("rows", MetaData(schema="uow_probe"), Column("id", Integer, primary_key=True), Column("note", String))
ADD = insert(probe)
PID = select(func.pg_backend_pid())
BY_ID = select(probe.c.id, probe.c.note).where(probe.c.id == bindparam("id"))


async def _ids(db: Database) -> list[int]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(text("SELECT id FROM uow_probe.rows ORDER BY id"))).scalars())


@pytest.fixture
async def db(database_url):
    db = Database(database_url, 3)
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS uow_probe CASCADE"))
        await conn.execute(text("CREATE SCHEMA uow_probe"))
        await conn.execute(text("CREATE TABLE uow_probe.rows (id int PRIMARY KEY, note text)"))
    yield db
    async with db.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS uow_probe CASCADE"))
    await db.dispose()


async def test_driver_and_sqlalchemy_statements_commit_together_or_not_at_all(db):
    async with db.unit_of_work() as uow:
        await uow.run(ADD, [{"id": 1, "note": "甲"}, {"id": 2, "note": "乙"}])
        await uow.conn.execute(text("INSERT INTO uow_probe.rows VALUES (3, '丙')"))
        uow.later(ADD, {"id": 4, "note": "丁"})
        # Read back inside the transaction, on either road.
        assert [tuple(r) for r in await uow.fetch(BY_ID, {"id": 3})] == [(3, "丙")]
        assert (await uow.conn.execute(text("SELECT count(*) FROM uow_probe.rows"))).scalar() == 3
        await uow.commit()
    assert await _ids(db) == [1, 2, 3, 4]

    with pytest.raises(RuntimeError):
        async with db.unit_of_work() as uow:
            await uow.run(ADD, {"id": 5, "note": "戊"})
            await uow.conn.execute(text("INSERT INTO uow_probe.rows VALUES (6, '己')"))
            raise RuntimeError("the work failed before its commit")
    assert await _ids(db) == [1, 2, 3, 4]


async def test_a_constraint_broken_on_the_driver_is_sqlalchemys_integrity_error(db):
    with pytest.raises(IntegrityError):
        async with db.unit_of_work() as uow:
            await uow.run(ADD, {"id": 7, "note": "x"})
            await uow.run(ADD, {"id": 7, "note": "again"})
    with pytest.raises(IntegrityError):  # at commit: the deferred rows
        async with db.unit_of_work() as uow:
            uow.later(ADD, {"id": 8, "note": "x"})
            uow.later(ADD, {"id": 8, "note": "again"})
            await uow.commit()
    assert await _ids(db) == []
    async with db.unit_of_work() as uow:  # the connection went back to the pool usable
        await uow.run(ADD, {"id": 9, "note": "ok"})
        await uow.commit()
    assert await _ids(db) == [9]


async def test_a_connection_the_server_dropped_is_an_outage_and_is_not_pooled_again(db, database_url):
    async with db.unit_of_work() as one, db.unit_of_work() as two:  # two connections in the pool
        pids = [(await uow.fetch(PID, {}))[0][0] for uow in (one, two)]
        await one.commit()
        await two.commit()
    other = Database(database_url, 1)  # as a restart would, to this pool's connections only
    try:
        async with other.engine.connect() as conn:
            kill = text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) pid")
            await conn.execute(kill, {"pids": pids})
    finally:
        await other.dispose()
    failures = []
    for n in range(4):
        try:
            async with db.unit_of_work() as uow:
                await uow.run(ADD, {"id": 100 + n, "note": "after"})
                await uow.commit()
        except Exception as exc:
            failures.append(exc)
    assert all(is_outage(e) for e in failures), failures  # a wait, never a fault of the work
    assert len(failures) <= 1  # the first finds the server gone; its pool-mates are discarded with it
    assert len(await _ids(db)) == 4 - len(failures)
