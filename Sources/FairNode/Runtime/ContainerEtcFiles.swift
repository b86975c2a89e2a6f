import FairArchive
import Foundation

/// The per-container /etc/hosts, /etc/resolv.conf and /etc/hostname, written into the bundle
/// and bind-mounted over the image's (which is read-only and shared by every container).
/// Pods share the host's network namespace; resolv.conf is what the pod's DNS policy makes of
/// the cluster DNS and the host's configuration (`PodDNS`), or the host's file as it is.
struct ContainerEtcFiles {
    let directory: String

    var hosts: String { "\(directory)/hosts" }
    var resolvConf: String { "\(directory)/resolv.conf" }
    var hostname: String { "\(directory)/hostname" }

    static let hostResolvConf = "/etc/resolv.conf"

    func write(hostname name: String, podIP: String, fullyQualifiedName: String? = nil, resolvConf: String? = nil,
               hostResolvConf: String = Self.hostResolvConf) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var hostsText = """
            127.0.0.1\tlocalhost
            ::1\tlocalhost ip6-localhost ip6-loopback
            fe00::0\tip6-localnet
            ff00::0\tip6-mcastprefix
            ff02::1\tip6-allnodes
            ff02::2\tip6-allrouters

            """
        if !podIP.isEmpty && !name.isEmpty {
            hostsText += fullyQualifiedName.map { "\(podIP)\t\($0)\t\(name)\n" } ?? "\(podIP)\t\(name)\n"
        }
        try AtomicFile.write(to: hosts, bytes: Array(hostsText.utf8))
        try AtomicFile.write(to: hostname, bytes: Array("\(name)\n".utf8))
        if let resolvConf {
            try AtomicFile.write(to: self.resolvConf, bytes: Array(resolvConf.utf8))
        } else {
            // A host without a resolver configuration still gets a (empty) file to mount.
            let resolver = FileManager.default.contents(atPath: hostResolvConf) ?? Data()
            try AtomicFile.write(to: self.resolvConf, bytes: Array(resolver))
        }
    }
}
