"""The departments' registries ("shared data", outside the platform): a port with two adapters.

`Registries` is the port: the look-ups the department handlers make. `SqlRegistries` (here,
with the registry tables the seed fills) reads a `registries` schema; `HttpRegistries`
(registries_http.py) asks a data-sharing platform's HTTP API. The SQL adapter's queries are
registry reads, not the service's own data, so they stay here rather than in store.py.

Local runs and tests use the SQL adapter over a seeded `registries` schema. When the
registries live in the platform's own database (local runs), look-ups ride on the
verifier's open transaction (the unit of work passed in) instead of taking a second
connection; a production deployment points `REGISTRY_DATABASE_URL` at a replica, or uses
the HTTP adapter.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any, Protocol

from sqlalchemy import JSON, Boolean, Column, Date, Integer, MetaData, String, Table, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncEngine

registry_metadata = MetaData(schema="registries")

police_permits = Table(
    "police_permits",
    registry_metadata,
    Column("permit_number", String(40), primary_key=True),
    Column("id_number", String(18), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("status", String(20), nullable=False),  # valid / suspended / terminated
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
)
# The phone a holder gave when the permit was issued or renewed: how the city reaches permit holders
# (a 模拟积分 campaign's invitations; services/verification/campaigns.py).
police_contacts = Table(
    "police_contacts",
    registry_metadata,
    Column("id_number", String(18), primary_key=True),
    Column("phone", String(20), nullable=False),
)
police_residence = Table(
    "police_residence",
    registry_metadata,
    Column("id_number", String(18), nullable=False, index=True),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
)
# The residence registration's address by district: where in the city the holder lived, and when
# (a district's module counts the years inside the district).
police_residence_districts = Table(
    "police_residence_districts",
    registry_metadata,
    Column("id_number", String(18), nullable=False, index=True),
    Column("district", String(30), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
)
social_insurance_spans = Table(
    "social_insurance_spans",
    registry_metadata,
    Column("id_number", String(18), nullable=False, index=True),
    Column("start_month", Date, nullable=False),
    Column("end_month", Date, nullable=False),
    Column("kind", String(20), nullable=False),  # pension / medical
    Column("transferred_in", Boolean, nullable=False),
    Column("back_paid", Boolean, nullable=False),
    Column("employer_credit_code", String(18)),  # the paying unit: confirms who employs the holder
)
# The household registry's relations: `relative_id_number` is `relation` of `id_number`
# (e.g. a row (child, mother, "parent")). Both directions are registered.
police_relations = Table(
    "police_relations",
    registry_metadata,
    Column("id_number", String(18), nullable=False, index=True),
    Column("relative_id_number", String(18), nullable=False),
    Column("relation", String(20), nullable=False),
)
disability_certificates = Table(
    "disability_certificates",
    registry_metadata,
    Column("id_number", String(18), primary_key=True),
    Column("grade", String(4), nullable=False),
    Column("valid_to", Date, nullable=False),
)


class Registries(Protocol):
    """The port. `uow`: the caller's unit of work, which the SQL adapter may ride on (or None)."""

    async def police(
        self, uow: Any, permit_number: str, id_number: str, cut_off: date
    ) -> tuple[dict | None, list[dict], list[dict]]: ...

    async def relation(self, uow: Any, id_number: str, relative: str, today: date) -> tuple[list[str], bool]: ...

    async def records(
        self, uow: Any, lookup: str, id_number: str, cut_off: date, people: list[str] | None = None
    ) -> dict[str, list[dict]]: ...

    async def social_insurance(self, uow: Any, id_number: str, cut_off: date) -> list[dict]: ...

    async def report_dishonesty(self, uow: Any, id_number: str, act: str, listed_on: date) -> None:
        """Record a dishonesty listing in the credit registry; the same act again adds nothing."""
        ...

    async def ask_ahead(self, uow: Any, asks: list[Ask]) -> None:
        """What the departments are about to look up for one application, all at once if the adapter
        can (the look-ups themselves then answer from it); an adapter that cannot does nothing."""
        ...


