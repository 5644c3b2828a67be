"""Each service's migration history is one line: branches merged in parallel must be chained, or
`alembic upgrade head` refuses to run."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory

from shared.migrate import SERVICES, config_for


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_one_migration_head(service):
    heads = ScriptDirectory.from_config(config_for(service, "postgresql+asyncpg://unused/db")).get_heads()
    assert len(heads) == 1, f"{service} has {len(heads)} migration heads: {heads}; chain the newer one after the other"
