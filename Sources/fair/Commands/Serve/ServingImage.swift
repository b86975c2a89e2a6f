import FairArchive
import FairBuild
import FairKube
import FairWorkloads
import Foundation

/// The serving image: the project's image (same base, deps and code layers, so the registry
/// already has them) plus one layer with fair's model server and model fetcher, which it runs.
enum ServingImage {
    static let directory = "opt/fair/serve"

    static func addition(predict: String, workdir: String) -> ImageAddition {
        let files = ["model-server.py", "fair-model.py"].map { name in
            LayerEntry(path: "\(directory)/\(name)", content: .bytes(Array((BuiltInTemplates.files[name] ?? "").utf8)), mode: 0o755)
        }
        return ImageAddition(
            source: "serve", files: files, entrypoint: ["python3", "/\(directory)/model-server.py"],
            env: [("FAIR_PREDICT", predict), ("FAIR_APP_DIR", workdir)], labels: ["dev.fair.role": "serve"])
    }
}
