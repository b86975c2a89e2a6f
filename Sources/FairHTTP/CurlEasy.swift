import Foundation
internal import CCurl

/// libcurl's process-wide setup, done once (Swift initializes static properties exactly once,
/// thread-safely, on first use).
enum CurlGlobal {
    static let initResult: CURLcode = fair_curl_global_init()
}

/// Owns one libcurl easy handle, and with it the handle's cache of open connections.
/// Used by one thread at a time; `HTTPClient` hands handles out from its pool.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    /// libcurl writes a detailed message here when a transfer fails.
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// The URL of the transfer being set up, for error messages.
    var url = ""

    init() throws {
        let global = CurlGlobal.initResult
        guard global == CURLE_OK else {
            throw HTTPError.transport(url: "", code: Int(global.rawValue),
                                      message: "curl_global_init: " + String(cString: curl_easy_strerror(global)))
        }
        guard let handle = curl_easy_init() else {
            throw HTTPError.transport(url: "", code: Int(CURLE_FAILED_INIT.rawValue), message: "curl_easy_init failed")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Forgets every option of the previous transfer (open connections and the DNS cache stay),
    /// then reinstalls the error buffer.
    func reset(url: String) throws {
        curl_easy_reset(handle)
        self.url = url
        errorBuffer[0] = 0
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
    }

    // MARK: - Errors

    /// Throws the `HTTPError` for any code other than CURLE_OK.
    func check(_ code: CURLcode) throws {
        guard code != CURLE_OK else { return }
        throw error(for: code)
    }

    func error(for code: CURLcode) -> HTTPError {
        switch code {
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return .invalidURL(url)
        default:
            let text = String(cString: curl_easy_strerror(code))
            let detail = String(cString: errorBuffer).trimmingCharacters(in: .whitespacesAndNewlines)
            let message = detail.isEmpty || detail == text ? text : "\(text): \(detail)"
            return .transport(url: url, code: Int(code.rawValue), message: message)
        }
    }

    // MARK: - Options

    func set(_ option: CURLoption, _ value: Int) throws {
        try check(fair_curl_setopt_long(handle, option, value))
    }

    func set(_ option: CURLoption, _ value: Bool) throws {
        try set(option, value ? 1 : 0)
    }

    /// libcurl copies strings, so `value` need not outlive the call.
    func set(_ option: CURLoption, _ value: String) throws {
        try check(fair_curl_setopt_string(handle, option, value))
    }

    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws {
        try check(fair_curl_setopt_pointer(handle, option, pointer))
    }

    func set(_ option: CURLoption, offset: Int64) throws {
        try check(fair_curl_setopt_off_t(handle, option, curl_off_t(offset)))
    }

    /// The list must stay alive until the transfer is over.
    func set(_ option: CURLoption, list: CurlStringList) throws {
        try check(fair_curl_setopt_slist(handle, option, list.head))
    }

    func set(_ option: CURLoption, write callback: curl_write_callback) throws {
        try check(fair_curl_setopt_write_callback(handle, option, callback))
    }

    func set(_ option: CURLoption, header callback: curl_write_callback) throws {
        try check(fair_curl_setopt_header_callback(handle, option, callback))
    }

    func set(_ option: CURLoption, read callback: curl_read_callback) throws {
        try check(fair_curl_setopt_read_callback(handle, option, callback))
    }

    func set(_ option: CURLoption, seek callback: curl_seek_callback) throws {
        try check(fair_curl_setopt_seek_callback(handle, option, callback))
    }

    func set(_ option: CURLoption, xferinfo callback: curl_xferinfo_callback) throws {
        try check(fair_curl_setopt_xferinfo_callback(handle, option, callback))
    }

    // MARK: - Transfer

    /// Runs the transfer on the calling thread; callbacks are called from here too.
    func perform() -> CURLcode {
        errorBuffer[0] = 0
        return curl_easy_perform(handle)
    }

    func info(_ info: CURLINFO) throws -> Int {
        var value = 0
        try check(fair_curl_getinfo_long(handle, info, &value))
        return value
    }
}

/// A `struct curl_slist`, freed with its owner.
final class CurlStringList {
    private(set) var head: UnsafeMutablePointer<curl_slist>?

    init() {}

    deinit { curl_slist_free_all(head) }

    /// libcurl copies the string.
    func append(_ string: String) throws {
        guard let newHead = curl_slist_append(head, string) else {
            throw HTTPError.transport(url: "", code: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "curl_slist_append failed")
        }
        head = newHead
    }
}
