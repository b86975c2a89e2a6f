#!/usr/bin/env python3
"""Stores a trained model in an OCI registry as an artifact, and fetches it back.

    fair-model.py push --registry HOST:PORT --repository models/NAME --dir DIR [--annotation K=V]... [--plain-http]
                       [--rank N [--store-from-rank 0]] [--after [--] COMMAND...]
    fair-model.py pull --registry HOST:PORT --repository models/NAME --reference v3|latest|sha256:... --dir DIR

It runs inside the user's containers, where only python3 is installed, so it uses the standard
library alone and speaks the OCI distribution API itself. The artifact is one manifest
(artifactType application/vnd.fair.model.v1, the OCI 1.1 empty config) with one deterministic
tar+gzip layer holding the model directory. Pushes are versioned v1, v2, ... and also tagged latest.

Environment: FAIR_REGISTRY_TOKEN (bearer token), FAIR_REGISTRY_USERNAME / FAIR_REGISTRY_PASSWORD
(basic credentials, also used for the Docker token flow), FAIR_REGISTRY_ACCOUNT_TOKEN_FILE (a
service-account token for fair's registry, with ca.crt beside it: exchanged over TLS at the API
server, $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/v2/token, for a token scoped to what the
account may do), FAIR_REGISTRY_INSECURE=1 (skip TLS verification), SOURCE_DATE_EPOCH (mtime of
the layer's entries; 0 by default).
Exit status: 0 on success, 1 on any failure (one line on stderr), 2 on bad arguments.
"""
import argparse
import base64
import datetime
import gzip
import hashlib
import http.client
import json
import os
import re
import ssl
import subprocess
import sys
import tarfile
import tempfile
import time
from urllib.parse import urlencode, urljoin, urlsplit

