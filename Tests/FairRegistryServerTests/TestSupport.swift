import FairArchive
import FairOCI
import FairRegistryServer
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Logging
import XCTest

/// A registry served by Hummingbird on 127.0.0.1 with an ephemeral port, for one test.
final class TestServer: @unchecked Sendable {
    let service: RegistryService
    let port: Int
    private let task: Task<Void, Error>

    var host: String { "127.0.0.1:\(port)" }

    static func start(root: String,
                      authorize: @escaping @Sendable (String, String, String?) -> Bool = { _, _, _ in true }) async throws -> TestServer {
        let service = try RegistryService(root: root, authorize: authorize)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "registry-test")
        // Cancelling the server task is how tests stop it; its shutdown complaints are noise here.
        logger.logLevel = .critical
        let app = Application(
            responder: CallbackResponder { (request: Request, context: BasicRequestContext) in
                try await service.handle(request, context: context) ?? Response(status: .notFound)
            },
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger)
        let task = Task { try await app.runService() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw XCTSkip("the server did not start")
        }
        return TestServer(service: service, port: port, task: task)
    }

    private init(service: RegistryService, port: Int, task: Task<Void, Error>) {
        self.service = service
        self.port = port
        self.task = task
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }

    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: Data

        func header(_ name: String) -> String? { headers[name.lowercased()] }
        var text: String { String(decoding: body, as: UTF8.self) }
        var errorCodes: [String] {
            struct Errors: Decodable { struct Entry: Decodable { var code: String }; var errors: [Entry] }
            return (try? JSONDecoder().decode(Errors.self, from: body))?.errors.map(\.code) ?? []
        }
    }

    /// One HTTP request to the server; `target` is a path (with query) or an absolute URL.
    func send(_ method: String, _ target: String, headers: [String: String] = [:], body: Data? = nil) async throws -> Reply {
        let url = target.hasPrefix("http") ? URL(string: target)! : URL(string: "http://\(host)\(target)")!
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.httpBody = body
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await Self.session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            fields[String(describing: name).lowercased()] = String(describing: value)
        }
        return Reply(status: http.statusCode, headers: fields, body: data)
    }

    /// The same through the curl command, for answers URLSession treats specially (a 401 challenge).
    func curl(_ method: String, _ target: String, headers: [String: String] = [:], body: Data? = nil) async throws -> Reply {
        let directory = try makeTemporaryDirectory("curl")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var arguments = ["curl", "-sS", "-X", method, "-D", directory + "/headers", "-o", directory + "/body"]
        if method == "HEAD" { arguments = ["curl", "-sS", "-I", "-D", directory + "/headers", "-o", directory + "/body"] }
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        if let body {
            try body.write(to: URL(fileURLWithPath: directory + "/request"))
            arguments += ["--data-binary", "@" + directory + "/request"]
        }
        arguments.append("http://\(host)\(target)")
        try await runCommand(arguments)
        let head = try String(contentsOfFile: directory + "/headers", encoding: .utf8)
        var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let statusLine = lines.removeFirst().split(separator: " ")
        var fields: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let data = FileManager.default.contents(atPath: directory + "/body") ?? Data()
        return Reply(status: Int(statusLine[1]) ?? 0, headers: fields, body: data)
    }

    private static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 120
        return URLSession(configuration: configuration)
    }()
}

/// Blocking work (subprocesses, the synchronous registry client) off the threads that serve requests.
func offThread<T>(_ work: @escaping () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}

struct CommandResult {
    var status: Int32
    var output: String
    var error: String
}

/// Runs a command, capturing its output.
@discardableResult
func runCommand(_ arguments: [String], check: Bool = true) async throws -> CommandResult {
    try await offThread {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes while the process runs, so a chatty command cannot fill one and stall.
        let errorData = Captured()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errorData.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outputData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        group.wait()
        let result = CommandResult(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                                   error: String(decoding: errorData.data, as: UTF8.self))
        if check && result.status != 0 {
            throw NSError(domain: "command", code: Int(result.status), userInfo: [
                NSLocalizedDescriptionKey: "\(arguments.joined(separator: " ")) failed (\(result.status)): \(result.error)",
            ])
        }
        return result
    }
}

private final class Captured: @unchecked Sendable {
    var data = Data()
}

func makeTemporaryDirectory(_ label: String) throws -> String {
    let path = NSTemporaryDirectory() + "fair-registry-\(label)-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// `count` random bytes.
func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { buffer in
        let words = buffer.bindMemory(to: UInt64.self)
        for index in words.indices { words[index] = generator.next() }
        for index in (words.count * 8)..<count { buffer[index] = UInt8.random(in: 0...255) }
    }
    return bytes
}

/// Writes `size` random bytes to a file (from /dev/urandom, in chunks) and returns its digest.
func writeRandomFile(_ path: String, size: Int) throws -> Digest {
    let input = try ReadableFile(path: "/dev/urandom")
    let sink = DigestingSink(downstream: try FileSink(path: path))
    try input.copy(length: Int64(size), to: sink)
    try sink.finish()
    return Digest.sha256(hex: sink.hexDigest!)
}

/// A single-platform image in an OCI layout: a config and the given layers, tagged `tag`.
struct TestImage {
    var manifestDigest: Digest
    var manifestBytes: [UInt8]
    var configDigest: Digest
    var layers: [Descriptor]

    static func write(to directory: String, tag: String, layers: [(content: BlobContent, digest: Digest, size: Int64, diffID: Digest?)],
                      layerMediaType: String = FairOCI.MediaType.layerTar) throws -> TestImage {
        let diffIDs = layers.map { "\"\(($0.diffID ?? $0.digest).description)\"" }.joined(separator: ",")
        let config = Array(#"{"architecture":"amd64","config":{"Cmd":["/bin/sh"]},"os":"linux","rootfs":{"diff_ids":[\#(diffIDs)],"type":"layers"}}"#.utf8)
        let configDescriptor = Descriptor(mediaType: FairOCI.MediaType.imageConfig, digest: Digest.sha256(of: config), size: Int64(config.count))
        let layerDescriptors = layers.map { Descriptor(mediaType: layerMediaType, digest: $0.digest, size: $0.size) }
        let manifest = try CanonicalJSON.encode(ImageManifest(config: configDescriptor, layers: layerDescriptors))
        let manifestDigest = Digest.sha256(of: manifest)
        var blobs = [
            BlobToWrite(digest: manifestDigest, size: Int64(manifest.count), content: .bytes(manifest), verify: false),
            BlobToWrite(digest: configDescriptor.digest, size: configDescriptor.size, content: .bytes(config), verify: false),
        ]
        for layer in layers {
            blobs.append(BlobToWrite(digest: layer.digest, size: layer.size, content: layer.content, verify: true))
        }
        let descriptor = Descriptor(mediaType: FairOCI.MediaType.imageManifest, digest: manifestDigest, size: Int64(manifest.count),
                                    annotations: [AnnotationKey.refName: tag])
        try OCILayoutWriter.add(ImageToWrite(manifest: descriptor, blobs: blobs), to: directory)
        return TestImage(manifestDigest: manifestDigest, manifestBytes: manifest, configDigest: configDescriptor.digest, layers: layerDescriptors)
    }
}

/// sha256 and size of a file, streamed.
func fileDigest(_ path: String) throws -> (hex: String, size: Int64) {
    let sink = DigestingSink()
    try ReadableFile(path: path).copy(to: sink)
    try sink.finish()
    return (sink.hexDigest!, sink.byteCount)
}
