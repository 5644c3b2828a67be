#!/bin/sh
# The database roles of the platform (see shared/migrate.py): points_owner owns the schemas and
# runs the migrations; each service logs in as a role of its own, which the migration step grants
# its own schema's tables and nothing else. Run once by the superuser: compose mounts this into
# the postgres image's /docker-entrypoint-initdb.d (first start of an empty volume only);
# elsewhere, run the same statements with psql (deploy/README.md).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE points_owner LOGIN PASSWORD '${POINTS_OWNER_PASSWORD:?set POINTS_OWNER_PASSWORD}';
CREATE ROLE points_intake LOGIN PASSWORD '${POINTS_INTAKE_PASSWORD:?set POINTS_INTAKE_PASSWORD}';
CREATE ROLE points_verification LOGIN PASSWORD '${POINTS_VERIFICATION_PASSWORD:?set POINTS_VERIFICATION_PASSWORD}';
CREATE ROLE points_scoring LOGIN PASSWORD '${POINTS_SCORING_PASSWORD:?set POINTS_SCORING_PASSWORD}';
CREATE ROLE points_publicity LOGIN PASSWORD '${POINTS_PUBLICITY_PASSWORD:?set POINTS_PUBLICITY_PASSWORD}';
GRANT CREATE ON DATABASE "$POSTGRES_DB" TO points_owner;
SQL
