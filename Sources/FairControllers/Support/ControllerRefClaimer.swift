import FairKube

/// Decides which objects an owner controls (client-go's ControllerRefManager): those whose
/// controller reference names it and which still match its selector. Matching orphans are
/// adopted and owned objects that stopped matching are released, each with a patch that fails
/// if the object changed meanwhile, so two controllers never both claim one object.
struct ControllerRefClaimer {
    let client: KubeClient
    let owner: JSONValue
    let kind: OwnerKind
    let dependents: APIResource
    let selector: LabelSelector
    /// Asked once before the first adoption: whether the owner is still the one we read (same
    /// uid, not being deleted), fresh from the API rather than from a cache.
    let canAdopt: () throws -> Bool

    func claim(_ candidates: [JSONValue]) throws -> [JSONValue] {
        guard let uid = owner.uid else { return [] }
        var claimed: [JSONValue] = []
        var adoptionChecked: Bool?
        var firstError: Error?
        for object in candidates {
            let matches = !selector.isEmpty && selector.matches(object.labels)
            if let reference = object.controllerReference {
                guard reference.uid == uid else { continue }
                if matches || owner.isTerminating {
                    claimed.append(object)
                    continue
                }
                do { try release(object) } catch let error as KubeError where error.isNotFound {} catch {
                    firstError = firstError ?? error
                }
                continue
            }
            guard matches, !object.isTerminating, !owner.isTerminating else { continue }
            if adoptionChecked == nil { adoptionChecked = try canAdopt() }
            guard adoptionChecked == true else { continue }
            do {
                claimed.append(try adopt(object))
            } catch let error as KubeError where error.isNotFound {
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
        return claimed
    }

    private func adopt(_ object: JSONValue) throws -> JSONValue {
        let references = object.ownerReferences + [kind.controllerReference(to: owner)]
        return try client.mergePatch(dependents, namespace: object.namespace, name: object.name ?? "",
                                     ["metadata": ["ownerReferences": .array(references),
                                                   "resourceVersion": .string(object.resourceVersion ?? "")]])
    }

    private func release(_ object: JSONValue) throws {
        let references = object.ownerReferences.filter { OwnerReference(json: $0).uid != owner.uid }
        _ = try client.mergePatch(dependents, namespace: object.namespace, name: object.name ?? "",
                                  ["metadata": ["ownerReferences": references.isEmpty ? .null : .array(references),
                                                "resourceVersion": .string(object.resourceVersion ?? "")]])
    }
}

/// The fresh-read check `ControllerRefClaimer` asks for before adopting.
func ownerStillCurrent(_ client: KubeClient, _ resource: APIResource, _ owner: JSONValue) throws -> Bool {
    let fresh = try client.get(resource, namespace: owner.namespace, name: owner.name ?? "")
    return fresh.uid == owner.uid && !fresh.isTerminating
}
