import SwiftProtobuf

/// The generated message of each kind whose protobuf bodies the API server reads, by
/// `apiVersion/Kind`. A kind added here needs its `.proto` in `scripts/protobuf` (and a rerun of
/// `scripts/generate-protobuf`).
enum ProtobufKinds {
    static let types: [String: any Message.Type] = [
        "authentication.k8s.io/v1/TokenRequest": K8s_Io_Api_Authentication_V1_TokenRequest.self,
        "authentication.k8s.io/v1/TokenReview": K8s_Io_Api_Authentication_V1_TokenReview.self,
        "authentication.k8s.io/v1/SelfSubjectReview": K8s_Io_Api_Authentication_V1_SelfSubjectReview.self,
        "authorization.k8s.io/v1/SelfSubjectAccessReview": K8s_Io_Api_Authorization_V1_SelfSubjectAccessReview.self,
        "authorization.k8s.io/v1/SelfSubjectRulesReview": K8s_Io_Api_Authorization_V1_SelfSubjectRulesReview.self,
        "authorization.k8s.io/v1/SubjectAccessReview": K8s_Io_Api_Authorization_V1_SubjectAccessReview.self,
    ]
}
