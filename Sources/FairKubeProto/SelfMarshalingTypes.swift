import FairKube
import Foundation
import SwiftProtobuf

/// apimachinery's types that write their own JSON (a `MarshalJSON` method), whose JSON is not the
/// shape of their message. Each is written here as that method writes it; the generated field
/// table knows their zero values (`SPECIAL_ZEROS` in scripts/protobuf-go-json.py).
enum SelfMarshalingTypes {
    /// The JSON of `message` if its type marshals itself, else nil.
    static func json(of message: any Message) throws -> JSONValue? {
        switch message {
        case let time as K8s_Io_Apimachinery_Pkg_Apis_Meta_V1_Time:
            // time.go: the zero time is null, any other RFC 3339 in UTC to the second.
            return time.seconds == 0 && time.nanos == 0 ? .null : .string(KubeTime.format(date(time.seconds)))
        case let time as K8s_Io_Apimachinery_Pkg_Apis_Meta_V1_MicroTime:
            // micro_time.go: RFC3339Micro, six digits of fraction, always.
            guard time.seconds != 0 || time.nanos != 0 else { return .null }
            let micros = String(max(0, time.nanos) / 1000)
            let fraction = String(repeating: "0", count: 6 - micros.count) + micros
            return .string(String(KubeTime.format(date(time.seconds)).dropLast()) + ".\(fraction)Z")
        case let duration as K8s_Io_Apimachinery_Pkg_Apis_Meta_V1_Duration:
            return .string(GoDuration.string(nanoseconds: duration.duration))
        case let quantity as K8s_Io_Apimachinery_Pkg_Api_Resource_Quantity:
            // quantity.go writes the canonical string, which is what a Kubernetes client puts on
            // the wire (Quantity's protobuf form is its String()); it is kept as sent.
            return .string(quantity.string.isEmpty ? "0" : quantity.string)
        case let value as K8s_Io_Apimachinery_Pkg_Util_Intstr_IntOrString:
            // intstr.go: type 1 is a string, anything else the int.
            return value.type == 1 ? .string(value.strVal) : .int(Int64(value.intVal))
        case let raw as K8s_Io_Apimachinery_Pkg_Runtime_RawExtension:
            return try embeddedJSON(raw.raw)
        case let fields as K8s_Io_Apimachinery_Pkg_Apis_Meta_V1_FieldsV1:
            return try embeddedJSON(fields.raw)
        case let groupVersion as K8s_Io_Apimachinery_Pkg_Apis_Meta_V1_GroupVersion:
            // group_version.go: "group/version", or the version alone for the core group.
            return .string(groupVersion.group.isEmpty ? groupVersion.version : "\(groupVersion.group)/\(groupVersion.version)")
        default:
            return nil
        }
    }

    private static func date(_ seconds: Int64) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }

    /// extension.go and helpers.go: no bytes is null, bytes are the JSON they hold.
    private static func embeddedJSON(_ raw: Data) throws -> JSONValue {
        guard !raw.isEmpty else { return .null }
        do {
            return try JSONCoding.decode(raw)
        } catch {
            throw ProtobufBodyError.malformed("an embedded object is not JSON: \(error)")
        }
    }
}
