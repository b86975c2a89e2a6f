import FairKube
import FairWorkloads
import Foundation
import XCTest

final class WorkloadSecretsTests: XCTestCase {
    private var templates: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Templates").path
    }

    private let secrets = WorkloadSecrets(allKeys: ["hf", "s3"], keys: [.init(variable: "DB_PASSWORD", secret: "db", key: "password")])

    /// The training container reads the Secrets by reference; the model step does not get them.
    func testTheJobsTrainingContainerReadsTheSecretsAndTheModelStepDoesNot() throws {
        var training = TrainingJob(name: "j", namespace: "ns", project: "p", image: "x:1")
        training.secrets = secrets
        let job = try training.render(with: try ManifestTemplate(path: templates + "/job.yaml"))
        let train = try XCTUnwrap(job.value(at: "spec.template.spec.initContainers")?.arrayValue?.first)
        XCTAssertEqual(train["envFrom"], [["secretRef": ["name": "hf"]], ["secretRef": ["name": "s3"]]])
        XCTAssertEqual(train["env"]?.arrayValue?.last,
                       ["name": "DB_PASSWORD", "valueFrom": ["secretKeyRef": ["name": "db", "key": "password"]]])
        let model = try XCTUnwrap(job.value(at: "spec.template.spec.containers")?.arrayValue?.first)
        XCTAssertNil(model["envFrom"])
        XCTAssertFalse("\(model)".contains("secretKeyRef"))
    }

    func testTheModelServerReadsTheSecrets() throws {
        var serving = ServingDeployment(name: "lr", namespace: "ml", project: "p", image: "x:2", registry: "r:5000",
                                        modelName: "lr", modelVersion: "v1", modelDigest: "sha256:abc")
        serving.secrets = secrets
        let deployment = try serving.renderDeployment(with: try ManifestTemplate(path: templates + "/deployment.yaml"))
        let server = try XCTUnwrap(deployment.value(at: "spec.template.spec.containers")?.arrayValue?.first)
        XCTAssertEqual(server["envFrom"]?.arrayValue?.count, 2)
        XCTAssertTrue(server["env"]?.arrayValue?.contains { $0["name"] == "DB_PASSWORD" } ?? false)
    }

    /// A project's template that leaves the Secrets out is refused rather than run without them.
    func testATemplateThatDropsTheSecretsIsRefused() throws {
        let directory = NSTemporaryDirectory() + "fair-secrets-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let builtIn = try String(contentsOfFile: templates + "/job.yaml", encoding: .utf8)
        let stripped = builtIn.replacingOccurrences(of: "{{#secrets}}", with: "{{#noSuchList}}")
            .replacingOccurrences(of: "{{/secrets}}", with: "{{/noSuchList}}")
        try stripped.write(toFile: directory + "/job.yaml", atomically: true, encoding: .utf8)
        var training = TrainingJob(name: "j", namespace: "ns", project: "p", image: "x:1")
        training.secrets = secrets
        XCTAssertThrowsError(try training.render(with: try ManifestTemplate(path: directory + "/job.yaml"))) { error in
            XCTAssertTrue("\(error)".contains("does not read the Secrets asked for (hf, s3)"), "\(error)")
        }
    }
}
