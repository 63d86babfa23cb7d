#!/bin/sh
# Install Acme Status Page on Linux: the package script the Blueprint Engine runs.
#
# Starts Acme Status Page on this server's own address and waits until it answers.
#
# Parameters come as environment variables, under their dotted names (`Acme.Port`, read
# with printenv because a shell cannot expand such names) or their shell form
# (`ACME_PORT`); failing both, as arguments in manifest order: port, admin email, admin
# password. The server's address is the system parameter T3.Server.IPAddress.
#
# The service is started with `nohup … &` and stays in this script's process group, so
# whoever runs the package (the engine, or the harness's emulator) can stop it with the
# group; it must not call setsid. Its pid file and log are kept next to this script.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
PID_FILE="$HERE/acme-status.pid"
LOG_FILE="$HERE/acme-status.log"
SECRET_FILE="$HERE/admin.secret"
READY_TIMEOUT=60

fail() {
    echo "install-acme-status: error: $*" >&2
    exit 1
}

# param DOTTED SHELL: a parameter's value from the environment, or nothing.
param() {
    printenv "$1" 2>/dev/null || printenv "$2" 2>/dev/null || true
}

PORT=$(param Acme.Port ACME_PORT)
[ -n "$PORT" ] || PORT=${1:-8080}
ADMIN_EMAIL=$(param Acme.AdminEmail ACME_ADMINEMAIL)
[ -n "$ADMIN_EMAIL" ] || ADMIN_EMAIL=${2:-}
ADMIN_PASSWORD=$(param Acme.AdminPassword ACME_ADMINPASSWORD)
[ -n "$ADMIN_PASSWORD" ] || ADMIN_PASSWORD=${3:-}
ADDRESS=$(param T3.Server.IPAddress T3_SERVER_IPADDRESS)
if [ -z "$ADDRESS" ]; then
    # Outside the Blueprint Engine: the server's first address.
    ADDRESS=$(hostname -I 2>/dev/null | awk '{print $1}')
fi

case "$PORT" in
    '' | *[!0-9]*) fail "Acme.Port must be a port number, got '$PORT'" ;;
esac
[ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || fail "Acme.Port must be from 1 to 65535, got $PORT"
[ -n "$ADMIN_EMAIL" ] || fail "Acme.AdminEmail is required (the page's contact address)"
[ -n "$ADMIN_PASSWORD" ] || fail "Acme.AdminPassword is required (it protects the admin API)"
[ -n "$ADDRESS" ] || fail "cannot tell this server's address: T3.Server.IPAddress is not set"

if ! command -v python3 >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing python3"
        DEBIAN_FRONTEND=noninteractive apt-get install -y python3 >/dev/null
    fi
    command -v python3 >/dev/null 2>&1 || fail "python3 is required; install it (apt-get install -y python3) and run the package again"
fi

# Running the package again replaces the running service.
if [ -f "$PID_FILE" ]; then
    OLD=$(cat "$PID_FILE")
    if [ -n "$OLD" ] && kill -0 "$OLD" 2>/dev/null; then
        echo "stopping the running Acme Status Page (pid $OLD)"
        kill "$OLD" 2>/dev/null || true
        i=0
        while kill -0 "$OLD" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1 2>/dev/null || sleep 1
            i=$((i + 1))
        done
    fi
    rm -f "$PID_FILE"
fi

# The password reaches the service through a private file, not its command line.
(umask 077 && printf '%s\n' "$ADMIN_PASSWORD" >"$SECRET_FILE")

case "$ADDRESS" in
    *:*) HOST="[$ADDRESS]" ;;
    *) HOST="$ADDRESS" ;;
esac
URL="http://$HOST:$PORT"

echo "starting Acme Status Page 2.3.1 on $URL"
nohup python3 "$HERE/acme_status.py" \
    --bind "$ADDRESS" --port "$PORT" \
    --admin-email "$ADMIN_EMAIL" --admin-password-file "$SECRET_FILE" \
    >"$LOG_FILE" 2>&1 </dev/null &
PID=$!
echo "$PID" >"$PID_FILE"

# Ready means this process is listening (it logs that once bound, so an older instance
# holding the port cannot pass for it) and /health answers "ok", within READY_TIMEOUT s.
DEADLINE=$(($(date +%s) + READY_TIMEOUT))
while :; do
    if ! kill -0 "$PID" 2>/dev/null; then
        echo "--- $LOG_FILE" >&2
        tail -n 20 "$LOG_FILE" >&2 || true
        fail "Acme Status Page exited during start-up (see the log above; is port $PORT in use?)"
    fi
    if grep -q "listening on" "$LOG_FILE" 2>/dev/null && python3 -c 'import sys, urllib.request
sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=2).read().strip() == b"ok" else 1)' "$URL/health" 2>/dev/null; then
        break
    fi
    if [ "$(date +%s)" -ge "$DEADLINE" ]; then
        kill "$PID" 2>/dev/null || true
        echo "--- $LOG_FILE" >&2
        tail -n 20 "$LOG_FILE" >&2 || true
        fail "Acme Status Page did not answer $URL/health within ${READY_TIMEOUT}s"
    fi
    sleep 0.2 2>/dev/null || sleep 1
done
echo "Acme Status Page 2.3.1 is running on $URL (pid $PID)"
