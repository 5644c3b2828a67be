"""The topics job creates every topic with its settings (partitions, min.insync.replicas, retention)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from deploy.local import broker
from shared.events.catalogue import TOPICS

pytestmark = pytest.mark.integration


async def test_the_topics_job_creates_every_topic_with_its_settings(infra):
    prefix = f"topicsjob{secrets.token_hex(3)}."
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap(),
        "KAFKA_TOPIC_PREFIX": prefix,
        "KAFKA_PARTITIONS": "3",
        "KAFKA_MIN_INSYNC_REPLICAS": "1",
        "KAFKA_RETENTION_HOURS": "168",
        "KAFKA_DLQ_RETENTION_HOURS": "720",
    }
    job = subprocess.run(
        [sys.executable, "-m", "shared.bus.topics"], env=env, capture_output=True, text=True, timeout=120
    )
    assert job.returncode == 0, job.stdout + job.stderr
    names = [prefix + t for t in TOPICS] + [prefix + t + ".dlq" for t in TOPICS]
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap())
    await admin.start()
    try:
        assert set(names) <= set(await admin.list_topics())
        described = await admin.describe_topics(names)
        assert {t["topic"]: len(t["partitions"]) for t in described} == dict.fromkeys(names, 3)
        answers = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
        configs = {
            resource[3]: {entry[0]: entry[1] for entry in resource[4]}
            for answer in answers
            for resource in answer.resources
        }
    finally:
        await admin.close()
    for name in names:
        days = 30 if name.endswith(".dlq") else 7
        assert configs[name]["retention.ms"] == str(days * 86_400_000), name
        assert configs[name]["min.insync.replicas"] == "1", name
    # A second run (the next release, same settings) finds nothing to change and succeeds.
    again = subprocess.run(
        [sys.executable, "-m", "shared.bus.topics"], env=env, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stdout + again.stderr
