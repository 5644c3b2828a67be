"""Alembic environment of the scoring schema."""

from services.scoring.tables import metadata
from shared.migrate import run_env

run_env(metadata)
