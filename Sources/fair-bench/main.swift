import Foundation

// fair-bench: load generators for the control-plane benchmarks (scripts/bench_server.py runs them),
// and a minimal HTTP backend for the service proxy benchmark (scripts/bench_serving.py).
let commands: [String: ([String]) -> Int32] = [
    "scheduling": SchedulingBenchmark.main,
    "http-backend": HTTPBackend.main,
]

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, let command = commands[name] else {
    let known = commands.keys.sorted().joined(separator: "|")
    FileHandle.standardError.write(Data("usage: fair-bench \(known) [options]   (fair-bench COMMAND --help)\n".utf8))
    exit(arguments.first == nil || arguments.first == "--help" ? 0 : 2)
}
exit(command(Array(arguments.dropFirst())))
