"""Dead letters, for an operator: list them, and replay them onto the topic they came from.

    python -m shared.bus.dlq list   --topic points.applications [--since 2026-11-29T08:00] [--consumer …]
    python -m shared.bus.dlq replay --topic points.applications [--since …] [--consumer …] [--dry-run]

An event is dead-lettered only when it is bad in itself (it cannot be parsed, or its handler
fails on its content); once the cause is fixed (a new release, corrected reference data),
`replay` publishes each one again, with its original key and headers, to its original topic.
Every consumer's inbox drops an event it has already handled, so replaying twice, or replaying
an event only one consumer had failed, changes nothing for the others.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
import typer
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.bus.kafka import kafka_security, make_producer
from shared.settings import Settings

cli = typer.Typer(help=__doc__.split("\n\n")[0], no_args_is_help=True, add_completion=False)


@dataclass
class DeadLetter:
    partition: int
    offset: int
    at: datetime
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]

    def header(self, name: str) -> str:
        return next((v.decode(errors="replace") for k, v in self.headers if k == name), "")

    @property
    def original_headers(self) -> list[tuple[str, bytes]]:
        return [(k, v) for k, v in self.headers if not k.startswith("dlq.")]

    def event_type(self) -> str:
        try:
            return str(orjson.loads(self.value).get("type", "?"))
        except (orjson.JSONDecodeError, AttributeError):
            return "(unparseable)"


async def read_dead_letters(
    settings: Settings, topic: str, since: datetime | None = None, consumer: str | None = None
) -> list[DeadLetter]:
    """Every dead letter of `topic` (a bus topic, without the prefix and `.dlq`), oldest first."""
    dlq = settings.topic(topic) + ".dlq"
    reader = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        **kafka_security(settings),
    )
    await reader.start()
    try:
        await reader.topics()  # fetches the cluster's metadata
        partitions = [TopicPartition(dlq, p) for p in sorted(reader.partitions_for_topic(dlq) or [])]
        if not partitions:
            return []
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        ends = await reader.end_offsets(partitions)
        found: list[DeadLetter] = []
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batch = await reader.getmany(*remaining, timeout_ms=1000)
            if not batch:
                break
            for tp, records in batch.items():
                for r in records:
                    letter = DeadLetter(
                        r.partition,
                        r.offset,
                        datetime.fromtimestamp(r.timestamp / 1000, UTC),
                        r.key,
                        r.value,
                        list(r.headers or []),
                    )
                    if since and letter.at < since:
                        continue
                    if consumer and letter.header("dlq.consumer") != consumer:
                        continue
                    found.append(letter)
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return sorted(found, key=lambda d: (d.at, d.partition, d.offset))
    finally:
        await reader.stop()


async def replay(settings: Settings, letters: list[DeadLetter], topic: str) -> int:
    producer = make_producer(settings)
    await producer.start()
    try:
        for d in letters:
            target = d.header("dlq.topic") or settings.topic(topic)
            await producer.send_and_wait(target, value=d.value, key=d.key, headers=d.original_headers)
        return len(letters)
    finally:
        await producer.stop()


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    at = datetime.fromisoformat(value)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


TOPIC = typer.Option(..., "--topic", help="The bus topic, e.g. points.applications (the prefix is added)")
SINCE = typer.Option(None, "--since", help="Only dead letters from this ISO time on (UTC unless it says)")
CONSUMER = typer.Option(None, "--consumer", help="Only those one consumer failed, e.g. scoring")


@cli.command("list")
def list_(topic: str = TOPIC, since: str = SINCE, consumer: str = CONSUMER) -> None:
    """Show the dead letters of a topic: when, which consumer, the event, and the error."""
    letters = asyncio.run(read_dead_letters(Settings(), topic, _since(since), consumer))
    for d in letters:
        typer.echo(
            f"{d.at.isoformat(timespec='seconds')}  p{d.partition}@{d.offset}  {d.header('dlq.consumer')}  "
            f"{d.event_type()}  {(d.key or b'').decode(errors='replace')}  {d.header('dlq.error')[:200]}"
        )
    typer.echo(f"{len(letters)} dead letter(s)")


@cli.command("replay")
def replay_(
    topic: str = TOPIC,
    since: str = SINCE,
    consumer: str = CONSUMER,
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be replayed, send nothing"),
) -> None:
    """Publish the dead letters of a topic again, to the topic they came from."""
    settings = Settings()
    letters = asyncio.run(read_dead_letters(settings, topic, _since(since), consumer))
    if dry_run:
        typer.echo(f"{len(letters)} dead letter(s) would be replayed")
        return
    typer.echo(f"{asyncio.run(replay(settings, letters, topic))} dead letter(s) replayed")


if __name__ == "__main__":
    cli()
