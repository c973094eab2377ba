#!/bin/sh
# PostgreSQL's first start (docker-entrypoint-initdb.d, run once on an empty volume): one role per
# user of the server, neither a superuser nor able to create roles or databases. The engine's role
# owns its database (and so its public schema: migrations create tables there); Temporal's role
# owns its two. Only the superuser can connect to another role's database.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v app_password="$SHOPSTAR_DB_PASSWORD" -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE shopstar_app LOGIN PASSWORD :'app_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE DATABASE shopstar OWNER shopstar_app;
REVOKE ALL ON DATABASE shopstar FROM PUBLIC;

CREATE ROLE temporal LOGIN PASSWORD :'temporal_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
REVOKE ALL ON DATABASE temporal FROM PUBLIC;
REVOKE ALL ON DATABASE temporal_visibility FROM PUBLIC;

-- Temporal's visibility schema indexes with btree_gin; created here, by the superuser.
\connect temporal_visibility
CREATE EXTENSION IF NOT EXISTS btree_gin;
SQL