ARTIFACT_TYPE = "application/vnd.fair.model.v1"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
EMPTY_CONFIG = {"mediaType": "application/vnd.oci.empty.v1+json",
                "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                "size": 2}
RETRIES = 3
CHUNK = 1 << 20


class Failure(Exception):
    """An expected failure: reported as one line on stderr, exit status 1."""


def log(message):
    # One write per line: the container's stdout and stderr share one log, and a line written in
    # two pieces can be split by a line from the other stream.
    sys.stderr.write(f"fair-model: {message}\n")
    sys.stderr.flush()


def result(value):
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def clean(name):
    """A tar entry name without leading `./` or trailing `/`."""
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/")


def link_stays_inside(name, target):
    """Whether symlink `name` (relative to DIR) -> `target` resolves inside DIR. Only `../` at the
    start, no higher than the link's own directory, then plain names: when every link obeys
    this, following links (even through one another) never leaves DIR."""
    parts = [p for p in target.split("/") if p not in ("", ".")]
    ups = len(parts) - len([p for p in parts if p != ".."])
    return not target.startswith("/") and ".." not in parts[ups:] and ups <= name.count("/")


class HashingFile:
    """A temporary file that hashes what is written to it, so layers never sit in memory."""

    def __init__(self):
        self.file = tempfile.TemporaryFile()
        self.reset()

    def reset(self):  # a retried download starts again from nothing
        self.file.seek(0)
        self.file.truncate()
        self.hash, self.size = hashlib.sha256(), 0

    def write(self, data):
        self.hash.update(data)
        self.size += len(data)
        return self.file.write(data)

    def flush(self):
        self.file.flush()

    @property
    def digest(self):
        return "sha256:" + self.hash.hexdigest()


class Registry:
    """The few calls of the OCI distribution API this needs, with auth, retries and redirects."""

    def __init__(self, host, repository, plain_http, actions):
        self.host, self.repository = host, repository
        self.base = f"{'http' if plain_http else 'https'}://{host}"
        self.scope = f"repository:{repository}:{actions}"
        self.bearer = os.environ.get("FAIR_REGISTRY_TOKEN") or None
        username, password = os.environ.get("FAIR_REGISTRY_USERNAME"), os.environ.get("FAIR_REGISTRY_PASSWORD")
        self.basic = base64.b64encode(f"{username}:{password or ''}".encode()).decode() if username else None
        self.tls = ssl.create_default_context()
        if os.environ.get("FAIR_REGISTRY_INSECURE") == "1":
            self.tls.check_hostname, self.tls.verify_mode = False, ssl.CERT_NONE

    def request(self, method, url, headers=None, body=None, ok=(200,), sink=None, auth=True, tls=None):
        """Returns (status, headers with lower-case names, body). `body` is bytes or an open file
        (streamed from disk); a 2xx body goes to `sink` (a HashingFile) when one is given."""
        url = urljoin(self.base + "/v2/", url)
        attempt = challenges = redirects = 0
        while True:
            sent = {"User-Agent": "fair-model/1", **(headers or {})}
            # Credentials go to the registry only, never to a storage host a blob redirects to.
            if auth and urlsplit(url).netloc == urlsplit(self.base).netloc:
                if self.bearer:
                    sent["Authorization"] = "Bearer " + self.bearer
                elif self.basic:
                    sent["Authorization"] = "Basic " + self.basic
            try:
                status, answer, data = self._once(method, url, sent, body, sink, tls or self.tls)
            except (OSError, http.client.HTTPException) as error:
                if attempt < RETRIES:
                    attempt += 1
                    time.sleep(0.5 * attempt)
                    continue
                raise Failure(f"cannot reach registry {self.host} ({method} {urlsplit(url).path}): {error}")
            if status >= 500 and attempt < RETRIES:
                attempt += 1
                time.sleep(0.5 * attempt)
                continue
            if status == 401 and auth and challenges < 2 and self._authenticate(answer.get("www-authenticate", "")):
                challenges += 1
                continue
            if status in (301, 302, 303, 307, 308) and "location" in answer and redirects < 5:
                url, redirects = urljoin(url, answer["location"]), redirects + 1
                continue
            if status not in ok:
                raise Failure(f"registry {self.host}, repository {self.repository}: {method} "
                              f"{urlsplit(url).path} answered HTTP {status}{excerpt(data)}")
            return status, answer, data

    def _once(self, method, url, headers, body, sink, tls):
        parts = urlsplit(url)
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=120, context=tls)
        else:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            if hasattr(body, "read"):  # a file: rewound for each attempt, sent by http.client in blocks
                body.seek(0)
                headers["Content-Length"] = str(os.fstat(body.fileno()).st_size)
            connection.request(method, target, body=body, headers=headers)
            response = connection.getresponse()
            answer = {k.lower(): v for k, v in response.getheaders()}
            if sink is not None and 200 <= response.status < 300:
                sink.reset()
                while chunk := response.read(CHUNK):
                    sink.write(chunk)
                return response.status, answer, b""
            return response.status, answer, response.read()
        finally:
            connection.close()

    def _authenticate(self, challenge):
        """Answers a 401 challenge: Basic when we have credentials, or the Docker token flow."""
        scheme, _, rest = challenge.strip().partition(" ")
        if scheme.lower() == "basic":
            if self.basic and self.bearer:
                self.bearer = None  # the static token was not accepted: fall back to basic
                return True
            return False
        if scheme.lower() != "bearer":
            return False
        params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if not params.get("realm"):
            return False
        # Ask for what the registry named and for everything this command will do, so one
        # token covers the whole push instead of one token per call.
        scopes = [s for s in params.get("scope", "").split(" ") if s]
        scopes += [self.scope] if self.scope not in scopes else []
        query = ([("service", params["service"])] if "service" in params else []) + [("scope", s) for s in scopes]
        realm, tls = params["realm"], None
        headers = {"Authorization": "Basic " + self.basic} if self.basic else {}
        account = os.environ.get("FAIR_REGISTRY_ACCOUNT_TOKEN_FILE")
        if account and not self.basic:
            realm, headers, tls = self._account_exchange(account)
        url = realm + ("&" if "?" in realm else "?") + urlencode(query)
        _, _, data = self.request("GET", url, headers=headers, auth=False, tls=tls)
        try:
            answer = json.loads(data)
            self.bearer = answer.get("token") or answer["access_token"]
        except (ValueError, KeyError, AttributeError):
            raise Failure(f"token service {realm} for registry {self.host} sent no token{excerpt(data)}")
        return True

    @staticmethod
    def _account_exchange(token_file):
        """Where and how a service account's token becomes a registry token: the API server's
        /v2/token over TLS, checked against the cluster's CA beside the token (never in clear,
        where other pods could read it). The file is read each time: the node renews it."""
        host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT")
        if not host or not port:
            raise Failure("FAIR_REGISTRY_ACCOUNT_TOKEN_FILE is set but KUBERNETES_SERVICE_HOST/PORT are not: "
                          "the token is exchanged at the API server")
        try:
            with open(token_file) as f:
                token = f.read().strip()
            tls = ssl.create_default_context(cafile=os.path.join(os.path.dirname(token_file), "ca.crt"))
        except OSError as error:
            raise Failure(f"cannot read the registry credential {token_file} or its ca.crt: {error}")
        host = f"[{host}]" if ":" in host else host
        return f"https://{host}:{port}/v2/token", {"Authorization": "Bearer " + token}, tls

    # -- blobs, manifests and tags

    def push_blob(self, digest, body, size):
        path = f"{self.repository}/blobs/{digest}"
        if self.request("HEAD", path, ok=(200, 404))[0] == 200:
            log(f"blob {digest[:19]} already in the registry")
            return
        _, answer, _ = self.request("POST", f"{self.repository}/blobs/uploads/", ok=(202,),
                                    headers={"Content-Length": "0"}, body=b"")
        if "location" not in answer:
            raise Failure(f"registry {self.host}, repository {self.repository}: upload started without a Location")
        # Locations may be relative and may already carry a query (the upload state).
        location = urljoin(self.base + "/v2/", answer["location"])
        location += ("&" if urlsplit(location).query else "?") + urlencode({"digest": digest})
        log(f"uploading blob {digest[:19]} ({size} bytes)")
        self.request("PUT", location, body=body, ok=(201, 204),
                     headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)})

    def tags(self):
        """All tags of the repository ([] when it does not exist yet), following pagination."""
        tags, url = [], f"{self.repository}/tags/list"
        while url:
            status, answer, data = self.request("GET", url, ok=(200, 404))
            if status == 404:
                return tags
            try:
                tags += json.loads(data).get("tags") or []
            except (ValueError, AttributeError):
                raise Failure(f"registry {self.host}, repository {self.repository}: the tag list is not JSON")
            link = re.match(r'\s*<([^>]+)>\s*;\s*rel="?next"?', answer.get("link", ""))
            url = urljoin(self.base + "/v2/", link.group(1)) if link else None
        return tags


