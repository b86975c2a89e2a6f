import FairKube
import Foundation
import SwiftProtobuf

/// Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`), as
/// kubectl's typed commands send them (`kubectl create secret|deployment|role…`, `create token`,
/// `auth can-i`): the magic `k8s\0`, then a `runtime.Unknown` whose type meta names the kind and
/// whose `raw` is the message. Decoded with swift-protobuf's code generated from Kubernetes' own
/// `generated.proto` files (`scripts/generate-protobuf`) and turned into the JSON Kubernetes'
/// Go types would write (`ProtobufJSON`), which is what the rest of the server reads.
public enum KubernetesProtobuf {
    public static let contentType = "application/vnd.kubernetes.protobuf"
    static let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]

    /// The object in `bytes`, as JSON with its `apiVersion` and `kind`.
    public static func decode(_ bytes: [UInt8]) throws -> JSONValue {
        guard bytes.count >= magic.count, Array(bytes.prefix(magic.count)) == magic else {
            throw ProtobufBodyError.notKubernetesProtobuf
        }
        let envelope: K8s_Io_Apimachinery_Pkg_Runtime_Unknown
        do {
            envelope = try K8s_Io_Apimachinery_Pkg_Runtime_Unknown(serializedBytes: Array(bytes.dropFirst(magic.count)))
        } catch {
            throw ProtobufBodyError.malformed("\(error)")
        }
        let apiVersion = envelope.typeMeta.apiVersion
        let kind = envelope.typeMeta.kind
        guard let type = ProtobufKinds.types["\(apiVersion)/\(kind)"] else {
            throw ProtobufBodyError.unsupportedKind(apiVersion: apiVersion, kind: kind)
        }
        var object = try decode(type, envelope.raw)
        object["apiVersion"] = .string(apiVersion)
        object["kind"] = .string(kind)
        return object
    }

    private static func decode<M: Message>(_ type: M.Type, _ raw: Data) throws -> JSONValue {
        let message: M
        do {
            message = try M(serializedBytes: raw)
        } catch {
            throw ProtobufBodyError.malformed("\(error)")
        }
        return try ProtobufJSON.value(of: message)
    }

    /// The kinds whose protobuf bodies are read, `apiVersion/Kind`, for messages.
    public static var kinds: [String] { ProtobufKinds.types.keys.sorted() }
}

public enum ProtobufBodyError: Error, CustomStringConvertible {
    case notKubernetesProtobuf
    case malformed(String)
    case unsupportedKind(apiVersion: String, kind: String)
    case unknownField(message: String, number: Int)
    case unknownMessage(String)

    public var description: String {
        switch self {
        case .notKubernetesProtobuf: return "the body does not start with Kubernetes' protobuf magic (k8s\\0)"
        case let .malformed(why): return "the protobuf body cannot be decoded: \(why)"
        case let .unsupportedKind(apiVersion, kind):
            return "fair server reads protobuf bodies of \(KubernetesProtobuf.kinds.joined(separator: ", ")) only, not \(apiVersion)/\(kind); write the object to a file and use kubectl create -f or kubectl apply -f"
        case let .unknownField(message, number): return "the protobuf body has field \(number) of \(message), which fair does not know"
        case let .unknownMessage(message):
            return "the protobuf body holds a \(message), whose Go type fair does not know; write the object to a file and use kubectl create -f"
        }
    }
}
