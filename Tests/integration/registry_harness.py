"""Real registries for the integration tests of `fair push/pull/login/logout`.

Everything here listens on 127.0.0.0/8 only, on ports the kernel hands out, and is stopped by its
owner (a Registry process by its PID, the in-process servers by closing their sockets):

- Registry: distribution 2.8 (`docker-registry serve`) with auth "none", "htpasswd" or "token",
  filesystem storage in its own temporary directory, kill/restart on the same port and storage.
- TokenServer: the Docker token flow (GET /token, and the OAuth2 POST form), RS256 JWTs that
  distribution 2.8 verifies through the `x5c` header (and/or a libtrust `kid`).
- FaultProxy: an HTTP/1.1 reverse proxy in front of a Registry that records every request and
  injects faults (error statuses, redirects of blob GETs to a BlobMirror, corrupted blob bodies,
  connections cut mid-transfer).
- BlobMirror: serves blobs from another host:port, the way a registry's storage redirect does.
- DockerConfig: a DOCKER_CONFIG directory (config.json) and a fake credential helper.
- make_oci_layout: a tiny OCI image layout written by hand, for skopeo to push.
"""
import base64
import datetime
import gzip
import hashlib
import http.client
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qs, urlsplit

DEFAULT_USERNAME = "fair"
DEFAULT_PASSWORD = "s3cret!"
TOKEN_SERVICE = "fair-test-registry"
TOKEN_ISSUER = "fair-test-issuer"
REGISTRY_BINARY = os.environ.get("FAIR_TEST_REGISTRY_BIN", "/usr/bin/docker-registry")

BLOB_GET_PATH = re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<digest>[a-z0-9]+:[a-zA-Z0-9=_-]+)$")
BLOB_UPLOAD_PATH = re.compile(r"^/v2/(?P<name>.+)/blobs/uploads/")
REPOSITORY_PATH = re.compile(r"^/v2/(?P<name>.+)/(manifests|blobs|tags)/")


class HarnessError(Exception):
    """A server of the harness did not start, or stop, as it should."""


def free_port(host="127.0.0.1"):
    """A TCP port nothing listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout, what, interval=0.05):
    """Polls predicate() until it is truthy; HarnessError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise HarnessError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _tail(path, max_chars=20000):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as error:
        return f"(no log: {error})"
    return text if len(text) <= max_chars else "...\n" + text[-max_chars:]


def _registry_error_body(status, message):
    code = {400: "UNSUPPORTED", 401: "UNAUTHORIZED", 403: "DENIED", 404: "NOT_FOUND",
            429: "TOOMANYREQUESTS", 503: "UNAVAILABLE"}.get(status, "UNKNOWN")
    return json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()


# ---------------------------------------------------------------------------------------------
# In-process HTTP servers


class _Server(ThreadingHTTPServer):
    """A threaded HTTP server that remembers its open connections, so close() can cut them."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, owner):
        self.owner = owner
        self.open_connections = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.open_connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        self.owner._log(f"handler error for {client_address}: {sys.exc_info()[1]!r}")

    def cut_all_connections(self):
        with self.connections_lock:
            connections = list(self.open_connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _ServerBase:
    """Start/stop, address and a log file shared by TokenServer, FaultProxy and BlobMirror."""

    name = "server"
    handler_class = None

    def __init__(self, bind_host="127.0.0.1", workdir=None):
        self._owns_dir = workdir is None
        self.dir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"fair-{self.name}-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.dir / f"{self.name}.log"
        self.bind_host = bind_host
        self.lock = threading.RLock()
        self._server = None
        self._thread = None
        self.port = None

    @property
    def host(self):
        return f"{self.bind_host}:{self.port}"

    @property
    def url(self):
        return f"http://{self.host}"

    def _log(self, message):
        stamp = datetime.datetime.now().strftime("%H:%M:%S.%f")[:-3]
        try:
            with self.lock, open(self.log_path, "a") as log:
                log.write(f"{stamp} {message}\n")
        except OSError:
            pass  # the directory is gone: the server is being closed

    def log_tail(self, max_chars=20000):
        return _tail(self.log_path, max_chars)

    def describe(self):
        return f"{self.name} {self.url if self.port else '(not started)'}"

    def start(self):
        if self._server is not None:
            return self
        self._server = _Server((self.bind_host, 0), self.handler_class, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"{self.name}:{self.port}", daemon=True)
        self._thread.start()
        self._log(f"listening on {self.url}")
        return self

    def stop(self):
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.cut_all_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._log("stopped")

    def close(self):
        self.stop()
        if self._owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # idle keep-alive connections and stalled clients end after this

    @property
    def owner(self):
        return self.server.owner

    def log_message(self, format, *args):
        self.owner._log(f"{self.client_address[0]}:{self.client_address[1]} {format % args}")

    def send_simple(self, status, body=b"", headers=None, content_type="application/json"):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body or status not in (204, 304):
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def read_body(self):
        """The whole request body (Content-Length or chunked)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return b"".join(_read_chunked(self.rfile))
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass


def _read_chunked(rfile, piece=65536):
    """Yields the decoded data of a chunked request body read from rfile."""
    while True:
        line = rfile.readline(65537)
        if not line:
            raise ConnectionError("connection closed inside a chunked body")
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while True:
                trailer = rfile.readline(65537)
                if trailer in (b"\r\n", b"\n", b""):
                    return
        remaining = size
        while remaining:
            data = rfile.read(min(remaining, piece))
            if not data:
                raise ConnectionError("connection closed inside a chunk")
            remaining -= len(data)
            yield data
        rfile.readline(3)


