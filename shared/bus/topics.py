"""The topics job: create the platform's topics with their settings, and bring existing ones to them.

    python -m shared.bus.topics          # KAFKA_* settings from the environment (the Job's ConfigMap)

Run once per release before the services (compose: the `topics` service; Kubernetes: the
`points-topics-<tag>` Job); the services then run with KAFKA_CREATE_TOPICS=false, so no pod
creates a topic with the broker's defaults. Partitions and replication are fixed at creation
(raising partitions reorders keys: do it by hand, deliberately); `min.insync.replicas` and
`retention.ms` are set on existing topics too.
"""

from __future__ import annotations

import asyncio

import typer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.bus.kafka import all_topic_names, ensure_topics, kafka_security, topic_configs
from shared.settings import Settings, get_settings

app = typer.Typer(add_completion=False, help=__doc__)


async def apply(settings: Settings) -> dict[str, dict[str, str]]:
    """Every topic exists, with its settings; what was set on each."""
    names = all_topic_names(settings)
    wanted = {n: topic_configs(settings, n) for n in names}
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=15000, **kafka_security(settings)
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        await ensure_topics(settings, names)  # new topics are created with their settings
        # Topics from an earlier release get this release's settings, where they differ.
        older = [n for n, c in wanted.items() if c and n in existing]
        current = await _configs(admin, older) if older else {}
        changes = [
            ConfigResource(ConfigResourceType.TOPIC, n, configs=wanted[n])
            for n in older
            if any(current.get(n, {}).get(k) != v for k, v in wanted[n].items())
        ]
        if changes:
            await admin.alter_configs(changes)
    finally:
        await admin.close()
    return wanted


async def _configs(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    """Each topic's settings as the broker describes them."""
    answers = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
    return {
        resource[3]: {entry[0]: entry[1] for entry in resource[4]}
        for answer in answers
        for resource in answer.resources
    }


@app.command()
def main() -> None:
    """Create or update the topics (idempotent)."""
    settings = get_settings()
    for name, configs in asyncio.run(apply(settings)).items():
        typer.echo(f"{name}: {settings.kafka_partitions} partitions, {configs or 'broker defaults'}")


if __name__ == "__main__":
    app()
