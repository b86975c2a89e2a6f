import Foundation

/// One column of server-side printing (`meta.k8s.io/v1` `Table`): kubectl asks for the table and
/// prints the columns the server chose, so `kubectl get` looks as it does against any cluster.
public struct TableColumn: Sendable {
    public var name: String
    public var type: String
    public var format: String
    /// 0: always shown; 1: only with `-o wide`.
    public var priority: Int
    public var value: @Sendable (JSONValue, Date) -> JSONValue

    public init(name: String, type: String = "string", format: String = "", priority: Int = 0,
                value: @escaping @Sendable (JSONValue, Date) -> JSONValue) {
        self.name = name
        self.type = type
        self.format = format
        self.priority = priority
        self.value = value
    }

    public static let name = TableColumn(name: "Name", format: "name") { object, _ in .string(object.name ?? "") }
    public static let age = TableColumn(name: "Age") { object, now in .string(Printing.age(of: object, now: now)) }

    /// A column of text at `path`, `fallback` when it is absent or empty.
    public static func text(_ name: String, _ path: String, or fallback: String, priority: Int = 0) -> TableColumn {
        TableColumn(name: name, priority: priority) { object, _ in .string(Printing.text(object, path, or: fallback)) }
    }

    /// A column of the integer at `path` (0 when absent).
    public static func integer(_ name: String, _ path: String) -> TableColumn {
        TableColumn(name: name, type: "integer") { object, _ in .int(Printing.int(object, path)) }
    }

    /// CONTAINERS, IMAGES and SELECTOR of `-o wide` for kinds with a pod template.
    public static let workload: [TableColumn] = [
        TableColumn(name: "Containers", priority: 1) { object, _ in
            .string(Printing.templateContainers(object).compactMap { $0["name"]?.stringValue }.joined(separator: ","))
        },
        TableColumn(name: "Images", priority: 1) { object, _ in
            .string(Printing.templateContainers(object).compactMap { $0["image"]?.stringValue }.joined(separator: ","))
        },
        TableColumn(name: "Selector", priority: 1) { object, _ in .string(Printing.selectorText(object.value(at: "spec.selector"))) },
    ]
}

/// Cell values kubectl's printers compute, shared by the kinds' columns.
public enum Printing {
    public static func text(_ object: JSONValue, _ path: String, or fallback: String) -> String {
        guard let value = object.value(at: path)?.stringValue, !value.isEmpty else { return fallback }
        return value
    }

    public static func int(_ object: JSONValue, _ path: String) -> Int64 { object.value(at: path)?.intValue ?? 0 }

    static func templateContainers(_ object: JSONValue) -> [JSONValue] {
        object.value(at: "spec.template.spec.containers")?.arrayValue ?? []
    }

    public static func age(of object: JSONValue, now: Date) -> String {
        guard let created = KubeTime.parse(object.value(at: "metadata.creationTimestamp")?.stringValue) else { return "<unknown>" }
        return humanDuration(now.timeIntervalSince(created))
    }

    /// Kubernetes' HumanDuration: "42s", "3m20s", "25m", "5h10m", "2d3h", "400d", "2y10d".
    public static func humanDuration(_ interval: TimeInterval) -> String {
        let seconds = Int(max(0, interval))
        if seconds < 120 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 { return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(hours % 24)h" }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        let days = hours / 24
        return days % 365 == 0 ? "\(days / 365)y" : "\(days / 365)y\(days % 365)d"
    }

    public static func selectorText(_ selector: JSONValue?) -> String {
        guard let selector else { return "<none>" }
        let labels = selector["matchLabels"]?.objectValue ?? (selector["matchExpressions"] == nil ? selector.objectValue ?? [:] : [:])
        let text = labels.compactMap { key, value in value.stringValue.map { "\(key)=\($0)" } }.sorted().joined(separator: ",")
        return text.isEmpty ? "<none>" : text
    }
}
