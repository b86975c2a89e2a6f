import Foundation
internal import CCurl

/// URL parsing with libcurl's own parser (CURLU), so that redirects resolve exactly the way
/// libcurl would resolve them.
final class CurlURL {
    /// What decides whether two URLs are the same server: credentials only go back to it.
    struct Origin: Equatable {
        var scheme: String
        var host: String
        var port: String
    }

    private let handle: OpaquePointer

    private init?(_ url: String, flags: Int32 = 0) {
        guard let handle = curl_url() else { return nil }
        self.handle = handle
        guard curl_url_set(handle, CURLUPART_URL, url, UInt32(flags)) == CURLUE_OK else { return nil }
    }

    deinit { curl_url_cleanup(handle) }

    private func get(_ part: CURLUPart, flags: Int32 = 0) -> String? {
        var pointer: UnsafeMutablePointer<CChar>?
        guard curl_url_get(handle, part, &pointer, UInt32(flags)) == CURLUE_OK, let pointer else { return nil }
        defer { curl_free(pointer) }
        return String(cString: pointer)
    }

    /// The scheme, host and port (default port filled in) of an absolute http or https URL.
    static func origin(of url: String) throws -> Origin {
        guard let parsed = CurlURL(url),
              let scheme = parsed.get(CURLUPART_SCHEME)?.lowercased(), scheme == "http" || scheme == "https",
              let host = parsed.get(CURLUPART_HOST), !host.isEmpty,
              let port = parsed.get(CURLUPART_PORT, flags: CURLU_DEFAULT_PORT)
        else { throw HTTPError.invalidURL(url) }
        return Origin(scheme: scheme, host: host.lowercased(), port: port)
    }

    /// `location` (absolute, or relative as in `../x`, `/x`, `?q`, `//host/x`) resolved against `base`.
    /// Like libcurl's own redirect following, spaces and non-ASCII bytes are percent-encoded.
    static func resolve(_ location: String, against base: String) throws -> String {
        guard let parsed = CurlURL(base) else { throw HTTPError.invalidURL(base) }
        let flags = UInt32(CURLU_URLENCODE | CURLU_ALLOW_SPACE)
        guard curl_url_set(parsed.handle, CURLUPART_URL, location, flags) == CURLUE_OK,
              let resolved = parsed.get(CURLUPART_URL)
        else { throw HTTPError.invalidURL(location) }
        _ = try origin(of: resolved)
        return resolved
    }
}
