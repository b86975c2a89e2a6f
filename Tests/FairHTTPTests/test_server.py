#!/usr/bin/env python3
"""HTTP/1.1 keep-alive server for the FairHTTP tests (standard library only).

Listens on 127.0.0.1 on a free port, prints the port on stdout, and serves until killed
or until its standard input is closed (so it never outlives the tests).

Routes (any method unless noted):
  /echo                      JSON: method, path, headers, body length and sha256
  /download?size=N           N bytes, byte i = i % 251
  /dir/redirect-relative     302 to the relative Location ../echo?via=relative
  /redirect?status=S&to=URL  status S with Location URL (URL may be relative)
  /loop                      302 to itself
  /status?code=C             status C with a JSON error body (and Retry-After for 429)
  /connections               JSON: number of connections accepted so far
  /reject                    413 and hang up without reading the request body
  /stall                     promises 1000 bytes, sends 1, then waits
"""

import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PATTERN_CHUNK = bytes(range(251)) * 1044  # a multiple of 251, so chunks continue the pattern


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()
        self.connections = 0

    def handle_error(self, request, client_address):
        # Clients abort transfers on purpose in some tests.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle each response would wait for a
    # delayed ACK (40 ms).
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self.dispatch()

    do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    # -- helpers

    def read_body(self):
        """Consumes the request body; returns (length, sha256 hex)."""
        digest = hashlib.sha256()
        length = 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data = self.rfile.read(size)
                digest.update(data)
                length += len(data)
                self.rfile.readline()
        else:
            remaining = int(self.headers.get("Content-Length", "0"))
            while remaining > 0:
                data = self.rfile.read(min(remaining, 1 << 20))
                if not data:
                    break
                digest.update(data)
                length += len(data)
                remaining -= len(data)
        return length, digest.hexdigest()

    def send(self, status, body=b"", content_type="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, value, headers=()):
        self.send(status, json.dumps(value).encode(), headers=headers)

    # -- routes

    def dispatch(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/reject":
            # Refuses an upload without reading it, then hangs up.
            self.close_connection = True
            self.send_json(413, {"errors": [{"code": "SIZE_INVALID", "message": "too large"}]},
                           headers=[("Connection", "close")])
            return
        length, sha256 = self.read_body()
        path = url.path

        if path == "/echo":
            self.send_json(200, {
                "method": self.command,
                "path": self.path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "length": length,
                "sha256": sha256,
                "port": self.server.server_address[1],
            }, headers=[("X-Multi", "one"), ("X-Multi", "two")])
        elif path == "/download":
            size = int(query.get("size", "0"))
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if self.command == "HEAD":
                return
            remaining = size
            while remaining > 0:
                chunk = PATTERN_CHUNK[:min(remaining, len(PATTERN_CHUNK))]
                self.wfile.write(chunk)
                remaining -= len(chunk)
        elif path == "/dir/redirect-relative":
            self.send(302, b"", headers=[("Location", "../echo?via=relative")])
        elif path == "/redirect":
            self.send(int(query.get("status", "302")), b"", headers=[("Location", query["to"])])
        elif path == "/loop":
            self.send(302, b"", headers=[("Location", "/loop")])
        elif path == "/status":
            code = int(query.get("code", "500"))
            headers = [("Retry-After", "1")] if code == 429 else []
            self.send_json(code, {"errors": [{"code": "TEST", "message": "status %d" % code}]}, headers=headers)
        elif path == "/connections":
            with self.server.lock:
                count = self.server.connections
            self.send_json(200, {"connections": count})
        elif path == "/stall":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(30)
        else:
            self.send_json(404, {"errors": [{"code": "NOT_FOUND", "message": path}]})


def main():
    server = Server(("127.0.0.1", 0), Handler)
    if len(sys.argv) == 4 and sys.argv[1] == "--tls":
        # HTTPS with the given certificate chain and key (for the client's CA handling).
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)

    def watch_stdin():
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
