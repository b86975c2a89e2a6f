import Foundation

/// One compiled line of a `.fairignore` file.
///
/// Matching follows Docker's `.dockerignore` matcher (moby/patternmatcher): the pattern is
/// checked like Go's `filepath.Match`, then turned into a sequence of tokens where `*` and `?`
/// never cross `/`, and `**` stands for any number of whole path segments, zero included.
struct IgnorePattern: Sendable, Equatable {
    /// The cleaned pattern text, without the leading `!`.
    let text: String
    /// `true` for `!pattern` lines, which re-include what earlier lines excluded.
    let isException: Bool

    private let tokens: [Token]
    /// Docker matches a pattern of the form `**literal` (no `/` after the `**`, no other
    /// wildcard) by a plain string suffix test, so `**.pyc` excludes every `.pyc` file at any depth.
    private let suffix: [Unicode.Scalar]?

    enum Token: Sendable, Equatable {
        /// One exact character.
        case literal(Unicode.Scalar)
        /// `?`: any one character except `/`.
        case anyOne
        /// `*`: any run of characters without `/`, possibly empty.
        case anyRun
        /// `**` or `**/` before more pattern: nothing, or anything that ends with `/`.
        case anyDirectories
        /// `**` at the end of the pattern: anything at all.
        case anything
        /// `[...]`: one character in (or, negated, not in) the listed ranges. May match `/`.
        case characterClass(ranges: [ClosedRange<UInt32>], negated: Bool)
    }

    /// Why a pattern is malformed, or `nil` when Go's `filepath.Match` would accept it.
    static func syntaxProblem(in pattern: String) -> String? {
        let scalars = Array(pattern.unicodeScalars)
        var index = 0
        while index < scalars.count {
            switch scalars[index] {
            case "\\":
                if index + 1 >= scalars.count { return "trailing backslash escapes nothing" }
                index += 2
            case "[":
                switch parseClass(scalars, from: index + 1) {
                case let .failure(problem): return problem.message
                case let .success(parsed): index = parsed.end
                }
            default:
                index += 1
            }
        }
        return nil
    }

