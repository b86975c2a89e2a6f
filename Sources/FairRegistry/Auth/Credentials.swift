/// A user's credentials for one registry host.
public struct Credentials: Sendable, Equatable {
    public var username: String
    public var password: String
    /// Sent only over TLS, to a token endpoint that exchanges them for a scoped token (the
    /// cluster's token, on a registry reached in clear on a loopback that pods share).
    public var sendsOnlyOverTLS = false
    /// Where these credentials are exchanged for tokens, instead of the realm the registry's
    /// challenge names (which anonymous clients use): a cluster's token endpoint on its API port.
    public var tokenEndpoint: String?
    /// The roots to trust `tokenEndpoint` with (a cluster's own CA); nil: the system's.
    public var tokenServerCAFile: String?

    public init(username: String, password: String, sendsOnlyOverTLS: Bool = false, tokenEndpoint: String? = nil,
                tokenServerCAFile: String? = nil) {
        self.username = username
        self.password = password
        self.sendsOnlyOverTLS = sendsOnlyOverTLS
        self.tokenEndpoint = tokenEndpoint
        self.tokenServerCAFile = tokenServerCAFile
    }

    var basicHeader: String {
        "Basic " + Array("\(username):\(password)".utf8).base64EncodedString()
    }
}

extension Array where Element == UInt8 {
    func base64EncodedString() -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var output: [UInt8] = []
        var index = 0
        while index < count {
            let b0 = self[index], b1 = index + 1 < count ? self[index + 1] : 0, b2 = index + 2 < count ? self[index + 2] : 0
            output.append(table[Int(b0 >> 2)])
            output.append(table[Int((b0 & 0x03) << 4 | b1 >> 4)])
            output.append(index + 1 < count ? table[Int((b1 & 0x0f) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            output.append(index + 2 < count ? table[Int(b2 & 0x3f)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
