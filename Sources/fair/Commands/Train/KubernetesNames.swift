import Foundation

/// Names Kubernetes accepts (RFC 1123 labels: lower-case letters, digits and '-', at most 63
/// characters, starting and ending alphanumeric), made from project names people actually use.
enum KubernetesNames {
    /// `name` lower-cased, with every run of other characters turned into one '-'.
    static func sanitized(_ name: String, maxLength: Int = 63) -> String {
        var result = ""
        for character in name.lowercased() {
            if character.isASCII && (character.isLetter || character.isNumber) {
                result.append(character)
            } else if !result.hasSuffix("-") {
                result.append("-")
            }
        }
        result = String(result.prefix(maxLength))
        while result.hasSuffix("-") || result.hasPrefix("-") {
            result = result.hasSuffix("-") ? String(result.dropLast()) : String(result.dropFirst())
        }
        return result.isEmpty ? "fair" : result
    }

    /// `project-xxxxx`, like a generateName: each run of `fair train` is its own Job.
    static func unique(_ project: String) -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")  // kube's: no vowels, no look-alikes
        let suffix = String((0..<5).map { _ in alphabet.randomElement()! })
        return sanitized(project, maxLength: 57) + "-" + suffix
    }

    static func isValid(_ name: String) -> Bool {
        name.count <= 63 && sanitized(name) == name
    }
}
