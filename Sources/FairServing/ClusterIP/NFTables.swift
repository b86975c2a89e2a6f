import FairSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The host's nftables through the `nft` command, as kube-proxy's nftables mode drives it
/// (through knftables, which runs `nft -f -` too): a script on stdin is one transaction, and
/// what nft says on failure comes back in the error.
struct NFTables: Sendable {
    let executable: String

    struct CommandError: Error, CustomStringConvertible {
        let arguments: [String]
        let status: Int32
        let output: String
        var description: String {
            "nft \(arguments.joined(separator: " ")) failed (status \(status)): \(output.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
    }

    /// `nft` on PATH or in sbin; nil without it.
    static func find() -> NFTables? {
        ExecutablePath.find("nft").map(NFTables.init(executable:))
    }

    /// Runs `script` as one transaction: all of it applies or none.
    func apply(_ script: String) throws {
        _ = try run(["-f", "-"], input: script)
    }

    /// The names of the host's `ip` family tables.
    func ipTables() throws -> [String] {
        try run(["list", "tables", "ip"], input: nil).split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            return words.count == 3 && words[0] == "table" && words[1] == "ip" ? String(words[2]) : nil
        }
    }

    func deleteTable(_ name: String) throws {
        _ = try run(["delete", "table", "ip", name], input: nil)
    }

    /// Starts nft with `input` on its stdin and its stdout and stderr in one pipe. nft reads all
    /// of its input before it writes anything, so writing first and reading after cannot stall.
    private func run(_ arguments: [String], input: String?) throws -> String {
        var stdin = [Int32](repeating: -1, count: 2), output = [Int32](repeating: -1, count: 2)
        guard ChildProcess.makePipe(&stdin) == 0 else { throw CommandError(arguments: arguments, status: -1, output: "pipe: \(String(cString: strerror(errno)))") }
        guard ChildProcess.makePipe(&output) == 0 else {
            close(stdin[0]); close(stdin[1])
            throw CommandError(arguments: arguments, status: -1, output: "pipe: \(String(cString: strerror(errno)))")
        }
        let pid: pid_t
        do {
            pid = try ChildProcess.spawn([executable] + arguments, io: .descriptors(stdin: stdin[0], stdout: output[1], stderr: output[1]),
                                         environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"])
        } catch {
            for end in stdin + output { close(end) }
            throw error
        }
        close(stdin[0])
        close(output[1])
        if let input {
            var bytes = Array(input.utf8)[...]
            while !bytes.isEmpty {
                let written = bytes.withUnsafeBytes { write(stdin[1], $0.baseAddress, $0.count) }
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { break }  // nft left early; its status says why
                bytes = bytes.dropFirst(written)
            }
        }
        close(stdin[1])
        var text = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(output[0], $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            // Listings stay small; an endless one would be a broken nft, cut at 16 MiB.
            if text.count < 16 << 20 { text += buffer[..<count] }
        }
        close(output[0])
        let status = ChildProcess.wait(pid) ?? -1
        let printed = String(decoding: text, as: UTF8.self)
        guard status == 0 else { throw CommandError(arguments: arguments, status: status >> 8 & 0xff, output: printed) }
        return printed
    }
}
