"""A module owner's registry over REST: the owner registers where its facts are looked up."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request

from services.verification.api.access import not_visible, own_owner, unit_of_work
from services.verification.api.schemas import OwnerSource, OwnerSourceView
from services.verification.use_cases import owner_sources
from shared.auth import Principal, current_principal

router = APIRouter(prefix="/v1/owners/{owner}/source", tags=["module owners"])


def _answered_owner(request: Request, owner: str, principal: Principal) -> None:
    own_owner(owner, principal)
    if owner not in request.app.state.owners:
        raise not_visible()  # no verifier answers for it here: as unknown as another owner's


@router.put("", response_model=OwnerSourceView, summary="Register (or replace) the owner's registry for its own facts")
async def put_source(
    owner: str, body: OwnerSource, request: Request, principal: Principal = Depends(current_principal)
) -> dict:
    _answered_owner(request, owner, principal)
    async with unit_of_work(request) as uow:
        view = await owner_sources.register_source(
            uow, owner, str(body.url), body.credential.get_secret_value(), principal.principal, datetime.now(UTC)
        )
        await uow.commit()
    return view


@router.get(
    "", response_model=OwnerSourceView, summary="The owner's registered registry (the credential is never shown)"
)
async def get_source(owner: str, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    _answered_owner(request, owner, principal)
    async with unit_of_work(request) as uow:
        view = await owner_sources.read_source(uow, owner)
    if view is None:
        raise not_visible()
    return view
