#!/usr/bin/env python3
"""Writes Sources/FairKubeProto/Generated/GoJSONFields.swift: for every field of every Kubernetes
message, how Go's encoding/json writes the Go field it was generated from.

A protobuf body says which fields were sent, not what Kubernetes' JSON of the same object holds:
Kubernetes decodes the message into its Go type and writes that with encoding/json, so a field's
JSON depends on its Go declaration. A pointer (`*int32 replicas`) is written whenever it is set,
even to 0; a plain field with `omitempty` is left out when it is "", 0, false or empty; one
without it is written even then (`containerPort: 0`), and a struct is always written (Go's
omitempty never leaves a struct out: `creationTimestamp: null`). That knowledge is read here from
the Go sources stored beside each generated.proto (their `json` and `protobuf` struct tags), never
guessed from the protobuf types.

Run by scripts/generate-protobuf (needs `protobuf` from PyPI for the descriptor set), not by CI;
the output is committed.

    python3 scripts/protobuf-go-json.py DESCRIPTOR_SET PROTO_ROOT OUTPUT.swift
"""
import json
import os
import re
import sys

from google.protobuf import descriptor_pb2

FieldDescriptor = descriptor_pb2.FieldDescriptorProto

# Types with their own MarshalJSON (apimachinery): ProtobufJSON writes them itself. Their zero
# values are what that MarshalJSON writes for a zero Go value.
SPECIAL_ZEROS = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time": None,  # time.go: a zero time is null
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime": None,  # micro_time.go: likewise
    "k8s.io.apimachinery.pkg.apis.meta.v1.Duration": "0s",  # duration.go: time.Duration.String()
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1": None,  # helpers.go: nil Raw is null
    "k8s.io.apimachinery.pkg.apis.meta.v1.GroupVersion": "",  # group_version.go: "group/version"
    "k8s.io.apimachinery.pkg.api.resource.Quantity": "0",  # quantity.go: the zero quantity
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": 0,  # intstr.go: type Int, value 0
    "k8s.io.apimachinery.pkg.runtime.RawExtension": None,  # extension.go: nil Raw is null
}
# Messages that only carry other messages on the wire and are never written as JSON.
NOT_JSON = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.Timestamp",  # the protobuf form of Time
    "k8s.io.apimachinery.pkg.runtime.Unknown",  # the envelope of a protobuf body
    "k8s.io.apimachinery.pkg.api.resource.QuantityValue",  # a command-line flag, in no API object
}

STRUCT = re.compile(r"^type (\w+) struct ?\{(\})?\s*$")
NAMED_SLICE = re.compile(r"^type (\w+) \[\]\S+")
DEFINED_FROM = re.compile(r"^type (\w+) (\w+)\.(\w+)\s*$")  # `type List metav1.List`
IMPORT = re.compile(r'^\s*(?:import\s+)?(\w+\s+)?"(k8s\.io/[^"]+)"')
FIELD = re.compile(r"^\s+(\S+)(?:\s+(\S+))?\s+`([^`]*)`")
TAG = re.compile(r'(\w+):"([^"]*)"')


class GoField:
    def __init__(self, name, go_type, embedded, tags):
        self.go_type = go_type
        self.number = int(tags["protobuf"].split(",")[1])
        json_tag = tags.get("json", "").split(",")
        self.omitempty = "omitempty" in json_tag[1:]
        # encoding/json promotes the fields of an embedded struct that its tag does not name.
        self.inline = "inline" in json_tag[1:] or (embedded and not json_tag[0])
        self.json_name = json_tag[0] or name
        self.pointer = go_type.startswith("*")


def read_go_package(proto_root, package):
    """Structs (name → fields with a protobuf tag) and named slice types of one Go package."""
    directory = os.path.join(proto_root, package)
    structs, slices, defined_from = {}, set(), {}
    for file in sorted(os.listdir(directory)):
        if not file.endswith(".go"):
            continue
        current, imports = None, {}
        with open(os.path.join(directory, file)) as handle:
            for line in handle:
                if current is None:
                    if match := STRUCT.match(line):
                        fields = structs.setdefault(match.group(1), [])
                        current = None if match.group(2) else fields  # `struct{}` has no body
                    elif match := NAMED_SLICE.match(line):
                        slices.add(match.group(1))
                    elif (match := DEFINED_FROM.match(line)) and match.group(2) in imports:
                        defined_from[match.group(1)] = (imports[match.group(2)], match.group(3))
                    elif match := IMPORT.match(line):
                        path = match.group(2)
                        imports[(match.group(1) or path.split("/")[-1]).strip()] = path
                    continue
                if line.startswith("}"):
                    current = None
                    continue
                if (match := FIELD.match(line)) is None:
                    continue
                first, second, tag_text = match.groups()
                tags = dict(TAG.findall(tag_text))
                if "protobuf" not in tags or tags["protobuf"] == "-":
                    continue
                # An embedded struct (a type and tags, no name) is named after its type.
                name, go_type = (first, second) if second else (first.lstrip("*").split(".")[-1], first)
                current.append(GoField(name, go_type, not second, tags))
    # A type defined from another package's struct has that struct's fields.
    for name, (other, struct) in defined_from.items():
        if os.path.isdir(os.path.join(proto_root, other)):
            structs[name] = read_go_package(proto_root, other)[0][struct]
    return structs, slices


