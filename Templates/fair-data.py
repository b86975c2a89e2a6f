#!/usr/bin/env python3
"""Serves one directory of a PersistentVolumeClaim over HTTP, for `fair data push` and `fair data pull`.

    fair-data.py --root DIR [--path SUB] [--bind ADDRESS] [--port PORT] [--idle-timeout SECONDS] [--read-only]

fair runs it in a short-lived pod that mounts the claim at DIR, and talks to it through the API
server's pod proxy (`pods/NAME:PORT/proxy/...`), which every Kubernetes API server serves. It runs
in whatever image the pod has, where only python3 can be counted on, so it uses the standard
library alone. Everything happens under DIR/SUB (SUB is created on the first write):

    GET  /healthz      200 once it listens (the pod's readiness probe)
    GET  /manifest     every regular file, one JSON object a line:
                       {"path": REL, "size": N, "mode": 420, "sha256": HEX}, then a last line
                       {"end": true, "files": N, "skipped": [{"path": REL, "why": "..."}...]}
                       (a manifest without it was cut short); 404 when SUB does not exist
    GET  /files/REL    the file's bytes
    PUT  /files/REL    the body becomes REL: it goes to a temporary file beside REL, is checked
                       against X-Fair-Sha256 when given, synced to disk, given the mode of
                       X-Fair-Mode (octal permission bits, default 644), and renamed over REL,
                       so REL is always either the old file or the whole new one
    POST /modes/REL    sets an existing file's mode to X-Fair-Mode
    POST /done         answers, then exits 0

Every request but /healthz carries X-Fair-Data-Token, the value of $FAIR_DATA_TOKEN (a Secret of
the transfer's own): the pod's address is reachable from other pods, which must not read or write
the claim through it. A request without it is answered 401.

REL is percent-encoded UTF-8, relative, without empty, `.` or `..` segments. The claim may hold
anything, so no component of a path is followed if it is a symbolic link: a link could point
anywhere in the pod. Links and other non-regular files are listed as skipped, never read.
Exit status: 0 after /done or after --idle-timeout seconds without a request; 1 when it cannot
start (one line on stderr), 2 on bad arguments.
"""
import argparse
import errno
import hashlib
import hmac
import http.server
import json
import os
import secrets
import signal
import socket
import socketserver
import stat
import sys
import threading
import time
from urllib.parse import unquote, urlsplit

CHUNK = 1 << 20
TEMPORARY_PREFIX = ".fair-data-"
TEMPORARY_SUFFIX = ".part"
# Temporary files older than this were left by a transfer that was killed; a walk removes them.
STALE_SECONDS = 3600
DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def log(message):
    sys.stderr.write(f"fair-data: {message}\n")
    sys.stderr.flush()


