import FairArchive
import Crypto
import Foundation
import SwiftASN1
import X509

/// The API's TLS identity: a self-signed certificate (it is its own CA) for the loopback names,
/// made at first start and kept in the data directory. The kubeconfig carries it as the
/// certificate authority, so kubectl and the client libraries verify the server and agree to
/// send the bearer token (client-go never sends a token over plain HTTP).
struct ServerCertificate {
    let certificatePEM: String
    let privateKeyPEM: String

    static func loadOrCreate(directory: String, host: String) throws -> ServerCertificate {
        let certificatePath = "\(directory)/server.crt", keyPath = "\(directory)/server.key"
        if let certificate = try? String(contentsOfFile: certificatePath, encoding: .utf8),
           let key = try? String(contentsOfFile: keyPath, encoding: .utf8) {
            return ServerCertificate(certificatePEM: certificate, privateKeyPEM: key)
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("fair")
            CommonName("fair server")
        }
        var alternativeNames: [GeneralName] = [.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))]
        if let address = ipv4Bytes(host), address != [127, 0, 0, 1] {
            alternativeNames.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(address))))
        } else if ipv4Bytes(host) == nil && host != "localhost" {
            alternativeNames.append(.dnsName(host))
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(10 * 365 * 24 * 3600),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                KeyUsage(digitalSignature: true, keyCertSign: true)
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(alternativeNames)
            },
            issuerPrivateKey: .init(key))
        let result = ServerCertificate(certificatePEM: try certificate.serializeAsPEM().pemString,
                                       privateKeyPEM: key.pemRepresentation)
        try AtomicFile.write(to: keyPath, bytes: Array(result.privateKeyPEM.utf8), permissions: 0o600)
        try AtomicFile.write(to: certificatePath, bytes: Array(result.certificatePEM.utf8), permissions: 0o644)
        return result
    }

    private static func ipv4Bytes(_ host: String) -> [UInt8]? {
        let parts = host.split(separator: ".").compactMap { UInt8($0) }
        return parts.count == 4 && host.split(separator: ".").count == 4 ? parts : nil
    }
}
