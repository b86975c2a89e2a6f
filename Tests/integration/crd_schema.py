"""Validate rendered custom resources against a CustomResourceDefinition's schema.

Used to check `fair train --operator` output (PyTorchJob, TFJob) against the
Kubeflow training-operator CRDs in fixtures/crds/.  Two kinds of problems are
reported:

* schema violations (wrong types, missing required fields), via `jsonschema`;
* unknown fields, which kube-apiserver prunes silently for structural schemas,
  so a typo such as `pytorchReplicaSpec` would otherwise go unnoticed.
"""

from __future__ import annotations

import functools
import pathlib
import re
from typing import Any

import jsonschema
import yaml

__all__ = ["CRDMismatchError", "validate_against_crd"]

# The apiserver decodes the root `metadata` as ObjectMeta, whatever the CRD says;
# anything else there is dropped.
_OBJECT_META_FIELDS = frozenset(
    {
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    }
)
_ALWAYS_KEPT_AT_ROOT = frozenset({"apiVersion", "kind", "metadata"})
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_MESSAGE = 300

_Schema = dict[str, Any]


class CRDMismatchError(ValueError):
    """The object is not of a kind/version that the CRD defines."""


def validate_against_crd(obj: dict[str, Any], crd_path: pathlib.Path) -> list[str]:
    """Return human-readable problems of `obj` against the CRD at `crd_path`.

    An empty list means the object is valid and nothing in it would be pruned.
    Raises CRDMismatchError if `obj`'s apiVersion/kind is not served by the CRD.
    """
    raw_schema, json_schema = _schemas_for(
        pathlib.Path(crd_path).resolve(), obj.get("apiVersion"), obj.get("kind")
    )
    errors: list[tuple[str, str]] = []
    validator = jsonschema.Draft7Validator(json_schema)
    for error in validator.iter_errors(obj):
        errors.append((_format_path(error.absolute_path), _shorten(error.message)))
    _find_pruned_fields(obj, raw_schema, [], errors, is_root=True)
    # Sort by path so output is stable across runs.
    return [f"{path}: {message}" for path, message in sorted(errors)]


@functools.lru_cache(maxsize=None)
def _load_crd(crd_path: pathlib.Path) -> dict[str, Any]:
    # The training-operator CRDs are ~600 KB; the C loader is much faster.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with crd_path.open("r", encoding="utf-8") as handle:
        documents = [doc for doc in yaml.load_all(handle, Loader=loader) if doc]
    crds = [doc for doc in documents if doc.get("kind") == "CustomResourceDefinition"]
    if len(crds) != 1:
        raise ValueError(f"{crd_path}: expected exactly one CustomResourceDefinition, found {len(crds)}")
    crd: dict[str, Any] = crds[0]
    return crd


@functools.lru_cache(maxsize=None)
def _schemas_for_version(crd_path: pathlib.Path, version: str) -> tuple[_Schema, _Schema]:
    crd = _load_crd(crd_path)
    entry = next(v for v in crd["spec"]["versions"] if v["name"] == version)
    raw = entry["schema"]["openAPIV3Schema"]
    converted = _to_json_schema(raw)
    jsonschema.Draft7Validator.check_schema(converted)
    return raw, converted


def _schemas_for(crd_path: pathlib.Path, api_version: Any, kind: Any) -> tuple[_Schema, _Schema]:
    crd = _load_crd(crd_path)
    spec = crd["spec"]
    group = spec["group"]
    expected_kind = spec["names"]["kind"]
    served = [v["name"] for v in spec["versions"] if v.get("served", False)]
    expected_api_versions = [f"{group}/{name}" for name in served]
    if kind != expected_kind:
        raise CRDMismatchError(
            f"object kind {kind!r} does not match CRD {crd['metadata']['name']} (kind {expected_kind!r})"
        )
    if api_version not in expected_api_versions:
        raise CRDMismatchError(
            f"object apiVersion {api_version!r} is not served by CRD {crd['metadata']['name']} "
            f"(served: {', '.join(expected_api_versions) or 'none'})"
        )
    return _schemas_for_version(crd_path, str(api_version).split("/", 1)[1])


def _to_json_schema(schema: Any) -> Any:
    """Translate OpenAPI v3 (Kubernetes dialect) into plain JSON Schema draft 7."""
    if isinstance(schema, list):
        return [_to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: _Schema = {}
    for key, value in schema.items():
        if key.startswith("x-kubernetes-") or key in ("nullable", "description", "default"):
            continue
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {name: _to_json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
            out[key] = _to_json_schema(value)
        else:
            out[key] = value
    if schema.get("x-kubernetes-int-or-string") is True:
        out.pop("type", None)
        if not any(k in out for k in ("anyOf", "oneOf")):
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable") is True:
        if isinstance(out.get("type"), str) and not any(k in out for k in ("anyOf", "oneOf", "allOf", "not")):
            # Widening the type keeps jsonschema's messages specific.
            out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
            return out
        return {"anyOf": [{"type": "null"}, out]}
    return out


def _find_pruned_fields(
    value: Any,
    schema: _Schema,
    path: list[str | int],
    errors: list[tuple[str, str]],
    *,
    is_root: bool = False,
) -> None:
    """Report fields the apiserver's structural pruning would drop."""
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                _find_pruned_fields(item, items, [*path, index], errors)
        return
    if not isinstance(value, dict):
        return
    preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
    if schema.get("type") != "object" and not preserve:
        return  # a type error, already reported by jsonschema

    properties: dict[str, _Schema] = schema.get("properties") or {}
    additional = schema.get("additionalProperties")
    embedded = schema.get("x-kubernetes-embedded-resource") is True

    for key, child in value.items():
        child_path = [*path, key]
        if is_root and key == "metadata":
            _check_object_meta(child, child_path, errors)
        elif key in properties:
            _find_pruned_fields(child, properties[key], child_path, errors)
        elif isinstance(additional, dict):
            _find_pruned_fields(child, additional, child_path, errors)
        elif additional is True or preserve:
            continue
        elif (is_root or embedded) and key in _ALWAYS_KEPT_AT_ROOT:
            continue
        else:
            errors.append(
                (_format_path(child_path), "unknown field, not in the CRD schema (kube-apiserver would drop it)")
            )


def _check_object_meta(value: Any, path: list[str | int], errors: list[tuple[str, str]]) -> None:
    if not isinstance(value, dict):
        return
    for key in value:
        if key not in _OBJECT_META_FIELDS:
            errors.append((_format_path([*path, key]), "unknown ObjectMeta field (kube-apiserver would drop it)"))


def _format_path(parts: Any) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.match(part):
            text += f".{part}"
        else:
            text += f"[{part!r}]"
    return text or "."


def _shorten(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 3] + "..."
