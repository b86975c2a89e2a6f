import Foundation

/// The IPv4 addresses something on this host listens on (TCP), from /proc/net/tcp. Pods share
/// the host network, so an address another process already serves on (a pod of another fair
/// server on the same machine, a leftover from before a crash) must not be handed to a new pod:
/// its server could not bind, or worse, clients would reach the other one.
enum HostListeners {
    static func addresses(table path: String = "/proc/net/tcp") -> Set<UInt32> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        var result = Set<UInt32>()
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // sl local_address rem_address st …; st 0A is LISTEN.
            guard fields.count > 3, fields[3] == "0A",
                  let hex = fields[1].split(separator: ":").first, let raw = UInt32(hex, radix: 16) else { continue }
            // The kernel prints the address as the integer its network-order bytes make on this host.
            result.insert(UInt32(bigEndian: raw))
        }
        return result
    }
}