def _authorization(headers):
    """(present, scheme, user, password) of an Authorization header."""
    value = headers.get("Authorization")
    if not value:
        return False, None, None, None
    scheme, _, rest = value.partition(" ")
    if scheme.lower() != "basic":
        return True, scheme, None, None
    try:
        user, _, password = base64.b64decode(rest.strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return True, "Basic", None, None
    return True, "Basic", user, password


# ---------------------------------------------------------------------------------------------
# Token server


@dataclass
class TokenRequest:
    method: str
    path: str
    query: dict
    scopes: list
    service: Optional[str]
    account: Optional[str]
    authorization: bool  # an Authorization header arrived
    username: Optional[str]  # the Basic (or form) user name, whether right or wrong
    authenticated: bool  # the credentials were right
    grant_type: Optional[str] = None  # POST (OAuth2) requests only
    status: int = 0
    access: list = field(default_factory=list)  # what was granted
    expires_in: Optional[int] = None


def parse_scope(scope):
    """'repository:NAME:pull,push' -> ('repository', 'NAME', ['pull', 'push'])."""
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    return kind, name, [a for a in actions.split(",") if a]


def libtrust_key_id(public_key):
    """The libtrust fingerprint distribution 2.8 uses as key id for the certificates of its
    rootcertbundle: SHA-256 of the DER SubjectPublicKeyInfo, first 240 bits, base32, 12 groups of 4."""
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode("ascii").rstrip("=")
    return ":".join(encoded[i:i + 4] for i in range(0, len(encoded), 4))


class _TokenHandler(_Handler):
    def do_GET(self):
        split = urlsplit(self.path)
        query = parse_qs(split.query, keep_blank_values=True)
        present, _, user, password = _authorization(self.headers)
        self.owner._answer(self, "GET", split.path, query, present, user, password, None, None)

    def do_POST(self):
        split = urlsplit(self.path)
        body = self.read_body().decode("utf-8", "replace")
        form = parse_qs(body, keep_blank_values=True)
        present, _, user, password = _authorization(self.headers)
        if not self.owner.oauth2_post:
            self.owner._record(TokenRequest("POST", split.path, form, [], None, None, present, user, False,
                                            form.get("grant_type", [None])[0], 404))
            self.send_simple(404, b'{"error":"not_found"}')
            return
        grant_type = form.get("grant_type", [None])[0]
        refresh = form.get("refresh_token", [None])[0]
        if grant_type == "password":
            user, password = form.get("username", [None])[0], form.get("password", [None])[0]
        self.owner._answer(self, "POST", split.path, form, present or grant_type == "password", user, password,
                           grant_type, refresh)


class TokenServer(_ServerBase):
    """The Docker token flow for a token-auth Registry.

    GET /token?service=S&scope=repository:NAME:pull,push&scope=... with optional Basic credentials:
    right credentials get the actions they ask for (pull, push, delete, *; registry:catalog:*),
    anonymous requests get `anonymous_actions` (none by default, so anonymous pulls and pushes both
    fail at the registry with 401), wrong credentials get 401 from here.
    POST /token (the OAuth2 form: grant_type=password or refresh_token) is answered too unless
    oauth2_post is False (then 404, as from servers that only do GET).

    The JWT is RS256, signed by a fresh RSA key whose self-signed certificate (`cert_path`) is the
    registry's rootcertbundle. Distribution 2.8 takes the signing key from the header's `x5c`
    (verified against the bundle) or, when there is no x5c, looks the `kid` up among the bundle's
    keys by libtrust fingerprint: key_header is "x5c", "kid" or "both" (x5c wins then).
    The registry allows 60 s of clock leeway on exp/nbf: a token that must already be rejected
    needs claim_lifetime <= -61 (see set_expiry)."""

    name = "token-server"
    handler_class = _TokenHandler

    def __init__(self, username=DEFAULT_USERNAME, password=DEFAULT_PASSWORD, service=TOKEN_SERVICE,
                 issuer=TOKEN_ISSUER, expires_in=300, key_header="x5c", anonymous_actions=(),
                 oauth2_post=True, workdir=None):
        super().__init__("127.0.0.1", workdir)
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        if key_header not in ("x5c", "kid", "both"):
            raise ValueError(f"key_header must be x5c, kid or both, not {key_header!r}")
        self.username = username
        self.password = password
        self.service = service
        self.issuer = issuer
        self.key_header = key_header
        self.anonymous_actions = tuple(anonymous_actions)
        self.oauth2_post = oauth2_post
        self.expires_in = expires_in
        self.claim_lifetime = None  # None: the exp claim follows expires_in
        self.policy = None  # optional callable(username or None, type, name, actions) -> granted actions
        self.requests = []
        self._faults = []
        self._refresh_tokens = {}

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = datetime.datetime.now(datetime.timezone.utc)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)])
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_path = self.dir / "token-signing-cert.pem"
        self.cert_path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        self.cert_der_b64 = base64.b64encode(self.certificate.public_bytes(serialization.Encoding.DER)).decode()
        self.key_id = libtrust_key_id(self.key.public_key())

    @property
    def realm(self):
        return f"{self.url}/token"

    # -- configuration at run time

    def set_expiry(self, expires_in, claim_lifetime=None):
        """Tokens from now on report `expires_in` seconds; their exp claim is now + claim_lifetime
        (default: expires_in). The registry adds 60 s leeway, so claim_lifetime=-120 makes tokens
        the registry refuses at once, whatever expires_in says."""
        with self.lock:
            self.expires_in = expires_in
            self.claim_lifetime = claim_lifetime

    def fail_next(self, n=1, status=500):
        """Answers the next n token requests with `status` (no token)."""
        with self.lock:
            self._faults.append([n, status])

    # -- records

    def _record(self, request):
        with self.lock:
            self.requests.append(request)
        self._log(f"{request.method} {request.path} scopes={request.scopes} user={request.username!r} "
                  f"auth={request.authorization} -> {request.status} access={request.access}")

    def clear(self):
        with self.lock:
            self.requests.clear()

    def requested_scopes(self):
        with self.lock:
            return [scope for request in self.requests for scope in request.scopes]

    # -- tokens

    def grant(self, username, scopes):
        """The access entries a token for `username` (None: anonymous) gets for these scopes."""
        access = []
        for scope in scopes:
            kind, name, actions = parse_scope(scope)
            if self.policy is not None:
                granted = list(self.policy(username, kind, name, actions))
            elif username is None:
                granted = [a for a in actions if kind == "repository" and a in self.anonymous_actions]
            elif kind == "repository":
                granted = [a for a in actions if a in ("pull", "push", "delete", "*")]
            elif kind == "registry" and name == "catalog":
                granted = [a for a in actions if a == "*"]
            else:
                granted = []
            if granted:
                access.append({"type": kind, "name": name, "actions": granted})
        return access

    def issue(self, username=None, scopes=(), access=None, lifetime=None):
        """A signed JWT, without going through HTTP (nothing is recorded)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        now = int(time.time())
        with self.lock:
            if lifetime is None:
                lifetime = self.claim_lifetime if self.claim_lifetime is not None else self.expires_in
        header = {"typ": "JWT", "alg": "RS256"}
        if self.key_header in ("x5c", "both"):
            header["x5c"] = [self.cert_der_b64]
        if self.key_header in ("kid", "both"):
            header["kid"] = self.key_id
        claims = {
            "iss": self.issuer,
            "sub": username or "",
            "aud": self.service,
            "exp": now + lifetime,
            "nbf": now - 1,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": self.grant(username, scopes) if access is None else access,
        }
        signing_input = _b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
            _b64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = self.key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(signature)

    def _answer(self, handler, method, path, params, present, user, password, grant_type, refresh):
        scopes = [s for value in params.get("scope", []) for s in value.split(" ") if s]
        record = TokenRequest(method, path, {k: list(v) for k, v in params.items()}, scopes,
                              params.get("service", [None])[0], params.get("account", [None])[0],
                              present, user, False, grant_type)
        with self.lock:
            fault = next((f for f in self._faults if f[0] > 0), None)
            if fault:
                fault[0] -= 1
        if fault:
            record.status = fault[1]
            self._record(record)
            handler.send_simple(fault[1], json.dumps({"errors": [{"code": "UNAVAILABLE",
                                                                  "message": "injected"}]}).encode())
            return
        if grant_type == "refresh_token":
            with self.lock:
                user = self._refresh_tokens.get(refresh)
            authenticated = user is not None
            bad = not authenticated
        elif present:
            authenticated = user == self.username and password == self.password
            bad = not authenticated
        else:
            authenticated, bad = False, False
        if bad:
            record.status = 401
            self._record(record)
            headers = {"WWW-Authenticate": 'Basic realm="fair-test-token-server"'}
            handler.send_simple(401, json.dumps({"errors": [{"code": "UNAUTHORIZED",
                                                             "message": "authentication required"}]}).encode(), headers)
            return
        record.authenticated = authenticated
        username = user if authenticated else None
        access = self.grant(username, scopes)
        token = self.issue(username, access=access)
        with self.lock:
            expires_in = self.expires_in
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        body = {"token": token, "access_token": token, "expires_in": expires_in,
                "issued_at": now.isoformat().replace("+00:00", "Z")}
        if method == "POST":
            body = {"access_token": token, "expires_in": expires_in, "issued_at": body["issued_at"],
                    "scope": " ".join(scopes)}
            if authenticated and params.get("access_type", [None])[0] == "offline":
                refresh_token = uuid.uuid4().hex
                with self.lock:
                    self._refresh_tokens[refresh_token] = username
                body["refresh_token"] = refresh_token
        record.status, record.access, record.expires_in = 200, access, expires_in
        self._record(record)
        handler.send_simple(200, json.dumps(body).encode())


# ---------------------------------------------------------------------------------------------
# The registry


class Registry:
    """distribution 2.8 on 127.0.0.1:<free port>, storage and logs in its own temporary directory.

    mode: "none", "htpasswd" (bcrypt file from `htpasswd -Bbn`) or "token" (realm = a TokenServer,
    made and owned here unless one is passed). start() waits for GET /v2/ to answer; stop() sends
    SIGTERM then SIGKILL to the PID; kill() sends SIGKILL at once; start() again reuses the port,
    the storage and the http.secret (so upload sessions survive a restart)."""

    def __init__(self, mode="none", *, relative_urls=False, username=DEFAULT_USERNAME,
                 password=DEFAULT_PASSWORD, token_server=None, workdir=None, debug=False, log_level="info",
                 start_timeout=30):
        if mode not in ("none", "htpasswd", "token"):
            raise ValueError(f"mode must be none, htpasswd or token, not {mode!r}")
        self.mode = mode
        self.relative_urls = relative_urls
        self.username = username
        self.password = password
        self.debug = debug
        self.log_level = log_level
        self.start_timeout = start_timeout
        self._owns_dir = workdir is None
        self.dir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="fair-registry-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.storage_dir = self.dir / "storage"
        self.storage_dir.mkdir(exist_ok=True)
        self.config_path = self.dir / "config.yml"
        self.log_path = self.dir / "registry.log"
        self.htpasswd_path = None
        self.secret = uuid.uuid4().hex
        self.port = free_port()
        self.debug_port = free_port() if debug else None
        self.process = None
        self.pids = []  # every PID this registry has had, for leak checks
        self._started_once = False
        self._owns_token_server = False
        self.token_server = token_server
        if mode == "token" and token_server is None:
            self.token_server = TokenServer(username, password, workdir=self.dir / "token-server")
            self._owns_token_server = True
        if mode == "htpasswd":
            self.htpasswd_path = self.dir / "htpasswd"
            result = subprocess.run(["htpasswd", "-Bbn", username, password], capture_output=True, text=True,
                                    timeout=60)
            if result.returncode != 0:
                raise HarnessError(f"htpasswd failed: {result.stderr}")
            self.htpasswd_path.write_text(result.stdout.strip() + "\n")

    # -- addresses

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    @property
    def url(self):
        return f"http://{self.host}"

    @property
    def creds(self):
        """"user:password" for skopeo's --src-creds/--dest-creds; None without auth."""
        return None if self.mode == "none" else f"{self.username}:{self.password}"

    def ref(self, repository, tag="latest"):
        separator = "@" if ":" in tag else ":"
        return f"{self.host}/{repository}{separator}{tag}"

    def describe(self):
        return f"registry ({self.mode}) {self.url}"

    def log_tail(self, max_chars=20000):
        return _tail(self.log_path, max_chars)

    # -- configuration

    def config(self):
        http_section = {
            "addr": self.host,
            "secret": self.secret,
            "relativeurls": bool(self.relative_urls),
            "headers": {"X-Content-Type-Options": ["nosniff"]},
        }
        if self.debug_port:
            http_section["debug"] = {"addr": f"127.0.0.1:{self.debug_port}"}
        config = {
            "version": "0.1",
            "log": {"level": self.log_level, "formatter": "text", "fields": {"service": "registry"}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.storage_dir)},
                "delete": {"enabled": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": http_section,
            "health": {"storagedriver": {"enabled": False}},
        }
        if self.mode == "htpasswd":
            config["auth"] = {"htpasswd": {"realm": "fair-test-realm", "path": str(self.htpasswd_path)}}
        elif self.mode == "token":
            config["auth"] = {"token": {
                "realm": self.token_server.realm,
                "service": self.token_server.service,
                "issuer": self.token_server.issuer,
                "rootcertbundle": str(self.token_server.cert_path),
            }}
        return config

    # -- process

    def _answers(self):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            try:
                connection.request("GET", "/v2/")
                connection.getresponse().read()
                return True
            finally:
                connection.close()
        except OSError:
            return False

    def running(self):
        return self.process is not None and self.process.poll() is None

    def start(self):
        if self.running():
            return self
        if self.token_server is not None and self._owns_token_server:
            self.token_server.start()
        for attempt in range(3):
            if self.mode == "token" and self.token_server.port is None:
                raise HarnessError("start the token server before a token-auth registry")
            # JSON is YAML: no YAML library needed.
            self.config_path.write_text(json.dumps(self.config(), indent=2) + "\n")
            env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
            with open(self.log_path, "a") as log:
                log.write(f"==== starting {REGISTRY_BINARY} serve {self.config_path} on {self.host}\n")
                log.flush()
                self.process = subprocess.Popen([REGISTRY_BINARY, "serve", str(self.config_path)],
                                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                                env=env, cwd=self.dir, start_new_session=True)
            self.pids.append(self.process.pid)
            deadline = time.monotonic() + self.start_timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                if self._answers():
                    self._started_once = True
                    return self
                time.sleep(0.05)
            if self.process.poll() is None:
                self.kill()
                raise HarnessError(f"registry did not answer GET /v2/ within {self.start_timeout}s:\n"
                                   f"{self.log_tail()}")
            log_text = self.log_tail()
            if "address already in use" in log_text and not self._started_once and attempt < 2:
                self.port = free_port()  # lost the race for the port: take another one
                continue
            raise HarnessError(f"registry exited with {self.process.returncode}:\n{log_text}")
        raise HarnessError("registry could not get a port")

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL after `timeout` seconds; waits for the PID to be reaped."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.kill(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        except ProcessLookupError:
            process.wait(timeout=30)

    def kill(self):
        """SIGKILL at once (a registry that dies mid-request)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.kill(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)

    def restart(self):
        self.stop()
        return self.start()

    def close(self):
        self.stop()
        if self._owns_token_server and self.token_server is not None:
            self.token_server.close()
        if self._owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # -- storage

    def blob_path(self, digest):
        algorithm, _, hexdigest = digest.partition(":")
        return self.storage_dir / "docker/registry/v2/blobs" / algorithm / hexdigest[:2] / hexdigest / "data"

    def has_blob(self, digest):
        return self.blob_path(digest).is_file()

    def read_blob(self, digest):
        path = self.blob_path(digest)
        return path.read_bytes() if path.is_file() else None

    def stored_repositories(self):
        root = self.storage_dir / "docker/registry/v2/repositories"
        if not root.is_dir():
            return []
        return sorted(str(p.parent.relative_to(root)) for p in root.rglob("_manifests"))

    # -- HTTP API (authenticated as the registry's user unless auth=False)

    def auth_header(self, method="GET", path="/v2/", username=None, password=None):
        """The Authorization header value a client of this registry sends, or None."""
        username = username or self.username
        password = password if password is not None else self.password
        if self.mode == "htpasswd":
            return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        if self.mode == "token":
            scopes = []
            if path.startswith("/v2/_catalog"):
                scopes.append("registry:catalog:*")
            else:
                match = REPOSITORY_PATH.match(path)
                if match:
                    actions = "pull" if method in ("GET", "HEAD") else "pull,push"
                    if method == "DELETE":
                        actions = "pull,push,delete"
                    scopes.append(f"repository:{match.group('name')}:{actions}")
            authenticated = username == self.token_server.username and password == self.token_server.password
            return "Bearer " + self.token_server.issue(username if authenticated else None, scopes)
        return None

    def api(self, method, path, body=None, headers=None, auth=True, base=None, timeout=60):
        """One request straight to the registry (or to `base`, "host:port", e.g. a proxy).
        Returns (status, headers with lower-case names, body bytes); redirects are not followed."""
        headers = dict(headers or {})
        if auth and self.mode != "none" and "Authorization" not in headers:
            headers["Authorization"] = self.auth_header(method, urlsplit(path).path)
        host, _, port = (base or self.host).rpartition(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            connection.close()

    def manifest(self, repository, reference, accept=None):
        """(status, digest or None, body) of GET /v2/<repository>/manifests/<reference>."""
        accept = accept or ", ".join([
            "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json"])
        status, headers, body = self.api("GET", f"/v2/{repository}/manifests/{reference}", headers={"Accept": accept})
        return status, headers.get("docker-content-digest"), body

    def tags(self, repository):
        """The repository's tags, or None when it does not exist."""
        status, _, body = self.api("GET", f"/v2/{repository}/tags/list")
        if status == 404:
            return None
        if status != 200:
            raise HarnessError(f"tags/list of {repository}: {status} {body[:500]!r}")
        return json.loads(body).get("tags") or []

    def catalog(self):
        status, _, body = self.api("GET", "/v2/_catalog")
        if status != 200:
            raise HarnessError(f"_catalog: {status} {body[:500]!r}")
        return json.loads(body).get("repositories") or []


