#!/usr/bin/env python3
"""Acme Status Page 2.3.1: tells customers whether Acme's services are up.

A small, real HTTP service (Python 3 standard library only), installed and started by
install.sh. It binds to the server's own address, never to every interface.

    GET /health       200 "ok" while the service is up
    GET /version      the product version
    GET /api/status   the page as JSON: overall status and each component's
    GET /admin        the admin view; needs the admin password (HTTP Basic, user "admin")
    GET /             the page as HTML
"""

import argparse
import base64
import hmac
import html
import json
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PRODUCT = "Acme Status Page"
VERSION = "2.3.1"
STATUSES = ("operational", "degraded", "partial_outage", "major_outage")

COMPONENTS = [
    {"name": "Website", "status": "operational"},
    {"name": "API", "status": "operational"},
    {"name": "Notifications", "status": "operational"},
]


def overall(components):
    """The page's status is its worst component's."""
    return max((c["status"] for c in components), key=STATUSES.index, default="operational")


class Handler(BaseHTTPRequestHandler):
    server_version = "AcmeStatusPage/" + VERSION
    config = None  # set by main()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self.send(200, "text/plain; charset=utf-8", "ok\n")
        elif path == "/version":
            self.send(200, "text/plain; charset=utf-8", VERSION + "\n")
        elif path == "/api/status":
            self.send(200, "application/json", json.dumps(self.status()) + "\n")
        elif path == "/admin":
            if not self.authorised():
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="Acme Status Page admin"')
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                body = b"admin password required\n"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            admin = dict(self.status(), admin_email=self.config.admin_email)
            self.send(200, "application/json", json.dumps(admin) + "\n")
        elif path == "/":
            self.send(200, "text/html; charset=utf-8", self.page())
        else:
            self.send(404, "text/plain; charset=utf-8", "not found\n")

    def status(self):
        return {
            "product": PRODUCT,
            "version": VERSION,
            "status": overall(COMPONENTS),
            "components": COMPONENTS,
            "contact": self.config.admin_email,
            "uptime_seconds": int(time.monotonic() - self.config.started),
        }

    def page(self):
        rows = "".join(
            "<li>%s: %s</li>" % (html.escape(c["name"]), html.escape(c["status"]))
            for c in COMPONENTS
        )
        return (
            "<!doctype html><title>%s</title><h1>All systems %s</h1><ul>%s</ul>"
            "<p>Contact: %s</p>\n"
            % (PRODUCT, overall(COMPONENTS).replace("_", " "), rows, html.escape(self.config.admin_email))
        )

    def authorised(self):
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except ValueError:
            return False
        # Constant-time comparison: the password must not leak through timing.
        return user == "admin" and hmac.compare_digest(password, self.config.admin_password)

    def send(self, code, content_type, text):
        body = text.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), self.address_string(), fmt % args))


def main():
    ap = argparse.ArgumentParser(description=PRODUCT)
    ap.add_argument("--bind", required=True, help="the server's own address")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--admin-email", required=True)
    ap.add_argument("--admin-password-file", required=True)
    config = ap.parse_args()
    with open(config.admin_password_file, encoding="utf-8") as f:
        config.admin_password = f.read().strip()
    config.started = time.monotonic()
    Handler.config = config
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    if ":" in config.bind:
        ThreadingHTTPServer.address_family = socket.AF_INET6
    try:
        server = ThreadingHTTPServer((config.bind, config.port), Handler)
    except OSError as e:
        sys.exit("acme-status: cannot listen on %s:%d: %s" % (config.bind, config.port, e.strerror))

    def stop(_signum, _frame):
        # shutdown() waits for serve_forever to return: call it off the main thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    print("%s %s listening on http://%s:%d" % (PRODUCT, VERSION, config.bind, config.port), flush=True)
    server.serve_forever()
    print("%s stopped" % PRODUCT, flush=True)


if __name__ == "__main__":
    main()
