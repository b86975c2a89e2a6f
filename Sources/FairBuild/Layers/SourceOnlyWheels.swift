import Foundation

/// Wheels for requirements that PyPI has only as source (`antlr4-python3-runtime==4.9.3`, which
/// `omegaconf` needs): the deps layer installs binary wheels for the *image's* Python and
/// platform, which a source distribution is not. A pure-Python one builds into a wheel that fits
/// every target (`py3-none-any`), so it is built here, in a throwaway directory, and offered to
/// the install; one that needs a compiler would build for this machine, not the image, and is
/// refused with its name.
struct SourceOnlyWheels {
    let python: String
    let projectDirectory: String
    /// Where built wheels go; the install reads it with `--find-links`.
    let directory: String

    /// The requirement pip could not find a binary for, read from its log.
    static func missingRequirement(in log: String) -> String? {
        for line in log.split(separator: "\n") {
            for marker in ["No matching distribution found for ", "Could not find a version that satisfies the requirement "] {
                guard let range = line.range(of: marker) else { continue }
                let rest = line[range.upperBound...]
                let requirement = rest.split(separator: " ").first.map(String.init) ?? ""
                if !requirement.isEmpty { return requirement }
            }
        }
        return nil
    }

    /// Builds `requirement` from source; returns the wheel's file name, or throws naming the
    /// package when what it built is not pure Python.
    func build(_ requirement: String, log logPath: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let scratch = "\(directory)/.build-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let arguments = [python, "-m", "pip", "wheel", "--disable-pip-version-check", "--no-input", "--no-deps",
                         "--no-binary", ":all:", "--wheel-dir", scratch, requirement]
        do {
            try ToolRun(executable: "/usr/bin/env", arguments: arguments, workingDirectory: projectDirectory).run(logPath: logPath)
        } catch let failure as ToolRun.Failure {
            let errors = failure.log.split(separator: "\n").filter { $0.hasPrefix("ERROR:") }.joined(separator: "; ")
            throw BuildError.pip(reason: "\(requirement) has no wheel for the image and could not be built from source here: "
                                 + (errors.isEmpty ? "pip wheel exited \(failure.status)" : errors))
        }
        let built = ((try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []).filter { $0.hasSuffix(".whl") }
        guard let wheel = built.first else {
            throw BuildError.pip(reason: "\(requirement): pip wheel built nothing")
        }
        guard Self.isPurePython(wheel) else {
            throw BuildError.pip(reason: "\(requirement) has no wheel for the image's Python and platform, and its source needs a "
                                 + "compiler (it built \(wheel) for this machine); use a version with a manylinux wheel, or a base "
                                 + "image with it installed")
        }
        let destination = "\(directory)/\(wheel)"
        try? FileManager.default.removeItem(atPath: destination)
        try FileManager.default.moveItem(atPath: "\(scratch)/\(wheel)", toPath: destination)
        return wheel
    }

    /// `NAME-VERSION(-BUILD)?-PYTHON-ABI-PLATFORM.whl` with ABI `none` and platform `any`.
    static func isPurePython(_ wheel: String) -> Bool {
        let parts = wheel.dropLast(4).split(separator: "-")
        guard parts.count >= 5 else { return false }
        return parts[parts.count - 1] == "any" && parts[parts.count - 2] == "none" && parts[parts.count - 3].hasPrefix("py")
    }
}