# ---------------------------------------------------------------------------------------------
# Blob mirror (the other end of a storage redirect)


@dataclass
class MirrorRequest:
    method: str
    path: str
    query: str
    headers: dict
    authorization: bool
    status: int = 0
    body_bytes: int = 0


class _MirrorHandler(_Handler):
    def do_GET(self):
        self.owner._serve(self)

    def do_HEAD(self):
        self.owner._serve(self)


class BlobMirror(_ServerBase):
    """Serves blobs by digest at http://127.0.0.2:<port>/blobs/<digest> (127.0.0.1 where 127.0.0.2
    cannot be bound): another host and port than the registry's, as a storage redirect would be.
    Bytes come from the source Registry's storage directory, or from put(). Records whether an
    Authorization header arrived with each request. Single byte ranges are supported."""

    name = "blob-mirror"
    handler_class = _MirrorHandler

    def __init__(self, source=None, bind_host="127.0.0.2", workdir=None):
        super().__init__(bind_host, workdir)
        self.source = source
        self.blobs = {}
        self.requests = []

    def start(self):
        try:
            return super().start()
        except OSError:
            self.bind_host = "127.0.0.1"
            return super().start()

    def blob_url(self, name, digest):
        return f"{self.url}/blobs/{digest}?repository={name}&expires=300"

    def put(self, data):
        digest = sha256_digest(data)
        with self.lock:
            self.blobs[digest] = data
        return digest

    def _bytes(self, digest):
        with self.lock:
            if digest in self.blobs:
                return self.blobs[digest]
        if self.source is not None:
            return self.source.read_blob(digest)
        return None

    def clear(self):
        with self.lock:
            self.requests.clear()

    def _serve(self, handler):
        split = urlsplit(handler.path)
        record = MirrorRequest(handler.command, split.path, split.query, dict(handler.headers.items()),
                               "Authorization" in handler.headers)
        with self.lock:
            self.requests.append(record)
        digest = split.path.rsplit("/", 1)[-1]
        data = self._bytes(digest) if split.path.startswith("/blobs/") else None
        if data is None:
            record.status = 404
            handler.send_simple(404, b"not found\n", content_type="text/plain")
            self._log(f"{record.method} {handler.path} auth={record.authorization} -> 404")
            return
        start, end, status = 0, len(data), 200
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", handler.headers.get("Range", "").strip())
        if match and int(match.group(1)) < len(data):
            start = int(match.group(1))
            end = min(len(data), int(match.group(2)) + 1) if match.group(2) else len(data)
            status = 206
        # Recorded before anything goes out: once the client has the response, a test may read the record.
        record.status = status
        if handler.command != "HEAD":
            record.body_bytes = end - start
        handler.send_response(status)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(end - start))
        handler.send_header("Accept-Ranges", "bytes")
        if status == 206:
            handler.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data[start:end])
        self._log(f"{record.method} {handler.path} auth={record.authorization} -> {status} {end - start} bytes")