# One look-up a department is about to make: ("police", permit, id, cut-off, people),
# ("social_insurance", "", id, cut-off, people) or (a LOOKUPS name, "", id, cut-off, people).
Ask = tuple[str, str, str, date, tuple[str, ...]]


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class SqlRegistries:
    def __init__(self, engine: AsyncEngine | None) -> None:
        """`engine=None`: the registries share the platform's database and the caller's transaction."""
        self.engine = engine

    async def ask_ahead(self, uow: Any, asks: list[Ask]) -> None:
        """The look-ups asked, in one round trip: one statement of all their subqueries (they share
        their parameters' names), its row kept in the unit of work for `_run` to answer from. An ask
        that would bind a name to another value than an earlier one did is left to its own look-up."""
        if uow is None or len(asks) < 2:
            return
        bound: dict[str, Any] = {}
        wanted = []
        for ask in asks:
            statement, params = ASKED[ask[0]], _params(ask)
            binds = {k: v for k, v in params.items() if k in _binds(statement)}
            if all(bound.get(k, v) == v for k, v in binds.items()):
                bound.update(binds)
                wanted.append((statement, params))
        if len(wanted) < 2:
            return
        statements = tuple(statement for statement, _ in wanted)
        combined = _COMBINED.get(statements)
        if combined is None:
            combined = _COMBINED[statements] = select(*(c for st in statements for c in _columns(st)))
        row = await self._run(uow, combined, bound)
        ahead = uow.memo.setdefault(AHEAD, {})
        at = 0
        for statement, p in wanted:
            width = len(_columns(statement))
            ahead[_key(statement, p)] = tuple(row[at : at + width])
            at += width

    async def _run(self, uow: Any, statement, params: dict):
        if uow is not None and (ahead := uow.memo.get(AHEAD)) and (row := ahead.pop(_key(statement, params), None)):
            return row
        if self.engine is None:
            (row,) = await uow.fetch(statement, params)
            return row
        async with self.engine.connect() as own:
            return (await own.execute(statement, params)).one()

    async def police(
        self, uow: Any, permit_number: str, id_number: str, cut_off: date
    ) -> tuple[dict | None, list[dict], list[dict]]:
        """The permit, the residence registration's spans and the same by district (one round trip)."""
        row = await self._run(uow, POLICE_LOOKUP, {"permit": permit_number, "id": id_number, "cut_off": cut_off})
        found, spans, districts = row[0], row[1] or [], row[2] or []
        if found:
            found = {**found, "valid_to": _d(found["valid_to"])}
        return (
            found,
            [{"start_date": _d(s["start_date"]), "end_date": _d(s["end_date"])} for s in spans],
            [
                {"district": s["district"], "start_date": _d(s["start_date"]), "end_date": _d(s["end_date"])}
                for s in districts
            ],
        )

    async def relation(self, uow: Any, id_number: str, relative: str, today: date) -> tuple[list[str], bool]:
        """How `relative` is registered in `id_number`'s household, and whether the holder has a valid
        disability certificate: the facts a guardian's or relative's delegation rests on."""
        row = await self._run(uow, RELATION_LOOKUP, {"id": id_number, "relative": relative, "today": today})
        return sorted(row[0] or []), bool(row[1])

    async def records(
        self, uow: Any, lookup: str, id_number: str, cut_off: date, people: list[str] | None = None
    ) -> dict[str, list[dict]]:
        """A department's registry records of the holder (`people`: also of the family members named)."""
        names, statement = LOOKUPS[lookup]
        row = await self._run(uow, statement, {"id": id_number, "cut_off": cut_off, "people": people or [id_number]})
        return dict(zip(names, (list(v or []) for v in row), strict=True))

    async def report_dishonesty(self, uow: Any, id_number: str, act: str, listed_on: date) -> None:
        params = {"id": id_number, "act": act, "listed_on": listed_on}
        if self.engine is None:  # the platform's own database: in the reporter's transaction, a savepoint
            async with uow.conn.begin_nested():  # so a refused record leaves the transaction usable
                await uow.conn.execute(REPORT_DISHONESTY, params)
            return
        async with self.engine.begin() as own:
            await own.execute(REPORT_DISHONESTY, params)

    async def social_insurance(self, uow: Any, id_number: str, cut_off: date) -> list[dict]:
        spans = (await self._run(uow, SOCIAL_INSURANCE_LOOKUP, {"id": id_number, "cut_off": cut_off}))[0] or []
        return [{**s, "start_month": _d(s["start_month"]), "end_month": _d(s["end_month"])} for s in spans]


def _police_lookup():
    p, r = police_permits, police_residence
    permit = select(
        func.json_build_object(
            "id_number", p.c.id_number, "name", p.c.name, "status", p.c.status, "valid_to", p.c.valid_to, type_=JSON
        )
    ).where(p.c.permit_number == bindparam("permit"))
    residence = select(
        func.json_agg(
            aggregate_order_by(
                func.json_build_object("start_date", r.c.start_date, "end_date", r.c.end_date), r.c.start_date
            ),
            type_=JSON,
        )
    ).where(r.c.id_number == bindparam("id"), r.c.start_date < bindparam("cut_off"))
    d = police_residence_districts
    districts = select(
        func.json_agg(
            aggregate_order_by(
                func.json_build_object(
                    "district", d.c.district, "start_date", d.c.start_date, "end_date", d.c.end_date
                ),
                d.c.start_date,
            ),
            type_=JSON,
        )
    ).where(d.c.id_number == bindparam("id"), d.c.start_date < bindparam("cut_off"))
    # The three look-ups in one round trip.
    return select(permit.scalar_subquery(), residence.scalar_subquery(), districts.scalar_subquery())


