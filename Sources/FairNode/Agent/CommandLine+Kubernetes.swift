import FairKube
import Foundation

/// How Kubernetes turns a container's `command`/`args` and the image's Entrypoint/Cmd into the
/// process's argv, and expands `$(VAR)` references.
enum KubernetesCommandLine {
    /// `command` replaces the Entrypoint and drops Cmd; `args` alone replace Cmd; neither runs
    /// Entrypoint + Cmd. Empty lists count as unset, as in Kubernetes.
    static func argv(command: [String], args: [String], entrypoint: [String], cmd: [String]) -> [String] {
        if !command.isEmpty { return command + args }
        if !args.isEmpty { return entrypoint + args }
        return entrypoint + cmd
    }

    /// `$(NAME)` becomes NAME's value when NAME is defined (else stays as written); `$$` is a
    /// literal `$`, so `$$(NAME)` stays `$(NAME)`. Kubernetes' expansion rules.
    static func expand(_ text: String, _ lookup: (String) -> String?) -> String {
        guard text.contains("$") else { return text }
        let characters = Array(text)
        var output = ""
        var index = 0
        while index < characters.count {
            let character = characters[index]
            guard character == "$", index + 1 < characters.count else {
                output.append(character)
                index += 1
                continue
            }
            let next = characters[index + 1]
            if next == "$" {
                output.append("$")
                index += 2
            } else if next == "(", let close = characters[(index + 2)...].firstIndex(of: ")") {
                let name = String(characters[(index + 2)..<close])
                if let value = lookup(name) {
                    output += value
                } else {
                    output += "$(\(name))"
                }
                index = close + 1
            } else {
                output.append(character)
                index += 1
            }
        }
        return output
    }

    static func strings(_ value: JSONValue?) -> [String] {
        (value?.arrayValue ?? []).compactMap(\.stringValue)
    }
}
