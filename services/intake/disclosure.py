"""What intake tells the other services about the people in an application, and in what form.

The departments need the full ID and permit numbers (their registries are keyed by them);
publicity needs the masked name and number, and the pseudonymous keys that group one person's
entries. Masking happens here, once, so a full name never leaves intake.
"""

from __future__ import annotations

from typing import Any

from shared.events.catalogue import Delegation, FamilyMember, Holder
from shared.masking import mask_id_number, mask_name
from shared.pseudonyms import holder_key


def holder(name: str, id_number: str, permit_number: str, salt: str) -> Holder:
    return Holder(
        id_number=id_number,
        permit_number=permit_number,
        name_masked=mask_name(name),
        id_number_masked=mask_id_number(id_number),
        key=holder_key(id_number, salt),
    )


def family(members: list[dict[str, Any]], salt: str) -> list[FamilyMember]:
    return [
        FamilyMember(
            relation=m["relation"],
            id_number=m["id_number"],
            name_masked=mask_name(m["name"]),
            id_number_masked=mask_id_number(m["id_number"]),
            key=holder_key(m["id_number"], salt),
        )
        for m in members
    ]


def delegation(record: dict[str, Any] | None) -> Delegation | None:
    """The delegation as kept, less the representative's name: the police look the relation up by number."""
    return None if record is None else Delegation.model_validate(record)
