import Foundation
import SwiftASN1
import X509

/// What a leaf certificate is for, which decides its extended key usage: a TLS server for the
/// given host names and addresses, or a TLS client. A certificate is never both, so a node's
/// serving certificate cannot be used to call another node.
public enum CertificateProfile: Sendable {
    case server(hosts: [String])
    case client

    var extendedKeyUsage: ExtendedKeyUsage {
        get throws {
            switch self {
            case .server: return try ExtendedKeyUsage([.serverAuth])
            case .client: return try ExtendedKeyUsage([.clientAuth])
            }
        }
    }

    /// The subject alternative names: IPv4 and IPv6 literals as addresses, the rest as DNS names.
    var alternativeNames: [GeneralName] {
        guard case let .server(hosts) = self else { return [] }
        var names: [GeneralName] = []
        for host in hosts {
            let name: GeneralName
            if let address = Self.addressBytes(host) {
                name = .ipAddress(ASN1OctetString(contentBytes: ArraySlice(address)))
            } else {
                name = .dnsName(host)
            }
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    static func addressBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
