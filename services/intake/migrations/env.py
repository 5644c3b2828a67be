"""Alembic environment of the intake schema."""

from services.intake.tables import metadata
from shared.migrate import run_env

run_env(metadata)
