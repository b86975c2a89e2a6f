/// Where a value sits in an object, printed as Kubernetes' `field.Path` prints it:
/// `spec.containers[0].ports[0].containerPort` for fields and list indices, `data[a]` for map keys.
struct FieldPath {
    enum Element {
        case field(String)
        case index(Int)
        case key(String)
    }

    private(set) var elements: [Element] = []

    mutating func push(_ element: Element) { elements.append(element) }
    mutating func pop() { elements.removeLast() }

    var depth: Int { elements.count }

    var description: String {
        var text = ""
        for element in elements {
            switch element {
            case let .field(name):
                if !text.isEmpty { text += "." }
                text += name
            case let .index(index):
                text += "[\(index)]"
            case let .key(key):
                text += "[\(key)]"
            }
        }
        return text
    }
}