# ---------------------------------------------------------------------------------------------
# Fault proxy

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
              "trailer", "trailers", "transfer-encoding", "upgrade", "expect"}


@dataclass
class ProxyRequest:
    method: str
    path: str
    query: str
    headers: dict  # as the client sent them (names as sent)
    authorization: bool
    auth_scheme: Optional[str]
    body_bytes: int = 0  # request body bytes received from the client
    status: int = 0  # what the client got (0: the connection was cut first)
    response_bytes: int = 0
    fault: Optional[str] = None  # "fail", "redirect", "corrupt", "drop", "upstream-error"
    location: Optional[str] = None  # Location header as sent to the client

    @property
    def target(self):
        return self.path + ("?" + self.query if self.query else "")

    @property
    def is_blob_upload(self):
        return self.method in ("POST", "PATCH", "PUT") and bool(BLOB_UPLOAD_PATH.match(self.path))


@dataclass
class _Rule:
    kind: str
    remaining: int
    match: Optional[re.Pattern]
    status: int = 500
    retry_after: Optional[str] = None
    headers: dict = field(default_factory=dict)
    body: Optional[bytes] = None
    limit: int = 0
    response: bool = False

    def matches(self, method, target):
        return self.remaining > 0 and (self.match is None or bool(self.match.search(f"{method} {target}")))


