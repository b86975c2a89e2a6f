import Crypto
import Foundation
import SwiftASN1
import X509

/// A PKCS #10 certificate request, as a kubelet sends one to the CertificateSigningRequest API:
/// made with a fresh key on the requesting side, checked and signed by the cluster's signer.
public struct CertificateRequest: Sendable {
    public let subject: CertificateSubject
    /// Subject alternative names asked for (a client certificate for a node asks for none).
    public let alternativeNameCount: Int
    let publicKey: Certificate.PublicKey

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case notPEM
        case unreadable(String)
        case badSignature

        public var description: String {
            switch self {
            case .notPEM: return "the request is not a PEM block of type CERTIFICATE REQUEST"
            case let .unreadable(why): return "the certificate request cannot be read: \(why)"
            case .badSignature: return "the certificate request is not signed by the key it names"
            }
        }
    }

    /// Reads a PEM request and checks that it is signed by the key it carries (proof that the
    /// requester holds that key).
    public init(pem: String) throws {
        guard pem.contains("-----BEGIN CERTIFICATE REQUEST-----") else { throw Failure.notPEM }
        let request: X509.CertificateSigningRequest
        do {
            request = try X509.CertificateSigningRequest(pemEncoded: pem)
        } catch {
            throw Failure.unreadable("\(error)")
        }
        guard request.publicKey.isValidSignature(request.signature, for: request) else { throw Failure.badSignature }
        subject = CertificateSubject(request.subject)
        let names = (try? request.attributes.extensionRequest?.extensions.subjectAlternativeNames) ?? nil
        alternativeNameCount = names?.count ?? 0
        publicKey = request.publicKey
    }

    /// A new P-256 key and a request for a certificate naming `subject`: what a node sends to
    /// be given its client certificate. The key stays with the caller.
    public static func make(subject: CertificateSubject) throws -> (requestPEM: String, privateKeyPEM: String) {
        let key = P256.Signing.PrivateKey()
        let request = try X509.CertificateSigningRequest(
            version: .v1, subject: try subject.distinguishedName, privateKey: .init(key),
            attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256)
        return (try request.serializeAsPEM().pemString, key.pemRepresentation)
    }
}

extension CertificateAuthority {
    /// A client certificate for a checked request: its subject and key, this root's signature,
    /// for `lifetime` (kube's signer caps a request's `expirationSeconds` at its own duration).
    public func signClientCertificate(for request: CertificateRequest, lifetime: TimeInterval) throws -> String {
        try signedLeaf(subject: try request.subject.distinguishedName, publicKey: request.publicKey,
                       profile: .client, lifetime: lifetime)
    }
}
