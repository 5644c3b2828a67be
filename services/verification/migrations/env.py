"""Alembic environment of the verification schema."""

from services.verification.tables import metadata
from shared.migrate import run_env

run_env(metadata)
