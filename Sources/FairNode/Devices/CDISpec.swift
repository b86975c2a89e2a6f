import FairKube
import Foundation

/// One Container Device Interface spec file (the CNCF CDI spec, 0.3 to 0.8; what
/// `nvidia-ctk cdi generate` writes): a vendor's device kind, its devices, and the edits a
/// container's OCI config gets for each device it is given, plus the edits every such
/// container gets. Read from JSON or YAML and checked as the CDI reference library checks it,
/// so a spec containerd or podman refuses is refused here too, with the file and field named.
public struct CDISpec: Sendable, Equatable {
    public var version: String
    /// `vendor.com/class`, which is also the extended resource a node advertises.
    public var kind: String
    public var devices: [Device]
    /// Edits for any container given at least one of this spec's devices.
    public var edits: CDIContainerEdits
    public var file: String

    public struct Device: Sendable, Equatable {
        public var name: String
        public var edits: CDIContainerEdits
    }

    public init(json: JSONValue, file: String) throws(CDIError) {
        self.file = file
        guard let object = json.objectValue else { throw CDIError.invalid(file: file, field: "", "the spec must be a mapping") }
        guard let version = object["cdiVersion"]?.stringValue, Self.isVersion(version) else {
            throw CDIError.invalid(file: file, field: "cdiVersion", "must be a version such as 0.6.0, got \(Self.show(object["cdiVersion"]))")
        }
        self.version = version
        guard let kind = object["kind"]?.stringValue else { throw CDIError.invalid(file: file, field: "kind", "is required") }
        if let problem = Self.kindProblem(kind) { throw CDIError.invalid(file: file, field: "kind", "\"\(kind)\": \(problem)") }
        self.kind = kind
        edits = try CDIContainerEdits(json: object["containerEdits"], file: file, field: "containerEdits")
        guard let list = object["devices"]?.arrayValue, !list.isEmpty else {
            throw CDIError.invalid(file: file, field: "devices", "must list at least one device")
        }
        var devices: [Device] = []
        var seen: Set<String> = []
        for (index, entry) in list.enumerated() {
            let field = "devices[\(index)]"
            guard let name = entry["name"]?.stringValue else { throw CDIError.invalid(file: file, field: "\(field).name", "is required") }
            guard Self.isDeviceName(name) else {
                throw CDIError.invalid(file: file, field: "\(field).name",
                                       "\"\(name)\": must be letters, digits, '-', '_', '.' or ':', beginning and ending with a letter or digit")
            }
            guard seen.insert(name).inserted else { throw CDIError.invalid(file: file, field: "\(field).name", "\"\(name)\" is defined twice") }
            let deviceEdits = try CDIContainerEdits(json: entry["containerEdits"], file: file, field: "\(field).containerEdits")
            // A device that changes nothing in a container is no device (the reference library refuses it too).
            guard !deviceEdits.isEmpty else { throw CDIError.invalid(file: file, field: "\(field).containerEdits", "device \"\(name)\" has no edits") }
            devices.append(Device(name: name, edits: deviceEdits))
        }
        self.devices = devices
    }

    /// Reads a `.json`, `.yaml` or `.yml` file.
    public static func load(path: String) throws(CDIError) -> CDISpec {
        guard let data = FileManager.default.contents(atPath: path) else { throw CDIError.unreadable(file: path) }
        guard let text = String(data: data, encoding: .utf8) else { throw CDIError.invalid(file: path, field: "", "not UTF-8 text") }
        let documents: [JSONValue]
        do {
            documents = try YAMLValues.parse(text, source: path)
        } catch {
            throw CDIError.invalid(file: path, field: "", "\(error)")
        }
        guard documents.count == 1, let document = documents.first else {
            throw CDIError.invalid(file: path, field: "", "must hold exactly one spec, found \(documents.count)")
        }
        return try CDISpec(json: document, file: path)
    }

    // MARK: - Names, as the spec defines them

    /// `prefix/name`: a DNS subdomain, a slash, and a name of up to 63 characters.
    static func kindProblem(_ kind: String) -> String? {
        let parts = kind.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return "must be vendor/class, such as nvidia.com/gpu" }
        let vendor = parts[0], kindName = parts[1]
        guard !vendor.isEmpty, vendor.count <= 253,
              vendor.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(isDNSLabel) else {
            return "the vendor \"\(vendor)\" must be a DNS subdomain"
        }
        guard !kindName.isEmpty, kindName.count <= 63, isName(kindName, extra: "-_.") else {
            return "the class \"\(kindName)\" must be up to 63 letters, digits, '-', '_' or '.', beginning and ending with a letter or digit"
        }
        return nil
    }

    static func isDeviceName(_ name: String) -> Bool { isName(Substring(name), extra: "-_.:") }

    private static func isName(_ name: Substring, extra: String) -> Bool {
        guard let first = name.first, let last = name.last, isAlphanumeric(first), isAlphanumeric(last) else { return false }
        return name.allSatisfy { isAlphanumeric($0) || extra.contains($0) }
    }

    private static func isDNSLabel(_ label: Substring) -> Bool {
        guard !label.isEmpty, label.count <= 63, let first = label.first, let last = label.last,
              isLowerAlphanumeric(first), isLowerAlphanumeric(last) else { return false }
        return label.allSatisfy { isLowerAlphanumeric($0) || $0 == "-" }
    }

    private static func isAlphanumeric(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber)
    }

    private static func isLowerAlphanumeric(_ character: Character) -> Bool {
        character.isASCII && (character.isLowercase || character.isNumber)
    }

    /// Semantic version: MAJOR.MINOR.PATCH, with an optional pre-release or build suffix.
    static func isVersion(_ text: String) -> Bool {
        let core = text.split(whereSeparator: { $0 == "-" || $0 == "+" }).first ?? ""
        let numbers = core.split(separator: ".", omittingEmptySubsequences: false)
        return numbers.count == 3 && numbers.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }

    static func show(_ value: JSONValue?) -> String {
        guard let value else { return "nothing" }
        return value.stringValue.map { "\"\($0)\"" } ?? "\(value)"
    }
}

/// What went wrong reading a CDI spec: the file, the field and why.
public enum CDIError: Error, Equatable, CustomStringConvertible {
    case unreadable(file: String)
    case invalid(file: String, field: String, String)

    public var description: String {
        switch self {
        case let .unreadable(file): "CDI spec \(file): cannot be read"
        case let .invalid(file, field, reason) where field.isEmpty: "CDI spec \(file): \(reason)"
        case let .invalid(file, field, reason): "CDI spec \(file): \(field): \(reason)"
        }
    }
}