def excerpt(data):
    """The gist of a registry's error body, on one line."""
    try:
        errors = json.loads(data)["errors"]
        text = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
    except (ValueError, KeyError, TypeError, AttributeError):
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
    text = " ".join(text.split())[:300]
    return f": {text}" if text else ""


# -- push


def pack(directory, skip=None):
    """Writes DIR as a reproducible tar+gzip layer: sorted entries, relative names, root owner
    without names, one mtime, normalised modes, a gzip header without name or time. SKIP (a path)
    is left out."""
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0") or 0)
    root = os.path.realpath(directory)
    skipped = os.path.realpath(skip) if skip else None
    entries = []
    for parent, dirs, files in os.walk(root):  # os.walk never follows symlinks into directories
        for name in dirs + files:
            full = os.path.join(parent, name)
            if full != skipped:
                entries.append((os.path.relpath(full, root).split(os.sep), full))
    entries.sort()
    if not any(not os.path.isdir(full) or os.path.islink(full) for _, full in entries):
        raise Failure(f"the training script wrote nothing to $FAIR_MODEL_DIR ({directory})")
    layer = HashingFile()
    with gzip.GzipFile(filename="", mode="wb", fileobj=layer, mtime=0, compresslevel=6) as zipped, \
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for parts, full in entries:
            info = tarfile.TarInfo("/".join(parts))
            info.mtime, info.uid, info.gid, info.uname, info.gname = epoch, 0, 0, "", ""
            status = os.lstat(full)
            if os.path.islink(full):
                target = os.readlink(full)
                if not link_stays_inside(info.name, target):
                    raise Failure(f"{info.name} is a symlink to {target}, outside {directory}; "
                                  "copy the file into the model directory instead")
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
                tar.addfile(info)
            elif os.path.isdir(full):
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif os.path.isfile(full):
                info.mode = 0o755 if status.st_mode & 0o111 else 0o644
                info.size = status.st_size
                with open(full, "rb") as stream:
                    tar.addfile(info, stream)
            else:
                log(f"warning: skipping {info.name}, which is neither a file, a directory nor a symlink")
    layer.flush()
    return layer


