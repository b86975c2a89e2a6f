#!/usr/bin/env python3
"""Generates Sources/FairAPIServer/Schema/KubernetesTypeSchemas.swift: the field types of the
kinds the API server serves, taken from Kubernetes' own OpenAPI definitions.

Run by a developer when the Kubernetes version changes, not by CI; the output is committed.

Source: the PyPI package `kubernetes-validate`, which ships, per Kubernetes release, the JSON
schemas that openapi2jsonschema derives from the official OpenAPI (swagger) document of
kubernetes/kubernetes (api/openapi-spec/swagger.json). Of the packages on PyPI it is the one that
carries those definitions whole: the `kubernetes` client package ships generated Python models,
not swagger.json. Its `*-local` schemas are used (every type also admits null, as the
API server treats null as unset), not the `*-strict` ones (unknown fields are not errors here).

    python3 -m venv /tmp/schema-venv
    /tmp/schema-venv/bin/pip install kubernetes-validate
    /tmp/schema-venv/bin/python scripts/generate-openapi-schemas.py [--kubernetes-version 1.32.0]

Only what type-checking needs is kept, for only the definitions reachable from the served kinds:

    {"kubernetesVersion": "1.32.0",
     "kinds": {"v1/Pod": "io.k8s.api.core.v1.Pod", ...},
     "definitions": {"io.k8s.api.core.v1.Pod": {"properties": {"spec": <schema>, ...}}, ...}}

where a <schema> is one of

    {"$ref": "<definition>"}                        an object definition
    {"type": "string" | "integer" | "number" | "boolean"}
    {"type": "string", "format": "int-or-string"}   IntOrString: an integer or a string
    {"type": "string", "format": "quantity"}        Quantity: a number or a string
    {"type": "array", "items": <schema>}
    {"type": "object", "additionalProperties": <schema>}   a map
    {"type": "object"}                              an object of any members
    {}                                              any JSON value (RawExtension, FieldsV1, JSON)

Definitions that are not objects with properties (Time, MicroTime, IntOrString, Quantity, ...)
are written in place of their references.
"""

import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KINDS_DIRECTORY = os.path.join(ROOT, "Sources", "FairKube", "Kinds")

# Bodies the API server accepts on subresources (pods/binding, scale): not kinds of their own.
SUBRESOURCE_BODIES = [
    ("v1", "Binding", "io.k8s.api.core.v1.Binding"),
    ("autoscaling/v1", "Scale", "io.k8s.api.autoscaling.v1.Scale"),
    ("authentication.k8s.io/v1", "TokenRequest", "io.k8s.api.authentication.v1.TokenRequest"),
]


def served_kinds():
    """The kinds of the catalog (one file each under Sources/FairKube/Kinds), read from their
    definitions, so that the catalog stays the only list of kinds."""
    pattern = re.compile(r'KindDefinition\(\s*group:\s*"([^"]*)",\s*version:\s*"([^"]+)",\s*kind:\s*"([^"]+)"')
    kinds = []
    paths = sorted(os.path.join(folder, name) for folder, _, names in os.walk(KINDS_DIRECTORY) for name in names if name.endswith(".swift"))
    for path in paths:
        with open(path) as handle:
            for group, version, kind in pattern.findall(handle.read()):
                api_version = "%s/%s" % (group, version) if group else version
                kinds.append((api_version, kind, "io.k8s.api.%s.%s.%s" % ((group or "core").split(".")[0], version, kind)))
    if not kinds:
        raise SystemExit("no kinds found in %s" % KINDS_DIRECTORY)
    return kinds + SUBRESOURCE_BODIES


# Types whose Go decoders accept more than their OpenAPI `type` says.
SPECIAL = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"type": "string", "format": "int-or-string"},
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string", "format": "quantity"},
    # Kept as raw JSON by their decoders: any value.
    "io.k8s.apimachinery.pkg.runtime.RawExtension": {},
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1": {},
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON": {},
}

SCALAR_TYPES = {"string", "integer", "number", "boolean"}
REF_PREFIX = "#/$defs/"

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                      "Sources", "FairAPIServer", "Schema", "KubernetesTypeSchemas.swift")
# The same definitions with their descriptions, as OpenAPI v3 schemas: what /openapi/v3 (and so
# `kubectl explain`) serves.
OPENAPI_OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                              "Sources", "FairAPIServer", "Schema", "KubernetesOpenAPISchemas.swift")

# What an OpenAPI v3 schema keeps of a definition: the shape, the words, Kubernetes' extensions.
OPENAPI_KEYS = {"description", "type", "format", "enum", "required", "properties", "items", "additionalProperties",
                "default", "minimum", "maximum", "pattern"}