class _DropConnection(Exception):
    pass


class _ProxyHandler(_Handler):
    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, socket.timeout, _DropConnection):
            self.close_connection = True

    def _dispatch(self):
        self.owner._proxy(self)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _dispatch

    def cut(self):
        """Ends the client connection at once, without a response."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class FaultProxy(_ServerBase):
    """An HTTP/1.1 reverse proxy in front of a Registry (or "host:port"): streams bodies both ways
    (Content-Length or chunked), keeps client connections alive, records every request, rewrites
    the registry's absolute Location headers to point at itself, and injects faults on demand.

    Rules are tried in the order they were added; `match` is a regex searched in "METHOD /path?query"."""

    name = "fault-proxy"
    handler_class = _ProxyHandler

    def __init__(self, upstream, workdir=None, upstream_timeout=300):
        super().__init__("127.0.0.1", workdir)
        self.upstream = upstream
        self.upstream_timeout = upstream_timeout
        self.requests = []
        self._rules = []
        self.mirror = None
        self._owns_mirror = False
        self._redirect_digest = None
        self._corrupt = None  # None, "all" or a set of digests
        self.relative_locations = False

    @property
    def upstream_host(self):
        if isinstance(self.upstream, str):
            return self.upstream.split("://", 1)[-1].rstrip("/")
        return self.upstream.host

    def ref(self, repository, tag="latest"):
        separator = "@" if ":" in tag else ":"
        return f"{self.host}/{repository}{separator}{tag}"

    # -- faults

    def fail_next(self, n=1, status=500, retry_after=None, match=None, headers=None, body=None):
        """Answers the next n matching requests with `status` (plus Retry-After, extra headers and a
        registry-style JSON error body) without forwarding them."""
        with self.lock:
            self._rules.append(_Rule("fail", n, re.compile(match) if match else None, status,
                                     None if retry_after is None else str(retry_after), dict(headers or {}), body))

    def drop_connection_after(self, nbytes, match=None, times=1, response=False):
        """Cuts the client connection (and the upstream one) once `nbytes` bytes of a matching
        request's body have been forwarded (response=True: of its response body), `times` times.
        A request whose body is smaller goes through and leaves the rule armed."""
        with self.lock:
            self._rules.append(_Rule("drop", times, re.compile(match) if match else None, limit=nbytes,
                                     response=response))

    def redirect_blob_gets_to(self, other_server=None, digest=None):
        """GET /v2/<name>/blobs/<digest> that the registry would answer 200 gets a 307 to the
        mirror instead (absolute URL, other host:port). Without other_server a BlobMirror over the
        upstream Registry's storage is made, started and owned here. Returns the mirror."""
        if other_server is None:
            other_server = BlobMirror(self.upstream if isinstance(self.upstream, Registry) else None,
                                      workdir=self.dir / "mirror").start()
            self._owns_mirror = True
        with self.lock:
            self.mirror = other_server
            self._redirect_digest = digest
        return other_server

    def corrupt_blob_gets(self, digest="all"):
        """Blob GETs go through, but with bytes flipped in the body (length unchanged)."""
        with self.lock:
            if digest == "all" or self._corrupt == "all":
                self._corrupt = "all"
            else:
                self._corrupt = (self._corrupt or set()) | {digest}

    def rewrite_locations_relative(self, enabled=True):
        """Absolute Location headers pointing at the registry or the proxy become path?query."""
        with self.lock:
            self.relative_locations = enabled

    def clear_faults(self):
        """Forgets every rule, redirect, corruption and Location rewrite (an owned mirror is closed)."""
        with self.lock:
            self._rules.clear()
            mirror, owned = self.mirror, self._owns_mirror
            self.mirror, self._owns_mirror = None, False
            self._redirect_digest = None
            self._corrupt = None
            self.relative_locations = False
        if owned and mirror is not None:
            mirror.close()

    def _take(self, kind, method, target, response=None):
        with self.lock:
            for rule in self._rules:
                if rule.kind == kind and (response is None or rule.response == response) and \
                        rule.matches(method, target):
                    if kind == "fail":
                        rule.remaining -= 1
                    return rule
        return None

    # -- records

    def clear(self):
        with self.lock:
            self.requests.clear()

    def requests_matching(self, pattern=None, method=None):
        with self.lock:
            requests = list(self.requests)
        return [r for r in requests if (method is None or r.method == method)
                and (pattern is None or re.search(pattern, f"{r.method} {r.target}"))]

    def blob_upload_bytes(self):
        """Request body bytes sent to /v2/*/blobs/uploads/* (POST, PATCH, PUT)."""
        with self.lock:
            return sum(r.body_bytes for r in self.requests if r.is_blob_upload)

    def uploaded_blobs(self):
        """Digests of blob uploads the registry completed (201 to PUT or POST with ?digest=)."""
        digests = []
        for request in self.requests_matching():
            if request.is_blob_upload and request.status == 201 and request.method in ("PUT", "POST"):
                digest = parse_qs(request.query).get("digest")
                if digest:
                    digests.append(digest[0])
        return digests

    def mounted_blobs(self):
        """Digests of cross-repository mounts the registry accepted (201 to POST ?mount=)."""
        return [parse_qs(r.query)["mount"][0] for r in self.requests_matching(method="POST")
                if r.is_blob_upload and r.status == 201 and "mount" in parse_qs(r.query)]

    def blob_gets(self):
        return [r for r in self.requests_matching(method="GET") if BLOB_GET_PATH.match(r.path)]

    def manifest_puts(self):
        return [r for r in self.requests_matching(method="PUT") if "/manifests/" in r.path]

    def close(self):
        if self._owns_mirror and self.mirror is not None:
            self.mirror.close()
        super().close()

    # -- the proxy itself

    def _rewrite_location(self, location):
        split = urlsplit(location)
        own = {self.upstream_host, self.host, self.upstream_host.replace("127.0.0.1", "localhost")}
        if split.scheme and split.netloc in own:
            if self.relative_locations:
                return split.path + ("?" + split.query if split.query else "")
            return f"http://{self.host}{split.path}" + ("?" + split.query if split.query else "")
        return location

    def _proxy(self, handler):
        method = handler.command
        split = urlsplit(handler.path)
        present, scheme, _, _ = _authorization(handler.headers)
        record = ProxyRequest(method, split.path, split.query, dict(handler.headers.items()), present, scheme)
        with self.lock:
            self.requests.append(record)
        target = record.target

        chunked = "chunked" in handler.headers.get("Transfer-Encoding", "").lower()
        length = None if chunked else int(handler.headers.get("Content-Length") or 0)
        if chunked:
            raw_body = _read_chunked(handler.rfile)
        else:
            raw_body = _read_length(handler.rfile, length)

        def counted(source, rule):
            for data in source:
                if rule is not None and record.body_bytes + len(data) >= rule.limit:
                    keep = rule.limit - record.body_bytes
                    if keep > 0:
                        record.body_bytes += keep
                        yield data[:keep]
                    with self.lock:
                        rule.remaining -= 1
                    record.fault = "drop"
                    raise _DropConnection()
                record.body_bytes += len(data)
                yield data

        fail = self._take("fail", method, target)
        if fail is not None:
            for _ in counted(raw_body, None):
                pass
            body = fail.body if fail.body is not None else _registry_error_body(fail.status, "injected by the fault proxy")
            headers = dict(fail.headers)
            if fail.retry_after is not None:
                headers["Retry-After"] = fail.retry_after
            record.fault, record.status = "fail", fail.status
            self._log(f"{method} {target} -> {fail.status} (injected)")
            handler.send_simple(fail.status, body, headers)
            return

        drop = self._take("drop", method, target, response=False)
        if drop is not None and drop.limit == 0:
            with self.lock:
                drop.remaining -= 1
            record.fault = "drop"
            self._log(f"{method} {target} -> connection cut before forwarding")
            handler.cut()
            return

        headers = {}
        for name, value in handler.headers.items():
            if name.lower() in HOP_BY_HOP or name.lower() in ("host", "content-length"):
                continue
            headers[name] = headers[name] + ", " + value if name in headers else value
        headers["Host"] = self.upstream_host
        if chunked:
            headers["Transfer-Encoding"] = "chunked"
        elif length or method in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(length)
        has_body = chunked or bool(length)

        host, _, port = self.upstream_host.rpartition(":")
        upstream = http.client.HTTPConnection(host, int(port), timeout=self.upstream_timeout)
        try:
            try:
                upstream.request(method, target, body=counted(raw_body, drop) if has_body else None,
                                 headers=headers, encode_chunked=chunked)
                response = upstream.getresponse()
            except _DropConnection:
                self._log(f"{method} {target} -> connection cut after {record.body_bytes} request bytes")
                handler.cut()
                return
            except OSError as error:
                record.fault = "upstream-error"
                self._log(f"{method} {target} -> upstream error {error!r}")
                if isinstance(error, ConnectionRefusedError) and not record.body_bytes:
                    for _ in counted(raw_body, None):  # nothing was sent: read the body, answer 502
                        pass
                    record.status = 502
                    handler.send_simple(502, _registry_error_body(502, f"upstream: {error}"))
                    return
                handler.cut()
                return
            self._respond(handler, record, method, target, response, upstream)
        finally:
            upstream.close()

    def _respond(self, handler, record, method, target, response, upstream):
        status = response.status
        blob = BLOB_GET_PATH.match(record.path) if method == "GET" else None
        with self.lock:
            mirror, redirect_digest, corrupt = self.mirror, self._redirect_digest, self._corrupt
        if blob and mirror is not None and status == 200 and redirect_digest in (None, blob.group("digest")):
            location = mirror.blob_url(blob.group("name"), blob.group("digest"))
            record.fault, record.status, record.location = "redirect", 307, location
            self._log(f"{method} {target} -> 307 {location}")
            handler.send_simple(307, b"", {"Location": location}, content_type="text/plain")
            return  # the upstream connection is closed unread

        corrupting = bool(blob) and status in (200, 206) and corrupt is not None and \
            (corrupt == "all" or blob.group("digest") in corrupt)
        drop = self._take("drop", method, target, response=True)
        # Recorded before the status line goes out: once the client has it, a test may read the record.
        record.status = status
        if corrupting:
            record.fault = "corrupt"
        handler.send_response_only(status, response.reason)
        headers = response.getheaders()
        length = response.getheader("Content-Length")
        chunked = "chunked" in (response.getheader("Transfer-Encoding") or "").lower()
        for name, value in headers:
            lower = name.lower()
            if lower in HOP_BY_HOP:
                continue
            if lower == "location":
                value = self._rewrite_location(value)
                record.location = value
            handler.send_header(name, value)
        no_body = method == "HEAD" or status in (204, 304) or 100 <= status < 200
        use_chunks = not no_body and (chunked or length is None)
        if use_chunks:
            if handler.request_version == "HTTP/1.0":
                handler.close_connection = True
            else:
                handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        self._log(f"{method} {target} -> {status}" + (f" Location: {record.location}" if record.location else "")
                  + (" (corrupted)" if corrupting else ""))
        if no_body:
            return
        try:
            while True:
                data = response.read1(65536) if use_chunks else response.read(65536)
                if not data:
                    break
                if corrupting:
                    data = bytes([data[0] ^ 0xFF]) + data[1:]
                if drop is not None and record.response_bytes + len(data) >= drop.limit:
                    keep = drop.limit - record.response_bytes
                    if keep > 0:
                        record.response_bytes += keep
                        self._write(handler, data[:keep], use_chunks and handler.request_version != "HTTP/1.0")
                    with self.lock:
                        drop.remaining -= 1
                    record.fault = "drop"
                    self._log(f"{method} {target} -> connection cut after {record.response_bytes} response bytes")
                    handler.cut()
                    return
                record.response_bytes += len(data)  # counted first: the client may act as soon as it has them
                self._write(handler, data, use_chunks and handler.request_version != "HTTP/1.0")
            if use_chunks and handler.request_version != "HTTP/1.0":
                handler.wfile.write(b"0\r\n\r\n")
        except (OSError, http.client.HTTPException) as error:
            record.fault = record.fault or "upstream-error"
            self._log(f"{method} {target} -> body cut: {error!r}")
            handler.cut()

    @staticmethod
    def _write(handler, data, chunk):
        if chunk:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            handler.wfile.write(data)


