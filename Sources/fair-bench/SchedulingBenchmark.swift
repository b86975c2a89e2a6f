import FairKube
import FairScheduler
import Foundation

/// `fair-bench scheduling`: starts node agents with the fake runtime, creates pods from several threads, and
/// measures from a watch how long it takes until every pod is bound, plus what create/get/list
/// requests cost meanwhile.
enum SchedulingBenchmark {
    static let usage = """
        usage: fair-bench scheduling [--kubeconfig FILE] [--nodes 100] [--pods 10000] [--namespace bench]
                                     [--clients 8] [--run-scheduler [--bind-workers 8]] [--timeout 600] [--json]
          --kubeconfig FILE   the API server to load (default: $KUBECONFIG, else ~/.kube/config)
          --nodes N           node agents with the fake runtime to run (in this process)
          --pods N            pods to create (100m cpu, 64Mi memory each)
          --namespace NAME    created for the run and deleted after it; must not exist yet
          --clients N         threads creating pods at once
          --run-scheduler     run a scheduler in this process (for servers that do not run one)
          --bind-workers N    that scheduler's binding threads
          --timeout SECONDS   give up waiting for bindings after this long
          --json              print one JSON object instead of the summary
        """

    struct Options {
        var kubeconfig: String?
        var nodes = 100
        var pods = 10_000
        var namespace = "bench"
        var clients = 8
        var runScheduler = false
        var bindWorkers = SchedulerOptions().bindWorkers
        var timeout: TimeInterval = 600
        var json = false

        init(_ arguments: BenchArguments) throws {
            try arguments.check(known: ["kubeconfig", "nodes", "pods", "namespace", "clients", "run-scheduler", "bind-workers", "timeout", "json", "help"])
            kubeconfig = arguments.string("kubeconfig")
            nodes = try arguments.int("nodes", default: nodes, range: 1...5000)
            pods = try arguments.int("pods", default: pods, range: 1...1_000_000)
            namespace = arguments.string("namespace") ?? namespace
            clients = try arguments.int("clients", default: clients, range: 1...256)
            runScheduler = arguments.flag("run-scheduler")
            bindWorkers = try arguments.int("bind-workers", default: bindWorkers, range: 1...256)
            timeout = TimeInterval(try arguments.int("timeout", default: Int(timeout), range: 1...86_400))
            json = arguments.flag("json")
        }
    }

    static func main(_ arguments: [String]) -> Int32 {
        do {
            let parsed = try BenchArguments(arguments, switches: ["run-scheduler", "json", "help"])
            if parsed.flag("help") {
                print(usage)
                return 0
            }
            let options = try Options(parsed)
            let result = try run(options)
            print(options.json ? result.json : result.summary)
            return result.bound == result.pods ? 0 : 1
        } catch let error as BenchArguments.Invalid {
            FileHandle.standardError.write(Data("fair-bench scheduling: \(error)\n\(usage)\n".utf8))
            return 2
        } catch {
            FileHandle.standardError.write(Data("fair-bench scheduling: \(error)\n".utf8))
            return 1
        }
    }

    /// Works around an API server deadlock: a watch whose client went away is cancelled only
    /// when the server next writes to it, and that cancellation deadlocks with a concurrent
    /// write to the store (the store's lock against the watch task's). So before the clean-up's
    /// burst of deletions, the stopped watches are ended with a few spaced-out writes of their
    /// kinds: the first makes the clients hang up, the next ones make the server notice while
    /// nothing else is being written. (A bound pod reaches the binding watch's field selector.)
    private static func endWatches(_ client: KubeClient, namespace: String, node: String?) {
        guard let node else { return }
        let pod = "fair-bench-end-of-run"
        _ = try? client.create(.pods, namespace: namespace, [
            "metadata": ["name": .string(pod)],
            "spec": ["nodeName": .string(node), "schedulerName": "none", "containers": [["name": "main", "image": "fair.local/bench/pause:1"]]],
        ])
        for round in 0..<3 {
            Thread.sleep(forTimeInterval: 0.2)
            let mark: JSONValue = ["metadata": ["annotations": ["fair.dev/bench-ending": .string(String(round))]]]
            _ = try? client.mergePatch(.pods, namespace: namespace, name: pod, mark)
            _ = try? client.mergePatch(.nodes, name: node, mark)
        }
        Thread.sleep(forTimeInterval: 0.2)
    }

