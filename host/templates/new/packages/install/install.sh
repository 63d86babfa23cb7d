#!/bin/sh
# Install @@PRODUCT@@ on Linux: the package script the Blueprint Engine runs.
#
# Starts the service on this server's own address and waits until it answers.
# Parameters come as environment variables under their dotted names (read with
# printenv: a shell cannot expand `App.Port`) or their shell form (APP_PORT);
# the server's address is the system parameter T3.Server.IPAddress.
#
# The service is started with `nohup … &` and stays in this script's process
# group, so whoever runs the package can stop it with the group; it must not
# call setsid. Its pid file and log are kept next to this script.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
PID_FILE="$HERE/service.pid"
LOG_FILE="$HERE/service.log"
READY_TIMEOUT=60

fail() {
    echo "install-@@SLUG@@: error: $*" >&2
    exit 1
}

param() {
    printenv "$1" 2>/dev/null || printenv "$2" 2>/dev/null || true
}

PORT=$(param App.Port APP_PORT)
[ -n "$PORT" ] || PORT=${1:-8080}
ADDRESS=$(param T3.Server.IPAddress T3_SERVER_IPADDRESS)
[ -n "$ADDRESS" ] || ADDRESS=$(hostname -I 2>/dev/null | awk '{print $1}')

case "$PORT" in
    '' | *[!0-9]*) fail "App.Port must be a port number, got '$PORT'" ;;
esac
[ -n "$ADDRESS" ] || fail "cannot tell this server's address: T3.Server.IPAddress is not set"
command -v python3 >/dev/null 2>&1 || fail "python3 is required; install it (apt-get install -y python3)"

# Running the package again replaces the running service.
if [ -f "$PID_FILE" ]; then
    kill "$(cat "$PID_FILE")" 2>/dev/null || true
    rm -f "$PID_FILE"
fi

case "$ADDRESS" in
    *:*) URL="http://[$ADDRESS]:$PORT" ;;
    *) URL="http://$ADDRESS:$PORT" ;;
esac

echo "starting @@PRODUCT@@ 1.0.0 on $URL"
nohup python3 "$HERE/service.py" --bind "$ADDRESS" --port "$PORT" >"$LOG_FILE" 2>&1 </dev/null &
PID=$!
echo "$PID" >"$PID_FILE"

DEADLINE=$(($(date +%s) + READY_TIMEOUT))
while :; do
    kill -0 "$PID" 2>/dev/null || {
        tail -n 20 "$LOG_FILE" >&2 || true
        fail "the service exited during start-up (see the log above; is port $PORT in use?)"
    }
    if grep -q "listening on" "$LOG_FILE" 2>/dev/null && python3 -c 'import sys, urllib.request
sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=2).read().strip() == b"ok" else 1)' "$URL/health" 2>/dev/null; then
        break
    fi
    if [ "$(date +%s)" -ge "$DEADLINE" ]; then
        kill "$PID" 2>/dev/null || true
        tail -n 20 "$LOG_FILE" >&2 || true
        fail "the service did not answer $URL/health within ${READY_TIMEOUT}s"
    fi
    sleep 0.2 2>/dev/null || sleep 1
done
echo "@@PRODUCT@@ 1.0.0 is running on $URL (pid $PID)"