def _read_length(rfile, length, piece=65536):
    remaining = length or 0
    while remaining > 0:
        data = rfile.read(min(remaining, piece))
        if not data:
            raise ConnectionError("connection closed inside a request body")
        remaining -= len(data)
        yield data


# ---------------------------------------------------------------------------------------------
# DOCKER_CONFIG and credential helpers

CREDENTIAL_HELPER = r'''#!{python}
"""A docker-credential-* helper over a JSON file, for tests (get/store/erase/list)."""
import json, os, sys, time
STORE = {store!r}
CALLS = {calls!r}
def load():
    try:
        with open(STORE) as f:
            return json.load(f)
    except FileNotFoundError:
        return {{}}
def save(data):
    tmp = STORE + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, STORE)
action = sys.argv[1] if len(sys.argv) > 1 else ""
payload = sys.stdin.read()
with open(CALLS, "a") as f:
    f.write(json.dumps({{"action": action, "input": payload if action != "store" else
                        {{k: v for k, v in json.loads(payload or "{{}}").items() if k != "Secret"}},
                        "time": time.time()}}) + "\n")
data = load()
if action == "get":
    server = payload.strip()
    if server not in data:
        print("credentials not found in native keychain")
        sys.exit(1)
    entry = data[server]
    print(json.dumps({{"ServerURL": server, "Username": entry["Username"], "Secret": entry["Secret"]}}))
elif action == "store":
    entry = json.loads(payload)
    data[entry["ServerURL"]] = {{"Username": entry["Username"], "Secret": entry["Secret"]}}
    save(data)
elif action == "erase":
    server = payload.strip()
    if server not in data:
        print("credentials not found in native keychain")
        sys.exit(1)
    del data[server]
    save(data)
elif action == "list":
    print(json.dumps({{server: entry["Username"] for server, entry in data.items()}}))
else:
    print("unknown action: " + action, file=sys.stderr)
    sys.exit(1)
'''


