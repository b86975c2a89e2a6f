#!/usr/bin/env python3
"""Serves a trained model over the Open Inference Protocol (KServe v1 and v2 REST).

It runs inside the user's serving container, where only python3 is installed, so it is built on
the standard library's http.server. The user's code provides the model:

    FAIR_PREDICT        path/to/file.py:function (relative to FAIR_APP_DIR) or pkg.module:function
                        (without :function, the function is predict)
    FAIR_APP_DIR        the user's code, put first on sys.path (default /app)
    FAIR_MODEL_DIR      the model files (default /model)
    FAIR_MODEL_NAME     the model's name in URLs (default "model")
    FAIR_MODEL_VERSION  reported in metadata and responses (optional)
    PORT, FAIR_BIND     where to listen (default 8080 on 0.0.0.0; PORT=0 picks a free port)

If the module defines load(model_dir), its result is what predict receives as its first argument;
otherwise predict gets the model directory's path. predict(model, instances) returns one
prediction per instance.
"""
import importlib
import importlib.util
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

VERSION = "0.1.0"
MAX_BODY = 64 << 20


class BadRequest(Exception):
    """A request the client must fix: answered 400 with the message."""


class TooLarge(Exception):
    """A request body over MAX_BODY: answered 413, and the connection closed."""


class PredictFailed(Exception):
    """predict raised or returned something unusable: answered 500."""


class Model:
    """The user's predict function and what load() returned; ready once load() has returned."""

    def __init__(self, name, version, directory, predict, load):
        self.name, self.version, self.directory = name, version, directory
        self.predict_function, self.load_function = predict, load
        self.state = directory
        self.ready = threading.Event()
        # Calls to predict are serialised: user code (and many ML libraries' objects) need not be
        # thread-safe, and with the GIL concurrent calls to Python code would gain little anyway.
        self.lock = threading.Lock()

    def load(self):
        if self.load_function is not None:
            self.state = self.load_function(self.directory)
        self.ready.set()

    def predict(self, instances):
        with self.lock:
            try:
                result = self.predict_function(self.state, instances)
            except Exception as error:
                traceback.print_exc(file=sys.stderr)
                raise PredictFailed(f"predict failed: {type(error).__name__}: {error}")
        result = plain(result)
        if not isinstance(result, list):
            raise PredictFailed(f"predict failed: it returned {type(result).__name__}, not a list")
        if len(result) != len(instances):
            raise PredictFailed(f"predict failed: it returned {len(result)} predictions for {len(instances)} instances")
        return result


