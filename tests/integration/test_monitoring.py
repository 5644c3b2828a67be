"""What the dashboards and alerts read is there: on the running services' /metrics, and right."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import MetaData, text, update

from deploy.local.platform import SERVICES
from shared import gauges
from shared.bus.tables import outbox_table
from shared.db import Database
from shared.settings import Settings
from tests.monitoring_files import expressions, metric_names

pytestmark = pytest.mark.integration
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "info": ("_info",),
}


async def _scrape(client: httpx.AsyncClient, url: str) -> list:
    await client.get(url + "/readyz")  # what a probe does: readiness is recorded as it is found
    r = await client.get(url + "/metrics")
    assert r.status_code == 200
    return list(text_string_to_metric_families(r.text))


def _names(families: list) -> set[str]:
    names = set()
    for f in families:
        names |= {f.name, *(f.name + s for s in SUFFIXES.get(f.type, ())), *(s.name for s in f.samples)}
    return names


async def test_every_metric_the_dashboards_and_alert_rules_use_is_served(platform):
    served: set[str] = set()
    async with httpx.AsyncClient(timeout=10) as client:
        for service in SERVICES:
            served |= _names(await _scrape(client, platform.ops_url(service)))
    missing = {where: sorted(metric_names(expr) - served) for where, expr in expressions().items()}
    assert not {where: m for where, m in missing.items() if m}


async def test_each_service_reports_its_backlog_lag_readiness_and_build(platform):
    partitions = Settings().kafka_partitions
    async with httpx.AsyncClient(timeout=10) as client:
        for service in SERVICES:
            ready = (await client.get(platform.ops_url(service) + "/readyz")).json()
            samples = [s for f in await _scrape(client, platform.ops_url(service)) for s in f.samples]

            def value(name: str, _samples: list = samples) -> float | None:
                return next((s.value for s in _samples if s.name == name), None)

            assert value("points_ready") == 1, service
            assert value("points_outbox_backlog") is not None and value("points_outbox_backlog") >= 0, service
            assert value("points_outbox_oldest_age_seconds") is not None, service
            build = next(s for s in samples if s.name == "points_build_info")
            assert build.labels["service"] == service and build.labels["version"] and build.labels["revision"]
            # Every consumer group of the service, every partition it holds: a lag series each.
            consumers = [k.split(":", 1)[1] for k in ready["checks"] if k.startswith("consumer:")]
            for consumer in consumers:
                lag = [s for s in samples if s.name == "points_consumer_lag" and s.labels["consumer"] == consumer]
                assert lag and all(s.labels["group"] == platform.topic_prefix + consumer for s in lag), consumer
                by_topic: dict[str, set[str]] = {}
                for s in lag:
                    assert s.value >= 0
                    by_topic.setdefault(s.labels["topic"], set()).add(s.labels["partition"])
                assert all(parts == {str(p) for p in range(partitions)} for parts in by_topic.values()), by_topic
            if service == "scoring":  # the simulation queue, read from its table
                jobs = {s.labels["state"]: s.value for s in samples if s.name == "points_simulation_jobs"}
                assert set(jobs) == {"queued", "running"} and all(n >= 0 for n in jobs.values()), jobs


async def test_the_outbox_gauges_show_what_the_relay_has_not_published(database_url):
    """The gauges are read from the table, not told by the relay: a stalled relay shows."""
    metadata = MetaData(schema="gauge_probe")
    table = outbox_table(metadata)
    db = Database(database_url, 2)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS gauge_probe CASCADE"))
            await conn.execute(text("CREATE SCHEMA gauge_probe"))
            await conn.run_sync(metadata.create_all)
            rows = [
                (f"00000000-0000-0000-0000-00000000000{i}", f"now() - interval '{age} seconds'", published)
                for i, (age, published) in enumerate([(90, False), (5, False), (300, True)], start=1)
            ]
            for event_id, created, published in rows:
                await conn.execute(
                    text(
                        "INSERT INTO gauge_probe.outbox (event_id, topic, key, event_type, payload, created_at, "
                        f"published_at) VALUES (:id, 't', 'k', 'x', '{{}}', {created}, "
                        f"{'now()' if published else 'NULL'})"
                    ),
                    {"id": event_id},
                )
        await gauges.refresh(db, table, [])
        assert REGISTRY.get_sample_value("points_outbox_backlog") == 2
        assert 89 <= REGISTRY.get_sample_value("points_outbox_oldest_age_seconds") < 120
        async with db.engine.begin() as conn:
            await conn.execute(update(table).values(published_at=text("now()")))
        await gauges.refresh(db, table, [])
        assert REGISTRY.get_sample_value("points_outbox_backlog") == 0
        assert REGISTRY.get_sample_value("points_outbox_oldest_age_seconds") == 0
    finally:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS gauge_probe CASCADE"))
        await db.dispose()


async def test_after_commit_hooks_run_only_once_the_transaction_has_committed(database_url):
    """What a counter is told (the overdue answers) happened only if its transaction committed:
    not when the work raised, nor when the commit itself failed."""
    db = Database(database_url, 2)
    told: list[str] = []
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS commit_probe CASCADE"))
            await conn.execute(text("CREATE SCHEMA commit_probe"))
            await conn.execute(text("CREATE TABLE commit_probe.done (id int PRIMARY KEY)"))

        async def insert(uow, row: int, what: str) -> None:
            await uow.conn.execute(text("INSERT INTO commit_probe.done VALUES (:id)"), {"id": row})
            uow.after_commit(lambda: told.append(what))

        async with db.unit_of_work() as uow:
            await insert(uow, 1, "committed")
            assert told == []  # not before the commit
            await uow.commit()
        with pytest.raises(RuntimeError):
            async with db.unit_of_work() as uow:
                await insert(uow, 2, "raised before its commit")
                raise RuntimeError("the work failed")

        async def duplicate() -> None:  # the commit's own work fails (a before-commit hook's statement)
            await uow.conn.execute(text("INSERT INTO commit_probe.done VALUES (1)"))

        with pytest.raises(Exception, match="duplicate key"):
            async with db.unit_of_work() as uow:
                await insert(uow, 3, "failed at its commit")
                uow.before_commit("duplicate", duplicate)
                await uow.commit()
        async with db.engine.connect() as conn:
            rows = list((await conn.execute(text("SELECT id FROM commit_probe.done ORDER BY id"))).scalars())
        assert rows == [1] and told == ["committed"]
    finally:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS commit_probe CASCADE"))
        await db.dispose()
