import Foundation

/// Everything fair knows about one kind of object, in one value: where it lives in the API,
/// what discovery says of it, how a new one is defaulted and checked, which fields a field
/// selector may name, and how `kubectl get` prints it. Kubernetes keeps the same per kind in
/// `pkg/registry/<group>/<kind>/strategy.go` and derives routing, discovery and printing from it;
/// here the API server, the client, the informers and the garbage collector read this value.
/// Each built-in kind is one file in this folder, registered in `KindCatalog.all`.
public struct KindDefinition: Sendable {
    public let group: String
    public let version: String
    public let kind: String
    public let plural: String
    public let singular: String
    public let namespaced: Bool
    public let shortNames: [String]
    public let categories: [String]
    /// `status`, `scale`, `log`, …: each served at `…/NAME/SUBRESOURCE`. With `status`, the main
    /// resource ignores status changes and the subresource ignores everything else.
    public let subresources: [String]
    /// DELETE answers with the deleted object rather than a `Status`, as kube-apiserver's store
    /// for this kind does (`ReturnDeletedObject`); clients decode the answer as that type.
    public let returnsDeletedObject: Bool
    /// Fields a field selector may name besides `metadata.name` and `metadata.namespace`, as the
    /// kind's field label conversion in Kubernetes lists them; others are a 400.
    public let selectableFields: [String]
    /// Runs once when an object is created, after its uid is set (a Job's generated selector).
    public let prepareCreate: @Sendable (inout JSONValue) -> Void
    /// Fills in what the kind defaults (kube's `SetDefaults_*`), on create and update.
    public let defaults: @Sendable (inout JSONValue) -> Void
    /// Checks beyond field types (those come from Kubernetes' OpenAPI definitions).
    public let validate: @Sendable (JSONValue) -> [FieldCause]
    /// Checks of an update against the stored object (kube's `ValidateUpdate`): fields that are
    /// immutable, or immutable once set. Given the old object, then the new one.
    public let validateUpdate: @Sendable (JSONValue, JSONValue) -> [FieldCause]
    /// The columns of `kubectl get`, as kubectl's printers lay them out for this kind.
    public let columns: [TableColumn]
    /// Seconds an object gets before a DELETE removes it (kube's graceful deletion: a pod on a
    /// node is marked, and its node removes it once stopped); nil: removed at once. Given the
    /// object and the grace period the request asked for.
    public let gracePeriod: @Sendable (JSONValue, Int64?) -> Int64?
    /// A namespace: deleting it deletes every object in it.
    public let containsObjects: Bool
    /// Fields the server allocates (a Service's cluster IPs), which a client replacing the whole
    /// object carries over from the stored one.
    public let allocatedFields: [[String]]
    /// What discovery lists and the server answers for this kind; others are a 405.
    public let verbs: [String]
    /// false for a request that is answered, never kept (`SelfSubjectAccessReview`,
    /// `TokenReview`): only `create`, and the API server computes the answer.
    public let stored: Bool
    /// Read-only objects the API server computes on each request, never stored
    /// (metrics.k8s.io's NodeMetrics and PodMetrics): only `get` and `list`.
    public let computed: Bool

    public init(group: String, version: String, kind: String, plural: String, singular: String? = nil, namespaced: Bool,
                shortNames: [String] = [], categories: [String] = [], subresources: [String] = [],
                returnsDeletedObject: Bool = false, selectableFields: [String] = [],
                prepareCreate: @escaping @Sendable (inout JSONValue) -> Void = { _ in },
                defaults: @escaping @Sendable (inout JSONValue) -> Void = { _ in },
                validate: @escaping @Sendable (JSONValue) -> [FieldCause] = { _ in [] },
                validateUpdate: @escaping @Sendable (JSONValue, JSONValue) -> [FieldCause] = { _, _ in [] },
                columns: [TableColumn] = [TableColumn.name, TableColumn.age],
                gracePeriod: @escaping @Sendable (JSONValue, Int64?) -> Int64? = { _, _ in nil },
                containsObjects: Bool = false, allocatedFields: [[String]] = [], stored: Bool = true, computed: Bool = false) {
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.singular = singular ?? kind.lowercased()
        self.namespaced = namespaced
        self.shortNames = shortNames
        self.categories = categories
        self.subresources = subresources
        self.returnsDeletedObject = returnsDeletedObject
        self.selectableFields = selectableFields
        self.prepareCreate = prepareCreate
        self.defaults = defaults
        self.validate = validate
        self.validateUpdate = validateUpdate
        self.columns = columns
        self.gracePeriod = gracePeriod
        self.containsObjects = containsObjects
        self.allocatedFields = allocatedFields
        self.stored = stored && !computed
        self.computed = computed
        self.verbs = computed ? ["get", "list"] : stored ? Self.verbs : ["create"]
    }

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var groupVersion: String { apiVersion }
    /// The URL path of the group-version, without the leading slash: `api/v1`, `apis/apps/v1`.
    public var groupVersionPath: String { group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)" }
    /// The key objects are stored under: `pods`, `deployments.apps`, …
    public var storageKey: String { group.isEmpty ? plural : "\(plural).\(group)" }
    /// Where the client finds objects of this kind.
    public var resource: APIResource { APIResource(group: group, version: version, plural: plural, namespaced: namespaced) }

    public static let verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    /// Whether a field selector may name `field` for this kind.
    public func selects(_ field: String) -> Bool {
        field == "metadata.name" || field == "metadata.namespace" || selectableFields.contains(field)
    }
}

extension KindDefinition: Hashable {
    public static func == (lhs: KindDefinition, rhs: KindDefinition) -> Bool {
        lhs.group == rhs.group && lhs.version == rhs.version && lhs.plural == rhs.plural
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(group)
        hasher.combine(version)
        hasher.combine(plural)
    }
}

/// One field error of an object: the path (`spec.containers[0].image`) and kube's message.
public struct FieldCause: Sendable, Equatable {
    public var field: String
    public var message: String

    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }
}
