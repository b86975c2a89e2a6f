import Foundation

/// The rules of a `.fairignore` file, which has exactly the syntax and meaning of a `.dockerignore`
/// file:
///
/// - A line that starts with `#` (in its first column) is a comment; blank lines are skipped;
///   whitespace around a pattern is trimmed.
/// - `!pattern` is an exception: it re-includes paths that earlier lines excluded.
/// - Patterns are relative to the context root: they are cleaned like Go's `filepath.Clean`
///   (`./a//b/` becomes `a/b`) and a leading `/` is dropped.
/// - `*` matches any run of characters except `/`, `?` one character except `/`, `[a-z]`, `[^0-9]`
///   character classes, `\` escapes the next character, and `**` matches any number of whole
///   directories, zero included (`**/__pycache__`, `data/**/*.csv`).
/// - A pattern that matches a directory also excludes everything below it (`build` excludes
///   `build/x/y.py`).
/// - The last line that matches a path decides whether it is excluded.
public struct IgnoreRules: Sendable {
    private let patterns: [IgnorePattern]
    /// Whether any line is an exception (`!...`).
    private let hasExceptions: Bool
    /// Whether some exception has a wildcard, so that it may match anything below any directory.
    private let exceptionsNeedFullWalk: Bool
    /// Each exception without a trailing `/**` or `/*`, followed by `/`.
    private let exceptionPrefixes: [[Unicode.Scalar]]

    /// A rule set that ignores nothing.
    public static let none = IgnoreRules(patterns: [])

    /// Parses the text of a `.fairignore` (or `.dockerignore`) file.
    /// - Throws: `IgnoreRulesError` naming the line of the first malformed pattern.
    public init(contents: String) throws {
        var patterns: [IgnorePattern] = []
        for (offset, rawLine) in Self.lines(of: contents).enumerated() {
            let lineNumber = offset + 1
            var line = rawLine
            if offset == 0, line.first == "\u{FEFF}" { line.removeFirst() }
            if line.first == "#" { continue }

            // Normalisation as Docker applies it when it reads the file...
            var pattern = Self.trimmed(line)
            if pattern.isEmpty { continue }
            let isException = pattern.first == "!"
            if isException { pattern = Self.trimmed(pattern.dropFirst()) }
            if !pattern.isEmpty {
                pattern = Self.clean(pattern)
                if pattern.count > 1, pattern.first == "/" { pattern.removeFirst() }
            }
            if isException { pattern.insert("!", at: 0) }

            // ...and again when it builds its matcher from the resulting list.
            pattern = Self.clean(Self.trimmed(pattern[...]))
            let written = String(String.UnicodeScalarView(Self.trimmed(line[...])))
            var exception = false
            if pattern.first == "!" {
                if pattern.count == 1 {
                    throw IgnoreRulesError(line: lineNumber, pattern: written,
                                           reason: "'!' must be followed by the pattern to re-include")
                }
                exception = true
                pattern.removeFirst()
            }
            let text = String(String.UnicodeScalarView(pattern))
            if let problem = IgnorePattern.syntaxProblem(in: text) {
                throw IgnoreRulesError(line: lineNumber, pattern: written, reason: problem)
            }
            patterns.append(IgnorePattern(text: text, isException: exception))
        }
        self.init(patterns: patterns)
    }

    private init(patterns: [IgnorePattern]) {
        self.patterns = patterns
        let exceptions = patterns.filter(\.isException)
        hasExceptions = !exceptions.isEmpty
        let wildcards: Set<Unicode.Scalar> = ["*", "[", "]", "?", "^", "\\"]
        var prefixes: [[Unicode.Scalar]] = []
        var fullWalk = false
        for exception in exceptions {
            var prefix = Array(exception.text.unicodeScalars)
            for trailingGlob in ["/**", "/*"] {
                let glob = Array(trailingGlob.unicodeScalars)
                if prefix.count >= glob.count, Array(prefix.suffix(glob.count)) == glob {
                    prefix.removeLast(glob.count)
                }
            }
            if prefix.contains(where: { wildcards.contains($0) }) { fullWalk = true }
            prefixes.append(prefix + ["/"])
        }
        exceptionsNeedFullWalk = fullWalk
        exceptionPrefixes = prefixes
    }