class OpenAPIConverter:
    """JSON-schema definitions of kubernetes-validate back into OpenAPI v3 component schemas as
    kube-apiserver publishes them: `#/components/schemas/NAME` references (wrapped in allOf when
    the property carries its own description), one type per schema (no "null"), IntOrString as
    a string of format int-or-string, Kubernetes' x-kubernetes-* extensions kept."""

    def __init__(self, definitions):
        self.definitions = definitions
        self.output = {}
        self.pending = []

    def name(self, ref, where):
        if not ref.startswith(REF_PREFIX):
            raise SystemExit("%s: unexpected reference %s" % (where, ref))
        name = ref[len(REF_PREFIX):]
        if name not in self.definitions:
            raise SystemExit("%s: reference to unknown definition %s" % (where, name))
        if name not in self.output and name not in self.pending:
            self.pending.append(name)
        return "#/components/schemas/" + name

    def schema(self, schema, where):
        if "$ref" in schema:
            return {"$ref": self.name(schema["$ref"], where)}
        result = {}
        if "oneOf" in schema:
            # IntOrString and Quantity: a string or a number, published as a string with a format.
            result["type"] = "string"
            if where.endswith("IntOrString"):
                result["format"] = "int-or-string"
        for key, value in schema.items():
            if key.startswith("x-kubernetes-"):
                result[key] = value
            elif key not in OPENAPI_KEYS:
                continue
            elif key == "type":
                kind = json_type(schema, where)
                if kind is not None:
                    result["type"] = kind
            elif key == "properties":
                result["properties"] = {field: self.property(value[field], "%s.%s" % (where, field)) for field in sorted(value)}
            elif key == "items":
                result["items"] = self.schema(value, where + "[]")
            elif key == "additionalProperties":
                result["additionalProperties"] = self.schema(value, where + "{}") if isinstance(value, dict) else value
            elif key == "enum":
                result["enum"] = [item for item in value if item is not None]
            else:
                result[key] = value
        if "allOf" in schema and len(schema["allOf"]) == 1:
            result["allOf"] = [self.schema(schema["allOf"][0], where)]
        return result

    def property(self, schema, where):
        """A property that is a reference keeps its own description beside it, as allOf."""
        if "$ref" in schema and "description" in schema:
            wrapped = {"allOf": [{"$ref": self.name(schema["$ref"], where)}], "description": schema["description"]}
            for key, value in schema.items():
                if key.startswith("x-kubernetes-"):
                    wrapped[key] = value
            return wrapped
        return self.schema(schema, where)

    def run(self, roots, kinds):
        for root in roots:
            self.name(REF_PREFIX + root, root)
        while self.pending:
            name = self.pending.pop(0)
            self.output[name] = self.schema(self.definitions[name], name)
        for (api_version, kind, name) in kinds:
            group, _, version = api_version.rpartition("/")
            self.output[name]["x-kubernetes-group-version-kind"] = [{"group": group, "version": version, "kind": kind}]
        return self.output


def schema_directory(version):
    import kubernetes_validate
    base = os.path.join(os.path.dirname(kubernetes_validate.__file__), "kubernetes-json-schema")
    path = os.path.join(base, "v%s-local" % version)
    if not os.path.isdir(path):
        available = sorted(name for name in os.listdir(base) if name.endswith("-local"))
        sys.exit("no schemas for Kubernetes %s in kubernetes-validate %s; it has: %s"
                 % (version, kubernetes_validate.__version__, ", ".join(available)))
    return path, kubernetes_validate.__version__


def json_type(schema, where):
    """The one non-null type of a schema, or None when it names none."""
    value = schema.get("type")
    if value is None:
        return None
    types = [value] if isinstance(value, str) else [t for t in value if t != "null"]
    if len(types) != 1:
        raise SystemExit("%s: cannot reduce type %r to one type" % (where, value))
    return types[0]


