import SwiftASN1
import X509

/// The two names of a certificate's subject that Kubernetes reads as a user: the common name
/// is the user's name and each organization one of its groups (kube-apiserver's x509
/// authenticator, `CommonNameUserConversion`).
public struct CertificateSubject: Sendable, Equatable {
    public var commonName: String
    public var organizations: [String]

    public init(commonName: String, organizations: [String]) {
        self.commonName = commonName
        self.organizations = organizations
    }

    init(_ name: DistinguishedName) {
        var commonName = "", organizations: [String] = []
        for relative in name {
            for attribute in relative {
                if attribute.type == .RDNAttributeType.commonName {
                    commonName = attribute.value.description
                } else if attribute.type == .RDNAttributeType.organizationName {
                    organizations.append(attribute.value.description)
                }
            }
        }
        self.init(commonName: commonName, organizations: organizations)
    }

    /// The subject of a DER certificate (as a TLS handshake hands it over); nil if it does not parse.
    public static func of(certificateDER bytes: [UInt8]) -> CertificateSubject? {
        guard let certificate = try? Certificate(derEncoded: bytes) else { return nil }
        return CertificateSubject(certificate.subject)
    }

    public static func of(certificatePEM pem: String) -> CertificateSubject? {
        guard let certificate = try? Certificate(pemEncoded: pem) else { return nil }
        return CertificateSubject(certificate.subject)
    }

    var distinguishedName: DistinguishedName {
        get throws {
            try DistinguishedName {
                for organization in organizations { OrganizationName(organization) }
                CommonName(commonName)
            }
        }
    }
}
