"""Runs the `fair` command: the one source of behaviour. Results come back as JSON on stdout;
progress and training output on stderr are passed on as they arrive, in chunks (so a progress
bar's carriage returns and a line still being written show at once), and the last lines are kept
for the error a failure raises."""
from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import subprocess
import threading
from typing import IO, Any, Deque, List, Optional, Sequence

from ._output import Sink, default_sink
from .errors import CommandFailed, FairNotFound

KEPT_LINES = 20


def binary() -> str:
    """`$FAIR_BIN`, else `fair` on PATH."""
    configured = os.environ.get("FAIR_BIN")
    if configured:
        if not os.access(configured, os.X_OK):
            raise FairNotFound(f"FAIR_BIN={configured} is not an executable file")
        return configured
    found = shutil.which("fair")
    if not found:
        raise FairNotFound("the fair command is not on PATH; install it, or set FAIR_BIN to its path")
    return found


class Completed:
    """What a finished command printed: its JSON result (None when stdout was empty or not JSON),
    its exit status and its last lines of stderr."""

    def __init__(self, arguments: List[str], status: int, stdout: bytes, last_lines: List[str]) -> None:
        self.arguments = arguments
        self.status = status
        self.stdout = stdout
        self.last_lines = last_lines
        text = stdout.decode("utf-8", "replace").strip()
        self.result: Any = None
        if text:
            try:
                self.result = json.loads(text)
            except ValueError:
                self.result = None

    @property
    def error_message(self) -> str:
        """The command's own error line (`error: …`), else its last line."""
        for line in reversed(self.last_lines):
            if line.startswith("error: "):
                return line[len("error: "):]
        return self.last_lines[-1] if self.last_lines else f"fair exited with status {self.status}"

    def check(self) -> "Completed":
        if self.status != 0:
            raise CommandFailed(self.arguments, self.status, self.error_message, self.last_lines)
        return self


def run(arguments: Sequence[str], *, sink: Optional[Sink] = None, stdin: Optional[bytes] = None,
        env: Optional[dict[str, str]] = None, stream_stdout: bool = False) -> Completed:
    """Runs `fair ARGUMENTS…`, passing stderr to `sink` (the cell or the terminal) as it comes;
    stdout too with `stream_stdout` (commands whose output is text, not a JSON result).

    The command runs in a session of its own, so that Jupyter's "interrupt kernel" (SIGINT to the
    kernel's process group) reaches this process alone: the KeyboardInterrupt stops the command
    here and is raised again for the caller, who says what was left running.
    """
    command = [binary(), *arguments]
    write = sink or default_sink()
    process = subprocess.Popen(command, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                               env={**os.environ, **(env or {})})
    kept: Deque[str] = collections.deque(maxlen=KEPT_LINES)
    chunks: List[bytes] = []
    kept_out: Deque[str] = collections.deque(maxlen=KEPT_LINES)
    readers = [threading.Thread(target=_relay, args=(process.stdout, write, kept_out), daemon=True) if stream_stdout
               else threading.Thread(target=_collect, args=(process.stdout, chunks), daemon=True),
               threading.Thread(target=_relay, args=(process.stderr, write, kept), daemon=True)]
    for reader in readers:
        reader.start()
    try:
        if stdin is not None and process.stdin is not None:
            try:
                process.stdin.write(stdin)
                process.stdin.close()
            except BrokenPipeError:
                pass
        while True:
            try:
                status = process.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                continue
    except KeyboardInterrupt:
        _stop(process)
        raise
    for reader in readers:
        reader.join()
    return Completed(command, status, b"".join(chunks), list(kept))


def _stop(process: "subprocess.Popen[bytes]") -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _collect(stream: Optional[IO[bytes]], chunks: List[bytes]) -> None:
    assert stream is not None
    while True:
        chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
        if not chunk:
            return
        chunks.append(chunk)


def _relay(stream: Optional[IO[bytes]], write: Sink, kept: Deque[str]) -> None:
    """Passes chunks on as they come, decoding UTF-8 across chunk boundaries, and keeps whole lines."""
    assert stream is not None
    import codecs
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    partial = ""
    while True:
        chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
        text = decoder.decode(chunk, final=not chunk)
        if text:
            write(text)
            partial += text
            *lines, partial = partial.replace("\r", "\n").split("\n")
            kept.extend(line for line in lines if line.strip())
            partial = partial[-4096:]
        if not chunk:
            if partial.strip():
                kept.append(partial)
            return
