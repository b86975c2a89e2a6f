/// Everything that can stop a build, each worded as one line the user can act on.
public enum BuildError: Error, CustomStringConvertible {
    case projectNotFound(String)
    case configNotFound(String)
    /// A problem in fair.yaml: file, line (when known), field path, and what is wrong.
    case config(file: String, line: Int?, field: String, message: String)
    case entrypointNotFound(entrypoint: String, project: String)
    case entrypointIgnored(entrypoint: String)
    case unreadable(path: String, reason: String)
    case invalidBase(reference: String, reason: String)
    case pythonVersionUnknown(base: String)
    case pip(reason: String)
    case toolMissing(tool: String, hint: String)
    case invalidOption(option: String, message: String)
    case baseCreation(String)
    /// A path named in fair.yaml (or the project) that leads outside the project directory.
    case outsideProject(field: String, path: String, resolved: String, project: String)
    /// A file fair reads whole that is larger than it will read.
    case fileTooLarge(path: String, size: Int64, limit: Int64, kind: String)

    public var description: String {
        switch self {
        case let .projectNotFound(path):
            return "project directory \(path) does not exist"
        case let .configNotFound(path):
            return "\(path) not found: a project needs a fair.yaml (at least `entrypoint: train.py`)"
        case let .config(file, line, field, message):
            let location = line.map { "\(file):\($0)" } ?? file
            return field.isEmpty ? "\(location): \(message)" : "\(location): \(field): \(message)"
        case let .entrypointNotFound(entrypoint, project):
            return "entrypoint \(entrypoint) not found in \(project)"
        case let .entrypointIgnored(entrypoint):
            return "entrypoint \(entrypoint) is excluded by .fairignore; remove the pattern that matches it"
        case let .unreadable(path, reason):
            return "cannot read \(path): \(reason)"
        case let .invalidBase(reference, reason):
            return "base image \(reference): \(reason)"
        case let .pythonVersionUnknown(base):
            return "cannot tell which Python the base image \(base) has (no dev.fair.python.version label or PYTHON_VERSION); set `python: \"3.11\"` in fair.yaml"
        case let .pip(reason):
            return "installing requirements failed: \(reason)"
        case let .toolMissing(tool, hint):
            return "\(tool) not found: \(hint)"
        case let .invalidOption(option, message):
            return "\(option): \(message)"
        case let .baseCreation(message):
            return "fair base create: \(message)"
        case let .outsideProject(field, path, resolved, project):
            let target = resolved == path ? "" : " (it resolves to \(resolved))"
            return "\(field): \(path) is outside the project directory \(project)\(target); only files inside the project go into the image, so copy the file into the project"
        case let .fileTooLarge(path, size, limit, kind):
            return "\(path) is \(FileSizeLimit.describe(size)); fair reads \(kind) of at most \(FileSizeLimit.describe(limit)), so this is not one (check that the right file is named)"
        }
    }
}