def plain(value):
    """numpy arrays and scalars (anything with tolist()/item()) and tuples as JSON-ready values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    return value


def import_predict(spec, app_dir):
    """The function FAIR_PREDICT names and the module's load(), if any. SystemExit(1) with a clear
    message when either cannot be had, so a broken pod fails at once and visibly."""
    if not spec:
        fail("FAIR_PREDICT is not set; expected path/to/file.py:function or package.module:function")
    target, _, function = spec.rpartition(":") if ":" in spec else (spec, "", "predict")
    sys.path.insert(0, app_dir)  # so the user's own packages import as they do in training
    try:
        if target.endswith(".py") or "/" in target:
            path = os.path.join(app_dir, target)
            if not os.path.isfile(path):
                fail(f"FAIR_PREDICT={spec}: no file {path}")
            sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
            name = os.path.splitext(os.path.basename(path))[0]
            if name in sys.modules:  # never shadow a module already imported (json, re, ...)
                name = "fair_predict_module"
            loaded = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(loaded)
            sys.modules[name] = module
            loaded.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc(file=sys.stderr)
        fail(f"FAIR_PREDICT={spec}: importing {target} failed (traceback above)")
    predict = getattr(module, function, None)
    if not callable(predict):
        fail(f"FAIR_PREDICT={spec}: {target} has no function {function!r}")
    load = getattr(module, "load", None)
    return predict, load if callable(load) else None


def fail(message):
    print(f"model-server: error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(1)


# -- the Open Inference Protocol


def flatten(data):
    if isinstance(data, list):
        return [item for element in data for item in flatten(element)]
    return [data]


def instances_from_v2(body):
    """The instances of a v2 infer request: its first input's data, split along the first
    dimension of its shape (shape [N] -> N scalars, [N, k] -> N rows of k)."""
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise BadRequest('"inputs" must be a non-empty list of tensors')
    tensor = inputs[0]
    if not isinstance(tensor, dict):
        raise BadRequest('"inputs[0]" must be an object with name, shape, datatype and data')
    shape, data = tensor.get("shape"), tensor.get("data")
    if not isinstance(shape, list) or not shape or not all(type(d) is int and d >= 0 for d in shape):
        raise BadRequest('"inputs[0].shape" must be a non-empty list of non-negative integers')
    if not isinstance(data, list):
        raise BadRequest('"inputs[0].data" must be a list')
    if "datatype" in tensor and not isinstance(tensor["datatype"], str):
        raise BadRequest('"inputs[0].datatype" must be a string')
    flat = flatten(data)
    size = 1
    for dimension in shape:
        size *= dimension
    if len(flat) != size:
        raise BadRequest(f'"inputs[0].data" has {len(flat)} elements but "inputs[0].shape" {shape} needs {size}')
    return reshape(flat, shape[1:], shape[0])


def reshape(flat, inner, count):
    if not inner:
        return flat
    step = len(flat) // count if count else 0
    return [reshape(flat[i * step:(i + 1) * step], inner[1:], inner[0]) for i in range(count)]


def tensor_shape(value):
    """The shape of nested lists, or None when they are ragged."""
    if not isinstance(value, list):
        return []
    shapes = [tensor_shape(item) for item in value]
    if any(s is None or s != shapes[0] for s in shapes):
        return None
    return [len(value)] + (shapes[0] if shapes else [])


def datatype(flat):
    if all(isinstance(x, bool) for x in flat) and flat:
        return "BOOL"
    if all(isinstance(x, int) and not isinstance(x, bool) for x in flat) and flat:
        return "INT64"
    if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in flat):
        return "FP64"
    return "BYTES"


def v2_output(predictions):
    shape = tensor_shape(predictions)
    if shape is None:  # ragged: one element per instance
        shape, flat = [len(predictions)], predictions
    else:
        flat = flatten(predictions)
    kind = datatype(flat)
    if kind == "BYTES":  # strings stay strings; anything else travels as its JSON text
        flat = [x if isinstance(x, str) else json.dumps(x, separators=(",", ":")) for x in flat]
    return {"name": "predict", "shape": shape, "datatype": kind, "data": flat}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every response carries Content-Length
    server_version = f"fair-model-server/{VERSION}"
    timeout = 300  # an idle keep-alive connection gives its thread back after this

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without this, Nagle and delayed ACKs would add
        # ~40 ms to every request on a kept-alive connection.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):  # no line per request; errors still go to stderr
        pass

    def log_error(self, format, *args):
        sys.stderr.write(f"model-server: {self.address_string()}: {format % args}\n")

    def send_json(self, status, body, headers=()):
        try:
            data = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
        except (ValueError, TypeError) as error:  # only predictions can be beyond JSON (objects, NaN)
            status, data = 500, json.dumps({"error": f"predict failed: its result is not JSON: {error}"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def read_body(self):
        """The whole request body, read before any answer so that a kept-alive connection is
        left at the start of the next request whatever the answer is."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise BadRequest("Content-Length is not a number")
        if length > MAX_BODY:
            self.close_connection = True  # the unread body makes the connection unusable
            raise TooLarge()
        return self.rfile.read(length) if length > 0 else b""

    def read_json(self):
        try:
            body = json.loads(self.body)
        except ValueError as error:
            raise BadRequest(f"the request body is not valid JSON: {error}")
        if not isinstance(body, dict):
            raise BadRequest("the request body must be a JSON object")
        return body

    def read_chunked(self):
        chunks, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                self.close_connection = True
                raise BadRequest("malformed chunked request body")
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                self.close_connection = True
                raise TooLarge()
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def dispatch(self):
        model = self.server.model
        path = unquote(urlsplit(self.path).path).rstrip("/") or "/"
        try:
            self.body = self.read_body()
            for pattern, methods in ROUTES:
                match = re.fullmatch(pattern, path)
                if not match:
                    continue
                handler = methods.get("GET" if self.command == "HEAD" else self.command)
                if handler is None:
                    allowed = ", ".join(sorted(methods))
                    return self.send_json(405, {"error": f"{self.command} is not allowed on {path}; use {allowed}"},
                                          [("Allow", allowed)])
                groups = match.groupdict()
                if groups.get("name") is not None and groups["name"] != model.name:
                    return self.send_json(404, {"error": f"model {groups['name']} not found; "
                                                         f"this server serves {model.name}"})
                if groups.get("version") is not None and groups["version"] != (model.version or groups["version"]):
                    return self.send_json(404, {"error": f"version {groups['version']} of model {model.name} "
                                                         f"not found; this server serves {model.version}"})
                status, body = handler(self, model)
                return self.send_json(status, body)
            self.send_json(404, {"error": f"no such endpoint: {path}"})
        except BadRequest as error:
            self.send_json(400, {"error": str(error)})
        except TooLarge:
            self.send_json(413, {"error": f"the request body is larger than {MAX_BODY >> 20} MiB"})
        except PredictFailed as error:
            self.send_json(500, {"error": str(error)})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as error:  # never let one request take the server down
            traceback.print_exc(file=sys.stderr)
            self.send_json(500, {"error": f"internal error: {type(error).__name__}: {error}"})

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = dispatch