def main(descriptor_set, proto_root, output):
    files = descriptor_pb2.FileDescriptorSet()
    with open(descriptor_set, "rb") as handle:
        files.ParseFromString(handle.read())

    messages, go_structs, slice_messages = {}, {}, set()
    for file in files.file:
        # Only Kubernetes' own messages are objects written as JSON by Go; the OpenAPI v2
        # document (openapiv2/) and protobuf's well-known types are served as protobuf only.
        if not file.name.startswith("k8s.io/"):
            continue
        structs, slices = read_go_package(proto_root, os.path.dirname(file.name))
        for message in file.message_type:
            full = f"{file.package}.{message.name}"
            messages[full] = message
            if message.name in slices:
                slice_messages.add(full)
            elif full not in SPECIAL_ZEROS and full not in NOT_JSON:
                if message.name not in structs:
                    sys.exit(f"{full}: no Go struct {message.name} in {os.path.dirname(file.name)}")
                go_structs[full] = structs[message.name]

    def kind(field):
        """'slice', 'struct' or 'scalar': what Go's omitempty and zero value depend on."""
        if field.label == FieldDescriptor.LABEL_REPEATED or field.type == FieldDescriptor.TYPE_BYTES:
            return "slice"  # maps, slices and []byte alike: nil is null, empty is left out by omitempty
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            return "slice" if field.type_name[1:] in slice_messages else "struct"
        return "scalar"

    def scalar_zero(field):
        if field.type == FieldDescriptor.TYPE_STRING:
            return ""
        if field.type == FieldDescriptor.TYPE_BOOL:
            return False
        return 0

    zeros = {}

    def zero(name):
        """The JSON Go writes for the zero value of the struct of message `name`."""
        if name in SPECIAL_ZEROS:
            return SPECIAL_ZEROS[name]
        if name not in zeros:
            value = {}
            for field, go in described_fields(name):
                absent = absent_json(field, go)
                if absent is OMITTED:
                    continue
                if go.inline:
                    value.update(absent)
                else:
                    value[go.json_name] = absent
            zeros[name] = value
        return zeros[name]

    OMITTED = object()

    def absent_json(field, go):
        """What Go writes for this field when the message does not carry it (its zero value)."""
        if go.pointer:
            return OMITTED if go.omitempty else None
        field_kind = kind(field)
        if field_kind == "struct":
            return zero(field.type_name[1:])
        if go.omitempty:
            return OMITTED
        return None if field_kind == "slice" else scalar_zero(field)

    def described_fields(name):
        by_number = {go.number: go for go in go_structs[name]}
        pairs = []
        for field in messages[name].field:
            go = by_number.get(field.number)
            if go is None:
                sys.exit(f"{name}: field {field.name} = {field.number} has no Go field")
            if go.json_name == "-" and not go.inline:
                continue
            pairs.append((field, go))
        return pairs

    lines = [
        "// Generated by scripts/protobuf-go-json.py from Kubernetes' .proto files and the Go types they were",
        "// generated from (scripts/protobuf/k8s.io/**/types.go). Do not edit.",
        "",
        "extension GoJSONFields {",
        "    /// Each message's fields by number, as Go's encoding/json writes the Go field.",
        "    static let table: [String: [Int: GoJSONField]] = [",
    ]
    count = 0
    for name in sorted(go_structs):
        entries = []
        for field, go in described_fields(name):
            absent = absent_json(field, go)
            if go.inline:
                entries.append(f"{field.number}: .inline(absent: {swift_json(absent)})")
            elif go.omitempty and not go.pointer and kind(field) != "struct":
                entries.append(f'{field.number}: .omitEmpty("{go.json_name}")')
            elif absent is OMITTED:
                entries.append(f'{field.number}: .whenSet("{go.json_name}")')
            else:
                entries.append(f'{field.number}: .always("{go.json_name}", absent: {swift_json(absent)})')
            count += 1
        lines.append(f'        "{name}": [{", ".join(entries) or ":"}],')
    lines += [
        "    ]",
        "",
        "    /// Messages generated from a named Go slice (`type Verbs []string`): their JSON is the array in field 1.",
        "    static let sliceMessages: Set<String> = [",
        *[f'        "{name}",' for name in sorted(slice_messages)],
        "    ]",
        "}",
        "",
    ]
    with open(output, "w") as handle:
        handle.write("\n".join(lines))
    print(f"{output}: {len(go_structs)} messages, {count} fields, {len(slice_messages)} slice messages")


def swift_json(value):
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return f'#"{text}"#'


if __name__ == "__main__":
    main(*sys.argv[1:])