def _social_insurance_lookup():
    t = social_insurance_spans
    return select(
        func.json_agg(
            aggregate_order_by(
                func.json_build_object(
                    "start_month",
                    t.c.start_month,
                    "end_month",
                    t.c.end_month,
                    "kind",
                    t.c.kind,
                    "transferred_in",
                    t.c.transferred_in,
                    "back_paid",
                    t.c.back_paid,
                    "employer_credit_code",
                    t.c.employer_credit_code,
                ),
                t.c.start_month,
            ),
            type_=JSON,
        )
    ).where(t.c.id_number == bindparam("id"), t.c.start_month < bindparam("cut_off"))


def _relation_lookup():
    r, d = police_relations, disability_certificates
    relations = select(func.array_agg(r.c.relation)).where(
        r.c.id_number == bindparam("id"), r.c.relative_id_number == bindparam("relative")
    )
    disabled = select(func.count()).where(d.c.id_number == bindparam("id"), d.c.valid_to >= bindparam("today"))
    return select(relations.scalar_subquery(), disabled.scalar_subquery())


POLICE_LOOKUP = _police_lookup()
RELATION_LOOKUP = _relation_lookup()
SOCIAL_INSURANCE_LOOKUP = _social_insurance_lookup()


# ---- a module owner's own registry (the local stand-in for Binjiang's data platform) --------------
# The district's key-enterprise list, by employee: what only the district holds.
binjiang_key_enterprise_staff = Table(
    "binjiang_key_enterprise_staff",
    registry_metadata,
    Column("id_number", String(18), primary_key=True),
    Column("employer_credit_code", String(18), nullable=False),
)


# ---- the other departments' registries ----------------------------------------------------
def _table(name: str, *columns: Column) -> Table:
    return Table(name, registry_metadata, Column("id_number", String(18), nullable=False, index=True), *columns)


police_offences = _table(  # criminal, drug_rehab, detention, custody_education, serious_crime, banned_org
    "police_offences",
    Column("case", String(30), nullable=False),
    Column("act", String(40), nullable=False),
    Column("date", Date, nullable=False),
)
hr_qualifications = _table(  # skill levels and professional titles
    "hr_qualifications", Column("level", String(30), nullable=False), Column("awarded_on", Date, nullable=False)
)
education_degrees = _table(
    "education_degrees",
    Column("level", String(30), nullable=False),
    Column("awarded_on", Date, nullable=False),
    Column("foreign", Boolean, nullable=False),
    Column("certified", Boolean, nullable=False),
)
housing_homes = _table("housing_homes", Column("acquired_on", Date, nullable=False))
housing_rentals = _table(
    "housing_rentals",
    Column("start_date", Date, nullable=False),
    Column("end_date", Date),
    Column("registered", Boolean, nullable=False),
)
tax_payments = _table("tax_payments", Column("date", Date, nullable=False), Column("yuan", Integer, nullable=False))
charity_donations = _table(
    "charity_donations", Column("date", Date, nullable=False), Column("yuan", Integer, nullable=False)
)
volunteer_records = _table(
    "volunteer_records", Column("date", Date, nullable=False), Column("hours", Integer, nullable=False)
)
honours = _table(
    "honours",
    Column("matter", String(60), nullable=False),
    Column("level", String(20), nullable=False),
    Column("date", Date, nullable=False),
)
blood_donations = _table(  # kind: blood (with ml) or marrow
    "blood_donations",
    Column("kind", String(10), nullable=False),
    Column("ml", Integer, nullable=False),
    Column("date", Date, nullable=False),
)
family_planning_records = _table(
    "family_planning_records", Column("act", String(40), nullable=False), Column("date", Date, nullable=False)
)
credit_listings = _table(
    "credit_listings",
    Column("act", String(40), nullable=False),
    Column("listed_on", Date, nullable=False),
    Column("lifted_on", Date),
)
patents = _table(  # one row per inventor of a granted invention patent
    "patents",
    Column("patent_number", String(30), nullable=False),
    Column("inventor_order", Integer, nullable=False),
    Column("transferred_in", Boolean, nullable=False),
    Column("granted_on", Date, nullable=False),
)
# Market regulation's register of investors, with the city tax each enterprise paid per tax year
# (the tax bureau's figure, shared with the register): the basis of 投资纳税.
investments = _table(
    "investments",
    Column("enterprise_credit_code", String(18), nullable=False),
    Column("tax_year", Integer, nullable=False),
    Column("tax_yuan", Integer, nullable=False),
)