def not_ready(model):
    return 503, {"error": f"model {model.name} is not loaded yet"}


def v1_predict(handler, model):
    body = handler.read_json()
    instances = body.get("instances")
    if not isinstance(instances, list):
        raise BadRequest('"instances" must be a list' if "instances" in body else 'missing field "instances"')
    if not model.ready.is_set():
        return not_ready(model)
    return 200, {"predictions": model.predict(instances)}


def v2_infer(handler, model):
    body = handler.read_json()
    if "inputs" not in body:
        raise BadRequest('missing field "inputs"')
    instances = instances_from_v2(body)
    if not model.ready.is_set():
        return not_ready(model)
    response = {"model_name": model.name}
    if model.version:
        response["model_version"] = model.version
    if "id" in body:
        response["id"] = body["id"]
    response["outputs"] = [v2_output(model.predict(instances))]
    return 200, response


def ready_status(model):
    ready = model.ready.is_set()
    return (200 if ready else 503), {"name": model.name, "ready": ready}


NAME = r"(?P<name>[^/:]+)"
VERSIONED = NAME + r"(?:/versions/(?P<version>[^/]+))?"
ROUTES = [
    (r"/healthz", {"GET": lambda h, m: (200, {"status": "ok"})}),
    (r"/v2/health/live", {"GET": lambda h, m: (200, {"live": True})}),
    (r"/v2/health/ready", {"GET": lambda h, m: (200 if m.ready.is_set() else 503, {"ready": m.ready.is_set()})}),
    (r"/v2", {"GET": lambda h, m: (200, {"name": "fair-model-server", "version": VERSION, "extensions": []})}),
    (r"/v2/models/" + VERSIONED, {"GET": lambda h, m: (200, {
        "name": m.name, "versions": [m.version] if m.version else [], "platform": "python",
        "inputs": [], "outputs": []})}),
    (r"/v2/models/" + VERSIONED + r"/ready", {"GET": lambda h, m: ready_status(m)}),
    (r"/v2/models/" + VERSIONED + r"/infer", {"POST": v2_infer}),
    (r"/v1/models/" + NAME, {"GET": lambda h, m: ready_status(m)}),
    (r"/v1/models/" + NAME + r":predict", {"POST": v1_predict}),
]


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung client never blocks shutdown
    allow_reuse_address = True
    request_queue_size = 1024  # load generators open many connections at once


def main():
    name = os.environ.get("FAIR_MODEL_NAME") or "model"
    version = os.environ.get("FAIR_MODEL_VERSION") or None
    model_dir = os.environ.get("FAIR_MODEL_DIR") or "/model"
    app_dir = os.path.abspath(os.environ.get("FAIR_APP_DIR") or "/app")
    bind = os.environ.get("FAIR_BIND") or "0.0.0.0"
    try:
        port = int(os.environ.get("PORT") or 8080)
    except ValueError:
        fail(f"PORT={os.environ['PORT']!r} is not a number")
    predict, load = import_predict(os.environ.get("FAIR_PREDICT", ""), app_dir)

    if ":" in bind:
        Server.address_family = socket.AF_INET6
    try:
        server = Server((bind, port), Handler)
    except OSError as error:
        fail(f"cannot listen on {bind}:{port}: {error}")
    server.model = Model(name, version, model_dir, predict, load)
    host = f"[{bind}]" if ":" in bind else bind
    print(f"serving model {name} (version {version or 'unversioned'}) on http://{host}:{server.server_address[1]}",
          flush=True)
    # On SIGTERM (a rollout or a scale-down), keep answering for a moment while the pod leaves the
    # Service's endpoints, so requests already routed here still succeed; then stop.
    try:
        drain = float(os.environ.get("FAIR_DRAIN_SECONDS") or 2)
    except ValueError:
        drain = 2.0

    def stop_after_drain():
        time.sleep(drain)  # a terminating pod is already out of the endpoints: no new traffic comes
        server.shutdown()

    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=stop_after_drain, daemon=True).start())

    def load_model():
        # Loading may take long: the server answers liveness meanwhile, and readiness after.
        try:
            server.model.load()
        except BaseException:
            traceback.print_exc(file=sys.stderr)
            print(f"model-server: error: load({model_dir!r}) failed (traceback above)", file=sys.stderr, flush=True)
            os._exit(1)
        print(f"model {name} loaded from {model_dir}; ready", file=sys.stderr, flush=True)

    threading.Thread(target=load_model, name="load", daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
