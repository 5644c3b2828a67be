"""Producer and topic administration over aiokafka."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from shared.events.catalogue import TOPICS
from shared.settings import Settings


def kafka_security(settings: Settings) -> dict[str, Any]:
    """The client options of a secured cluster (TLS and/or SASL), the same for every client."""
    protocol = settings.kafka_security_protocol.upper()
    if protocol not in ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"):
        raise ValueError(f"KAFKA_SECURITY_PROTOCOL: unknown protocol {settings.kafka_security_protocol!r}")
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(cafile=settings.kafka_ssl_cafile)
    if protocol.startswith("SASL"):
        if not (settings.kafka_sasl_mechanism and settings.kafka_sasl_username and settings.kafka_sasl_password):
            raise ValueError(
                "KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are needed with "
                f"KAFKA_SECURITY_PROTOCOL={protocol}"
            )
        options.update(
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_plain_username=settings.kafka_sasl_username,
            sasl_plain_password=settings.kafka_sasl_password,
        )
    return options


def make_producer(settings: Settings) -> AIOKafkaProducer:
    # acks=all always; idempotence only where the broker supports it (Apache Kafka, not Tansu).
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=2,
        request_timeout_ms=15000,
        client_id=settings.service_name,
        **kafka_security(settings),
    )


def all_topic_names(settings: Settings) -> list[str]:
    names = []
    for t in TOPICS:
        names += [settings.topic(t), settings.topic(t + ".dlq")]
    return names


def topic_configs(settings: Settings, name: str) -> dict[str, str]:
    """A topic's settings as Kafka names them; only those set (the rest are the broker's defaults)."""
    configs: dict[str, str] = {}
    if settings.kafka_min_insync_replicas is not None:
        configs["min.insync.replicas"] = str(settings.kafka_min_insync_replicas)
    hours = settings.kafka_dlq_retention_hours if name.endswith(".dlq") else settings.kafka_retention_hours
    if hours is not None:
        configs["retention.ms"] = str(hours * 3_600_000)
    return configs


async def ensure_topics(settings: Settings, names: list[str] | None = None, attempts: int = 30) -> None:
    """Create the platform's topics with the configured partition count (idempotent).

    Auto-created topics would get the broker's default partition count, so every
    service creates the topics it touches before it produces or subscribes.
    """
    names = names or all_topic_names(settings)
    last: Exception | None = None
    for _ in range(attempts):
        admin = AIOKafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=5000, **kafka_security(settings)
        )
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [n for n in names if n not in existing]
            if missing:
                try:
                    await admin.create_topics(
                        [
                            NewTopic(
                                n,
                                settings.kafka_partitions,
                                settings.kafka_replication_factor,
                                topic_configs=topic_configs(settings, n),
                            )
                            for n in missing
                        ]
                    )
                except TopicAlreadyExistsError:
                    pass  # another service created it first
            return
        except TopicAlreadyExistsError:
            return
        except Exception as exc:  # broker still starting: retry
            last = exc
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
    raise RuntimeError(f"could not create topics on {settings.kafka_bootstrap_servers}: {last}")


async def broker_reachable(producer: AIOKafkaProducer, timeout: float = 2.0) -> None:
    await asyncio.wait_for(producer.client.fetch_all_metadata(), timeout)
