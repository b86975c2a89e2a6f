import Foundation

/// The node's pod range, an IPv4 CIDR inside 127.0.0.0/8: every address there reaches the host's
/// loopback, so pods share the host network yet each listens on an address of its own.
struct PodNetwork: Sendable, Equatable {
    let cidr: String
    /// Network address and prefix length as parsed.
    let network: UInt32
    let prefixLength: Int

    init(cidr: String) throws {
        self.cidr = cidr
        let parts = cidr.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = Self.parse(String(parts[0])), let prefix = Int(parts[1]), (8...30).contains(prefix) else {
            throw NodeOptionsError(description: "pod CIDR \"\(cidr)\" is not an IPv4 CIDR with a prefix of /8 to /30 (e.g. 127.20.0.0/16)")
        }
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix)
        guard address & mask == address else {
            throw NodeOptionsError(description: "pod CIDR \"\(cidr)\" has host bits set; did you mean \(Self.format(address & mask))/\(prefix)?")
        }
        guard address >> 24 == 127 else {
            throw NodeOptionsError(description: "pod CIDR \"\(cidr)\" must lie inside 127.0.0.0/8: pods share the host network and listen on loopback addresses")
        }
        network = address
        prefixLength = prefix
    }

    var mask: UInt32 { ~UInt32(0) << UInt32(32 - prefixLength) }
    var broadcast: UInt32 { network | ~mask }

    /// Addresses a pod may get: not the network or broadcast address, never 127.0.0.1 (the host).
    func isAssignable(_ address: UInt32) -> Bool {
        address & mask == network && address != network && address != broadcast && address != Self.hostLoopback
    }

    func contains(_ address: UInt32) -> Bool { address & mask == network }

    static let hostLoopback: UInt32 = 0x7f00_0001

    static func parse(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy(\.isASCII), let byte = UInt8(octet) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    static func format(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xff).\(address >> 8 & 0xff).\(address & 0xff)"
    }
}
