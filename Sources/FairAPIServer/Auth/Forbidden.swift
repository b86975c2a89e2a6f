import FairKube
import Foundation

extension APIError {
    /// kube-apiserver's 403 for a request its authorizer did not allow, in its words:
    /// `pods "web" is forbidden: User "system:serviceaccount:ml:runner" cannot get resource "pods"
    /// in API group "" in the namespace "ml"`.
    static func forbidden(_ request: RequestAttributes, reason: String = "") -> APIError {
        // kube escapes these in the message (it may reach an HTML page).
        let user = request.user.name.replacingOccurrences(of: "&", with: "&amp;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        var message: String
        var details: StatusBody.Details?
        if request.isResourceRequest {
            let resource = request.subresource.isEmpty ? request.resource : "\(request.resource)/\(request.subresource)"
            let qualified = request.apiGroup.isEmpty ? request.resource : "\(request.resource).\(request.apiGroup)"
            let subject = request.name.isEmpty ? qualified : "\(qualified) \"\(request.name)\""
            let scope = request.namespace.isEmpty ? "at the cluster scope" : "in the namespace \"\(request.namespace)\""
            message = "\(subject) is forbidden: User \"\(user)\" cannot \(request.verb) resource \"\(resource)\" in API group \"\(request.apiGroup)\" \(scope)"
            details = StatusBody.Details(name: request.name.isEmpty ? nil : request.name, group: request.apiGroup, kind: request.resource)
        } else {
            message = "forbidden: User \"\(user)\" cannot \(request.verb) path \"\(request.path)\""
            details = StatusBody.Details()
        }
        if !reason.isEmpty { message += ": \(reason)" }
        return APIError(code: 403, reason: "Forbidden", message: message, details: details)
    }
}