class CredentialHelper:
    """docker-credential-<name> in bin_dir, keeping credentials in store_path (JSON:
    {server: {"Username", "Secret"}}) and logging each call (action and input, no secrets) to calls_path."""

    def __init__(self, name, bin_dir, state_dir):
        self.name = name
        self.bin_dir = Path(bin_dir)
        self.store_path = Path(state_dir) / f"credential-helper-{name}.json"
        self.calls_path = Path(state_dir) / f"credential-helper-{name}-calls.jsonl"
        self.path = self.bin_dir / f"docker-credential-{name}"
        self.bin_dir.mkdir(parents=True, exist_ok=True)
        self.path.write_text(CREDENTIAL_HELPER.format(python=sys.executable, store=str(self.store_path),
                                                      calls=str(self.calls_path)))
        self.path.chmod(self.path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    def entries(self):
        try:
            return json.loads(self.store_path.read_text())
        except FileNotFoundError:
            return {}

    def put(self, server, username, secret):
        data = self.entries()
        data[server] = {"Username": username, "Secret": secret}
        self.store_path.write_text(json.dumps(data, indent=2))

    def calls(self):
        try:
            return [json.loads(line) for line in self.calls_path.read_text().splitlines() if line]
        except FileNotFoundError:
            return []


class DockerConfig:
    """A DOCKER_CONFIG directory: config.json with "auths" (base64 "user:password"), credHelpers
    and credsStore, plus fake credential helpers in dir/bin (prepend env()["PATH"])."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "config.json"
        self.bin_dir = self.dir / "bin"
        self.helpers = {}

    def env(self, base=None):
        """DOCKER_CONFIG (and PATH with the helpers' directory first) over `base` (default os.environ)."""
        env = dict(os.environ if base is None else base)
        env["DOCKER_CONFIG"] = str(self.dir)
        if self.helpers:
            env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        return env

    def exists(self):
        return self.path.exists()

    def read(self):
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    def write(self, data):
        self.path.write_text(json.dumps(data, indent=2) + "\n")

    def set_auth(self, registry, username, password, **extra):
        data = self.read()
        entry = {"auth": base64.b64encode(f"{username}:{password}".encode()).decode(), **extra}
        data.setdefault("auths", {})[registry] = entry
        self.write(data)

    def auth_for(self, registry):
        """(username, password) from auths[registry]["auth"], or None."""
        entry = self.read().get("auths", {}).get(registry)
        if not entry or not entry.get("auth"):
            return None
        username, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        return username, password

    def remove_auth(self, registry):
        data = self.read()
        data.get("auths", {}).pop(registry, None)
        self.write(data)

    def set_cred_helper(self, registry, helper="fairtest"):
        data = self.read()
        data.setdefault("credHelpers", {})[registry] = helper
        self.write(data)

    def set_creds_store(self, helper="fairtest"):
        data = self.read()
        data["credsStore"] = helper
        self.write(data)

    def install_credential_helper(self, name="fairtest"):
        helper = CredentialHelper(name, self.bin_dir, self.dir)
        self.helpers[name] = helper
        return helper


# ---------------------------------------------------------------------------------------------
# A tiny OCI image


@dataclass
class OciImage:
    layout: Path
    tag: str
    manifest_digest: str
    manifest: bytes
    config_digest: str
    layer_digests: list
    blob_sizes: dict  # digest -> size, every blob (config and layers)

    @property
    def ref(self):
        """skopeo/containers-image reference: oci:<dir>:<tag>."""
        return f"oci:{self.layout}:{self.tag}"

    @property
    def total_blob_bytes(self):
        return sum(self.blob_sizes.values())

    def blob(self, digest):
        return (self.layout / "blobs" / digest.replace(":", "/")).read_bytes()


def _tar_layer(files):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def make_oci_layout(directory, tag="latest", layers=None, seed=0, architecture="amd64"):
    """Writes an OCI image layout with gzip layers and returns an OciImage.

    layers: a list whose items are either {path: bytes} (a layer with those files) or an int (a
    layer with one file of that many random, incompressible bytes from `seed`). Default: one small
    text file."""
    directory = Path(directory)
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    generator = random.Random(seed)
    sizes = {}

    def write_blob(data):
        digest = sha256_digest(data)
        (blobs / digest.split(":", 1)[1]).write_bytes(data)
        sizes[digest] = len(data)
        return digest

    descriptors, diff_ids = [], []
    for index, spec in enumerate(layers if layers is not None else [{"hello.txt": b"hello from fair tests\n"}]):
        if isinstance(spec, int):
            spec = {f"data/blob-{index}.bin": generator.randbytes(spec)}
        tar = _tar_layer(spec)
        diff_ids.append(sha256_digest(tar))
        compressed = gzip.compress(tar, compresslevel=6, mtime=0)
        descriptors.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                            "digest": write_blob(compressed), "size": len(compressed)})
    config = json.dumps({
        "architecture": architecture, "os": "linux", "created": "1970-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Labels": {"org.fair.test.seed": str(seed)}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "fair tests"} for _ in diff_ids],
    }, separators=(",", ":")).encode()
    config_digest = write_blob(config)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                   "size": len(config)},
        "layers": descriptors,
    }, separators=(",", ":")).encode()
    manifest_digest = sha256_digest(manifest)
    (blobs / manifest_digest.split(":", 1)[1]).write_bytes(manifest)
    (directory / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (directory / "index.json").write_text(json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
                       "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": tag}}],
    }))
    return OciImage(directory, tag, manifest_digest, manifest, config_digest,
                    [d["digest"] for d in descriptors], sizes)
