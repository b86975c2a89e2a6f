import Foundation

/// The IPv4 addresses something on this host listens on (TCP), from /proc/net/tcp. Pods share
/// the host network, so an address another process already serves on (a pod of another fair
/// server on the same machine, a leftover from before a crash) must not be handed to a new pod:
/// its server could not bind, or worse, clients would reach the other one.
enum HostListeners {
    /// Read byte by byte: with many connections open the table has thousands of lines, and it
    /// is read for every new pod.
    static func addresses(table path: String = "/proc/net/tcp") -> Set<UInt32> {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        var result = Set<UInt32>()
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var lineStart = 0
            var first = true
            while lineStart < bytes.count {
                var lineEnd = lineStart
                while lineEnd < bytes.count, bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
                defer { lineStart = lineEnd + 1 }
                if first { first = false; continue }  // the header
                // sl local_address rem_address st …; st 0A is LISTEN.
                var fields: [Range<Int>] = []
                var index = lineStart
                while index < lineEnd, fields.count < 4 {
                    while index < lineEnd, bytes[index] == UInt8(ascii: " ") { index += 1 }
                    let start = index
                    while index < lineEnd, bytes[index] != UInt8(ascii: " ") { index += 1 }
                    if start < index { fields.append(start..<index) }
                }
                guard fields.count == 4, fields[3].count == 2, bytes[fields[3].lowerBound] == UInt8(ascii: "0"),
                      bytes[fields[3].lowerBound + 1] == UInt8(ascii: "A") else { continue }
                // local_address is 8 hex digits, a colon and the port.
                let local = fields[1]
                guard local.count > 9, bytes[local.lowerBound + 8] == UInt8(ascii: ":") else { continue }
                var raw: UInt32 = 0
                var valid = true
                for position in local.lowerBound..<(local.lowerBound + 8) {
                    guard let digit = hexValue(bytes[position]) else { valid = false; break }
                    raw = raw << 4 | UInt32(digit)
                }
                // The kernel prints the address as the integer its network-order bytes make on this host.
                if valid { result.insert(UInt32(bigEndian: raw)) }
            }
        }
        return result
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