def metrics_annotation(directory):
    """metrics.json as the script wrote it; else the last value of each metric in metrics.jsonl
    (what fair.log_metric records, one JSON line per value)."""
    path = os.path.join(directory, "metrics.json")
    if not os.path.isfile(path):
        return last_metrics(os.path.join(directory, "metrics.jsonl"))
    try:
        with open(path, encoding="utf-8") as stream:
            return json.dumps(json.load(stream), separators=(",", ":"), ensure_ascii=False)
    except (ValueError, OSError) as error:
        log(f"warning: metrics.json is not valid JSON, not recorded as an annotation ({error})")
        return None


def last_metrics(path):
    if not os.path.isfile(path):
        return None
    last = {}
    with open(path, encoding="utf-8", errors="replace") as stream:
        for line in stream:
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a line cut short by a killed process
            if isinstance(row, dict) and isinstance(row.get("name"), str) and "value" in row:
                last[row["name"]] = row["value"]
    return json.dumps(last, separators=(",", ":"), ensure_ascii=False) if last else None


def is_empty(directory, skip=None):
    """True when DIR holds no file or symlink (empty subdirectories do not count); SKIP (a path) does not count."""
    skipped = os.path.realpath(skip) if skip else None
    for parent, _, files in os.walk(directory):
        if any(os.path.realpath(os.path.join(parent, name)) != skipped for name in files):
            return False
    return not any(os.path.islink(os.path.join(parent, name))
                   for parent, dirs, _ in os.walk(directory) for name in dirs)


FAILURE_ANNOTATION = "dev.fair.model.failed"


def read_failure(path):
    """The training's own report that it failed (`fair.execute --failure-file`), or None. Written
    by code in the pod, so bounded and checked like any input."""
    if not path or not os.path.isfile(path):
        return None
    with open(path, "rb") as stream:
        data = stream.read(65536)
    try:
        report = json.loads(data.decode("utf-8", errors="replace"))
    except ValueError:
        report = {}
    reason = report.get("reason") if isinstance(report, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        reason = "the training reported a failure"
    return " ".join(reason.split())[:1000]


def push(args):
    if args.rank is not None and args.rank != args.store_from_rank:
        # A worker of a multi-worker training: one rank stores the model, the others nothing.
        log(f"rank {args.rank}: the model is stored by rank {args.store_from_rank}")
        return
    failure = read_failure(args.failure_file)
    if failure is not None:
        push_failed(args, failure)
        return
    if args.allow_empty and (not os.path.isdir(args.dir) or is_empty(args.dir)):
        # Not every training run keeps a model (an evaluation, a smoke test): nothing to store.
        log(f"nothing in {args.dir}: no model stored")
        result({"repository": args.repository, "stored": False})
        return
    if not os.path.isdir(args.dir):
        raise Failure(f"the training script wrote nothing to $FAIR_MODEL_DIR ({args.dir} does not exist)")
    registry = Registry(args.registry, args.repository, args.plain_http, "pull,push")
    version = None

    def next_version():  # read once the blobs are up, to keep the window with a concurrent push small
        nonlocal version
        versions = [int(m.group(1)) for t in registry.tags() if (m := re.fullmatch(r"v(\d+)", t))]
        version = f"v{max(versions, default=0) + 1}"
        return version, "latest"  # the same bytes under both tags: one digest
    digest, size = store(registry, args, {}, next_version)
    log(f"pushed {args.registry}/{args.repository}:{version} (and latest) as {digest}")
    result({"repository": args.repository, "version": version, "digest": digest,
            "reference": f"{args.registry}/{args.repository}:{version}", "size": size})


def push_failed(args, failure):
    """A failed run's outputs (an executed notebook as far as it ran) under the tag --failed-tag
    alone, never a version or latest, so nothing serves it; then the step fails with the reason."""
    if not args.failed_tag:
        raise Failure(failure)
    if os.path.isdir(args.dir) and not is_empty(args.dir, skip=args.failure_file):
        registry = Registry(args.registry, args.repository, args.plain_http, "pull,push")
        digest, _ = store(registry, args, {FAILURE_ANNOTATION: failure}, lambda: (args.failed_tag,))
        reference = f"{args.registry}/{args.repository}:{args.failed_tag}"
        log(f"pushed the failed run's outputs as {reference} ({digest})")
        result({"repository": args.repository, "failed": failure, "tag": args.failed_tag, "digest": digest,
                "reference": reference})
    raise Failure(failure)


def store(registry, args, extra_annotations, tags):
    """Packs DIR (without the failure report), pushes it and tags the manifest with what TAGS()
    returns once the blobs are up; (digest, layer size)."""
    log(f"packing {args.dir}")
    layer = pack(args.dir, skip=args.failure_file)
    with layer.file:
        log(f"layer {layer.digest} ({layer.size} bytes)")
        annotations = dict(args.annotation)
        metrics = metrics_annotation(args.dir)
        if metrics is not None:
            annotations["dev.fair.model.metrics"] = metrics
        annotations.update(extra_annotations)
        annotations["org.opencontainers.image.created"] = (
            datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
        registry.push_blob(EMPTY_CONFIG["digest"], b"{}", 2)
        registry.push_blob(layer.digest, layer.file, layer.size)

    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "artifactType": ARTIFACT_TYPE,
        "config": EMPTY_CONFIG,
        "layers": [{"mediaType": LAYER_TYPE, "digest": layer.digest, "size": layer.size,
                    "annotations": {"org.opencontainers.image.title": "model.tar.gz"}}],
        "annotations": annotations,
    }, separators=(",", ":"), sort_keys=True).encode()
    digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    for tag in tags():
        registry.request("PUT", f"{args.repository}/manifests/{tag}", body=manifest, ok=(201,),
                         headers={"Content-Type": MANIFEST_TYPE})
    return digest, layer.size