    static func run(_ options: Options) throws -> SchedulingResult {
        let config = try Kubeconfig.load(path: options.kubeconfig)
        let admin = try KubeClient(config: config)
        do {
            _ = try admin.create(.namespaces, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(options.namespace)]])
        } catch let error as KubeError where error.code == 409 {
            throw KubeError(code: 409, reason: "AlreadyExists",
                            message: "namespace \(options.namespace) already exists (left by an interrupted run?): delete it, or pass another --namespace")
        }
        var nodes: FakeNodes?
        var scheduler: Scheduler?
        var probe: APIProbe?
        var watch: BindingWatch?
        var result = SchedulingResult(nodes: options.nodes, pods: options.pods, clients: options.clients,
                                      schedulerInProcess: options.runScheduler)
        func cleanUp() {
            probe?.stop()
            nodes?.stop()
            watch?.stop()
            if let scheduler {
                scheduler.stop()
                result.scheduler = scheduler.statistics
            }
            endWatches(admin, namespace: options.namespace, node: nodes?.names.first)
            let started = Clock.now()
            try? admin.delete(.namespaces, name: options.namespace)
            nodes?.remove()
            result.cleanupSeconds = Clock.now() - started
        }
        do {
            // Room for an even spread and then some: the scheduler's spreading, not the pod
            // limit, should decide where pods go.
            let podsPerNode = max(110, (options.pods * 12 / 10 + options.nodes - 1) / options.nodes)
            progress("starting \(options.nodes) node agents with the fake runtime")
            nodes = try FakeNodes.register(config: config, count: options.nodes, podsPerNode: podsPerNode)
            if options.runScheduler {
                var schedulerOptions = SchedulerOptions()
                schedulerOptions.bindWorkers = options.bindWorkers
                let inProcess = Scheduler(client: try KubeClient(config: config), options: schedulerOptions)
                scheduler = inProcess
                inProcess.start()
                guard inProcess.waitUntilSynced(timeout: 60) else {
                    throw KubeError(code: 0, reason: "Timeout", message: "the in-process scheduler did not sync with the API server in 60 s")
                }
            }
            let load = PodLoad(client: try KubeClient(config: config), namespace: options.namespace, count: options.pods,
                               threads: options.clients, cpu: "100m", memory: "64Mi")
            let bindings = BindingWatch(client: try KubeClient(config: config), namespace: options.namespace, pods: options.pods,
                                        podIndex: { PodLoad.index(of: $0).flatMap { $0 < options.pods ? $0 : nil } })
            watch = bindings
            try bindings.start()
            let sideProbe = APIProbe(client: try KubeClient(config: config), namespace: options.namespace) { load.createdPrefix }
            probe = sideProbe
            sideProbe.start()

            let started = Clock.now()
            progress("creating \(options.pods) pods from \(options.clients) threads")
            load.run()
            let created = Clock.now()
            let deadline = Date().addingTimeInterval(options.timeout)
            while !bindings.waitForAll(until: min(deadline, Date().addingTimeInterval(5))) && Date() < deadline {
                progress("\(bindings.bound) of \(options.pods) pods bound after \(Int(Clock.now() - started)) s")
            }
            // The end of the measured window: what follows (clean-up) is not part of it.
            progress("load done: \(bindings.bound) of \(options.pods) pods bound")
            sideProbe.stop()

            let boundTimes = bindings.times
            let createTimes = load.createTimes
            result.bound = bindings.bound
            result.createSeconds = created - started
            result.scheduleSeconds = (boundTimes.filter { !$0.isNaN }.max() ?? Clock.now()) - started
            let toBound = LatencySamples()
            for (bound, create) in zip(boundTimes, createTimes) where !bound.isNaN && !create.isNaN { toBound.record(bound - create) }
            result.createToBound = toBound.summary
            result.create = load.latencies.summary
            result.get = sideProbe.gets.summary
            result.list = sideProbe.lists.summary
        } catch {
            cleanUp()
            throw error
        }
        cleanUp()
        return result
    }

    /// Progress goes to stderr, so `--json` output stays one object on stdout.
    private static func progress(_ message: String) {
        FileHandle.standardError.write(Data("fair-bench: \(message)\n".utf8))
    }
}
