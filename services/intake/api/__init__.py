"""Intake's HTTP API: one module per resource; the routers the service mounts, in order."""

from __future__ import annotations

from services.intake.api import applications, materials

ROUTERS = [applications.router, materials.router]
