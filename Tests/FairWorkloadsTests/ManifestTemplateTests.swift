import FairKube
import FairWorkloads
import Foundation
import XCTest

final class ManifestTemplateTests: XCTestCase {
    private var templates: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Templates").path
    }

    func testJobTemplateRendersATypedJob() throws {
        let template = try ManifestTemplate(path: templates + "/job.yaml")
        var training = TrainingJob(name: "linear-regression-7f3k2", namespace: "default", project: "linear-regression",
                                   image: "127.0.0.1:5000/linear@sha256:abc")
        training.registry = "127.0.0.1:5000"
        training.env = [("LEARNING_RATE", "0.05"), ("NOTE", "a: b # not a comment\nline two")]
        training.cpu = "500m"
        training.memory = "1Gi"
        training.gpus = 1
        training.nodeSelector = ["kubernetes.io/hostname": "gpu-box"]
        training.backoffLimit = 2
        training.activeDeadlineSeconds = 600
        let job = try training.render(with: template)
        XCTAssertEqual(job.kind, "Job")
        XCTAssertEqual(job.name, "linear-regression-7f3k2")
        XCTAssertEqual(job.value(at: "spec.backoffLimit"), .int(2))
        XCTAssertEqual(job.value(at: "spec.activeDeadlineSeconds"), .int(600))
        let pod = try XCTUnwrap(job.value(at: "spec.template.spec"))
        XCTAssertEqual(pod["nodeSelector"], ["kubernetes.io/hostname": "gpu-box"])
        let container = try XCTUnwrap(pod["initContainers"]?.arrayValue?.first)
        XCTAssertEqual(container["name"], "train")
        XCTAssertEqual(container["image"], "127.0.0.1:5000/linear@sha256:abc")
        // The model step runs after training, in the same image, pushing to the registry given.
        let model = try XCTUnwrap(pod["containers"]?.arrayValue?.first)
        XCTAssertEqual(model["name"], "model")
        XCTAssertEqual(model["image"], "127.0.0.1:5000/linear@sha256:abc")
        let command = model["command"]?.arrayValue?.compactMap(\.stringValue) ?? []
        XCTAssertEqual(Array(command.prefix(4)), ["python3", "/opt/fair/tools/fair-model.py", "push", "--allow-empty"])
        XCTAssertTrue(command.contains("models/linear-regression"), "\(command)")
        XCTAssertTrue(command.contains("dev.fair.job=linear-regression-7f3k2"), "\(command)")
        // A failure the training reports itself: its outputs go under the Job's failed tag, never a version.
        XCTAssertEqual(Array(command.suffix(4)), ["--failure-file", "/model/.fair-failure", "--failed-tag", "failed-linear-regression-7f3k2"])
        XCTAssertEqual(pod["volumes"]?.arrayValue?.compactMap { $0.value(at: "configMap.name") }, ["fair-tools", "fair-tools"])
        XCTAssertEqual(container["env"]?.arrayValue?.map { $0["value"] },
                       ["/model", "/model/metrics.jsonl", "/opt/fair/sdk", "0.05", "a: b # not a comment\nline two"])
        // The SDK: every file of python/fair projected under /opt/fair/sdk/fair, read-only.
        let sdk = try XCTUnwrap(pod["volumes"]?.arrayValue?.first { $0["name"] == "fair-sdk" })
        let items = sdk.value(at: "configMap.items")?.arrayValue ?? []
        XCTAssertEqual(items.count, BuiltInSDK.files.count)
        XCTAssertTrue(items.contains(["key": "sdk-__init__.py", "path": "fair/__init__.py"]), "\(items)")
        XCTAssertTrue(container["volumeMounts"]?.arrayValue?.contains(["name": "fair-sdk", "mountPath": "/opt/fair/sdk", "readOnly": true]) ?? false)
        let tools = ModelTools.configMap(namespace: "ns")
        XCTAssertEqual(tools["data"]?["sdk-__init__.py"]?.stringValue, BuiltInSDK.files["__init__.py"])
        XCTAssertEqual(container.value(at: "resources.requests"), ["cpu": "500m", "memory": "1Gi"])
        XCTAssertEqual(container.value(at: "resources.limits"), ["memory": "1Gi", "nvidia.com/gpu": "1"])
    }

    func testWithoutOptionalSettingsTheJobHasNoEmptyFields() throws {
        let template = try ManifestTemplate(path: templates + "/job.yaml")
        let job = try TrainingJob(name: "j", namespace: "ns", project: "p", image: "x:1").render(with: template)
        XCTAssertNil(job.value(at: "spec.template.spec.nodeSelector"))
        XCTAssertNil(job.value(at: "spec.activeDeadlineSeconds"))
        let container = try XCTUnwrap(job.value(at: "spec.template.spec.initContainers")?.arrayValue?.first)
        XCTAssertNil(container["resources"])
        XCTAssertEqual(container["env"]?.arrayValue?.compactMap { $0["name"]?.stringValue }, ["FAIR_MODEL_DIR", "FAIR_METRICS_FILE", "PYTHONPATH"])
    }

    func testAnExecutedNotebookReplacesTheTrainingCommand() throws {
        let template = try ManifestTemplate(path: templates + "/job.yaml")
        var training = TrainingJob(name: "j", namespace: "ns", project: "p", image: "x:1")
        let plain = try training.render(with: template)
        XCTAssertNil(plain.value(at: "spec.template.spec.initContainers")?.arrayValue?.first?["command"], "the image's entrypoint")
        training.execution = NotebookExecution(notebook: "/app/sweep.ipynb", parameters: try NotebookExecution.pairs(["alpha", "0.5", "name", "a b"]))
        let job = try training.render(with: template)
        XCTAssertEqual(job.value(at: "spec.template.spec.initContainers")?.arrayValue?.first?["command"],
                       ["python3", "-m", "fair.execute", "/app/sweep.ipynb", "--output", "/model/notebook.ipynb",
                        "--failure-file", "/model/.fair-failure", "-p", "alpha", "0.5", "-p", "name", "a b"])
        XCTAssertThrowsError(try NotebookExecution.pairs(["alpha"]))
    }

    func testWorkersRenderAnIndexedJobTheirServiceAndTheOperatorsResources() throws {
        let template = try ManifestTemplate(path: templates + "/job.yaml")
        var training = TrainingJob(name: "dp", namespace: "ns", project: "p", image: "x:1")
        training.workers = TrainingWorkers(count: 3, retriesPerWorker: 2)
        let job = try training.render(with: template)
        XCTAssertEqual(job.value(at: "spec.completionMode"), "Indexed")
        XCTAssertEqual(job.value(at: "spec.completions")?.intValue, 3)
        XCTAssertEqual(job.value(at: "spec.parallelism")?.intValue, 3)
        XCTAssertEqual(job.value(at: "spec.backoffLimitPerIndex")?.intValue, 2)
        XCTAssertEqual(job.value(at: "spec.maxFailedIndexes")?.intValue, 0)
        XCTAssertEqual(job.value(at: "spec.backoffLimit")?.intValue, 9, "the Job-wide limit never decides first")
        XCTAssertEqual(job.value(at: "spec.template.spec.subdomain"), "dp")
        XCTAssertEqual(job.value(at: ["spec", "template", "metadata", "labels", PodGroupLabels.minAvailable]), "3")
        let train = try XCTUnwrap(job.value(at: "spec.template.spec.initContainers")?.arrayValue?.first)
        let env = Dictionary(uniqueKeysWithValues: (train["env"]?.arrayValue ?? []).map { ($0["name"]?.stringValue ?? "", $0) })
        XCTAssertEqual(env["MASTER_ADDR"]?["value"], "dp-0.dp")
        XCTAssertEqual(env["WORLD_SIZE"]?["value"], "3")
        XCTAssertEqual(env["TF_CONFIG"]?["value"]?.stringValue,
                       #"{"cluster":{"worker":["dp-0.dp:29500","dp-1.dp:29500","dp-2.dp:29500"]},"task":{"type":"worker","index":$(RANK)}}"#)
        let model = try XCTUnwrap(job.value(at: "spec.template.spec.containers")?.arrayValue?.first)
        XCTAssertEqual(model["command"]?.arrayValue?.suffix(4), ["--rank", "$(RANK)", "--store-from-rank", "0"])
        XCTAssertEqual(model["env"]?.arrayValue?.first?["name"], "RANK")

        let service = try XCTUnwrap(training.workersService(with: try ManifestTemplate(path: templates + "/workers-service.yaml")))
        XCTAssertEqual(service.value(at: "spec.clusterIP"), "None")
        XCTAssertEqual(service.value(at: "spec.publishNotReadyAddresses"), true)
        XCTAssertEqual(service.value(at: "spec.selector"), ["job-name": "dp"])
        XCTAssertNil(try TrainingJob(name: "one", namespace: "ns", project: "p", image: "x:1")
            .workersService(with: try ManifestTemplate(path: templates + "/workers-service.yaml")))

        // The operator's resource comes from the single-process Job, the training in the main container.
        let single = try TrainingJob(name: "op", namespace: "ns", project: "p", image: "x:1").render(with: template)
        let pytorch = try TrainingOperator.pytorchjob.resource(from: single, workers: 3, retries: 1, imageCommand: ["python3", "train.py"])
        XCTAssertEqual(pytorch.value(at: "spec.pytorchReplicaSpecs.Master.replicas")?.intValue, 1)
        XCTAssertEqual(pytorch.value(at: "spec.pytorchReplicaSpecs.Worker.replicas")?.intValue, 2)
        let master = try XCTUnwrap(pytorch.value(at: "spec.pytorchReplicaSpecs.Master.template.spec.containers")?.arrayValue?.first)
        XCTAssertEqual(master["name"], "pytorch")
        XCTAssertEqual(master["command"]?.arrayValue?.suffix(4), ["--after", "--", "python3", "train.py"])
        XCTAssertNil(pytorch.value(at: "spec.pytorchReplicaSpecs.Worker.template.spec.initContainers"))
        let tf = try TrainingOperator.tfjob.resource(from: single, workers: 1, retries: 0, imageCommand: ["python3", "train.py"])
        XCTAssertNotNil(tf.value(at: "spec.tfReplicaSpecs.Chief"))
        XCTAssertNil(tf.value(at: "spec.tfReplicaSpecs.Worker"), "one process: the chief alone")
        XCTAssertThrowsError(try TrainingOperator.tfjob.resource(from: single, workers: 2, retries: 0, imageCommand: []))
    }

    func testRankedLinesArePrefixedWholeAndALongLineIsCut() {
        let lines = LinePrefixer(prefix: "[1] ")
        var out: [UInt8] = []
        Array("step 1\nstep".utf8).withUnsafeBytes { lines.feed($0) { out += $0 } }
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "[1] step 1\n", "a partial line waits for its end")
        Array(" 2\n".utf8).withUnsafeBytes { lines.feed($0) { out += $0 } }
        Array("tail".utf8).withUnsafeBytes { lines.feed($0) { out += $0 } }
        lines.flush { out += $0 }
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "[1] step 1\n[1] step 2\n[1] tail\n")
        out = []
        Array(repeating: UInt8(ascii: "x"), count: LinePrefixer.longestLine + 10).withUnsafeBytes { lines.feed($0) { out += $0 } }
        XCTAssertEqual(out.count, 4 + LinePrefixer.longestLine + 1, "held no longer than the longest line")
    }

    func testTheSDKComesAfterTheImagesOwnPythonPath() throws {
        let template = try ManifestTemplate(path: templates + "/job.yaml")
        var training = TrainingJob(name: "j", namespace: "ns", project: "p", image: "x:1")
        training.imagePythonPath = "/opt/fair/site-packages:/usr/lib/extra"
        let job = try training.render(with: template)
        let container = try XCTUnwrap(job.value(at: "spec.template.spec.initContainers")?.arrayValue?.first)
        let path = container["env"]?.arrayValue?.first { $0["name"] == "PYTHONPATH" }?["value"]
        XCTAssertEqual(path, "/opt/fair/site-packages:/usr/lib/extra:/opt/fair/sdk")
    }

    func testBadQuantitiesAndForeignTemplatesAreRefused() throws {
        var training = TrainingJob(name: "j", namespace: "ns", project: "p", image: "x:1")
        training.cpu = "lots"
        let template = try ManifestTemplate(path: templates + "/job.yaml")
        XCTAssertThrowsError(try training.render(with: template)) { error in
            XCTAssertEqual("\(error)", "--cpu lots is not a quantity (e.g. 500m or 2)")
        }
        let pod = try ManifestTemplate(text: "apiVersion: v1\nkind: Pod\nmetadata: {name: {{{name}}}}\n", source: "mine.yaml")
        XCTAssertThrowsError(try TrainingJob(name: "j", namespace: "ns", project: "p", image: "x:1").render(with: pod)) { error in
            XCTAssertTrue("\(error)".hasPrefix("mine.yaml must render exactly one batch/v1 Job"), "\(error)")
        }
    }

    func testServingTemplatesRenderADeploymentThatRollsWithoutDroppingRequests() throws {
        var serving = ServingDeployment(name: "lr", namespace: "ml", project: "linear-regression",
                                        image: "127.0.0.1:5000/linear-regression@sha256:def", registry: "127.0.0.1:5000",
                                        modelName: "linear-regression", modelVersion: "v3", modelDigest: "sha256:abc")
        serving.replicas = 2
        serving.cpu = "250m"
        serving.memory = "256Mi"
        let deployment = try serving.renderDeployment(with: try ManifestTemplate(path: templates + "/deployment.yaml"))
        XCTAssertEqual(deployment.value(at: "spec.replicas"), 2)
        XCTAssertEqual(deployment.value(at: "spec.strategy.rollingUpdate.maxUnavailable"), 0)
        XCTAssertEqual(deployment.value(at: "spec.selector.matchLabels"), ["app.kubernetes.io/name": "lr"])
        let pod = try XCTUnwrap(deployment.value(at: "spec.template.spec"))
        let fetch = try XCTUnwrap(pod["initContainers"]?.arrayValue?.first)
        XCTAssertEqual(fetch["command"]?.arrayValue?.compactMap(\.stringValue).suffix(6),
                       ["--repository", "models/linear-regression", "--reference", "sha256:abc", "--dir", "/model"])
        let server = try XCTUnwrap(pod["containers"]?.arrayValue?.first)
        XCTAssertEqual(server.value(at: "readinessProbe.httpGet.path"), "/v2/health/ready")
        XCTAssertEqual(server.value(at: "livenessProbe.httpGet.path"), "/v2/health/live")
        XCTAssertEqual(server.value(at: "resources.requests"), ["cpu": "250m", "memory": "256Mi"])
        XCTAssertEqual(server.value(at: "resources.limits"), ["memory": "256Mi"])
        let env = server["env"]?.arrayValue ?? []
        // Pods of the bundled server share the host network: each server binds its own pod address.
        XCTAssertEqual(env.first { $0["name"] == "FAIR_BIND" }?.value(at: "valueFrom.fieldRef.fieldPath"), "status.podIP")
        XCTAssertEqual(env.first { $0["name"] == "PORT" }?["value"], "8080")
        XCTAssertEqual(deployment.value(at: "metadata.annotations")?["fair.dev/model"],
                       "127.0.0.1:5000/models/linear-regression:v3@sha256:abc")

        let service = try serving.renderService(with: try ManifestTemplate(path: templates + "/service.yaml"))
        XCTAssertEqual(service.value(at: "spec.selector"), ["app.kubernetes.io/name": "lr"])
        XCTAssertEqual(service.value(at: "spec.ports")?.arrayValue?.first?["targetPort"], "http")
        XCTAssertEqual(service.value(at: "metadata.annotations")?["fair.dev/model-name"], "linear-regression")

        serving.cpu = "a lot"
        XCTAssertThrowsError(try serving.renderDeployment(with: try ManifestTemplate(path: templates + "/deployment.yaml")))
    }

    func testBuiltInTemplatesMatchTheTemplatesFolder() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: templates).filter { $0 != "README.md" }.sorted()
        XCTAssertEqual(BuiltInTemplates.files.keys.sorted(), names, "run scripts/embed-templates")
        for name in names {
            let text = try String(contentsOfFile: templates + "/" + name, encoding: .utf8)
            XCTAssertEqual(BuiltInTemplates.files[name], text, "\(name) changed: run scripts/embed-templates")
        }
    }

    func testBuiltInSDKMatchesThePythonPackage() throws {
        let directory = templates + "/../python/fair"
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".py") || $0.hasSuffix(".typed") }.sorted()
        XCTAssertEqual(BuiltInSDK.files.keys.sorted(), names, "run scripts/embed-templates")
        for name in names {
            let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            XCTAssertEqual(BuiltInSDK.files[name], text, "python/fair/\(name) changed: run scripts/embed-templates")
        }
    }

    func testYAMLRoundTripAndErrors() throws {
        let documents = try YAMLDocuments.parse("a: 1\nb: \"1\"\nc: [true, null, 1.5]\n---\n---\nname: x\n")
        XCTAssertEqual(documents, [["a": 1, "b": "1", "c": [true, .null, .double(1.5)]], ["name": "x"]])
        XCTAssertEqual(try YAMLDocuments.parse(try YAMLDocuments.print(documents)), documents)
        XCTAssertThrowsError(try YAMLDocuments.parse("a: [1, 2\n", source: "job.yaml")) { error in
            XCTAssertTrue("\(error)".hasPrefix("job.yaml: not valid YAML"), "\(error)")
        }
    }
}
