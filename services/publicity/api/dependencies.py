"""What every route of publicity needs: the store on a unit of work, the settings, and the
mapping of the use cases' refusals (domain.Refused) to RFC 9457 problem documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request

from services.publicity.domain import Refused
from services.publicity.settings import PublicitySettings
from services.publicity.store import Store
from shared.problems import Problem


@asynccontextmanager
async def reading(request: Request) -> AsyncIterator[Store]:
    """The store for a read (a transaction that is never committed)."""
    async with request.app.state.db.unit_of_work() as uow:
        yield uow.store


def settings_of(request: Request) -> PublicitySettings:
    return request.app.state.settings


def problem_of(refused: Refused) -> Problem:
    if refused.field:
        return Problem.at(refused.field, refused.message, refused.status)
    return Problem(refused.status, refused.message, type_=refused.type)
