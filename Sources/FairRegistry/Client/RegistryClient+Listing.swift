import FairHTTP
import Foundation

/// Tag and repository listings (distribution-spec "content discovery").
extension RegistryClient {
    /// The repository's tags; nil when the repository does not exist.
    public func tags(_ repository: String) throws -> [String]? {
        let response = try perform(HTTPRequest(method: "GET", url: url("/v2/\(repository)/tags/list?n=10000")),
                                   scopes: [Self.pullScope(repository)], maxBodyBytes: 8 << 20)
        if response.status == 404 { return nil }
        guard response.status == 200 else {
            throw failure(response, method: "GET", repository: repository, action: "pull", what: "the tags of \(host)/\(repository)")
        }
        struct Tags: Decodable { var tags: [String]? }
        return (try? JSONDecoder().decode(Tags.self, from: Data(response.body)))?.tags ?? []
    }

    /// Repositories the registry lists (`/v2/_catalog`); registries that do not offer it say so.
    public func catalog() throws -> [String] {
        let response = try perform(HTTPRequest(method: "GET", url: url("/v2/_catalog?n=10000")),
                                   scopes: ["registry:catalog:*"], maxBodyBytes: 16 << 20)
        guard response.status == 200 else {
            throw failure(response, method: "GET", repository: "_catalog", action: "list", what: "the repositories of \(host)")
        }
        struct Catalog: Decodable { var repositories: [String]? }
        return (try? JSONDecoder().decode(Catalog.self, from: Data(response.body)))?.repositories ?? []
    }
}
