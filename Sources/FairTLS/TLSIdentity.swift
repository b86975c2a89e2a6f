import Crypto
import FairArchive
import Foundation
import SwiftASN1
import X509

/// A certificate and its private key, both PEM: what a TLS server presents, or what a client
/// proves itself with.
public struct TLSIdentity: Sendable {
    public let certificatePEM: String
    public let privateKeyPEM: String

    public init(certificatePEM: String, privateKeyPEM: String) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }

    /// The pin of the certificate's public key as libcurl's `CURLOPT_PINNEDPUBLICKEY` and HPKP
    /// write it: `sha256//` and the base64 SHA-256 of the DER SubjectPublicKeyInfo. It names the
    /// key, not the certificate, so it holds whoever signed the certificate.
    public var publicKeyPin: String {
        get throws { try Self.publicKeyPin(ofCertificatePEM: certificatePEM) }
    }

    public static func publicKeyPin(ofCertificatePEM pem: String) throws -> String {
        try publicKeyPin(of: Certificate(pemEncoded: pem))
    }

    public static func publicKeyPin(ofCertificateDER der: [UInt8]) throws -> String {
        try publicKeyPin(of: Certificate(derEncoded: der))
    }

    private static func publicKeyPin(of certificate: Certificate) throws -> String {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate.publicKey)
        return "sha256//" + Data(SHA256.hash(data: serializer.serializedBytes)).base64EncodedString()
    }

    /// When the certificate stops being valid.
    public var expiry: Date? { (try? Certificate(pemEncoded: certificatePEM))?.notValidAfter }

    /// Reads a pair written by `write`; nil when either file is missing or unreadable.
    public static func load(certificatePath: String, keyPath: String) -> TLSIdentity? {
        guard let certificate = try? String(contentsOfFile: certificatePath, encoding: .utf8),
              let key = try? String(contentsOfFile: keyPath, encoding: .utf8),
              (try? Certificate(pemEncoded: certificate)) != nil else { return nil }
        return TLSIdentity(certificatePEM: certificate, privateKeyPEM: key)
    }

    /// Writes the key readable by its owner only, then the certificate, each atomically.
    public func write(certificatePath: String, keyPath: String) throws {
        try AtomicFile.write(to: keyPath, bytes: Array(privateKeyPEM.utf8), permissions: 0o600)
        try AtomicFile.write(to: certificatePath, bytes: Array(certificatePEM.utf8), permissions: 0o644)
    }
}

extension TLSIdentity {
    /// When the certificate starts and stops being valid.
    public var validity: ClosedRange<Date>? {
        guard let certificate = try? Certificate(pemEncoded: certificatePEM),
              certificate.notValidBefore <= certificate.notValidAfter else { return nil }
        return certificate.notValidBefore...certificate.notValidAfter
    }

    /// Whether the root in `authorityPEM` signed this certificate (a root that changed means a
    /// certificate the server no longer accepts).
    public func isSigned(byAuthorityPEM authorityPEM: String) -> Bool {
        guard let leaf = try? Certificate(pemEncoded: certificatePEM),
              let root = try? Certificate(pemEncoded: authorityPEM) else { return false }
        return leaf.issuer == root.subject && root.publicKey.isValidSignature(leaf.signature, for: leaf)
    }
}