    /// Compiles an already cleaned pattern whose syntax has been checked with `syntaxProblem(in:)`.
    init(text: String, isException: Bool) {
        self.text = text
        self.isException = isException
        let scalars = Array(text.unicodeScalars)

        var tokens: [Token] = []
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "*":
                if index + 1 < scalars.count, scalars[index + 1] == "*" {
                    index += 2
                    if index < scalars.count, scalars[index] == "/" { index += 1 }
                    tokens.append(index == scalars.count ? .anything : .anyDirectories)
                } else {
                    tokens.append(.anyRun)
                    index += 1
                }
            case "?":
                tokens.append(.anyOne)
                index += 1
            case "\\":
                if index + 1 < scalars.count {
                    tokens.append(.literal(scalars[index + 1]))
                    index += 2
                } else {
                    tokens.append(.literal("\\"))
                    index += 1
                }
            case "[":
                if case let .success(parsed) = Self.parseClass(scalars, from: index + 1) {
                    tokens.append(.characterClass(ranges: parsed.ranges, negated: parsed.negated))
                    index = parsed.end
                } else {
                    tokens.append(.literal("["))
                    index += 1
                }
            default:
                tokens.append(.literal(scalar))
                index += 1
            }
        }
        self.tokens = tokens

        let wildcards: Set<Unicode.Scalar> = ["*", "?", "[", "]", "\\"]
        if scalars.count > 2, scalars[0] == "*", scalars[1] == "*", scalars[2] != "/",
           !scalars[2...].contains(where: { wildcards.contains($0) }) {
            suffix = Array(scalars[2...])
        } else {
            suffix = nil
        }
    }

    /// Whether the whole of `path` (split into Unicode scalars) matches this pattern.
    func matches(_ path: ArraySlice<Unicode.Scalar>) -> Bool {
        if let suffix {
            return path.count >= suffix.count && path.suffix(suffix.count).elementsEqual(suffix)
        }
        var failed = Set<Int>()
        return match(tokenIndex: 0, path: path, position: path.startIndex, failed: &failed)
    }

    /// Backtracking matcher; `failed` remembers (token, position) pairs already known not to
    /// match so that patterns with several `*` or `**` stay linear-ish instead of exponential.
    private func match(tokenIndex: Int, path: ArraySlice<Unicode.Scalar>, position: Int, failed: inout Set<Int>) -> Bool {
        var tokenIndex = tokenIndex
        var position = position
        while tokenIndex < tokens.count {
            switch tokens[tokenIndex] {
            case let .literal(expected):
                guard position < path.endIndex, path[position] == expected else { return false }
                position += 1
            case .anyOne:
                guard position < path.endIndex, path[position] != "/" else { return false }
                position += 1
            case let .characterClass(ranges, negated):
                guard position < path.endIndex else { return false }
                let value = path[position].value
                let inClass = ranges.contains { $0.contains(value) }
                guard inClass != negated else { return false }
                position += 1
            case .anything:
                position = path.endIndex
            case .anyRun, .anyDirectories:
                let key = tokenIndex &* (path.count + 1) &+ (position - path.startIndex)
                if failed.contains(key) { return false }
                let isRun = tokens[tokenIndex] == .anyRun
                var candidate = position
                while true {
                    // `**` may stop only at its start or right after a `/`.
                    let canStop = isRun || candidate == position || path[candidate - 1] == "/"
                    if canStop, match(tokenIndex: tokenIndex + 1, path: path, position: candidate, failed: &failed) {
                        return true
                    }
                    if candidate == path.endIndex { break }
                    if isRun, path[candidate] == "/" { break }
                    candidate += 1
                }
                failed.insert(key)
                return false
            }
            tokenIndex += 1
        }
        return position == path.endIndex
    }

    // MARK: - Character classes

    struct ParsedClass {
        var ranges: [ClosedRange<UInt32>]
        var negated: Bool
        /// Index just past the closing `]`.
        var end: Int
    }

    struct ClassProblem: Error {
        let message: String
    }

    /// Parses a class body starting just after `[`, with the rules of Go's `filepath.Match`:
    /// optional leading `^`, then one or more characters or `lo-hi` ranges, `\` escaping the next
    /// character; `-` and `]` must be escaped except where they end a range or the class.
    static func parseClass(_ scalars: [Unicode.Scalar], from start: Int) -> Result<ParsedClass, ClassProblem> {
        var index = start
        var negated = false
        if index < scalars.count, scalars[index] == "^" {
            negated = true
            index += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        while true {
            if index < scalars.count, scalars[index] == "]", !ranges.isEmpty {
                return .success(ParsedClass(ranges: ranges, negated: negated, end: index + 1))
            }
            let low: Unicode.Scalar
            switch classMember(scalars, at: &index, endsRange: false) {
            case let .failure(problem): return .failure(problem)
            case let .success(value): low = value
            }
            var high = low
            if scalars[index] == "-" {
                index += 1
                switch classMember(scalars, at: &index, endsRange: true) {
                case let .failure(problem): return .failure(problem)
                case let .success(value): high = value
                }
            }
            // Go accepts a reversed range such as `z-a`; it matches nothing.
            ranges.append(low.value <= high.value ? low.value...high.value : emptyRange)
        }
    }

    /// A range that contains no Unicode scalar value.
    private static let emptyRange: ClosedRange<UInt32> = 0x11_0000...0x11_0000

    /// One class member (Go's `getEsc`): fails at the end of the pattern, on an unescaped `-` or
    /// `]`, and when nothing follows the member (the class would be unterminated).
    private static func classMember(_ scalars: [Unicode.Scalar], at index: inout Int, endsRange: Bool) -> Result<Unicode.Scalar, ClassProblem> {
        guard index < scalars.count else {
            return .failure(ClassProblem(message: "unterminated character class (missing ']')"))
        }
        let first = scalars[index]
        if endsRange, first == "-" || first == "]" {
            return .failure(ClassProblem(message: "range in character class has no upper bound (escape '-' as '\\-' to match it)"))
        }
        if first == "-" {
            return .failure(ClassProblem(message: "'-' in a character class must be escaped or form a range like a-z"))
        }
        if first == "]" {
            return .failure(ClassProblem(message: "empty character class '[]'"))
        }
        var member = first
        if first == "\\" {
            index += 1
            guard index < scalars.count else {
                return .failure(ClassProblem(message: "unterminated character class (missing ']')"))
            }
            member = scalars[index]
        }
        index += 1
        guard index < scalars.count else {
            return .failure(ClassProblem(message: "unterminated character class (missing ']')"))
        }
        return .success(member)
    }
}
