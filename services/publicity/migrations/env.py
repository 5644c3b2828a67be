"""Alembic environment of the publicity schema."""

from services.publicity.tables import metadata
from shared.migrate import run_env

run_env(metadata)