    /// These rules with `path` (taken literally, no wildcards) excluded before every line, so
    /// that a `!` line can still re-include it: how directories found while walking (a
    /// virtualenv) join the default ignores.
    public func excludingFirst(_ path: String) -> IgnoreRules {
        let wildcards: Set<Character> = ["*", "?", "[", "]", "\\"]
        let literal = String(path.flatMap { wildcards.contains($0) ? ["\\", $0] : [$0] })
        return IgnoreRules(patterns: [IgnorePattern(text: literal, isException: false)] + patterns)
    }

    /// Whether `path` is left out of the build context.
    ///
    /// `path` is relative to the context root, '/'-separated, no leading "./".
    public func isExcluded(_ path: String) -> Bool {
        var scalars = Self.clean(Array(path.unicodeScalars))
        if scalars.first == "/" { scalars.removeFirst() }
        if scalars.isEmpty || scalars == ["."] || patterns.isEmpty { return false }

        let whole = scalars[...]
        let parentEnds = scalars.indices.filter { scalars[$0] == "/" }
        var excluded = false
        for pattern in patterns {
            // A line can only change the outcome if it points the other way.
            if pattern.isException != excluded { continue }
            var hit = pattern.matches(whole)
            if !hit {
                hit = parentEnds.contains { pattern.matches(scalars[..<$0]) }
            }
            if hit { excluded = !pattern.isException }
        }
        return excluded
    }

    /// Whether a walker must still descend into an excluded directory because a later `!` pattern
    /// could re-include something below it (docker's walker does this check too).
    ///
    /// As in Docker, this is `false` when there are no exceptions; `true` for every directory as
    /// soon as one exception has a wildcard (other than a trailing `/**` or `/*`); otherwise `true`
    /// only when an exception names a path inside `directory`.
    public func mayReincludeBelow(_ directory: String) -> Bool {
        guard hasExceptions else { return false }
        if exceptionsNeedFullWalk { return true }
        var scalars = Self.clean(Array(directory.unicodeScalars))
        if scalars.first == "/" { scalars.removeFirst() }
        if scalars.isEmpty || scalars == ["."] { return true }
        let directoryPrefix = scalars + ["/"]
        return exceptionPrefixes.contains { prefix in
            prefix.count >= directoryPrefix.count && prefix.starts(with: directoryPrefix)
        }
    }

    // MARK: - Text helpers (on Unicode scalars, so that no two distinct names compare equal)

    /// Splits on `\n`, dropping one `\r` before it, like Go's `bufio.ScanLines`.
    private static func lines(of contents: String) -> [[Unicode.Scalar]] {
        var lines: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for scalar in contents.unicodeScalars {
            if scalar == "\n" {
                if current.last == "\r" { current.removeLast() }
                lines.append(current)
                current = []
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty {
            if current.last == "\r" { current.removeLast() }
            lines.append(current)
        }
        return lines
    }

    private static func trimmed(_ scalars: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        var slice = scalars
        while let first = slice.first, first.properties.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.properties.isWhitespace { slice.removeLast() }
        return Array(slice)
    }

    private static func trimmed(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        trimmed(scalars[...])
    }

    /// Go's `path.Clean`: removes empty and `.` segments, resolves `..` where it can, drops a
    /// trailing `/`; an empty result is `.`.
    static func clean(_ path: [Unicode.Scalar]) -> [Unicode.Scalar] {
        if path.isEmpty { return ["."] }
        let rooted = path.first == "/"
        var segments: [ArraySlice<Unicode.Scalar>] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment.elementsEqual(["."]) { continue }
            if segment.elementsEqual([".", "."]) {
                if let last = segments.last, !last.elementsEqual([".", "."]) {
                    segments.removeLast()
                } else if !rooted {
                    segments.append(segment)
                }
                continue
            }
            segments.append(segment)
        }
        var result: [Unicode.Scalar] = rooted ? ["/"] : []
        for (index, segment) in segments.enumerated() {
            if index > 0 { result.append("/") }
            result.append(contentsOf: segment)
        }
        return result.isEmpty ? ["."] : result
    }
}

/// A malformed line in a `.fairignore` file.
public struct IgnoreRulesError: Error, CustomStringConvertible {
    /// 1-based line number in the file.
    public let line: Int
    /// The line as written, without surrounding whitespace.
    public let pattern: String
    public let reason: String

    public init(line: Int, pattern: String, reason: String) {
        self.line = line
        self.pattern = pattern
        self.reason = reason
    }

    public var description: String {
        "line \(line): invalid pattern \"\(pattern)\": \(reason)"
    }
}
