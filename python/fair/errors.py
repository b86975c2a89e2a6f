"""The exceptions fair raises: each carries the command's own message."""
from __future__ import annotations

from typing import Optional, Sequence


class FairError(Exception):
    """Anything fair could not do; the message is what the `fair` command said."""


class FairNotFound(FairError):
    """No `fair` command: neither `$FAIR_BIN` nor `fair` on `PATH`."""


class CommandFailed(FairError):
    """A `fair` command exited non-zero.

    Attributes: `arguments` (the command line), `status` (its exit status), `message` (its last
    error line), `output` (its last lines of output).
    """

    def __init__(self, arguments: Sequence[str], status: int, message: str, output: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.arguments = list(arguments)
        self.status = status
        self.message = message
        self.output = list(output)


class TrainingFailed(FairError):
    """The training Job failed: `reason` (Kubernetes' reason, e.g. BackoffLimitExceeded), `message`,
    the Job's `name` and the training output's `last_lines`. `outputs` is `NAME:TAG` where a failed
    run's outputs were stored (an executed notebook as far as it ran, with its error:
    `fair.models.notebook(error.outputs)`), else None."""

    def __init__(self, name: str, reason: str, message: str, last_lines: Sequence[str] = (),
                 outputs: Optional[str] = None) -> None:
        tail = "\n".join(last_lines)
        stored = f"\nthe outputs as far as it ran: fair.models.notebook({outputs!r})" if outputs else ""
        super().__init__(f"training {name} failed: {reason}: {message}" + (f"\n{tail}" if tail else "") + stored)
        self.name = name
        self.reason = reason
        self.message = message
        self.last_lines = list(last_lines)
        self.outputs = outputs


class NotebookNotFound(FairError):
    """`fair.train()` without an entry, outside a notebook whose file could be found."""