class Refused(Exception):
    """A request that cannot be done as asked: an HTTP status and a sentence for the user."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def is_temporary(name):
    return name.startswith(TEMPORARY_PREFIX) and name.endswith(TEMPORARY_SUFFIX)


def relative_parts(rel):
    """The segments of REL, refusing anything that is not a plain relative path."""
    if not rel or rel.startswith("/") or "\x00" in rel:
        raise Refused(400, f"{rel!r} is not a relative path")
    parts = rel.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise Refused(400, f"{rel!r} is not a plain relative path (empty, '.' and '..' segments are refused)")
    if is_temporary(parts[-1]):
        raise Refused(400, f"{rel!r} has the name of fair's temporary files")
    return parts


def open_directory(parent_fd, name, create, rel):
    """A descriptor for directory `name` in `parent_fd`, never following a link; made when
    `create` and missing."""
    try:
        return os.open(name, DIRECTORY_FLAGS, dir_fd=parent_fd)
    except FileNotFoundError:
        if not create:
            raise Refused(404, f"{rel} does not exist")
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Refused(409, f"{rel} is not a directory (it is a file or a symbolic link)")
        raise
    try:
        os.mkdir(name, 0o755, dir_fd=parent_fd)
    except FileExistsError:
        pass  # made meanwhile by a request for another file in it
    try:
        return os.open(name, DIRECTORY_FLAGS, dir_fd=parent_fd)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Refused(409, f"{rel} is not a directory (it is a file or a symbolic link)")
        raise


def walk_to(root_fd, parts, create):
    """A descriptor for the directory that the path `parts` is in, below `root_fd`."""
    fd = os.dup(root_fd)
    try:
        for index, part in enumerate(parts):
            child = open_directory(fd, part, create, "/".join(parts[:index + 1]))
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


def parse_mode(text):
    if text is None:
        return 0o644
    try:
        mode = int(text, 8)
    except ValueError:
        raise Refused(400, f"X-Fair-Mode {text!r} is not octal permission bits")
    if not 0 <= mode <= 0o777:
        raise Refused(400, f"X-Fair-Mode {text!r} is not permission bits (000 to 777)")
    return mode


def hash_file(fd):
    digest = hashlib.sha256()
    while True:
        block = os.read(fd, CHUNK)
        if not block:
            return digest.hexdigest()
        digest.update(block)


class Store:
    """DIR/SUB, reached only through descriptors opened without following links."""

    def __init__(self, root, sub, read_only):
        self.root = root
        self.sub = [part for part in sub.split("/") if part not in ("", ".")]
        if ".." in self.sub:
            raise Refused(400, f"--path {sub} leaves the claim")
        self.read_only = read_only
        self.lock = threading.Lock()
        self.in_flight = set()  # (directory path, temporary name), removed on SIGTERM

    def base(self, create):
        root_fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            if not self.sub:
                return os.dup(root_fd)
            try:
                return walk_to(root_fd, self.sub, create)
            except Refused as refused:
                if refused.status == 404:
                    raise Refused(404, f"{'/'.join(self.sub)} does not exist in the claim")
                raise
        finally:
            os.close(root_fd)

    # -- manifest

    def manifest(self, write):
        """Writes the manifest's lines through `write`, as files are hashed."""
        base = self.base(create=False)
        files, skipped = 0, []
        try:
            now = time.time()
            for directory, dirnames, filenames, dirfd in os.fwalk(".", dir_fd=base, follow_symlinks=False):
                dirnames.sort()
                prefix = "" if directory == "." else directory[2:] + "/"
                # fwalk lists links to directories among dirnames, and does not enter them.
                for name in sorted(dirnames) + sorted(filenames):
                    rel = prefix + name
                    try:
                        rel.encode("utf-8")
                    except UnicodeEncodeError:
                        skipped.append({"path": rel.encode("utf-8", "replace").decode(), "why": "its name is not UTF-8"})
                        continue
                    try:
                        info = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    if stat.S_ISDIR(info.st_mode):
                        continue
                    if is_temporary(name):
                        if not self.read_only and now - info.st_mtime > STALE_SECONDS:
                            try:
                                os.unlink(name, dir_fd=dirfd)
                            except OSError:
                                pass
                        continue
                    if not stat.S_ISREG(info.st_mode):
                        kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
                        skipped.append({"path": rel, "why": kind})
                        continue
                    try:
                        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dirfd)
                    except OSError as error:
                        skipped.append({"path": rel, "why": error.strerror})
                        continue
                    try:
                        info = os.fstat(fd)
                        digest = hash_file(fd)
                    finally:
                        os.close(fd)
                    files += 1
                    write({"path": rel, "size": info.st_size, "mode": stat.S_IMODE(info.st_mode) & 0o777, "sha256": digest})
        finally:
            os.close(base)
        write({"end": True, "files": files, "skipped": skipped})

    # -- files

    def open_for_reading(self, rel):
        parts = relative_parts(rel)
        base = self.base(create=False)
        try:
            directory = walk_to(base, parts[:-1], create=False)
        finally:
            os.close(base)
        try:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=directory)
        except FileNotFoundError:
            raise Refused(404, f"{rel} does not exist")
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise Refused(409, f"{rel} is a symbolic link; fair data does not follow links")
            raise
        finally:
            os.close(directory)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise Refused(409, f"{rel} is not a regular file")
        return fd

    def receive(self, rel, length, read, expected, mode):
        """Writes `length` bytes from `read` to REL, atomically. Returns (size, sha256)."""
        if self.read_only:
            raise Refused(403, "this data pod mounts the claim read-only")
        parts = relative_parts(rel)
        base = self.base(create=True)
        try:
            directory = walk_to(base, parts[:-1], create=True)
        finally:
            os.close(base)
        name = parts[-1]
        temporary = f"{TEMPORARY_PREFIX}{secrets.token_hex(8)}{TEMPORARY_SUFFIX}"
        key = ("/".join(self.sub + parts[:-1]), temporary)
        try:
            try:
                existing = os.stat(name, dir_fd=directory, follow_symlinks=False)
                if stat.S_ISLNK(existing.st_mode):
                    raise Refused(409, f"{rel} is a symbolic link in the claim; fair data does not replace links")
                if stat.S_ISDIR(existing.st_mode):
                    raise Refused(409, f"{rel} is a directory in the claim")
            except FileNotFoundError:
                pass
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=directory)
            with self.lock:
                self.in_flight.add(key)
            try:
                digest = hashlib.sha256()
                size = 0
                for block in read(length):
                    digest.update(block)
                    view = memoryview(block)
                    while view:
                        written = os.write(fd, view)
                        view = view[written:]
                    size += len(block)
                actual = digest.hexdigest()
                if expected is not None and actual != expected.lower():
                    raise Refused(422, f"{rel}: received {size} bytes with sha256 {actual}, not {expected} as sent; nothing was written")
                os.fchmod(fd, mode)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
            os.fsync(directory)
            return size, actual
        except BaseException:
            try:
                os.unlink(temporary, dir_fd=directory)
            except OSError:
                pass
            raise
        finally:
            with self.lock:
                self.in_flight.discard(key)
            os.close(directory)

    def set_mode(self, rel, mode):
        if self.read_only:
            raise Refused(403, "this data pod mounts the claim read-only")
        fd = self.open_for_reading(rel)
        try:
            os.fchmod(fd, mode)
        finally:
            os.close(fd)

    def remove_in_flight(self):
        with self.lock:
            pending = list(self.in_flight)
        for directory, name in pending:
            try:
                os.unlink(os.path.join(self.root, directory, name))
            except OSError:
                pass


