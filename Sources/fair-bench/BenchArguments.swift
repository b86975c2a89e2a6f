import Foundation

/// `--name value` options and `--flag` switches, read by name; errors name the option.
struct BenchArguments {
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    private var values: [String: String] = [:]
    private var flags: Set<String> = []

    /// `switches` are the options that take no value.
    init(_ arguments: [String], switches: Set<String>) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--") else { throw Invalid(description: "unexpected argument \"\(argument)\"") }
            var name = String(argument.dropFirst(2))
            if let equals = name.firstIndex(of: "=") {
                values[String(name[..<equals])] = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            } else if switches.contains(name) {
                flags.insert(name)
            } else {
                guard index + 1 < arguments.count else { throw Invalid(description: "--\(name) needs a value") }
                values[name] = arguments[index + 1]
                index += 1
            }
            index += 1
        }
    }

    func flag(_ name: String) -> Bool { flags.contains(name) }

    func string(_ name: String) -> String? { values[name] }

    func int(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = values[name] else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw Invalid(description: "--\(name) must be a whole number in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
        }
        return number
    }

    func check(known: Set<String>) throws {
        for name in Set(values.keys).union(flags) where !known.contains(name) {
            throw Invalid(description: "unknown option --\(name)")
        }
    }
}
