"""Verification's REST API for department officers: results and audit chains, the desk, and module
owners' registries."""

from services.verification.api import campaigns, desk, owners, results

ROUTERS = [results.router, desk.router, owners.router, campaigns.router]
