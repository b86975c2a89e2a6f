import Foundation

/// Line magics (`%time`, `%cd`, …), shell escapes (`!cmd`, `x = !cmd`) and the `pip` automagic.
extension CellTranslator {
    static let packageInstallMessage =
        "is not run: fair installs packages at build time from requirements.txt; list them there"

    /// Magics that only change how IPython shows things or behaves interactively.
    static let displayOnlyMagics: Set<String> = [
        "matplotlib", "config", "load_ext", "reload_ext", "unload_ext", "autoreload", "aimport", "precision",
        "xmode", "pprint", "who", "whos", "who_ls", "history", "hist", "lsmagic", "magic", "colors", "pdb",
        "page", "pinfo", "pinfo2", "pdef", "pdoc", "psource", "pfile", "notebook", "qtconsole", "alias_magic",
        "automagic", "autocall", "autoawait", "doctest_mode", "tb", "quickref", "pwd", "ls", "clear", "reset",
        "load", "save", "store", "debug", "prun", "lprun", "memit", "mprun", "dirs", "dhist", "bookmark",
        "rehashx", "alias", "unalias", "killbgscripts", "sc", "config_inline", "ldir", "more", "less", "man",
    ]

    /// One IPython-only statement (indentation removed, continuation lines joined).
    mutating func translateStatement(_ text: String) -> Translation {
        if text.hasPrefix("%%") {
            return .dropped(message: "is dropped: a cell magic works only on a cell's first line (IPython refuses it here too)")
        }
        if text.hasPrefix("!") {
            return shellCommand(String(text.drop { $0 == "!" }), assignTo: nil)
        }
        if text.hasPrefix("%") {
            return lineMagic(String(text.dropFirst()), assignTo: nil)
        }
        if let (targets, command) = Self.assignmentFromCommand(text) {
            if command.hasPrefix("!") {
                return shellCommand(String(command.drop { $0 == "!" }), assignTo: targets)
            }
            return lineMagic(String(command.dropFirst()), assignTo: targets)
        }
        return .dropped(message: Self.packageInstallMessage)
    }

    /// `!cmd` runs through the shell as IPython does (without raising on failure, as in Jupyter);
    /// `x = !cmd` gets the output's lines, stderr included, as IPython's `getoutput` gives them.
    mutating func shellCommand(_ command: String, assignTo targets: String?) -> Translation {
        let command = command.trimmingCharacters(in: .whitespaces)
        if command.isEmpty { return .dropped(message: "is dropped: no command") }
        if Self.isPackageInstall(command) { return .dropped(message: Self.packageInstallMessage) }
        need(.subprocess)
        let literal = PythonLiteral.string(command)
        var message: String
        let code: String
        if let targets {
            code = "\(targets) = _fair_subprocess.run(\(literal), shell=True, stdout=_fair_subprocess.PIPE, "
                + "stderr=_fair_subprocess.STDOUT, text=True).stdout.splitlines()"
            message = "runs through subprocess.run(shell=True); \(targets) gets its output lines as a list"
        } else {
            code = "_fair_subprocess.run(\(literal), shell=True)"
            message = "runs through subprocess.run(shell=True); a failing command does not stop the script, as in Jupyter"
        }
        if command.contains("{") || command.contains("$") {
            message += "; IPython would put Python values into {expr} and $name, the script runs the text as written"
        }
        return .replaced([code], message: message)
    }

