#!/usr/bin/env bash
# Regenerates shared/db/schema.sql: the schema that migrations/ produce, as a normalised
# `pg_dump --schema-only`. Review it in diffs to see what a migration really changes.
#
#   infra/scripts/schema-snapshot.sh           write shared/db/schema.sql
#   infra/scripts/schema-snapshot.sh --check   exit 1 with a diff if it is out of date
#
# Starts its own throwaway PostgreSQL cluster (unix socket in a private temp dir, no TCP),
# with the server binaries akta-pgcluster would pick, sets up the roles and database the way
# akta-pgcluster does (`akta_owner` owns the database and runs the migrations, `akta_app`
# exists), applies every file of migrations/ in name order like sqlx does (each in one
# transaction unless it starts with `-- no-transaction`), dumps and normalises.
# shared/db/tests/schema_snapshot.rs makes the same comparison from `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/../.."
export LC_ALL=C PGCLIENTENCODING=UTF8 # byte order for globs and sort; the files are UTF-8

out=shared/db/schema.sql
check=false
case "${1:-}" in
  "") ;;
  --check) check=true ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

# The server binaries, found like akta_pgcluster::PgBinaries::locate: `pg_config --bindir` if
# it holds them, else the highest /usr/lib/postgresql/<version>/bin, else /usr/local/pgsql/bin.
# pg_dump is taken from the same directory, so dump and server versions match.
find_bindir() {
  local dir candidates=()
  dir=$(pg_config --bindir 2>/dev/null || true)
  [ -n "$dir" ] && candidates+=("$dir")
  if [ -d /usr/lib/postgresql ]; then
    while IFS= read -r dir; do candidates+=("/usr/lib/postgresql/$dir/bin"); done \
      < <(ls /usr/lib/postgresql | grep -E '^[0-9]+(\.[0-9]+)*$' | sort -t. -k1,1nr -k2,2nr)
  fi
  candidates+=(/usr/local/pgsql/bin)
  for dir in "${candidates[@]}"; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ] \
       && [ -x "$dir/pg_isready" ] && [ -x "$dir/pg_dump" ] && [ -x "$dir/psql" ]; then
      echo "$dir"
      return
    fi
  done
  echo "PostgreSQL server binaries not found (e.g. apt-get install postgresql)" >&2
  exit 1
}

# Normalises a `pg_dump --schema-only` (stdin to stdout) so that only the schema remains:
# drops comment lines (`--` at the start of a line: pg_dump's headers, which name versions
# and object kinds), `SET ...` and `SELECT pg_catalog.set_config(...)` session settings, and
# the `\restrict <key>` / `\unrestrict <key>` lines newer pg_dump versions emit with a random
# key; collapses runs of blank lines into one and drops leading and trailing blank lines.
# Idempotent. Keep in step with `normalise` in shared/db/tests/schema_snapshot.rs.
normalise() {
  awk '
    /^--/ || /^SET / || /^SELECT pg_catalog\.set_config/ { next }
    /^\\restrict/ || /^\\unrestrict/ { next }
    /^[ \t]*$/ { blank = 1; next }
    { if (blank && printed) print ""; blank = 0; printed = 1; print }
  '
}

bindir=$(find_bindir)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/akta-schema.XXXXXX")
chmod 755 "$tmp"
data="$tmp/data"
port=5432 # only names the socket file in $tmp; no TCP listener

# PostgreSQL refuses to run as root: then the server binaries run as `postgres`.
as_server() { "$@"; }
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "running as root, but there is no postgres user" >&2; exit 1; }
  chown postgres: "$tmp"
  as_server() { runuser -u postgres -- "$@"; }
fi

cleanup() {
  as_server "$bindir/pg_ctl" stop -D "$data" -m immediate -w >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

locale_arg=--no-locale
if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale_arg=--locale=C.UTF-8; fi
as_server "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 "$locale_arg" \
  >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; exit 1; }
as_server "$bindir/pg_ctl" start -D "$data" -l "$tmp/server.log" -w -t 60 \
  -o "-c listen_addresses='' -k $tmp -p $port -c fsync=off -c full_page_writes=off" \
  >/dev/null || { cat "$tmp/server.log" >&2; exit 1; }

psql_as() { # role, then psql arguments
  local role=$1; shift
  "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$tmp" -p "$port" -U "$role" "$@"
}

# Roles and database as akta_pgcluster::Cluster::ensure_database creates them.
psql_as postgres -d postgres <<'SQL'
CREATE ROLE akta_owner WITH LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS;
CREATE ROLE akta_app WITH LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
CREATE DATABASE akta OWNER akta_owner;
GRANT CONNECT ON DATABASE akta TO akta_app;
REVOKE TEMPORARY ON DATABASE akta FROM PUBLIC;
SQL

shopt -s nullglob
migrations=(migrations/*.sql) # name order (LC_ALL=C), as sqlx orders by version prefix
[ ${#migrations[@]} -gt 0 ] || { echo "no migrations in migrations/" >&2; exit 1; }
for file in "${migrations[@]}"; do
  if head -n 1 "$file" | grep -q '^-- no-transaction'; then
    psql_as akta_owner -d akta -f "$file"
  else
    psql_as akta_owner -d akta --single-transaction -f "$file"
  fi
done

# _sqlx_migrations only exists where sqlx applied the files (the Rust test); it is not schema.
new="$tmp/schema.sql"
{
  echo "-- Generated by infra/scripts/schema-snapshot.sh from migrations/; do not edit."
  echo "-- The schema a fresh database has after all migrations (pg_dump --schema-only --no-owner,"
  echo "-- normalised). shared/db/tests/schema_snapshot.rs checks that it is up to date."
  echo
  "$bindir/pg_dump" -h "$tmp" -p "$port" -U akta_owner --schema-only --no-owner \
    --exclude-table=public._sqlx_migrations akta | normalise
} >"$new"

if $check; then
  if diff -u --label "$out (committed)" --label "$out (from migrations/)" "$out" "$new"; then
    echo "$out is up to date"
  else
    echo "$out is out of date: run infra/scripts/schema-snapshot.sh to update" >&2
    exit 1
  fi
else
  cp "$new" "$out"
  echo "wrote $out ($(wc -l <"$out") lines, $("$bindir/pg_dump" --version))"
fi
