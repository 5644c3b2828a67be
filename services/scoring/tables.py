"""Scoring's schema: verification facts received, immutable score versions, the bus tables."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Float, Integer, MetaData, String, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB

from shared.auth import api_keys_table
from shared.bus.tables import inbox_table, outbox_table
from shared.ratelimit import rate_limits_table
from shared.rekey import KeyColumn

SCHEMA = "scoring"
metadata = MetaData(schema=SCHEMA)

received = Table(
    "received_verifications",
    metadata,
    Column("application_id", String(40), primary_key=True),
    Column("department", String(40), primary_key=True),
    Column("expected_departments", JSONB, nullable=False),
    Column("cut_off_date", Date, nullable=False),
    Column("holder", JSONB, nullable=False),
    Column("items", JSONB, nullable=False),
    Column("facts", JSONB, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # 15 working days after acceptance: departments still silent then are scored as overdue.
    Column("review_deadline", Date, index=True),
)

# Applications as intake accepted them (application.submitted): who may read their scores, and
# when the review deadline passes even if no department ever answers.
applications = Table(
    "applications",
    metadata,
    Column("application_id", String(40), primary_key=True),
    # The submitting partner's principal name (keys are per service; names are the shared identity).
    # Null for an application announced before the event carried it: then only administrators read it.
    Column("principal", String(200)),
    # The holder as submitted, by pseudonymous key and masked forms ({key, name_masked,
    # id_number_masked}, as every `holder` here): their own reads are checked against the key, and
    # an application no department answered is still scored (and announced) under the masked forms.
    Column("holder", JSONB, nullable=False),
    Column("expected_departments", JSONB, nullable=False),
    Column("applied_on", Date, nullable=False),
    Column("cut_off_date", Date, nullable=False),
    Column("review_deadline", Date, index=True),
)

# Applications withdrawn before they were scored: they are never scored.
withdrawn = Table(
    "withdrawn",
    metadata,
    Column("application_id", String(40), primary_key=True),
    Column("withdrawn_at", DateTime(timezone=True), nullable=False),
)

# Rows are only ever inserted: a new fact makes a new version, nothing is overwritten.
scores = Table(
    "scores",
    metadata,
    Column("application_id", String(40), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("status", String(20), nullable=False),
    Column("total", Float, nullable=False),
    Column("rule_set_id", String(60), nullable=False),
    Column("rule_set_hash", String(64), nullable=False),
    Column("cut_off_date", Date, nullable=False),
    Column("holder", JSONB, nullable=False),
    Column("explanation", JSONB, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # What the determination was made of, so it can be recomputed from outside (services.scoring.recompute):
    # the departments' answers as scored, the engine's version, and the hash over both and the rule texts.
    Column("answers", JSONB),
    Column("engine_version", String(20)),
    Column("determination_id", String(64)),
    # A round's score: the application re-scored at the round's cut-off, under the rules in force on
    # the round's date, from the answers of its own version `based_on` (null: the application's own score).
    # Versions of both kinds share one sequence: the holder's history shows them in order, labelled.
    Column("round_id", String(40)),
    Column("based_on", Integer),
)

# Rounds publicity closed (round.closing): their cut-off and rules' date, and whether their list is final.
# While it is not, a new score of a candidate is re-scored for the round too.
rounds = Table(
    "rounds",
    metadata,
    Column("round_id", String(40), primary_key=True),
    Column("module_id", String(60), nullable=False),
    Column("candidate", String(10), nullable=False),
    Column("cut_off_date", Date, nullable=False),
    Column("rules_on", Date, nullable=False),
    Column("final", Boolean, nullable=False, server_default="false"),
    Column("closed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
round_candidates = Table(
    "round_candidates",
    metadata,
    Column("round_id", String(40), primary_key=True),
    Column("application_id", String(40), primary_key=True, index=True),
)

# Every rule-set and module text ever scored with, by content hash: a score names the hash, and
# the text stays readable (GET /v1/rule-sets/{id}/source?hash=…) after the file or module changes.
rule_texts = Table(
    "rule_texts",
    metadata,
    Column("content_hash", String(64), primary_key=True),
    Column("kind", String(20), nullable=False),  # rule_set / module
    Column("document_id", String(60), nullable=False),
    Column("source", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Uploaded rule sets: drafts may be replaced; a published one never changes again.
rule_sets = Table(
    "rule_sets",
    metadata,
    Column("id", String(60), primary_key=True),
    Column("state", String(20), nullable=False),  # draft / published
    Column("source", Text, nullable=False),  # the YAML as uploaded: the content hash is over these bytes
    Column("content_hash", String(64), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("uploaded_by", String(200), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_by", String(200)),
    Column("published_at", DateTime(timezone=True)),
)

# X-modules registered by their owners; every version is kept, the latest is in use.
modules = Table(
    "modules",
    metadata,
    Column("id", String(60), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("source", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Simulation jobs: the spec is kept whole (rule sets and module as documents), so a job taken over
# after a restart runs exactly what was asked, whatever was published since.
simulations = Table(
    "simulations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("requested_by", String(200), nullable=False, index=True),
    Column("state", String(20), nullable=False, index=True),  # queued / running / done / failed
    Column("spec", JSONB, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("phase", String(40)),  # generating / scoring / report
    Column("holders_done", BigInteger, nullable=False, server_default="0"),
    Column("holders_total", BigInteger),
    Column("error", Text),
    Column("summary", JSONB),
    Column("report_dir", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("heartbeat_at", DateTime(timezone=True)),
)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
api_keys = api_keys_table(metadata)
# Abuse limits: requests per bucket (action, key or client address) and hour (shared.ratelimit).
rate_limits = rate_limits_table(metadata)

# Where this service keeps pseudonymous holder keys (shared.pseudonyms): `python -m shared.rekey`
# replaces them after a salt rotation. A table that stores a key must be listed here.
# The policy office's 模拟积分 campaigns (services/scoring/campaigns/): the campaign (no personal data),
# its participants (kept until `keep_until`, the campaign's end and retention period, then swept),
# and the reports produced (figures only: no personal data).
campaigns = Table(
    "campaigns",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner", String(100), nullable=False),  # the policy office's principal
    Column("doc", JSONB, nullable=False),  # drafts, period, consent text, plan, the register's sizes
    Column("opens_on", Date, nullable=False),
    Column("closes_on", Date, nullable=False),
    Column("keep_until", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
campaign_participants = Table(
    "campaign_participants",
    metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("holder_key", String(64), primary_key=True),
    Column("state", String(20), nullable=False),  # verifying / verified / not_on_register
    Column("declared", JSONB),  # what the holder said of themselves (the estimate's answers)
    Column("invited", Boolean),
    Column("stratum", Integer),
    Column("labels", JSONB),
    Column("answers", JSONB),  # the departments' answers, as for an application
    Column("joined_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("keep_until", DateTime(timezone=True), nullable=False),
)
campaign_reports = Table(
    "campaign_reports",
    metadata,
    Column("campaign_id", String(40), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("summary", JSONB, nullable=False),
    Column("html", Text, nullable=False),
    Column("produced_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

HOLDER_KEYS = [
    KeyColumn(received.c.holder),
    KeyColumn(applications.c.holder),
    KeyColumn(scores.c.holder),
    KeyColumn(scores.c.answers),  # each department's answer names the holder
    KeyColumn(outbox.c.payload),
    KeyColumn(campaign_participants.c.holder_key),
    KeyColumn(campaign_participants.c.answers),
]