class Activity:
    """When the last request ended, and how many are running: what the idle timeout reads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.running = 0
        self.last = time.monotonic()

    def __enter__(self):
        with self.lock:
            self.running += 1

    def __exit__(self, *_):
        with self.lock:
            self.running -= 1
            self.last = time.monotonic()

    def idle_for(self):
        with self.lock:
            return 0 if self.running else time.monotonic() - self.last


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fair-data"
    store = None
    activity = None
    token = b""

    def setup(self):
        super().setup()
        # A response's head and body go out in separate writes: without this, Nagle holds the
        # body back until the client's delayed ACK, 40 ms later, for every small file.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):
        pass  # one line per file would drown the pod's log; failures are logged below

    def do_GET(self):
        self.handle_request(self.get)

    def do_PUT(self):
        self.handle_request(self.put)

    def do_POST(self):
        self.handle_request(self.post)

    def handle_request(self, action):
        with self.activity:
            path = urlsplit(self.path).path
            try:
                if path != "/healthz":
                    given = (self.headers.get("X-Fair-Data-Token") or "").encode()
                    if not hmac.compare_digest(given, self.token):
                        self.close_connection = True
                        raise Refused(401, "this data pod serves only the transfer that started it (X-Fair-Data-Token)")
                action(path)
            except Refused as refused:
                self.fail(refused.status, refused.message)
            except OSError as error:
                log(f"{self.command} {path}: {error}")
                self.fail(507 if error.errno in (errno.ENOSPC, errno.EDQUOT) else 500, f"{unquote(path)}: {error.strerror or error}")

    def relative(self, path, prefix):
        try:
            return unquote(path[len(prefix):], errors="strict")
        except UnicodeDecodeError:
            raise Refused(400, "the path is not percent-encoded UTF-8")

    def get(self, path):
        if path == "/healthz":
            self.reply(200, b"ok\n", "text/plain")
        elif path == "/manifest":
            self.send_manifest()
        elif path.startswith("/files/"):
            fd = self.store.open_for_reading(self.relative(path, "/files/"))
            with os.fdopen(fd, "rb") as file:
                size = os.fstat(file.fileno()).st_size
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                # Straight from the page cache to the socket (sendfile), CHUNK by CHUNK.
                sent = self.connection.sendfile(file, 0, size) if size else 0
                if sent != size:
                    self.close_connection = True  # the file shrank: the client sees a short body
        else:
            raise Refused(404, f"no such endpoint: GET {path}")

    def send_manifest(self):
        # Chunked: the walk may take a while on a big claim, and its length is known only at the end.
        started = False
        pending = []

        def flush():
            data = b"".join(pending)
            pending.clear()
            if data:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

        def write(entry):
            nonlocal started
            if not started:
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                started = True
            pending.append(json.dumps(entry, ensure_ascii=False).encode("utf-8") + b"\n")
            if sum(map(len, pending)) >= 64 << 10:
                flush()

        try:
            self.store.manifest(write)
        except Refused:
            if started:
                self.close_connection = True
                return
            raise
        except OSError as error:
            if not started:
                raise
            # The head is out: ending without the last line tells the client the list is incomplete.
            log(f"manifest: {error}")
            self.close_connection = True
            return
        flush()
        self.wfile.write(b"0\r\n\r\n")

    def put(self, path):
        # Until the body is read, a refusal leaves it unread: the connection cannot be used again.
        self.close_connection = True
        if not path.startswith("/files/"):
            raise Refused(404, f"no such endpoint: PUT {path}")
        rel = self.relative(path, "/files/")
        mode = parse_mode(self.headers.get("X-Fair-Mode"))
        expected = self.headers.get("X-Fair-Sha256")
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        length = self.headers.get("Content-Length")
        if not chunked and (length is None or not length.isdigit()):
            raise Refused(411, "a PUT needs a Content-Length")
        size, digest = self.store.receive(rel, None if chunked else int(length), self.chunked_body if chunked else self.body,
                                          expected, mode)
        self.close_connection = False
        self.reply(201, json.dumps({"path": rel, "size": size, "sha256": digest}).encode() + b"\n")

    def post(self, path):
        if path == "/done":
            self.close_connection = True
            self.reply(200, b'{"done": true}\n')
            threading.Thread(target=self.server.shutdown, daemon=True).start()
        elif path.startswith("/modes/"):
            self.discard_body()
            self.store.set_mode(self.relative(path, "/modes/"), parse_mode(self.headers.get("X-Fair-Mode")))
            self.reply(200, b'{"mode": true}\n')
        else:
            raise Refused(404, f"no such endpoint: POST {path}")

    def body(self, length):
        remaining = length
        while remaining > 0:
            block = self.rfile.read(min(CHUNK, remaining))
            if not block:
                raise Refused(400, f"the body ended after {length - remaining} of {length} bytes")
            remaining -= len(block)
            yield block

    def chunked_body(self, _):
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise Refused(400, "malformed chunked body")
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return
            yield from self.body(size)
            self.rfile.readline(1024)

    def discard_body(self):
        length = self.headers.get("Content-Length")
        if length and length.isdigit():
            for _ in self.body(int(length)):
                pass

    def fail(self, status, message):
        try:
            self.reply(status, json.dumps({"error": message}).encode() + b"\n")
        except OSError:
            self.close_connection = True

    def reply(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    # ThreadingHTTPServer spelled out: it is only in Python 3.7 and later, and images vary.
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def main():
    parser = argparse.ArgumentParser(description="Serves a directory of a claim for fair data push and pull.")
    parser.add_argument("--root", required=True, help="where the claim is mounted")
    parser.add_argument("--path", default="", help="the directory in the claim, relative to its root")
    parser.add_argument("--bind", default=os.environ.get("FAIR_BIND") or "0.0.0.0")
    parser.add_argument("--port", type=int, default=8470)
    parser.add_argument("--idle-timeout", type=float, default=300)
    parser.add_argument("--read-only", action="store_true")
    args = parser.parse_args()

    token = os.environ.get("FAIR_DATA_TOKEN", "")
    if len(token) < 32:
        log("FAIR_DATA_TOKEN is missing or shorter than 32 characters: refusing to serve the claim to anyone who asks")
        return 2
    Handler.token = token.encode()
    try:
        store = Store(args.root, args.path, args.read_only)
    except Refused as refused:
        log(refused.message)
        return 2
    activity = Activity()
    Handler.store, Handler.activity = store, activity
    family_server = Server
    if ":" in args.bind:
        class Server6(Server):
            address_family = socket.AF_INET6
        family_server = Server6
    try:
        server = family_server((args.bind, args.port), Handler)
    except OSError as error:
        log(f"cannot listen on {args.bind}:{args.port}: {error}")
        return 1

    def stop(signum, _frame):
        store.remove_in_flight()
        log(f"stopped by signal {signum}")
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)

    def watch_idle():
        while True:
            time.sleep(1)
            if activity.idle_for() > args.idle_timeout:
                log(f"no request for {args.idle_timeout:g}s: exiting")
                server.shutdown()
                return

    threading.Thread(target=watch_idle, daemon=True).start()
    log(f"serving {os.path.join(args.root, args.path)} on {args.bind}:{args.port}" + (" (read-only)" if args.read_only else ""))
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    # A transfer still running when told to stop leaves no half-written file behind.
    store.remove_in_flight()
    return 0


if __name__ == "__main__":
    sys.exit(main())
