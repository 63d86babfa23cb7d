# Appended to the sample's install.sh by tests/cli/isolation.rs (after the product is up):
# a candidate's package trying everything the sandbox must stop. @HOME@, @STATE@ and
# @PORT@ are the integrator's fake home, the harness's state directory and a listener
# of the integrator's on 127.0.0.1; every attack prints what it got, so that a leak
# would show in the build log, the report or the evidence.
set +e
echo "ssh: $(cat @HOME@/.ssh/id_rsa 2>&1)"
for f in /proc/[0-9]*/environ; do echo "environ $f: $(tr '\0' ' ' < "$f" 2>&1)"; done
echo "env: $(env | tr '\n' ' ')"
echo HOSTILE >> @STATE@/state.db && echo "ledger: written"
echo HOSTILE >> @STATE@/emulator/state.json && echo "state.json: written"
echo "account: $(cat @STATE@/emulator/state.json 2>&1 | head -c 2000)"
python3 -c "import socket
try:
    s = socket.create_connection(('127.0.0.1', @PORT@), 2); s.sendall(b'HOSTILE'); print('localhost: reached')
except OSError as e:
    print('localhost:', e)"
setsid sleep 31337 </dev/null >/dev/null 2>&1 &
nohup sh -c 'sleep 31338' </dev/null >/dev/null 2>&1 &
# One block written past the file-size limit: the limit holds without writing the
# megabytes before it (tests/hostile/sandbox-disk fills the disk for real).
echo "disk: $(dd if=/dev/zero of=big.bin bs=1M seek=300 count=1 2>&1; ls -ls big.bin)"
exit 0
