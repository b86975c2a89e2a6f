import FairHTTP
import Foundation

extension RegistryClient {
    /// A token limited to `scopes` (`repository:models/NAME:push,pull`) from the registry's
    /// token endpoint, asked for with this client's credentials, to hand to something that must
    /// do only that (a training pod storing its model). nil when the registry has no token
    /// endpoint of fair's kind (any other registry: the pod then uses what it is given).
    public func scopedToken(_ scopes: [String], lifetime: Int) throws -> String? {
        var components = URLComponents()
        components.queryItems = [URLQueryItem(name: "service", value: "fair-registry")]
            + scopes.map { URLQueryItem(name: "scope", value: $0) } + [URLQueryItem(name: "lifetime", value: String(lifetime))]
        var headers = HTTPHeaders()
        if let credentials { headers.set("Authorization", credentials.basicHeader) }
        let response = try http.send(HTTPRequest(method: "GET", url: url("/v2/token?" + (components.percentEncodedQuery ?? "")), headers: headers))
        guard response.status == 200 else {
            if response.status == 401 { throw RegistryError.wrongCredentials(host: host) }
            return nil
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let token = object["token"] as? String ?? object["access_token"] as? String else { return nil }
        return token
    }
}
