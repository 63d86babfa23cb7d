#!/usr/bin/env python3
"""@@PRODUCT@@ 1.0.0, a minimal HTTP service (Python 3 standard library only).

Installed and started by install.sh; replace it with your product. It binds to
the server's own address, never to every interface.

    GET /health    200 "ok" while the service is up
    GET /version   the product version
    GET /          what the product offers, as JSON
"""

import argparse
import json
import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PRODUCT = "@@PRODUCT@@"
VERSION = "1.0.0"


class Handler(BaseHTTPRequestHandler):
    server_version = "Service/" + VERSION

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self.send(200, "text/plain; charset=utf-8", "ok\n")
        elif path == "/version":
            self.send(200, "text/plain; charset=utf-8", VERSION + "\n")
        elif path == "/":
            body = {"product": PRODUCT, "version": VERSION, "status": "ready"}
            self.send(200, "application/json", json.dumps(body) + "\n")
        else:
            self.send(404, "text/plain; charset=utf-8", "not found\n")

    def send(self, status, content_type, text):
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", required=True, help="the server's own address")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    ThreadingHTTPServer.address_family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    try:
        server = ThreadingHTTPServer((args.bind, args.port), Handler)
    except OSError as e:
        print("cannot listen on %s:%d: %s" % (args.bind, args.port, e), file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("listening on %s:%d" % (args.bind, args.port), file=sys.stderr, flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
