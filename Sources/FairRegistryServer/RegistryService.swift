import FairArchive
import FairOCI
import FairSupport
import Foundation
import Hummingbird

/// The OCI distribution API (`/v2/…`) over a content-addressed store on disk: blob uploads
/// (monolithic, chunked, cross-repository mounts), manifests by tag or digest, tag lists and the
/// catalog. Request bodies stream to files and blobs stream from them; nothing large is held in
/// memory, and everything lives under `root`, so a restarted process serves what it had.
public final class RegistryService: @unchecked Sendable {
    let storage: RegistryStorage
    let authorize: @Sendable (_ method: String, _ path: String, _ authorization: String?) -> Bool
    /// Scoped access (anonymous pull, credentials for the rest); nil when `authorize` decides.
    let policy: RegistryAccessPolicy?
    let purgeClock = PurgeClock()
    /// Serialises changes to one upload session, and manifest changes to one repository.
    let sessionLocks = KeyedLock()
    let repositoryLocks = KeyedLock()
    let hashers = UploadHashers()
    private let realmLock = NSLock()
    private var tlsRealm: String?

    /// The token endpoint as reached over TLS (the API port's `https://HOST:PORT/v2/token`),
    /// known once that port is bound: named to a client that sent the cluster's token in clear,
    /// as the place to exchange it for a scoped one where no pod can read it.
    public var tokenRealmOverTLS: String? {
        get { realmLock.lock(); defer { realmLock.unlock() }; return tlsRealm }
        set { realmLock.lock(); tlsRealm = newValue; realmLock.unlock() }
    }

    /// Manifests larger than this are refused (distribution-spec: registries may limit them to 4 MiB).
    static let manifestLimit = 4 << 20
    /// Upload sessions untouched this long are abandoned: removed at start and, while running,
    /// at most every `purgeInterval` (a client that is still uploading touches its session).
    static let staleUploadAge: TimeInterval = 3600
    static let purgeInterval: TimeInterval = 600

    /// `root`: data directory for blobs, manifests, tags and upload sessions (created if missing).
    /// `authorize`: called for every /v2 request with (method, path, Authorization header value or nil); return true to allow.
    public init(root: String, authorize: @escaping @Sendable (_ method: String, _ path: String, _ authorization: String?) -> Bool = { _, _, _ in true }) throws {
        storage = try RegistryStorage(root: root)
        self.authorize = authorize
        policy = nil
        storage.purgeStale(olderThan: Self.staleUploadAge)
    }

    /// A registry that decides access by scope: anonymous pull, and push, delete and mount only
    /// with a credential that covers the repository (see `RegistryAccessPolicy`).
    public init(root: String, policy: RegistryAccessPolicy) throws {
        storage = try RegistryStorage(root: root)
        authorize = { _, _, _ in true }
        self.policy = policy
        storage.purgeStale(olderThan: Self.staleUploadAge)
    }

    /// Handles the request if its path starts with /v2 (returns nil otherwise, so other routes can answer).
    /// `overTLS`: the request came over TLS; over plain HTTP the admin's secret is never accepted.
    public func handle<Context: RequestContext>(_ request: Request, context: Context, overTLS: Bool = false) async throws -> Response? {
        let inClear = !overTLS
        let path = request.uri.path
        guard path == "/v2" || path.hasPrefix("/v2/") else { return nil }
        purgeAbandonedUploadsNowAndThen()
        var response: Response
        if let denial = accessDenial(request, path: path, inClear: inClear) {
            response = denial
        } else if path == Self.tokenPath, policy != nil {
            response = tokenResponse(request)
        } else {
            do {
                response = try await dispatch(request, path: path, context: context)
            } catch let error as DistributionError {
                response = error.response
            } catch {
                context.logger.error("registry: \(request.method) \(path) failed: \(error)")
                response = DistributionError(status: .internalServerError, code: "UNKNOWN", message: "\(error)").response
            }
        }
        response.headers[Headers.apiVersion] = "registry/2.0"
        // A HEAD answer keeps its headers (Content-Length included) and never carries a body,
        // errors included: a stray body would be read as the start of the next response.
        if request.method == .head { response = response.createHeadResponse() }
        return response
    }

