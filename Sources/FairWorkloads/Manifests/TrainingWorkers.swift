import FairKube
import Foundation

/// `fair train --workers N`: N processes that train together. They run as an Indexed Job (pod i
/// is rank i) behind a headless Service, so rank i is reachable as `JOB-i.JOB`, and each gets
/// the environment the frameworks read: `RANK` (= `JOB_COMPLETION_INDEX`), `WORLD_SIZE`,
/// `MASTER_ADDR`/`MASTER_PORT` (rank 0, for torch.distributed and jax.distributed) and
/// `TF_CONFIG` (TensorFlow's MultiWorkerMirroredStrategy). Only Kubernetes' own kinds: it runs
/// on any cluster with Indexed Jobs (1.24+) and per-index retries (1.29+, ignored before).
public struct TrainingWorkers: Sendable, Equatable {
    public var count: Int
    /// Retries each rank gets on its own (`backoffLimitPerIndex`); a rank that fails more often
    /// fails the Job.
    public var retriesPerWorker: Int
    /// Where rank 0 listens for its peers: torch.distributed's usual port.
    public var masterPort: Int = 29500
    /// The rank whose `$FAIR_MODEL_DIR` is stored; the others store nothing.
    public var modelRank: Int = 0

    public static let defaultRetriesPerWorker = 1

    public init(count: Int, retriesPerWorker: Int = defaultRetriesPerWorker) {
        self.count = count
        self.retriesPerWorker = retriesPerWorker
    }

    /// Rank `rank`'s name, short enough for any namespace's search path.
    public static func address(job: String, rank: Int) -> String { "\(job)-\(rank).\(job)" }

    /// TensorFlow's cluster: every worker (the first is the chief), this pod's index from RANK,
    /// which Kubernetes expands in the variable defined after it.
    public func tfConfig(job: String) -> String {
        let workers = (0..<count).map { "\"\(Self.address(job: job, rank: $0)):\(masterPort)\"" }.joined(separator: ",")
        return "{\"cluster\":{\"worker\":[\(workers)]},\"task\":{\"type\":\"worker\",\"index\":$(RANK)}}"
    }

    func templateValues(job: String) -> [String: Any] {
        [
            "hasWorkers": true, "workerCount": count, "workerCountText": String(count), "retriesPerWorker": retriesPerWorker,
            "workersService": job, "masterAddress": Self.address(job: job, rank: 0), "masterPortText": String(masterPort),
            "tfConfig": tfConfig(job: job), "modelRankText": String(modelRank),
        ]
    }

    /// Every rank's failures together: per-index retries decide, this only keeps the Job-wide
    /// limit (which kube checks as well) from deciding first.
    func jobBackoffLimit() -> Int { count * (retriesPerWorker + 1) }

    /// The Job owns the workers' Service, so it goes with the Job (and kube's garbage collector).
    public static func adopt(service: String, namespace: String, by job: JSONValue, with client: KubeClient) throws {
        try Adoption.adopt([(.services, service)], namespace: namespace, by: job, with: client)
    }
}
