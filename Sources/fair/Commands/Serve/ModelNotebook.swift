import FairBuild
import FairRegistry
import FairWorkloads
import Foundation

/// `fair models pull NAME --notebook`: the executed notebook `fair train --execute` stored with
/// a model (or with a failed run's outputs), written to a new file whole or not at all.
enum ModelNotebook {
    static let fileName = (NotebookExecution.output as NSString).lastPathComponent

    static func write(of model: ModelVersion, in registry: ModelRegistry, to file: String) throws {
        if FileManager.default.fileExists(atPath: file) {
            throw InputError(description: "\(file) already exists; pull the notebook into a new file (--output FILE)")
        }
        // The layer is unpacked (checked as any model layer is) into a temporary directory next
        // to FILE, so the notebook arrives by rename; its blob stays in fair's store.
        let parent = (file as NSString).deletingLastPathComponent
        let staging = "\(parent.isEmpty ? "." : parent)/.\((file as NSString).lastPathComponent).partial-\(getpid())"
        try? FileManager.default.removeItem(atPath: staging)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        _ = try registry.pull(model, into: staging, store: FairHome().blobStore)
        let stored = "\(staging)/\(fileName)"
        // A regular file only: a symlink moved out of the model directory would point elsewhere.
        guard (try? FileManager.default.attributesOfItem(atPath: stored))?[.type] as? FileAttributeType == .typeRegular else {
            throw InputError(description: "\(model.name):\(model.version) holds no executed notebook (\(fileName)); it is stored by fair train NOTEBOOK.ipynb --execute")
        }
        guard rename(stored, file) == 0 else {
            throw InputError(description: "\(file): \(String(cString: strerror(errno)))")
        }
    }
}