    mutating func lineMagic(_ magic: String, assignTo targets: String?) -> Translation {
        let name = String(magic.prefix { !$0.isWhitespace })
        let arguments = magic.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
        switch name {
        case "time", "timeit":
            let statement = name == "timeit" ? Self.droppingTimeitOptions(arguments) : arguments
            guard !statement.isEmpty else { return .dropped(message: "is dropped: there is no statement to time") }
            let assignment = targets.map { "\($0) = \(statement)" } ?? statement
            let message = name == "time"
                ? "runs the statement and prints its wall time"
                : "runs the statement once and prints its wall time (%timeit would repeat it)"
            return .replaced(timed([assignment], label: "_fair_started"), message: message)
        case "sx", "system":
            return shellCommand(arguments, assignTo: targets)
        case "pip", "conda", "mamba", "micromamba", "uv":
            return .dropped(message: Self.packageInstallMessage)
        case "cd" where targets == nil:
            need(.os)
            let directory = Self.unquoted(arguments.isEmpty ? "~" : arguments)
            return .replaced(["_fair_os.chdir(_fair_os.path.expanduser(\(PythonLiteral.string(directory))))"],
                             message: "changes directory with os.chdir")
        case "env" where targets == nil:
            return environmentMagic(arguments)
        case "run" where targets == nil:
            let words = arguments.split(whereSeparator: \.isWhitespace)
            guard words.count == 1, !arguments.hasPrefix("-") else {
                return .dropped(message: "is dropped: %run with options or script arguments has no plain-Python form; run the script with subprocess, or import it")
            }
            need(.runpy)
            let path = PythonLiteral.string(Self.unquoted(arguments))
            return .replaced(["globals().update(_fair_runpy.run_path(\(path), run_name=\"__main__\"))"],
                             message: "runs the script with runpy.run_path and keeps its names, as %run does")
        case "pylab":
            return .dropped(message: "is dropped: it only sets up interactive plotting; import numpy and matplotlib.pyplot where the code uses them")
        default:
            if Self.displayOnlyMagics.contains(name) {
                return .dropped(message: "is dropped: it only changes how IPython displays or behaves interactively")
            }
            return .dropped(message: "is dropped: the IPython magic %\(name) has no plain-Python equivalent")
        }
    }

    /// The statements between a timer start and a print of the elapsed time, like IPython's "Wall time".
    mutating func timed(_ statements: [String], label: String) -> [String] {
        need(.time)
        return ["\(label) = _fair_time.perf_counter()"] + statements
            + ["print(f\"Wall time: {_fair_time.perf_counter() - \(label):.3f} s\")"]
    }

    /// `%env NAME=value` / `%env NAME value` set a variable; `%env` and `%env NAME` only show.
    private mutating func environmentMagic(_ arguments: String) -> Translation {
        let name: Substring
        let value: String
        if let equals = arguments.firstIndex(of: "="),
           !arguments[..<equals].contains(where: \.isWhitespace) {
            name = arguments[..<equals]
            value = String(arguments[arguments.index(after: equals)...])
        } else if let space = arguments.firstIndex(where: \.isWhitespace) {
            name = arguments[..<space]
            value = arguments[space...].trimmingCharacters(in: .whitespaces)
        } else {
            return .dropped(message: "is dropped: it only shows environment variables")
        }
        need(.os)
        return .replaced(["_fair_os.environ[\(PythonLiteral.string(String(name)))] = \(PythonLiteral.string(value))"],
                         message: "sets the variable with os.environ")
    }

    /// The statement of `%timeit [-n N] [-r R] [-t -c -q -p P -o] statement`.
    static func droppingTimeitOptions(_ arguments: String) -> String {
        var rest = Substring(arguments)
        while rest.hasPrefix("-") {
            let option = rest.prefix { !$0.isWhitespace }
            rest = rest.dropFirst(option.count).drop(while: \.isWhitespace)
            // -n, -r and -p take a value, written attached (-n10) or as the next word.
            if ["-n", "-r", "-p"].contains(option) {
                let value = rest.prefix { !$0.isWhitespace }
                rest = rest.dropFirst(value.count).drop(while: \.isWhitespace)
            }
        }
        return String(rest)
    }

    /// `pip install …`, `python -m pip install …`, `conda install …`: what requirements.txt is for.
    static func isPackageInstall(_ command: String) -> Bool {
        var words = command.split(whereSeparator: \.isWhitespace).map(String.init)
        if let first = words.first, first.hasPrefix("python"), words.count > 2, words[1] == "-m" {
            words.removeFirst(2)
        }
        guard words.count >= 2 else { return false }
        let tool = (words[0] as NSString).lastPathComponent
        return ["pip", "pip3", "conda", "mamba", "micromamba", "uv"].contains(tool)
            && (words[1...].contains("install") || words[1...].contains("uninstall"))
    }

    /// A magic's single argument without the quotes that IPython's own argument parsing removes.
    static func unquoted(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.count >= 2, let first = trimmed.first, first == "\"" || first == "'", trimmed.last == first {
            return String(trimmed.dropFirst().dropLast())
        }
        return trimmed
    }
}
