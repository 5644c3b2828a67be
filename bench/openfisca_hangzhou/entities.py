"""The one entity the hangzhou-2021 system needs: a residence-permit holder."""

from openfisca_core.entities import build_entity

Person = build_entity(
    key="person",
    plural="persons",
    label="A residence-permit holder",
    is_person=True,
)

entities = [Person]
