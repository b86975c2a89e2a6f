"""A seeded, time-bounded fuzzer for fair's HTTP surfaces: request lines, paths, queries, headers
and bodies mutated from real requests, written byte for byte on keep-alive connections. Every
request must get an answer below 500 (malformed input is the client's fault), and the server
must still be up at the end. The seed is printed, so a failure can be replayed."""
import http.client
import random
import socket
import ssl
import time

# How long one answer's body is read before the connection is dropped (a stream).
READ_SECONDS = 3

METHODS = ["GET", "GET", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "G\x01T"]
NASTY = ["", "=", "&", "%", "%zz", "%00", "%2e%2e", "..", "//", "/", ":", ";", "?", "#", "+", "~", "\\", "\u00e9",
         "%ff%fe", "\ud7ff", "a" * 300, "0", "-1", "99999999999999999999", "true", "True", "null", "{}", "[", "%3A", "*"]
QUERY_KEYS = ["watch", "follow", "timestamps", "resourceVersion", "limit", "continue", "labelSelector", "fieldSelector",
              "timeoutSeconds", "tailLines", "sinceSeconds", "sinceTime", "limitBytes", "container", "propagationPolicy",
              "dryRun", "gracePeriodSeconds", "mount", "from", "digest", "n", "last", "allowWatchBookmarks", ""]
CONTENT_TYPES = ["application/json", "application/merge-patch+json", "application/json-patch+json",
                 "application/strategic-merge-patch+json", "application/apply-patch+yaml", "application/vnd.kubernetes.protobuf",
                 "application/octet-stream", "text/plain", "", ";;;", "application/json; charset=\u00ff",
                 "application/vnd.oci.image.manifest.v1+json"]
BODIES = [b"", b"{}", b"[]", b"null", b"{", b"\x00\xff", b'{"metadata":{"name":"x"}}', b'{"metadata":5}',
          b'[{"op":"copy","from":"/","path":"/a"}]', b'{"kind":"Pod","apiVersion":"v1","metadata":{"name":"f"},"spec":{}}',
          b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"fz","labels":{"a":1}},"data":{"a":[1]}}',
          b'{"schemaVersion":2,"layers":[{"digest":"sha256:zz"}]}', b'{"a":' * 200 + b'1' + b'}' * 200, b'"' + b'\\u' * 50 + b'"']


def mutate(rng, text):
    """One random edit of a string: insert, replace or cut, with nasty fragments."""
    if not text or rng.random() < 0.2:
        return text + rng.choice(NASTY)
    i = rng.randrange(len(text) + 1)
    choice = rng.random()
    if choice < 0.4:
        return text[:i] + rng.choice(NASTY) + text[i:]
    if choice < 0.7:
        j = min(len(text), i + rng.randrange(1, 8))
        return text[:i] + rng.choice(NASTY) + text[j:]
    return text[:i]


def random_query(rng):
    if rng.random() < 0.3:
        return ""
    pairs = []
    for _ in range(rng.randrange(1, 5)):
        key = rng.choice(QUERY_KEYS + NASTY)
        if rng.random() < 0.15:
            pairs.append(key)
        else:
            pairs.append(f"{key}={rng.choice(NASTY)}")
    separator = rng.choice(["&", "&&", ";", "&=&"])
    return "?" + separator.join(pairs)


def random_request(rng, paths, token):
    path = rng.choice(paths)
    for _ in range(rng.randrange(0, 3)):
        path = mutate(rng, path)
    if not path.startswith("/") and rng.random() < 0.8:
        path = "/" + path
    target = path + random_query(rng)
    method = rng.choice(METHODS)
    headers = {"Host": "127.0.0.1"}
    if token and rng.random() < 0.7:
        headers["Authorization"] = "Bearer " + token
    elif rng.random() < 0.3:
        headers["Authorization"] = rng.choice(["Bearer", "Bearer ", "Basic !!!", "Bearer " + "x" * 5000, "\u00e9", ""])
    body = rng.choice(BODIES) if method in ("POST", "PUT", "PATCH", "DELETE") or rng.random() < 0.1 else b""
    if body or rng.random() < 0.3:
        headers["Content-Type"] = rng.choice(CONTENT_TYPES)
    for _ in range(rng.randrange(0, 3)):
        headers[rng.choice(["Accept", "X-" + mutate(rng, "Fuzz"), "Range", "Content-Range", "Docker-Content-Digest",
                            "Transfer-Encoding", "Expect", "Upgrade"])] = mutate(rng, rng.choice(["*/*", "bytes=0-", "0-1", "chunked", "100-continue", "websocket"]))
    # Header values that would break framing are the transport's business, not this fuzzer's.
    headers = {k: v for k, v in headers.items() if k.lower() not in ("transfer-encoding", "content-length")}
    headers["Content-Length"] = str(len(body))
    # Control characters and spaces in the target would make the request line itself invalid;
    # those get a few tries too, as a whole-request edit.
    if rng.random() > 0.02:
        target = "".join(c if 0x20 < ord(c) < 0x7f else "%{:02X}".format(ord(c) & 0xFF) for c in target)
    lines = [f"{method} {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogatepass")
    return method, target, head + body


class Connection:
    def __init__(self, host, port, tls_context=None, server_hostname=None):
        self.host, self.port, self.tls, self.name = host, port, tls_context, server_hostname
        self.sock = None

    def send(self, payload, method):
        if self.sock is None:
            raw = socket.create_connection((self.host, self.port), timeout=READ_SECONDS)
            self.sock = self.tls.wrap_socket(raw, server_hostname=self.name) if self.tls else raw
        self.sock.sendall(payload)
        response = http.client.HTTPResponse(self.sock, method=method)
        response.begin()
        # A fuzzed watch or follow streams on (bookmarks every few seconds keep the socket
        # busy): the status is the answer; the body is read for a moment at most.
        deadline = time.monotonic() + READ_SECONDS
        while time.monotonic() < deadline:
            if not response.read1(65536):
                break
        else:
            self.close()
            return response.status
        if response.will_close:
            self.close()
        return response.status

    def close(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None


def fuzz(host, port, paths, *, seed, count, seconds, token=None, tls_context=None, alive=None, answers=None):
    """Sends up to `count` requests in at most `seconds`; returns (sent, failures). Each HTTP
    status received is appended to `answers` when given, so a caller can tell requests that
    were answered from connections that were refused outright."""
    rng = random.Random(seed)
    connection = Connection(host, port, tls_context, "127.0.0.1")
    failures, sent = [], 0
    deadline = time.monotonic() + seconds
    while sent < count and time.monotonic() < deadline:
        method, target, payload = random_request(rng, paths, token)
        sent += 1
        try:
            status = connection.send(payload, method)
        except (http.client.HTTPException, OSError, ssl.SSLError):
            # A request the server refused at the protocol level (closed, 400 from the parser).
            connection.close()
            if alive is not None and not alive():
                failures.append((method, target, "the server died"))
                break
            continue
        if answers is not None:
            answers.append(status)
        if status >= 500:
            failures.append((method, target, status))
    connection.close()
    return sent, failures
