import Foundation
import Logging
import NIOConcurrencyHelpers

/// A node's cluster IPs in the kernel: an nftables table of the node's own, kept equal to what
/// the endpoint table says by a level-triggered loop on one serial queue. Each change wakes the
/// loop, which writes the whole table again when its rules differ from what was applied last; a
/// failed apply is logged once and tried again later. Stopping deletes the table, and one left
/// by a process that died is deleted by the next node that starts (`NFTablesOwner`).
final class KernelClusterIPs: @unchecked Sendable {
    let table: String
    private let nft: NFTables
    private let comment: String
    private let logger: Logger
    private let queue = DispatchQueue(label: "fair.cluster-ip.nftables")
    /// What is wanted and whether a pass is queued; under the lock. What was applied and
    /// whether the table is gone belong to `queue`.
    private let lock = NIOLock()
    private var wanted: [ClusterIPRule] = []
    private var queued = false
    private var applied: String?
    private var appliedRules: [ClusterIPRule] = []
    private var failing = false
    private var stopped = false
    static let retryInterval: TimeInterval = 5
    private static let instances = NIOLockedValueBox(0)

    struct Unavailable: Error, CustomStringConvertible {
        let description: String
    }

    /// Deletes what dead processes left, then creates this node's (empty) table: if that fails,
    /// this process cannot change the host's rules, and the caller proxies in userspace.
    init(nft: NFTables, nodeName: String, logger: Logger) throws {
        let pid = getpid()
        guard let start = NFTablesOwner.startTime(of: pid) else { throw Unavailable(description: "cannot read /proc/self/stat") }
        let number = Self.instances.withLockedValue { value in
            defer { value += 1 }
            return value
        }
        self.nft = nft
        self.table = NFTablesOwner(pid: pid, startTime: start, number: number).tableName
        self.comment = "fair node \(nodeName): cluster IPs of its Services"
        self.logger = logger
        Self.removeStaleTables(nft: nft, logger: logger)
        let empty = NFTablesRuleset.script(table: table, comment: comment, rules: [])
        try nft.apply(empty)
        applied = empty
    }

    /// What the endpoint table says now: every cluster IP and port with its ready endpoints.
    func want(_ rules: [ClusterIPRule]) {
        let wake = lock.withLock { () -> Bool in
            wanted = rules
            defer { queued = true }
            return !queued && !stopped
        }
        if wake { queue.async { self.reconcile() } }
    }

    /// The cluster IPs and ports the table answers on now (those with a ready endpoint).
    var listening: Set<ClusterIPListeners.Address> {
        queue.sync { Set(appliedRules.filter { !$0.endpoints.isEmpty }.map { ClusterIPListeners.Address(ip: $0.ip, port: $0.port) }) }
    }

    /// Deletes the table; after this no pass applies it again.
    func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        queue.sync {
            do {
                try nft.deleteTable(table)
            } catch {
                logger.warning("cannot delete nftables table ip \(table): \(error)")
            }
            applied = nil
            appliedRules = []
        }
    }

    private func reconcile() {
        let desired = lock.withLock { () -> [ClusterIPRule]? in
            queued = false
            return stopped ? nil : wanted
        }
        guard let desired else { return }
        let script = NFTablesRuleset.script(table: table, comment: comment, rules: desired)
        guard script != applied else { return }
        do {
            try nft.apply(script)
            applied = script
            appliedRules = desired
            if failing { logger.info("nftables table ip \(table) applied again") }
            failing = false
        } catch {
            if !failing { logger.warning("cannot apply nftables table ip \(table): \(error); trying again every \(Int(Self.retryInterval)) s") }
            failing = true
            queue.asyncAfter(deadline: .now() + Self.retryInterval) { [weak self] in
                guard let self else { return }
                let wake = self.lock.withLock { () -> Bool in
                    defer { self.queued = true }
                    return !self.queued && !self.stopped
                }
                if wake { self.reconcile() }
            }
        }
    }

    /// Tables named for a process that has ended. Another node may delete the same one at the
    /// same time; either way it is gone.
    static func removeStaleTables(nft: NFTables, logger: Logger) {
        guard let names = try? nft.ipTables() else { return }
        for name in names {
            guard let owner = NFTablesOwner(tableName: name), !owner.isAlive else { continue }
            do {
                try nft.deleteTable(name)
                logger.info("deleted nftables table ip \(name), left by process \(owner.pid), which has ended")
            } catch {
                logger.debug("nftables table ip \(name): \(error)")
            }
        }
    }
}
