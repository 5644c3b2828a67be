"""Verification's REST API for department officers: results and audit chains, and the desk."""

from services.verification.api import desk, results

ROUTERS = [results.router, desk.router]
