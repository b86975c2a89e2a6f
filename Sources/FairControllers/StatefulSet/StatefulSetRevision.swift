import FairKube

/// A StatefulSet's revisions: kube stores each template as a ControllerRevision and labels pods
/// with its name. fair has no ControllerRevision kind, so a revision is named as kube names
/// one (`SET-HASH`) from the hash of the template alone (`TemplateHash`, with the collision
/// count, 0 until a collision: kube writes it as 0 from the first status). Pods compare by that label just as in kube; what is lost is the old template, so a
/// pod below the partition that must be made again is made from the current template.
enum StatefulSetRevision {
    static func name(of set: JSONValue) -> String {
        let object = StatefulSet(json: set)
        let hash = TemplateHash.compute(object.spec.template.json, collisionCount: object.status.collisionCount ?? 0)
        // kube keeps the prefix within 223 characters so the name stays a valid object name.
        return String((set.name ?? "").prefix(223)) + "-" + hash
    }
}
