import Crypto
import FairArchive
import Foundation
import SwiftASN1
import X509

/// The cluster's certificate authority: the root that clients are given (the kubeconfig's
/// `certificate-authority-data`), and that signs the API server's serving certificate, the
/// API server's client certificate for nodes, and the serving certificates of nodes it runs.
/// Kept apart from every leaf, as kubeadm keeps `ca.crt`, so a leaf can be reissued (a new
/// host name, a renewal) without clients being given a new root.
public struct CertificateAuthority: Sendable {
    public let identity: TLSIdentity
    private let certificate: Certificate
    /// Parsed when signing, so that the root stays a plain value to hand between threads.
    private var key: P256.Signing.PrivateKey {
        get throws { try P256.Signing.PrivateKey(pemRepresentation: identity.privateKeyPEM) }
    }

    public var certificatePEM: String { identity.certificatePEM }

    public init(identity: TLSIdentity) throws {
        self.identity = identity
        _ = try P256.Signing.PrivateKey(pemRepresentation: identity.privateKeyPEM)
        certificate = try Certificate(pemEncoded: identity.certificatePEM)
    }

    /// A new root, valid for ten years.
    public static func create(commonName: String, organization: String = "fair") throws -> CertificateAuthority {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName(organization)
            CommonName(commonName)
        }
        let publicKey = Certificate.PublicKey(key.publicKey)
        let certificate = try sign(subject: name, issuer: name, publicKey: publicKey, lifetime: 10 * 365 * 24 * 3600, signer: key,
                                   extensions: try Certificate.Extensions {
                                       Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                                       Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                                       SubjectKeyIdentifier(hash: publicKey)
                                   })
        return try CertificateAuthority(identity: TLSIdentity(certificatePEM: try certificate.serializeAsPEM().pemString,
                                                              privateKeyPEM: key.pemRepresentation))
    }

    /// The root kept at `directory/ca.crt` and `ca.key`, made there on first use.
    public static func loadOrCreate(directory: String, commonName: String) throws -> CertificateAuthority {
        let certificatePath = "\(directory)/ca.crt", keyPath = "\(directory)/ca.key"
        if let identity = TLSIdentity.load(certificatePath: certificatePath, keyPath: keyPath) {
            return try CertificateAuthority(identity: identity)
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let authority = try create(commonName: commonName)
        try authority.identity.write(certificatePath: certificatePath, keyPath: keyPath)
        return authority
    }

    /// A leaf with a key of its own, signed by this root, valid for `lifetime`.
    public func issue(commonName: String, organization: String? = nil, profile: CertificateProfile,
                      lifetime: TimeInterval = 365 * 24 * 3600) throws -> TLSIdentity {
        try Self.leaf(commonName: commonName, organization: organization, profile: profile, lifetime: lifetime,
                      issuer: (certificate.subject, try key, authorityKeyID))
    }

    /// A leaf kept at the given paths: reused while it was signed by this root, holds for at
    /// least 30 more days and `accepts` it (names still right); issued anew otherwise.
    public func loadOrIssue(certificatePath: String, keyPath: String, commonName: String, organization: String? = nil,
                            profile: CertificateProfile, accepts: (Certificate) -> Bool = { _ in true }) throws -> TLSIdentity {
        if let existing = TLSIdentity.load(certificatePath: certificatePath, keyPath: keyPath),
           let leaf = try? Certificate(pemEncoded: existing.certificatePEM),
           leaf.issuer == certificate.subject, certificate.publicKey.isValidSignature(leaf.signature, for: leaf),
           leaf.notValidAfter > Date().addingTimeInterval(30 * 24 * 3600), accepts(leaf) {
            return existing
        }
        let identity = try issue(commonName: commonName, organization: organization, profile: profile)
        try identity.write(certificatePath: certificatePath, keyPath: keyPath)
        return identity
    }

    /// A leaf for a key made elsewhere (a certificate request's), signed by this root.
    func signedLeaf(subject: DistinguishedName, publicKey: Certificate.PublicKey, profile: CertificateProfile,
                    lifetime: TimeInterval) throws -> String {
        try Self.leafCertificate(subject: subject, publicKey: publicKey, profile: profile, lifetime: lifetime,
                                 issuer: (certificate.subject, try key, authorityKeyID)).serializeAsPEM().pemString
    }

    private var authorityKeyID: ArraySlice<UInt8> {
        (try? certificate.extensions.subjectKeyIdentifier?.keyIdentifier) ?? SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
    }

    /// A certificate that signs itself, for a server that no root here can sign for (a node
    /// joining from elsewhere): its clients pin its public key instead.
    public static func selfSigned(commonName: String, profile: CertificateProfile,
                                  lifetime: TimeInterval = 365 * 24 * 3600) throws -> TLSIdentity {
        try leaf(commonName: commonName, organization: nil, profile: profile, lifetime: lifetime, issuer: nil)
    }

    /// A leaf certificate and its new key: signed by `issuer` (its name, key and key identifier),
    /// or by the leaf's own key when there is none.
    private static func leaf(commonName: String, organization: String?, profile: CertificateProfile, lifetime: TimeInterval,
                             issuer: (name: DistinguishedName, key: P256.Signing.PrivateKey, keyID: ArraySlice<UInt8>)?) throws -> TLSIdentity {
        let leafKey = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            if let organization { OrganizationName(organization) }
            CommonName(commonName)
        }
        let certificate = try leafCertificate(subject: subject, publicKey: Certificate.PublicKey(leafKey.publicKey), profile: profile,
                                              lifetime: lifetime,
                                              issuer: issuer.map { ($0.name, $0.key, $0.keyID) } ?? (subject, leafKey, nil))
        return TLSIdentity(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: leafKey.pemRepresentation)
    }

    /// A leaf's certificate: not a CA, for the profile's use and names, signed by `issuer` (with
    /// its key identifier; nil for a leaf that signs itself).
    private static func leafCertificate(subject: DistinguishedName, publicKey: Certificate.PublicKey, profile: CertificateProfile,
                                        lifetime: TimeInterval,
                                        issuer: (name: DistinguishedName, key: P256.Signing.PrivateKey, keyID: ArraySlice<UInt8>?)) throws -> Certificate {
        let names = profile.alternativeNames
        return try sign(subject: subject, issuer: issuer.name, publicKey: publicKey, lifetime: lifetime, signer: issuer.key,
                        extensions: try Certificate.Extensions {
                            Critical(BasicConstraints.notCertificateAuthority)
                            Critical(KeyUsage(digitalSignature: true))
                            try profile.extendedKeyUsage
                            SubjectKeyIdentifier(hash: publicKey)
                            if let keyID = issuer.keyID { AuthorityKeyIdentifier(keyIdentifier: keyID) }
                            if !names.isEmpty { SubjectAlternativeNames(names) }
                        })
    }

    /// A v3 certificate, ECDSA-SHA256, valid from an hour ago (clocks differ a little) for `lifetime`.
    private static func sign(subject: DistinguishedName, issuer: DistinguishedName, publicKey: Certificate.PublicKey,
                             lifetime: TimeInterval, signer: P256.Signing.PrivateKey, extensions: Certificate.Extensions) throws -> Certificate {
        let now = Date()
        return try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(lifetime),
            issuer: issuer,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: .init(signer))
    }
}
