# Inserted as a bash step into the sample's internal article by tests/cli/isolation.rs: a
# KB step trying what the sandbox must stop, then a fork bomb and a full disk. Every
# attack prints what it got, so that a leak would show in the step's output.
echo "ssh: $(cat @HOME@/.ssh/id_rsa 2>&1)"
for f in /proc/[0-9]*/environ; do echo "environ $f: $(tr '\0' ' ' < "$f" 2>&1)"; done
echo HOSTILE >> @STATE@/state.db 2>/dev/null && echo "ledger: written"
echo HOSTILE >> @STATE@/emulator/state.json 2>/dev/null && echo "state.json: written"
python3 -c "import socket
try:
    s = socket.create_connection(('127.0.0.1', @PORT@), 2); s.sendall(b'HOSTILE'); print('localhost: reached')
except OSError as e:
    print('localhost:', e)"
setsid sleep 31339 </dev/null >/dev/null 2>&1 &
nohup sh -c 'sleep 31340' </dev/null >/dev/null 2>&1 &
timeout 3 sh -c 'b() { b | b & }; b' 2>/dev/null || true
echo "forked: still here"
head -c 200000000 /dev/zero > /tmp/fill 2>/dev/null || echo "tmp: full"
echo "done"
