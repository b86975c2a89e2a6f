import Foundation

/// The range Services' cluster IPs come from (kube-apiserver's `--service-cluster-ip-range`):
/// an IPv4 CIDR inside 127.0.0.0/8 here, where pods share the host's network and every
/// loopback address is this machine's, disjoint from the nodes' pod ranges.
public struct ServiceIPRange: Sendable, Equatable, CustomStringConvertible {
    public let network: UInt32
    public let prefixLength: Int

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(cidr: String) throws {
        let parts = cidr.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]), (8...30).contains(length), let address = Self.parse(String(parts[0])) else {
            throw Invalid(description: "\(cidr) is not an IPv4 CIDR with a prefix of /8 to /30")
        }
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - length)
        guard address & mask == address else {
            throw Invalid(description: "\(cidr) has host bits set; the network is \(Self.format(address & mask))/\(length)")
        }
        guard address >> 24 == 127 else {
            throw Invalid(description: "\(cidr) is outside 127.0.0.0/8: services get loopback addresses, as pods do")
        }
        network = address
        prefixLength = length
    }

    public var description: String { "\(Self.format(network))/\(prefixLength)" }

    /// Addresses between the network address and the broadcast address.
    var usableCount: UInt32 { (UInt32(1) << (32 - prefixLength)) - 2 }

    /// The `offset`-th usable address (1-based: offset 1 is the first, which the `kubernetes`
    /// Service holds).
    func address(_ offset: UInt32) -> String { Self.format(network + offset) }

    /// Whether the two ranges share an address (one contains the other's network).
    public func overlaps(_ other: ServiceIPRange) -> Bool {
        let shorter = min(prefixLength, other.prefixLength)
        let mask = ~UInt32(0) << (32 - shorter)
        return network & mask == other.network & mask
    }

    /// The cluster DNS's address: the tenth of the range, as kubeadm places kube-dns. It lies in
    /// the band kept for addresses asked for by name, so no Service is given it.
    public var clusterDNSAddress: String { address(10) }

    /// The first addresses are kept for Services that ask for one (kube-apiserver's static
    /// band: 1/16 of the range, at least 16 and at most 256); others get addresses above.
    var staticBand: UInt32 { min(max(16, usableCount / 16), 256, usableCount) }

    func contains(_ text: String) -> Bool {
        guard let address = Self.parse(text) else { return false }
        return address > network && address - network <= usableCount
    }

    static func parse(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy(\.isASCII), let byte = UInt8(octet),
                  octet == "0" || !octet.hasPrefix("0") else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    static func format(_ address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xff).\(address >> 8 & 0xff).\(address & 0xff)"
    }
}
