import Foundation

/// What a requirements file asks of pip beyond package names: options that change where packages
/// come from are reported (they decide what code lands in the image), and files it includes
/// with `-r`/`-c` must be inside the project like the file itself.
public enum RequirementsReview {
    /// Warnings for index options, one per line that sets one; throws when an included file is
    /// outside the project. `name` is how messages call the file (e.g. "requirements.txt").
    public static func review(path: String, name: String, project: String) throws -> [String] {
        try FileSizeLimit.check(path, limit: FileSizeLimit.requirements, kind: "a requirements file")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BuildError.unreadable(path: path, reason: "file missing or not readable")
        }
        let directory = (path as NSString).deletingLastPathComponent
        var warnings: [String] = []
        for (number, line) in logicalLines(String(decoding: data, as: UTF8.self)) {
            let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            for (index, word) in words.enumerated() {
                let (option, attached) = split(word)
                let value = attached ?? (index + 1 < words.count ? words[index + 1] : "")
                if let concern = sourceOptions[option] {
                    warnings.append("\(name) line \(number) sets \(option) \(redacted(value)): \(concern)")
                } else if includeOptions.contains(option), !value.isEmpty, !value.contains("://") {
                    let included = value.hasPrefix("/") ? value : "\(directory)/\(value)"
                    _ = try ProjectPath.resolve(included, in: project, field: "requirements (\(option) on \(name) line \(number))")
                }
            }
        }
        return warnings
    }

    private static let sourceOptions = [
        "--index-url": "pip downloads every package from this index instead of PyPI; make sure you trust it",
        "-i": "pip downloads every package from this index instead of PyPI; make sure you trust it",
        "--extra-index-url": "pip also downloads from this index, and a package there can take the place of PyPI's package of the same name",
        "--trusted-host": "pip accepts this host without a verified HTTPS certificate, so anyone on the network path can change what is installed",
        "--find-links": "pip also takes packages from this location",
        "-f": "pip also takes packages from this location",
    ]
    private static let includeOptions: Set<String> = ["-r", "--requirement", "-c", "--constraint"]

    /// `--opt=value` → ("--opt", "value"); `-ivalue` → ("-i", "value"); anything else as it is.
    private static func split(_ word: String) -> (String, String?) {
        if word.hasPrefix("--"), let equals = word.firstIndex(of: "=") {
            return (String(word[..<equals]), String(word[word.index(after: equals)...]))
        }
        if word.count > 2, word.hasPrefix("-"), !word.hasPrefix("--"), let flag = ["-i", "-f", "-r", "-c"].first(where: word.hasPrefix) {
            return (flag, String(word.dropFirst(2)))
        }
        return (word, nil)
    }

    /// Lines as pip reads them: comments removed, backslash continuations joined; each with the
    /// number of its first physical line.
    private static func logicalLines(_ text: String) -> [(Int, String)] {
        var result: [(Int, String)] = []
        var pending: (Int, String)?
        for (offset, raw) in text.components(separatedBy: "\n").enumerated() {
            var line = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
            if line.hasPrefix("#") { line = "" }
            if let comment = line.range(of: " #") ?? line.range(of: "\t#") { line = String(line[..<comment.lowerBound]) }
            let start = pending?.0 ?? offset + 1
            let joined = (pending?.1 ?? "") + line
            if joined.hasSuffix("\\") {
                pending = (start, String(joined.dropLast()))
            } else {
                pending = nil
                result.append((start, joined))
            }
        }
        if let pending { result.append(pending) }
        return result
    }

    /// A URL without the user and password it may carry, so warnings never print credentials.
    static func redacted(_ value: String) -> String {
        guard let scheme = value.range(of: "://"), let at = value[scheme.upperBound...].firstIndex(of: "@"),
              !value[scheme.upperBound..<at].contains("/") else { return value }
        return value[..<scheme.upperBound] + "***" + value[at...]
    }
}
