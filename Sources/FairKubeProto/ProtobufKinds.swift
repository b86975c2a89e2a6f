import SwiftProtobuf

/// The generated message of each kind whose protobuf bodies the API server reads, by
/// `apiVersion/Kind`: every kind of the catalog, and the built-in kinds kubectl writes in
/// protobuf that the catalog may gain (a kind the catalog lacks is still refused, by its route).
/// A kind added here needs its `.proto` and Go `types.go` in `scripts/protobuf` (and a rerun of
/// `scripts/generate-protobuf`).
enum ProtobufKinds {
    static let types: [String: any Message.Type] = [
        "v1/Binding": K8s_Io_Api_Core_V1_Binding.self,
        "v1/ConfigMap": K8s_Io_Api_Core_V1_ConfigMap.self,
        "v1/Endpoints": K8s_Io_Api_Core_V1_Endpoints.self,
        "v1/Event": K8s_Io_Api_Core_V1_Event.self,
        "v1/LimitRange": K8s_Io_Api_Core_V1_LimitRange.self,
        "v1/Namespace": K8s_Io_Api_Core_V1_Namespace.self,
        "v1/Node": K8s_Io_Api_Core_V1_Node.self,
        "v1/PersistentVolume": K8s_Io_Api_Core_V1_PersistentVolume.self,
        "v1/PersistentVolumeClaim": K8s_Io_Api_Core_V1_PersistentVolumeClaim.self,
        "v1/Pod": K8s_Io_Api_Core_V1_Pod.self,
        "v1/ResourceQuota": K8s_Io_Api_Core_V1_ResourceQuota.self,
        "v1/Secret": K8s_Io_Api_Core_V1_Secret.self,
        "v1/Service": K8s_Io_Api_Core_V1_Service.self,
        "v1/ServiceAccount": K8s_Io_Api_Core_V1_ServiceAccount.self,
        "apps/v1/DaemonSet": K8s_Io_Api_Apps_V1_DaemonSet.self,
        "apps/v1/Deployment": K8s_Io_Api_Apps_V1_Deployment.self,
        "apps/v1/ReplicaSet": K8s_Io_Api_Apps_V1_ReplicaSet.self,
        "apps/v1/StatefulSet": K8s_Io_Api_Apps_V1_StatefulSet.self,
        "autoscaling/v1/Scale": K8s_Io_Api_Autoscaling_V1_Scale.self,
        "batch/v1/CronJob": K8s_Io_Api_Batch_V1_CronJob.self,
        "batch/v1/Job": K8s_Io_Api_Batch_V1_Job.self,
        "certificates.k8s.io/v1/CertificateSigningRequest": K8s_Io_Api_Certificates_V1_CertificateSigningRequest.self,
        "coordination.k8s.io/v1/Lease": K8s_Io_Api_Coordination_V1_Lease.self,
        "networking.k8s.io/v1/Ingress": K8s_Io_Api_Networking_V1_Ingress.self,
        "networking.k8s.io/v1/IngressClass": K8s_Io_Api_Networking_V1_IngressClass.self,
        "networking.k8s.io/v1/NetworkPolicy": K8s_Io_Api_Networking_V1_NetworkPolicy.self,
        "policy/v1/Eviction": K8s_Io_Api_Policy_V1_Eviction.self,
        "policy/v1/PodDisruptionBudget": K8s_Io_Api_Policy_V1_PodDisruptionBudget.self,
        "rbac.authorization.k8s.io/v1/ClusterRole": K8s_Io_Api_Rbac_V1_ClusterRole.self,
        "rbac.authorization.k8s.io/v1/ClusterRoleBinding": K8s_Io_Api_Rbac_V1_ClusterRoleBinding.self,
        "rbac.authorization.k8s.io/v1/Role": K8s_Io_Api_Rbac_V1_Role.self,
        "rbac.authorization.k8s.io/v1/RoleBinding": K8s_Io_Api_Rbac_V1_RoleBinding.self,
        "scheduling.k8s.io/v1/PriorityClass": K8s_Io_Api_Scheduling_V1_PriorityClass.self,
        "storage.k8s.io/v1/StorageClass": K8s_Io_Api_Storage_V1_StorageClass.self,
        "authentication.k8s.io/v1/TokenRequest": K8s_Io_Api_Authentication_V1_TokenRequest.self,
        "authentication.k8s.io/v1/TokenReview": K8s_Io_Api_Authentication_V1_TokenReview.self,
        "authentication.k8s.io/v1/SelfSubjectReview": K8s_Io_Api_Authentication_V1_SelfSubjectReview.self,
        "authorization.k8s.io/v1/SelfSubjectAccessReview": K8s_Io_Api_Authorization_V1_SelfSubjectAccessReview.self,
        "authorization.k8s.io/v1/SelfSubjectRulesReview": K8s_Io_Api_Authorization_V1_SelfSubjectRulesReview.self,
        "authorization.k8s.io/v1/SubjectAccessReview": K8s_Io_Api_Authorization_V1_SubjectAccessReview.self,
    ]
}
