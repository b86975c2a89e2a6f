"""Command-line options shared by the calls."""
from __future__ import annotations

import os
from typing import List, Mapping, Optional, Sequence, Union

PathLike = Union[str, "os.PathLike[str]"]


def cluster(kubeconfig: Optional[PathLike] = None, context: Optional[str] = None, namespace: Optional[str] = None) -> List[str]:
    arguments: List[str] = []
    if kubeconfig is not None:
        arguments += ["--kubeconfig", os.fspath(kubeconfig)]
    if context:
        arguments += ["--context", context]
    if namespace:
        arguments += ["--namespace", namespace]
    return arguments


def registry(kubeconfig: Optional[PathLike] = None, context: Optional[str] = None, registry: Optional[str] = None) -> List[str]:
    arguments: List[str] = []
    if registry:
        arguments += ["--registry", registry]
    if kubeconfig is not None:
        arguments += ["--kubeconfig", os.fspath(kubeconfig)]
    if context:
        arguments += ["--context", context]
    return arguments


def repeated(flag: str, values: Optional[Sequence[str]]) -> List[str]:
    arguments: List[str] = []
    for value in values or ():
        arguments += [flag, value]
    return arguments


def pairs(flag: str, values: Optional[Mapping[str, object]]) -> List[str]:
    arguments: List[str] = []
    for key, value in (values or {}).items():
        arguments += [flag, f"{key}={value}"]
    return arguments