# -- pull


def checked_members(tar, directory):
    """Every entry of the layer, refused as a whole if one could write outside DIR: absolute
    names, `..`, entries through symlinks, links leading out, devices and fifos. Checked before
    anything is written, so a refused layer leaves DIR untouched."""
    root = os.path.realpath(directory)
    links, files, members = set(), set(), []
    for member in tar:
        name = clean(member.name)
        parts = name.split("/")
        if not name or name.startswith("/") or ".." in parts or "" in parts:
            raise Failure(f"refusing the model layer: entry {member.name!r} is absolute or leaves the directory")
        if any("/".join(parts[:i]) in links for i in range(1, len(parts))):
            raise Failure(f"refusing the model layer: entry {member.name!r} goes through a symlink")
        if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
            raise Failure(f"refusing the model layer: entry {member.name!r} is a device, fifo or unknown type")
        if member.issym():
            if not link_stays_inside(name, member.linkname):
                raise Failure(f"refusing the model layer: symlink {member.name!r} -> {member.linkname!r} "
                              "points outside the directory")
            links.add(name)
        elif member.islnk():
            member.linkname = clean(member.linkname)
            if member.linkname not in files:
                raise Failure(f"refusing the model layer: hard link {member.name!r} -> {member.linkname!r} "
                              "does not name an earlier file of the layer")
        elif member.isfile():
            files.add(name)
        parent = os.path.realpath(os.path.join(root, os.path.dirname(name)))
        if parent != root and not parent.startswith(root + os.sep):
            raise Failure(f"refusing the model layer: entry {member.name!r} would land outside {directory}")
        member.name = name
        member.mode &= 0o755  # no setuid/setgid/sticky, nothing writable by others
        member.uid = member.gid = 0
        member.uname = member.gname = ""
        members.append(member)
    return members


def pull(args):
    registry = Registry(args.registry, args.repository, args.plain_http, "pull")
    where = f"{args.registry}/{args.repository}{'@' if ':' in args.reference else ':'}{args.reference}"
    _, _, body = registry.request("GET", f"{args.repository}/manifests/{args.reference}",
                                  headers={"Accept": MANIFEST_TYPE})
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    if args.reference.startswith("sha256:") and digest != args.reference:
        raise Failure(f"{where}: the registry sent a manifest whose digest is {digest}")
    try:
        manifest = json.loads(body)
        artifact_type = manifest.get("artifactType")
    except (ValueError, AttributeError):
        raise Failure(f"{where}: the manifest is not JSON")
    if artifact_type != ARTIFACT_TYPE:
        raise Failure(f"{where} is not a fair model: artifactType is {artifact_type!r}, "
                      f"expected {ARTIFACT_TYPE!r}")
    layers = manifest.get("layers") or []
    if len(layers) != 1 or not re.fullmatch(r"sha256:[0-9a-f]{64}", str(layers[0].get("digest"))):
        raise Failure(f"{where}: a fair model has exactly one sha256 layer, this manifest has {len(layers)}")
    layer = layers[0]

    log(f"downloading {where} layer {layer['digest']} ({layer.get('size')} bytes)")
    blob = HashingFile()
    with blob.file:
        registry.request("GET", f"{args.repository}/blobs/{layer['digest']}", sink=blob)
        blob.flush()
        if blob.digest != layer["digest"] or blob.size != layer.get("size", blob.size):
            raise Failure(f"{where}: the layer downloaded has digest {blob.digest} and {blob.size} bytes, "
                          f"the manifest says {layer['digest']} and {layer.get('size')} bytes; nothing extracted")
        blob.file.seek(0)
        try:
            with tarfile.open(fileobj=blob.file, mode="r:gz") as tar:
                members = checked_members(tar, args.dir)
                os.makedirs(args.dir, exist_ok=True)
                if hasattr(tarfile, "data_filter"):  # Python with PEP 706: check again while extracting
                    tar.extractall(args.dir, members=members, filter="data")
                else:
                    tar.extractall(args.dir, members=members)
        except (tarfile.TarError, EOFError, OSError, ValueError) as error:
            raise Failure(f"{where}: cannot extract the model layer into {args.dir}: {error}")
    files = sum(1 for m in members if m.isfile() or m.islnk())
    log(f"extracted {files} files into {args.dir}")
    result({"digest": digest, "files": files})


