#!/bin/bash
# Starts as root only to read the password file (a compose secret is mounted as its owner made it, often 0600
# root) and to own the data volume, then runs as `postgres`. First start: initdb into $PGDATA with the superuser
# $POSTGRES_USER (password from $POSTGRES_PASSWORD_FILE, SCRAM) and the database $POSTGRES_DB. PostgreSQL itself
# is then PID 1.
set -euo pipefail
if [[ $(id -u) == 0 ]]; then
  mkdir -p "$PGDATA" /run/postgresql
  chown postgres:postgres "$PGDATA" /run/postgresql
  chmod 0700 "$PGDATA"
  if [[ ! -s $PGDATA/PG_VERSION ]]; then
    [[ -r $POSTGRES_PASSWORD_FILE ]] || { echo "postgres: $POSTGRES_PASSWORD_FILE is not readable" >&2; exit 1; }
    install -o postgres -g postgres -m 0600 "$POSTGRES_PASSWORD_FILE" /run/postgresql/.pwfile
  fi
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [[ ! -s $PGDATA/PG_VERSION ]]; then
  # The socket is reachable only inside this container; TCP clients need the password (SCRAM).
  initdb --username="$POSTGRES_USER" --pwfile=/run/postgresql/.pwfile --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
  rm -f /run/postgresql/.pwfile
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/run/postgresql" -w start >/dev/null
  psql -h /run/postgresql -U "$POSTGRES_USER" -d postgres -v ON_ERROR_STOP=1 -q \
    -c "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\""
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  touch "$PGDATA/.initialized"
elif [[ ! -f $PGDATA/.initialized ]]; then
  echo "postgres: $PGDATA holds an interrupted first initialization; remove the volume and start again" >&2
  exit 1
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/run/postgresql \
  -c max_connections="${POSTGRES_MAX_CONNECTIONS:-200}" "$@"
