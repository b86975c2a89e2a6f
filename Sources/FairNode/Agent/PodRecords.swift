import Foundation

/// Every pod this agent holds, by uid, plus the snapshots other threads read (the log server,
/// the runtime relist). A record itself is touched only by its pod's sync.
final class PodRecords: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [String: PodRecord] = [:]
    private var snapshots: [String: PodSnapshot] = [:]
    /// The "namespace/name" of uids the informer told about, for pods without a record yet.
    private var keysByUID: [String: String] = [:]

    func record(_ uid: String) -> PodRecord? {
        lock.lock(); defer { lock.unlock() }
        return records[uid]
    }

    var all: [PodRecord] {
        lock.lock(); defer { lock.unlock() }
        return Array(records.values)
    }

    func insert(_ record: PodRecord) {
        lock.lock(); defer { lock.unlock() }
        records[record.uid] = record
    }

    func remove(_ uid: String) {
        lock.lock(); defer { lock.unlock() }
        records[uid] = nil
        snapshots[uid] = nil
        keysByUID[uid] = nil
    }

    func remember(uid: String, key: String) {
        lock.lock(); defer { lock.unlock() }
        keysByUID[uid] = key
    }

    /// Drops what the informer said about a pod that came and went without a record.
    func forget(_ uid: String) {
        lock.lock(); defer { lock.unlock() }
        if records[uid] == nil { keysByUID[uid] = nil }
    }

    func key(of uid: String) -> String? {
        lock.lock(); defer { lock.unlock() }
        return records[uid]?.key ?? keysByUID[uid]
    }

    func publish(_ snapshot: PodSnapshot) {
        lock.lock(); defer { lock.unlock() }
        snapshots[snapshot.uid] = snapshot
    }

    func snapshot(uid: String) -> PodSnapshot? {
        lock.lock(); defer { lock.unlock() }
        return snapshots[uid]
    }

    var allSnapshots: [PodSnapshot] {
        lock.lock(); defer { lock.unlock() }
        return Array(snapshots.values)
    }

    /// The live pod of that name, if several uids share it (deleted and re-created) the newest.
    func snapshot(namespace: String, name: String) -> PodSnapshot? {
        lock.lock(); defer { lock.unlock() }
        let matches = snapshots.values.filter { $0.namespace == namespace && $0.name == name }
        if matches.count <= 1 { return matches.first }
        return matches.first { keysByUID[$0.uid] != nil } ?? matches.first
    }
}