# -- command line


def annotation(text):
    key, equals, value = text.partition("=")
    if not equals or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def repository(text):
    # The distribution spec's repository name grammar; catching it here beats a registry 400.
    if not re.fullmatch(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid repository name (lower case, e.g. models/mnist)")
    return text


def reference(text):
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}|sha256:[0-9a-f]{64}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is neither a tag nor a sha256 digest")
    return text


def parse(argv):
    parser = argparse.ArgumentParser(prog="fair-model.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("push", "pull"):
        command = commands.add_parser(name)
        command.add_argument("--registry", required=True, help="HOST:PORT of the registry")
        command.add_argument("--repository", required=True, type=repository, help="e.g. models/mnist")
        command.add_argument("--dir", required=True, help="the model directory")
        command.add_argument("--plain-http", action="store_true",
                             help="http:// instead of https:// (the default for localhost and 127.x)")
        if name == "push":
            command.add_argument("--annotation", action="append", default=[], type=annotation, metavar="KEY=VALUE")
            command.add_argument("--allow-empty", action="store_true",
                                 help="store nothing, successfully, when DIR is empty")
            command.add_argument("--failure-file", default=None,
                                 help="when this file exists the training failed: store DIR under --failed-tag "
                                      "only and fail with the reason it holds")
            command.add_argument("--failed-tag", default=None, type=reference,
                                 help="the tag a failed run's outputs are stored under")
            command.add_argument("--rank", default=None, type=int,
                                 help="this worker's rank in a multi-worker training")
            command.add_argument("--store-from-rank", default=0, type=int,
                                 help="with --rank: the rank whose model is stored (the others store nothing)")
            # --after [--] COMMAND... is taken off before parsing (see below), named here for --help.
            command.add_argument("--after", nargs="?", metavar="COMMAND",
                                 help="last option: run COMMAND (the training) first and store the model only "
                                      "if it succeeds; for pods whose training cannot be an init container of its own")
        else:
            command.add_argument("--reference", required=True, type=reference, help="vN, latest or sha256:...")
    after = None
    if "--after" in argv:  # everything after it is the training's command line, options included
        position = argv.index("--after")
        argv, after = argv[:position], argv[position + 1:]
        after = after[1:] if after[:1] == ["--"] else after
        if not after:
            parser.error("--after needs the command to run")
    args = parser.parse_args(argv)
    args.after = after
    host = args.registry.rpartition(":")[0] if re.search(r":\d+$", args.registry) else args.registry
    if host.strip("[]") in ("localhost", "::1") or host.startswith("127."):
        args.plain_http = True
    return args


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.command == "push" and args.after:
        command = args.after
        try:
            code = subprocess.call(command)
        except OSError as error:
            print(f"fair-model: error: cannot run {command[0]}: {error}", file=sys.stderr, flush=True)
            return 127
        if code != 0:
            return code if code > 0 else 128 - code  # killed by a signal: the shell's convention
    try:
        (push if args.command == "push" else pull)(args)
    except (Failure, OSError) as failure:  # OSError: a file of DIR unreadable, a full disk, ...
        print(f"fair-model: error: {failure}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
