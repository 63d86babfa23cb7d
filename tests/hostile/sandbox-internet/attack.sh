# Appended to the sample's install.sh by tests/cli/isolation.rs, in a run with
# --allow-internet: a package that uses the way out it was given to reach the
# integrator's own services instead of the internet. @PORT@ is a listener of the
# integrator's on 127.0.0.1.
set +e
python3 -c "
import os, socket
host, port = os.environ['http_proxy'][len('http://'):].split(':')
for target in ['127.0.0.1:@PORT@', 'localhost:@PORT@', '169.254.169.254:80', '192.168.1.1:80']:
    s = socket.create_connection((host, int(port)), 5)
    s.sendall(('CONNECT ' + target + ' HTTP/1.1\r\n\r\n').encode())
    print('localhost: proxy said', s.recv(200).decode().splitlines()[0], 'for', target)
    s.close()
try:
    socket.create_connection(('127.0.0.1', @PORT@), 2); print('localhost: reached directly')
except OSError as e:
    print('localhost: no direct way', e)
"
exit 0