class Compactor:
    def __init__(self, definitions):
        self.definitions = definitions
        self.output = {}
        self.pending = []

    def reference(self, name, where):
        if name in SPECIAL:
            return dict(SPECIAL[name])
        if name not in self.definitions:
            raise SystemExit("%s: reference to unknown definition %s" % (where, name))
        definition = self.definitions[name]
        if "properties" in definition:
            if name not in self.output and name not in self.pending:
                self.pending.append(name)
            return {"$ref": name}
        # Not an object with fields: write it where it is used.
        return self.schema(definition, name)

    def schema(self, schema, where):
        if "$ref" in schema:
            ref = schema["$ref"]
            if not ref.startswith(REF_PREFIX):
                raise SystemExit("%s: unexpected reference %s" % (where, ref))
            return self.reference(ref[len(REF_PREFIX):], where)
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.schema(schema["allOf"][0], where)
        if "oneOf" in schema or "anyOf" in schema or "allOf" in schema:
            raise SystemExit("%s: oneOf/anyOf/allOf outside the known special types" % where)
        if schema.get("x-kubernetes-int-or-string"):
            return {"type": "string", "format": "int-or-string"}
        if schema.get("x-kubernetes-preserve-unknown-fields") and "properties" not in schema:
            return {"type": "object"} if json_type(schema, where) == "object" else {}
        kind = json_type(schema, where)
        if kind is None:
            if "properties" in schema:
                kind = "object"
            else:
                return {}
        if kind in SCALAR_TYPES:
            return {"type": kind}
        if kind == "array":
            if "items" not in schema:
                return {"type": "array"}
            return {"type": "array", "items": self.schema(schema["items"], where + "[]")}
        if kind == "object":
            if "properties" in schema:
                raise SystemExit("%s: an inline object with properties; expected a reference" % where)
            additional = schema.get("additionalProperties")
            if isinstance(additional, dict):
                return {"type": "object", "additionalProperties": self.schema(additional, where + "{}")}
            return {"type": "object"}
        raise SystemExit("%s: unexpected type %r" % (where, kind))

    def run(self, roots):
        for root in roots:
            self.reference(root, root)
        while self.pending:
            name = self.pending.pop(0)
            definition = self.definitions[name]
            properties = {}
            for field in sorted(definition["properties"]):
                properties[field] = self.schema(definition["properties"][field], "%s.%s" % (name, field))
            self.output[name] = {"properties": properties}
        return self.output


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kubernetes-version", default="1.32.0")
    parser.add_argument("--output", default=OUTPUT)
    arguments = parser.parse_args()

    directory, package_version = schema_directory(arguments.kubernetes_version)
    with open(os.path.join(directory, "_definitions.json")) as handle:
        definitions = json.load(handle)["$defs"]

    served = served_kinds()
    roots = [name for _, _, name in served]
    compact = Compactor(definitions).run(roots)
    document = {
        "kubernetesVersion": arguments.kubernetes_version,
        "kinds": {"%s/%s" % (api_version, kind): name for api_version, kind, name in served},
        "definitions": compact,
    }

    # One definition per line, so a regeneration's diff shows which types changed.
    lines = ['{"kubernetesVersion":%s,' % json.dumps(document["kubernetesVersion"]),
             '"kinds":%s,' % json.dumps(document["kinds"], sort_keys=True, separators=(",", ":")),
             '"definitions":{']
    names = sorted(compact)
    for index, name in enumerate(names):
        entry = json.dumps(compact[name], sort_keys=True, separators=(",", ":"))
        lines.append("%s:%s%s" % (json.dumps(name), entry, "," if index < len(names) - 1 else ""))
    lines.append("}}")
    text = "\n".join(lines)
    json.loads(text)  # what is written must parse
    if '"#' in text or "\\" in text:
        raise SystemExit("the data would need escaping inside a raw string literal")

    swift = """// Generated by scripts/generate-openapi-schemas.py from the OpenAPI definitions of
// Kubernetes {version} (PyPI kubernetes-validate {package}). Do not edit; regenerate.

/// The field types of the served kinds, as compact JSON (the script's header describes it).
enum KubernetesTypeSchemas {{
    static let kubernetesVersion = "{version}"

    static let json = #\"\"\"
{text}
\"\"\"#
}}
""".format(version=arguments.kubernetes_version, package=package_version, text=text)
    os.makedirs(os.path.dirname(arguments.output), exist_ok=True)
    with open(arguments.output, "w") as handle:
        handle.write(swift)
    print("%s: %d definitions, %d bytes" % (os.path.relpath(arguments.output), len(compact), len(swift)))

    schemas = OpenAPIConverter(definitions).run(roots, served)
    lines = ["{"]
    names = sorted(schemas)
    for index, name in enumerate(names):
        entry = json.dumps(schemas[name], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        lines.append("%s:%s%s" % (json.dumps(name), entry, "," if index < len(names) - 1 else ""))
    lines.append("}")
    text = "\n".join(lines)
    json.loads(text)
    if '"#' in text.replace('"#/components/schemas/', ""):
        raise SystemExit("the OpenAPI data would need another raw-string delimiter")
    swift = """// Generated by scripts/generate-openapi-schemas.py from the OpenAPI definitions of
// Kubernetes {version} (PyPI kubernetes-validate {package}). Do not edit; regenerate.

/// Kubernetes' own component schemas of the served kinds and every type they reach, with their
/// descriptions: what /openapi/v3 serves, and so what `kubectl explain` prints. One per line.
enum KubernetesOpenAPISchemas {{
    static let json = ##\"\"\"
{text}
\"\"\"##
}}
""".format(version=arguments.kubernetes_version, package=package_version, text=text)
    with open(OPENAPI_OUTPUT, "w") as handle:
        handle.write(swift)
    print("%s: %d schemas, %d bytes" % (os.path.relpath(OPENAPI_OUTPUT), len(schemas), len(swift)))


if __name__ == "__main__":
    main()
