#!/usr/bin/env bash
# Makes a PostgreSQL server available for the ledger's and journal's PostgreSQL tests and
# prints the line that points the tests at it:
#
#     eval "$(tests/postgres.sh)"    # sets CERTIFY_TEST_POSTGRES_URL
#
# Installs PostgreSQL with apt when no server is installed, starts the local cluster,
# and creates the role and the database the tests use. Safe to run again: whatever
# already exists is left as it is. Needs root (or sudo) for apt and to start the server.
# Everything but the final `export` line goes to stderr.
set -euo pipefail

role=${CERTIFY_TEST_PG_ROLE:-certify_test}
password=${CERTIFY_TEST_PG_PASSWORD:-certify_test}
database=${CERTIFY_TEST_PG_DATABASE:-certify_test}
host=${CERTIFY_TEST_PG_HOST:-127.0.0.1}
port=${CERTIFY_TEST_PG_PORT:-5432}

say() { echo "postgres.sh: $*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    else
        sudo -u postgres "$@"
    fi
}

if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    say "installing PostgreSQL with apt"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

# Start every installed cluster that is down (normally the one `main` cluster).
if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters --no-header | while read -r version cluster _port status _rest; do
        if [ "$status" != online ]; then
            say "starting cluster $version/$cluster"
            as_root pg_ctlcluster "$version" "$cluster" start >&2
        fi
    done
else
    as_root service postgresql start >&2
fi

# Wait until the server accepts connections (it may still be recovering).
for _ in $(seq 1 60); do
    if as_postgres psql -p "$port" -Atqc 'SELECT 1' >/dev/null 2>&1; then break; fi
    sleep 0.5
done
as_postgres psql -p "$port" -Atqc 'SELECT 1' >/dev/null

psql_admin() { as_postgres psql -p "$port" -v ON_ERROR_STOP=1 -Atq "$@"; }

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" != 1 ]; then
    say "creating role $role"
    psql_admin -c "CREATE ROLE \"$role\" LOGIN PASSWORD '$password'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$database'")" != 1 ]; then
    say "creating database $database"
    psql_admin -c "CREATE DATABASE \"$database\" OWNER \"$role\""
fi
# Each test works in a schema of its own, which the role creates and drops.
psql_admin -d "$database" -c "GRANT CREATE ON DATABASE \"$database\" TO \"$role\""

echo "export CERTIFY_TEST_POSTGRES_URL=postgres://$role:$password@$host:$port/$database"
