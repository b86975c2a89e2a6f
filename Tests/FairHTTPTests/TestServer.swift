import FairArchive
import Foundation
import XCTest

@testable import FairHTTP

/// test_server.py, running on 127.0.0.1 on a port of its choosing.
final class TestServer {
    let port: Int
    let scheme: String
    private let process = Process()
    private let input = Pipe()

    /// `tls`: certificate chain and key files to serve HTTPS with.
    init(tls: (certificate: String, key: String)? = nil) throws {
        scheme = tls == nil ? "http" : "https"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("test_server.py").path
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + (tls.map { ["--tls", $0.certificate, $0.key] } ?? [])
        process.standardOutput = output
        // The server exits when this pipe closes, so it cannot outlive the tests.
        process.standardInput = input
        try process.run()

        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let port = Int(text) else {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            throw TestServerError(message: "test_server.py did not report a port: \(text)")
        }
        self.port = port
    }

    func url(_ path: String) -> String { "\(scheme)://127.0.0.1:\(port)\(path)" }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        try? input.fileHandleForWriting.close()
    }

    /// Connections the server has accepted so far (including the one asking).
    func connectionCount(using client: HTTPClient = HTTPClient()) throws -> Int {
        let response = try client.send(HTTPRequest(method: "GET", url: url("/connections")))
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        return object?["connections"] as? Int ?? -1
    }
}

struct TestServerError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// What /echo saw of a request.
struct Echo: Decodable {
    var method: String
    var path: String
    var headers: [[String]]
    var length: Int
    var sha256: String
    var port: Int

    init(_ response: HTTPResponse, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(response.status, 200, String(decoding: response.body, as: UTF8.self), file: file, line: line)
        self = try JSONDecoder().decode(Echo.self, from: Data(response.body))
    }

    func values(_ name: String) -> [String] {
        headers.filter { $0[0].lowercased() == name.lowercased() }.map { $0[1] }
    }
}

// MARK: - Bytes and digests

func sha256Hex(_ bytes: [UInt8]) -> String {
    let sink = DigestingSink()
    try! sink.write(bytes)
    try! sink.finish()
    return sink.hexDigest!
}

/// Deterministic, not very compressible bytes.
func testBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}

/// The SHA-256 of what /download?size=`size` sends (byte i = i % 251).
func downloadPatternSHA256(size: Int) -> String {
    let period = Array((0..<251).map { UInt8($0) })
    let chunk = Array(repeating: period, count: 1044).flatMap { $0 }
    let sink = DigestingSink()
    var remaining = size
    while remaining > 0 {
        let n = min(remaining, chunk.count)
        try! sink.write(Array(chunk[0..<n]))
        remaining -= n
    }
    try! sink.finish()
    return sink.hexDigest!
}

/// Resident memory of this process, from /proc/self/statm.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Hashes what it gets and tracks the peak resident memory while doing so.
final class MeasuringSink: ByteSink {
    let digest = DigestingSink()
    private(set) var writes = 0
    private(set) var peakResident = 0

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try digest.write(bytes)
        writes += 1
        if writes % 8 == 1 { peakResident = max(peakResident, residentBytes()) }
    }

    func finish() throws { try digest.finish() }
}

final class CollectingSink: ByteSink {
    private(set) var bytes: [UInt8] = []
    func write(_ bytes: UnsafeRawBufferPointer) throws { self.bytes.append(contentsOf: bytes) }
    func finish() throws {}
}

final class FailingSink: ByteSink {
    struct Full: Error, CustomStringConvertible { var description: String { "disk full" } }
    private(set) var writes = 0
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        writes += 1
        throw Full()
    }
    func finish() throws {}
}
