"""Publicity's schema. Public pages read only masked columns; the few private ones (a key to
group a child's parents, the phone a score notification goes to) never reach a response."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared.auth import api_keys_table
from shared.bus.tables import inbox_table, outbox_table
from shared.ratelimit import rate_limits_table
from shared.rekey import KeyColumn

SCHEMA = "publicity"
metadata = MetaData(schema=SCHEMA)

# A score's public notice, open to objection for its notice period (7 working days).
notices = Table(
    "notices",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("application_id", String(40), nullable=False, index=True),
    Column("score_version", Integer, nullable=False),
    Column("holder_name_masked", String(100), nullable=False),
    Column("id_number_masked", String(18), nullable=False),
    Column("total", Float, nullable=False),
    Column("categories", JSONB, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("rule_set_id", String(60), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # False once a newer score version of the application exists: the board shows only the current one.
    Column("current", Boolean, nullable=False, server_default=true()),
    # What the public may search the board by: the surname the masked name shows, the ID number's last four.
    Column("surname", String(4), nullable=False, server_default=""),
    Column("id_tail", String(4), nullable=False, server_default=""),
    UniqueConstraint("application_id", "score_version", name="uq_notices_application_version"),
    Index("ix_notices_board", text("published_at DESC"), text("id DESC"), postgresql_where=text("current")),
    Index(
        "ix_notices_board_surname",
        "surname",
        text("published_at DESC"),
        text("id DESC"),
        postgresql_where=text("current"),
    ),
    Index(
        "ix_notices_board_id_tail",
        "id_tail",
        text("published_at DESC"),
        text("id DESC"),
        postgresql_where=text("current"),
    ),
)

# What intake announced: who applied, for which modules (and, at school, for which child).
# The keys are salted hashes of ID numbers: they group a child's two parents, nothing more.
applicants = Table(
    "applicants",
    metadata,
    Column("application_id", String(40), primary_key=True),
    Column("holder_key", String(64), nullable=False),
    Column("holder_name_masked", String(100), nullable=False),
    Column("holder_id_masked", String(18), nullable=False),
    Column("child_key", String(64)),
    Column("child_name_masked", String(100)),
    Column("child_id_masked", String(18)),
    Column("modules", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("applied_on", Date, nullable=False),
    Column("contact_phone", String(20)),
    Column("withdrawn_at", DateTime(timezone=True)),
    Index("ix_publicity_applicants_modules", "modules", postgresql_using="gin"),
    # A re-scored candidate's applications, found by key (not by ranking the whole round again).
    Index("ix_publicity_applicants_holder_key", "holder_key"),
    Index("ix_publicity_applicants_child_key", "child_key", postgresql_where=text("child_key IS NOT NULL")),
)

# Each application's latest score, with what each module ranks it by.
scores = Table(
    "scores",
    metadata,
    Column("application_id", String(40), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("total", Float, nullable=False),
    Column("modules", JSONB, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
)

# Each candidate of a closed round as scoring re-scored them at the round's cut-off (round.scored):
# the list ranks from these, not from the application's own latest score. `pending` until scoring
# answers; the round is published when none is left. A newer version (after an objection) wins.
round_scores = Table(
    "round_scores",
    metadata,
    Column("round_id", String(40), primary_key=True),
    Column("application_id", String(40), primary_key=True),
    Column("status", String(20), nullable=False, server_default="pending"),  # pending, unscored, or scoring's
    Column("version", Integer),
    Column("based_on", Integer),  # the application's own score version re-scored
    Column("total", Float),
    Column("modules", JSONB, nullable=False, server_default="{}"),  # {module: {total, eligible, sort_key, …}}
    Column("lines", JSONB, nullable=False, server_default="[]"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_publicity_round_scores_pending", "round_id", postgresql_where=text("status = 'pending'")),
)

# Notifications to applicants (of a score, or of their place on a round's list): written with the
# effect they tell of, delivered by the notifier.
notifications = Table(
    "notifications",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("application_id", String(40), nullable=False, index=True),
    Column("score_version", Integer, nullable=False),
    Column("phone", String(20)),
    Column("body", Text, nullable=False),
    Column("status", String(20), nullable=False, server_default="pending"),  # pending, sent, recorded, failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
    # Set when the notification tells a candidate their place on a round's published list.
    Column("round_id", String(40)),
    Index(
        "uq_notifications_application_version",
        "application_id",
        "score_version",
        unique=True,
        postgresql_where=text("round_id IS NULL"),
    ),
    Index(
        "uq_notifications_round_application",
        "round_id",
        "application_id",
        unique=True,
        postgresql_where=text("round_id IS NOT NULL"),
    ),
    Index("ix_publicity_notifications_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
)

rounds = Table(
    "rounds",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("module_id", String(60), nullable=False, index=True),
    Column("owner", String(80), nullable=False),
    Column("candidate", String(10), nullable=False),  # holder | child
    Column("name", JSONB, nullable=False),
    Column("tie_breakers", JSONB, nullable=False),
    Column("acceptance_opens", Date, nullable=False),
    Column("acceptance_closes", Date, nullable=False),
    Column("cut_off_date", Date, nullable=False),
    Column("quota", Integer),
    Column("threshold", Float),
    Column("notice_working_days", Integer, nullable=False),
    # accepting, scoring (closed; candidates being re-scored at the cut-off), notice, final
    Column("status", String(12), nullable=False, server_default="accepting"),
    Column("list_version", Integer, nullable=False, server_default="0"),
    Column("entries", Integer, nullable=False, server_default="0"),
    Column("admitted", Integer, nullable=False, server_default="0"),
    Column("notice_start", Date),
    Column("notice_end", Date),
    Column("finalized_at", DateTime(timezone=True)),
    # The list ranks the candidates as re-scored at the round's cut-off (false: lists of before that).
    Column("rescored", Boolean, nullable=False, server_default="false"),
    # Telling the candidates of the published list, a page at a time (rounds.use_cases.tell_candidates):
    # the last application told, '' before the first; NULL when nobody is left to tell.
    Column("telling_after", String(40)),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# The current list. `seq` numbers an entry for good; `rank` moves when a score changes during the notice.
round_entries = Table(
    "round_entries",
    metadata,
    Column("round_id", String(40), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("rank", Integer, nullable=False),
    Column("application_id", String(40), nullable=False),
    Column("candidate_key", String(64), nullable=False),
    Column("name_masked", String(100), nullable=False),
    Column("id_masked", String(18), nullable=False),
    Column("surname", String(4), nullable=False),
    Column("id_tail", String(4), nullable=False),
    Column("score", Float, nullable=False),
    Column("sort_key", ARRAY(Float), nullable=False),
    Column("applied_on", Date, nullable=False),
    Column("admitted", Boolean, nullable=False),
    Index("ix_publicity_entries_rank", "round_id", "rank"),
    Index("ix_publicity_entries_surname", "round_id", "surname", "rank"),
    Index("ix_publicity_entries_id_tail", "round_id", "id_tail", "rank"),
    Index("ix_publicity_entries_candidate", "round_id", "candidate_key", unique=True),
    Index("ix_publicity_entries_application", "application_id"),
)

# Every publication of a round's list, and what each re-publication changed (the old values).
round_versions = Table(
    "round_versions",
    metadata,
    Column("round_id", String(40), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("published_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("reason", Text, nullable=False),
    Column("changed", Integer, nullable=False),
)

round_entry_history = Table(
    "round_entry_history",
    metadata,
    Column("round_id", String(40), nullable=False),
    Column("version", Integer, nullable=False),  # the version that superseded these values
    Column("seq", Integer, nullable=False),
    Column("rank", Integer),
    Column("score", Float),
    Column("admitted", Boolean),
    Index("ix_publicity_entry_history", "round_id", "seq", "version"),
)

# Objections (anyone, during a notice) and reviews (the holder, of their own score).
objections = Table(
    "objections",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(10), nullable=False),  # objection | review
    Column("application_id", String(40), nullable=False, index=True),
    Column("round_id", String(40), index=True),
    Column("seq", Integer),
    Column("notice_id", String(40)),
    Column("items", JSONB, nullable=False),
    Column("reason", Text, nullable=False),
    Column("contact_phone", String(20)),
    Column("client", String(64), nullable=False),
    Column("status", String(12), nullable=False, server_default="open"),  # open, resolved, answered
    Column("pending_departments", JSONB, nullable=False),
    Column("score_before", Float),
    Column("score_after", Float),
    Column("outcome", Text),
    Column("due_by", Date, nullable=False),
    Column("lodged_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("resolved_at", DateTime(timezone=True)),
    Column("answered_by", String(100)),
    Index("ix_publicity_objections_client", "client", "lodged_at"),
)

# 模拟积分 campaigns open to the public (from scoring's campaign.opened): the estimate page offers them.
campaigns = Table(
    "campaigns",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("title_zh", String(200), nullable=False),
    Column("consent_text", Text, nullable=False),
    Column("opens_on", Date, nullable=False),
    Column("closes_on", Date, nullable=False),
)

# The one-time code each invitation SMS carries: the holder's proof on the public page, to join or
# withdraw. Only its hash is kept; `failures` counts wrong codes for the holder (locked at a few).
campaign_codes = Table(
    "campaign_codes",
    metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("holder_key", String(64), primary_key=True),
    Column("code_hash", String(64), nullable=False),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("closes_on", Date, nullable=False),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
api_keys = api_keys_table(metadata)
# Abuse limits: requests per bucket (action, key or client address) and hour (shared.ratelimit).
rate_limits = rate_limits_table(metadata)

# Where this service keeps pseudonymous holder keys (shared.pseudonyms): `python -m shared.rekey`
# replaces them after a salt rotation. A table that stores a key must be listed here.
HOLDER_KEYS = [
    KeyColumn(applicants.c.holder_key),
    KeyColumn(applicants.c.child_key),
    # A final list does not change (its trigger refuses it); its entries' pseudonyms are re-keyed all the same.
    KeyColumn(round_entries.c.candidate_key, guard="final_list_entries"),
    KeyColumn(campaign_codes.c.holder_key),
    KeyColumn(outbox.c.payload),
]
