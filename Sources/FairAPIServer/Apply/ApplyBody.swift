import FairKube
import Foundation

/// The body of an apply: `application/apply-patch+yaml` is YAML, of which JSON is the usual
/// form (kubectl, client-go and the Python clients send JSON).
enum ApplyBody {
    static let contentType = "application/apply-patch+yaml"
    /// Deeper nesting than any Kubernetes object has; the YAML reader recurses per level, so
    /// a body nested deeper is refused before it is read.
    static let maximumDepth = 256

    static func decode(_ bytes: [UInt8]) throws -> JSONValue {
        let first = bytes.first { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }
        if first == UInt8(ascii: "{") {
            do {
                return try JSONCoding.decode(bytes)
            } catch {
                throw APIError.badRequest("the apply body is not valid JSON: \(error)")
            }
        }
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw APIError.badRequest("the apply body is not UTF-8 text")
        }
        guard nesting(of: text) <= maximumDepth else {
            throw APIError.badRequest("the apply body is nested more than \(maximumDepth) levels deep")
        }
        let documents: [JSONValue]
        do {
            documents = try YAMLValues.parse(text, source: "the apply body")
        } catch {
            throw APIError.badRequest("\(error)")
        }
        guard documents.count == 1, documents[0].objectValue != nil else {
            throw APIError.badRequest("the apply body must be one YAML or JSON object, not \(documents.count) documents")
        }
        return documents[0]
    }

    /// An upper bound of how deep YAML text nests: flow brackets open at once (quoted or not:
    /// an over-count only refuses an odd body), plus one level per column of indentation (block
    /// nesting needs at least one more column per level).
    static func nesting(of text: String) -> Int {
        var deepest = 0, brackets = 0, indentation = 0, atLineStart = true
        for byte in text.utf8 {
            if byte == 0x0a {
                atLineStart = true
                indentation = 0
                continue
            }
            if atLineStart {
                if byte == 0x20 || byte == UInt8(ascii: "-") {
                    indentation += 1
                    continue
                }
                atLineStart = false
            }
            switch byte {
            case UInt8(ascii: "["), UInt8(ascii: "{"): brackets += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"): brackets = max(0, brackets - 1)
            default: break
            }
            deepest = max(deepest, brackets + indentation)
        }
        return deepest
    }
}
