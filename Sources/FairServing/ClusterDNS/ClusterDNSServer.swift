import FairArchive
import FairSupport
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The cluster's DNS on this node: Debian's dnsmasq on CLUSTER_DNS:53, reading one hosts file
/// per Service from a directory it watches (`--hostsdir`: a new, changed or deleted file takes
/// effect at once, without a restart), authoritative for the cluster domain (a name there that
/// no Service has is NXDOMAIN, never asked upstream), and answering every other name as the
/// host does (the host's /etc/hosts, then the servers in its /etc/resolv.conf).
///
/// dnsmasq starts as this process's user and, when that is root, binds port 53 and drops to
/// `nobody`; the hosts directory is world-readable for that (it holds only Service addresses,
/// which any pod may look up anyway). A dnsmasq left behind by a process that died is found by
/// the PID kept in the state directory and stopped before a new one starts.
public final class ClusterDNSServer: @unchecked Sendable {
    public let address: String
    public let records: ClusterDNSRecords
    private let stateDirectory: String
    private let logger: Logger
    private let lock = NSLock()
    private var pid: pid_t?
    private var hostsDirectory: String?
    private let externalNames = ExternalNames()

    public init(address: String, domain: String, stateDirectory: String, logger: Logger = Logger(label: "fair.dns")) {
        self.address = address
        records = ClusterDNSRecords(domain: domain)
        self.stateDirectory = stateDirectory
        self.logger = logger
    }

    private var pidFile: String { "\(stateDirectory)/dnsmasq.pid" }
    private var logFile: String { "\(stateDirectory)/dnsmasq.log" }

    /// Starts dnsmasq and waits until it answers on port 53; throws with dnsmasq's own words
    /// when it cannot (not installed, port 53 needs root, the address is taken).
    public func start() throws {
        guard let executable = ExecutablePath.find("dnsmasq") else {
            throw ClusterDNSError(description: "dnsmasq is not installed (Debian: apt-get install dnsmasq-base; scripts/setup installs it)")
        }
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        stopLeftover()
        var template = Array("\(FileManager.default.temporaryDirectory.path)/fair-dns-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else {
            throw ClusterDNSError(description: "cannot create the DNS hosts directory: \(String(cString: strerror(errno)))")
        }
        let directory = String(cString: created)
        chmod(directory, 0o755)
        TemporaryFiles.register(directory)

        let arguments = [
            executable, "--keep-in-foreground", "--conf-file=/dev/null", "--pid-file=", "--log-facility=-",
            "--listen-address=\(address)", "--bind-interfaces", "--port=53",
            "--hostsdir=\(directory)", "--local=/\(records.domain)/", "--domain-needed", "--no-negcache",
            "--cache-size=1000",
        ]
        let pid = try ChildProcess.spawn(arguments, output: logFile, environment: [])
        try? "\(pid) \(directory)\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
        lock.withLock {
            self.pid = pid
            hostsDirectory = directory
        }
        guard waitUntilListening(pid, timeout: 5) else {
            let said = (try? String(contentsOfFile: logFile, encoding: .utf8))?
                .split(separator: "\n").filter { $0.contains("dnsmasq") }.suffix(2).joined(separator: "; ") ?? ""
            // Reaped already when it ended: its pid may be another process's by now.
            if ChildProcess.hasEnded(pid) { lock.withLock { self.pid = nil } }
            stop()
            throw ClusterDNSError(description: "dnsmasq did not start on \(address):53: \(said.isEmpty ? "no reason given" : said)")
        }
        logger.info("cluster DNS on \(address):53 (\(records.domain))")
    }

    /// Publishes one Service's names (nil: the Service is gone).
    public func publish(namespace: String, name: String, route: ServiceRoute?) {
        let file = ClusterDNSRecords.fileName(namespace: namespace, name: name)
        if let route, let externalName = route.externalName {
            let records = self.records
            externalNames.track(file, name: externalName) { [weak self] addresses in
                self?.write(file, records.hostsFile(for: route, externalAddresses: addresses), service: "\(namespace)/\(name)")
            }
            return
        }
        externalNames.forget(file)
        write(file, route.map(records.hostsFile(for:)) ?? "", service: "\(namespace)/\(name)")
    }

    private func write(_ file: String, _ text: String, service: String) {
        guard let directory = lock.withLock({ hostsDirectory }) else { return }
        let path = "\(directory)/\(file)"
        if text.isEmpty {
            unlink(path)
            return
        }
        do {
            try AtomicFile.write(to: path, bytes: Array(text.utf8), permissions: 0o644)
        } catch {
            logger.warning("cannot publish \(service) in the cluster DNS: \(error)")
        }
    }

    public func stop() {
        externalNames.forgetAll()
        let (pid, directory) = lock.withLock { () -> (pid_t?, String?) in
            defer { self.pid = nil; hostsDirectory = nil }
            return (self.pid, hostsDirectory)
        }
        if let pid {
            kill(pid, SIGTERM)
            ChildProcess.wait(pid)
        }
        if let directory {
            try? FileManager.default.removeItem(atPath: directory)
            TemporaryFiles.unregister(directory)
        }
        unlink(pidFile)
    }

    /// dnsmasq answers on TCP as well as UDP: a TCP connect to port 53 proves the sockets exist.
    private func waitUntilListening(_ pid: pid_t, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard !ChildProcess.hasEnded(pid) else { return false }
            if Self.accepts(address, port: 53) { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    static func accepts(_ ip: String, port: UInt16) -> Bool {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { return false }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, ip, &address.sin_addr) == 1 else { return false }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Stops a dnsmasq an earlier run of this node left behind, found by the PID it kept and
    /// checked to be that dnsmasq (its command line names the hosts directory kept with it).
    private func stopLeftover() {
        guard let kept = try? String(contentsOfFile: pidFile, encoding: .utf8) else { return }
        let parts = kept.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        unlink(pidFile)
        guard parts.count == 2, let pid = pid_t(parts[0]), pid > 1,
              let commandLine = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
              String(decoding: commandLine, as: UTF8.self).contains("--hostsdir=\(parts[1])") else { return }
        kill(pid, SIGTERM)
        for _ in 0..<100 where kill(pid, 0) == 0 { Thread.sleep(forTimeInterval: 0.02) }
        try? FileManager.default.removeItem(atPath: parts[1])
    }

}

public struct ClusterDNSError: Error, CustomStringConvertible {
    public let description: String
}