def _records(table: Table, *columns: str, before: str | None = None):
    """One registry's rows for the holder, as a JSON array, counted before the cut-off."""
    obj = func.json_build_object(*[x for c in columns for x in (c, table.c[c])])
    q = select(func.coalesce(func.json_agg(obj), func.json_build_array(), type_=JSON)).where(
        table.c.id_number == bindparam("id")
    )
    if before:
        q = q.where(table.c[before] < bindparam("cut_off"))
    return q.scalar_subquery()


def _family_homes():
    """Homes of the holder, of the family the application names, and of the spouse, parents and
    children the household registry knows (the data-sharing platform answers by relation)."""
    h, r = housing_homes, police_relations
    relatives = select(r.c.relative_id_number).where(
        r.c.id_number == bindparam("id"),
        # = any(array), not IN: an IN list is expanded at each execution, so never compiled once.
        r.c.relation == func.any(bindparam("family", ["spouse", "parent", "child"], type_=ARRAY(String))),
    )
    obj = func.json_build_object("id_number", h.c.id_number, "acquired_on", h.c.acquired_on)
    return (
        select(func.coalesce(func.json_agg(obj), func.json_build_array(), type_=JSON))
        .where(
            or_(h.c.id_number == func.any(bindparam("people", type_=ARRAY(String))), h.c.id_number.in_(relatives)),
            h.c.acquired_on < bindparam("cut_off"),
        )
        .scalar_subquery()
    )


# Per department: the registry records it reads, each a JSON array, all in one round trip.
RECORDS: dict[str, dict[str, Any]] = {
    "police_records": {"offences": _records(police_offences, "case", "act", "date", before="date")},
    "human_resources": {"qualifications": _records(hr_qualifications, "level", "awarded_on", before="awarded_on")},
    "education": {
        "degrees": _records(education_degrees, "level", "awarded_on", "foreign", "certified", before="awarded_on")
    },
    "housing": {
        "homes": _family_homes(),
        "rentals": _records(housing_rentals, "start_date", "end_date", "registered", before="start_date"),
    },
    "tax": {"payments": _records(tax_payments, "date", "yuan", before="date")},
    "civil_affairs": {
        "donations": _records(charity_donations, "date", "yuan", before="date"),
        "volunteering": _records(volunteer_records, "date", "hours", before="date"),
        "honours": _records(honours, "matter", "level", "date", before="date"),
    },
    "health": {
        "donations": _records(blood_donations, "kind", "ml", "date", before="date"),
        "family_planning": _records(family_planning_records, "act", "date", before="date"),
    },
    "credit": {"listings": _records(credit_listings, "act", "listed_on", "lifted_on", before="listed_on")},
    "market_regulation": {
        "patents": _records(
            patents, "patent_number", "inventor_order", "transferred_in", "granted_on", before="granted_on"
        ),
        "investments": _records(investments, "enterprise_credit_code", "tax_year", "tax_yuan"),
    },
}
LOOKUPS = {dept: (list(facts), select(*facts.values())) for dept, facts in RECORDS.items()}

# What each ask reads (ask_ahead), and the combined statements built for sets of them.
ASKED: dict[str, Any] = {"police": POLICE_LOOKUP, "social_insurance": SOCIAL_INSURANCE_LOOKUP} | {
    lookup: statement for lookup, (_, statement) in LOOKUPS.items()
}
_COMBINED: dict[tuple[Any, ...], Any] = {}
AHEAD = "registries:ahead"  # the unit of work's memo: look-ups answered ahead, by statement and parameters


def _params(ask: Ask) -> dict[str, Any]:
    kind, permit, id_number, cut_off, people = ask
    if kind == "police":
        return {"permit": permit, "id": id_number, "cut_off": cut_off}
    if kind == "social_insurance":
        return {"id": id_number, "cut_off": cut_off}
    return {"id": id_number, "cut_off": cut_off, "people": list(people)}


@cache
def _binds(statement: Any) -> frozenset[str]:
    """The parameter names a look-up binds (a name the statement does not use may differ freely)."""
    return frozenset(statement.compile().params)


@cache
def _columns(statement: Any) -> tuple[Any, ...]:
    """A look-up's columns as parts of a combined statement: its scalar subqueries, or itself as one
    (a look-up with a WHERE of its own, which a bare column would lose)."""
    if statement.whereclause is None:
        return tuple(statement.selected_columns)
    return (statement.scalar_subquery(),)


def _key(statement: Any, params: dict[str, Any]) -> tuple[int, tuple]:
    return id(statement), tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))


# A listing made once per act: reporting the same act again (a retry after a lost answer) adds nothing.
REPORT_DISHONESTY = credit_listings.insert().from_select(
    ["id_number", "act", "listed_on"],
    select(bindparam("id", type_=String), bindparam("act", type_=String), bindparam("listed_on", type_=Date)).where(
        ~select(credit_listings.c.act)
        .where(credit_listings.c.id_number == bindparam("id"), credit_listings.c.act == bindparam("act"))
        .exists()
    ),
)
