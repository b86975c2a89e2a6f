/// A `WWW-Authenticate` challenge (RFC 7235): a scheme and its parameters, e.g.
/// `Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull"`.
struct AuthChallenge: Equatable {
    var scheme: String
    var parameters: [String: String]

    var realm: String? { parameters["realm"] }
    var service: String? { parameters["service"] }
    var isBearer: Bool { scheme.lowercased() == "bearer" }
    var isBasic: Bool { scheme.lowercased() == "basic" }

    /// Parses the first challenge of a header value; quoted values may contain commas and escapes.
    static func parse(_ header: String) -> AuthChallenge? {
        let characters = Array(header)
        var index = 0
        func skipSpaces() { while index < characters.count, characters[index] == " " || characters[index] == "\t" { index += 1 } }
        skipSpaces()
        var scheme = ""
        while index < characters.count, characters[index] != " " { scheme.append(characters[index]); index += 1 }
        guard !scheme.isEmpty else { return nil }
        var parameters: [String: String] = [:]
        while index < characters.count {
            skipSpaces()
            var key = ""
            while index < characters.count, characters[index] != "=", characters[index] != "," { key.append(characters[index]); index += 1 }
            guard index < characters.count, characters[index] == "=" else {
                index += 1
                continue
            }
            index += 1
            var value = ""
            if index < characters.count, characters[index] == "\"" {
                index += 1
                while index < characters.count, characters[index] != "\"" {
                    if characters[index] == "\\", index + 1 < characters.count { index += 1 }
                    value.append(characters[index])
                    index += 1
                }
                index += 1
            } else {
                while index < characters.count, characters[index] != "," { value.append(characters[index]); index += 1 }
            }
            parameters[key.trimmingCharacters(in: " \t").lowercased()] = value.trimmingCharacters(in: " \t")
            skipSpaces()
            if index < characters.count, characters[index] == "," { index += 1 }
        }
        return AuthChallenge(scheme: scheme, parameters: parameters)
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self)
        while let first = scalars.first, set.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}
