import FairArchive
import Foundation

/// The bearer token that guards the API (and the registry, when not on loopback). Made once per
/// data directory and kept there, readable only by its owner, so a restart keeps clients working.
enum ServerToken {
    static func load(dataDirectory: String) throws -> String {
        let path = "\(dataDirectory)/token"
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !existing.isEmpty {
            return existing
        }
        var generator = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        try AtomicFile.write(to: path, bytes: Array((token + "\n").utf8), permissions: 0o600)
        return token
    }
}

/// The kubeconfig clients use to reach this server: kubectl, the Python client, and fair itself.
enum ServerKubeconfig {
    static func write(dataDirectory: String, server: String, token: String, certificateAuthorityPEM: String) throws -> String {
        let path = "\(dataDirectory)/kubeconfig"
        let text = """
            apiVersion: v1
            kind: Config
            clusters:
            - name: fair
              cluster:
                server: \(server)
                certificate-authority-data: \(Data(certificateAuthorityPEM.utf8).base64EncodedString())
            contexts:
            - name: fair
              context:
                cluster: fair
                user: fair
                namespace: default
            current-context: fair
            users:
            - name: fair
              user:
                token: \(token)

            """
        try AtomicFile.write(to: path, bytes: Array(text.utf8), permissions: 0o600)
        return path
    }
}
