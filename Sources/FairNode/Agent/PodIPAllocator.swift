import Foundation

/// Hands out pod addresses from the node's pod network, one per pod uid. Allocations are kept
/// in each pod's state file (see `PodStateStore`), and `restore` replays them after a restart,
/// so a pod keeps its address for life. Freed addresses are reused last (next-fit), so a new pod
/// does not inherit an address a client may still be talking to. An address is also claimed
/// host-wide (see `HostAddressClaims`), so that other nodes on the machine pass it over.
final class PodIPAllocator: @unchecked Sendable {
    private let network: PodNetwork
    private let lock = NSLock()
    private var owners: [UInt32: String] = [:]
    private var addresses: [String: UInt32] = [:]
    private var cursor: UInt32
    /// Addresses in use on the host outside this allocator's knowledge; skipped when allocating.
    private let busyOnHost: () -> Set<UInt32>
    private let claims: HostAddressClaims?

    init(network: PodNetwork, claims: HostAddressClaims? = HostAddressClaims(),
         busyOnHost: @escaping () -> Set<UInt32> = { HostListeners.addresses() }) {
        self.network = network
        self.claims = claims
        self.busyOnHost = busyOnHost
        cursor = network.network
    }

    /// Re-claims `address` for `uid` after a restart; false when it is outside the range now or
    /// already taken (the pod then gets a new one).
    func restore(_ address: String, for uid: String) -> Bool {
        guard let value = PodNetwork.parse(address), network.isAssignable(value) else { return false }
        lock.lock(); defer { lock.unlock() }
        if let owner = owners[value] { return owner == uid }
        if let claims, !claims.claim(value) { return false }
        owners[value] = uid
        addresses[uid] = value
        return true
    }

    func address(of uid: String) -> String? {
        lock.lock(); defer { lock.unlock() }
        return addresses[uid].map(PodNetwork.format)
    }

    /// The pod's address, allocating one on first use.
    func allocate(for uid: String) throws -> String {
        lock.lock(); defer { lock.unlock() }
        if let existing = addresses[uid] { return PodNetwork.format(existing) }
        let busy = busyOnHost()
        let size = UInt64(network.broadcast - network.network) + 1
        var candidate = cursor
        for _ in 0..<size {
            candidate = candidate == network.broadcast ? network.network : candidate + 1
            if network.isAssignable(candidate), owners[candidate] == nil, !busy.contains(candidate),
               claims?.claim(candidate) ?? true {
                owners[candidate] = uid
                addresses[uid] = candidate
                cursor = candidate
                return PodNetwork.format(candidate)
            }
        }
        throw PodIPError(message: "pod network \(network.cidr) has no free address left (\(owners.count) in use)")
    }

    func release(_ uid: String) {
        lock.lock(); defer { lock.unlock() }
        if let address = addresses.removeValue(forKey: uid) {
            owners[address] = nil
            claims?.release(address)
        }
    }

    /// The node stops: its host-wide claims go, as they would with its process (its pods keep
    /// their addresses, recorded in their state files, for a later start to restore).
    func releaseHostClaims() {
        claims?.releaseAll()
    }

    var inUse: Int {
        lock.lock(); defer { lock.unlock() }
        return owners.count
    }
}

struct PodIPError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