    private func dispatch<Context: RequestContext>(_ request: Request, path: String, context: Context) async throws -> Response {
        guard let route = Route(path: path) else {
            throw DistributionError.unsupported("no such endpoint: \(path)", status: .notFound)
        }
        let method = request.method
        switch route {
        case .base:
            guard method == .get || method == .head else { throw notAllowed(method, path) }
            return Responses.json([String: String]())
        case .catalog:
            guard method == .get else { throw notAllowed(method, path) }
            return try catalog(request)
        case let .tags(name):
            try validate(name)
            guard method == .get else { throw notAllowed(method, path) }
            return try tagsList(name, request: request)
        case let .manifest(name, reference):
            try validate(name)
            switch method {
            case .get, .head: return try getManifest(name, reference: reference, head: method == .head)
            case .put: return try await putManifest(name, reference: reference, request: request)
            case .delete: return try await deleteManifest(name, reference: reference)
            default: throw notAllowed(method, path)
            }
        case let .blob(name, digest):
            try validate(name)
            switch method {
            case .get, .head: return try await getBlob(name, digest: digest, request: request, context: context, head: method == .head)
            case .delete: return try deleteBlob(name, digest: digest)
            default: throw notAllowed(method, path)
            }
        case let .startUpload(name):
            try validate(name)
            guard method == .post else { throw notAllowed(method, path) }
            return try await startUpload(name, request: request)
        case let .upload(name, id):
            try validate(name)
            switch method {
            case .get: return try uploadStatus(name, id: id)
            case .patch: return try await patchUpload(name, id: id, request: request)
            case .put: return try await putUpload(name, id: id, request: request)
            case .delete: return try cancelUpload(name, id: id)
            default: throw notAllowed(method, path)
            }
        }
    }

    private func validate(_ name: String) throws {
        guard Grammar.isRepositoryName(name) else { throw DistributionError.nameInvalid(name) }
    }

    private func notAllowed(_ method: HTTPRequest.Method, _ path: String) -> DistributionError {
        .unsupported("\(method.rawValue) is not supported on \(path)")
    }

    // MARK: Tags and catalog

    private func tagsList(_ name: String, request: Request) throws -> Response {
        guard storage.repositoryExists(name) else { throw DistributionError.nameUnknown(name) }
        struct TagList: Encodable { var name: String; var tags: [String] }
        let (tags, link) = try paginate(storage.tags(name), request: request, path: "/v2/\(name)/tags/list")
        return Responses.json(TagList(name: name, tags: tags), headers: link)
    }

    private func catalog(_ request: Request) throws -> Response {
        struct Catalog: Encodable { var repositories: [String] }
        let (repositories, link) = try paginate(storage.repositories(), request: request, path: "/v2/_catalog")
        return Responses.json(Catalog(repositories: repositories), headers: link)
    }

    /// Applies `last` (start after it) and `n` (at most n entries) to a sorted list; when entries
    /// remain, a `Link` header points at the next page.
    private func paginate(_ all: [String], request: Request, path: String) throws -> ([String], HTTPFields) {
        let query = request.uri.queryParameters
        var entries = all
        if let last = query["last"].map(String.init), !last.isEmpty {
            entries = entries.filter { $0 > last }
        }
        var headers = HTTPFields()
        if let text = query["n"], !text.isEmpty {
            guard let limit = Int(text), limit >= 0 else {
                throw DistributionError(status: .badRequest, code: "PAGINATION_NUMBER_INVALID", message: "invalid number of results requested")
            }
            if entries.count > limit {
                entries = Array(entries.prefix(limit))
                if let last = entries.last {
                    headers[Headers.link] = "<\(path)?last=\(last)&n=\(limit)>; rel=\"next\""
                }
            }
        }
        return (entries, headers)
    }

    // MARK: Shared

    /// Parses a digest from a path or query; only sha256 content is accepted into the store.
    func parseDigest(_ text: String) throws -> Digest {
        guard let digest = try? Digest(parsing: text) else {
            throw DistributionError.digestInvalid("invalid digest \"\(text)\"", digest: text)
        }
        guard digest.algorithm == "sha256" else {
            throw DistributionError.digestInvalid("only sha256 digests are supported", digest: text)
        }
        return digest
    }
}
