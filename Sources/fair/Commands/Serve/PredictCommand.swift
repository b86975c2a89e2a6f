import ArgumentParser
import FairKube
import FairWorkloads
import Foundation

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Send instances to a served model and print its predictions.",
        discussion: """
        Posts {"instances": [...]} to the model's Open Inference Protocol v1 endpoint through the API \
        server's service proxy (any cluster offers it; the kubeconfig's credentials are used), and \
        prints the response's predictions as JSON. --data and --file take either the whole request \
        ({"instances": [...]}) or just the list of instances.
        """)

    @Argument(help: "The Service fair serve created (the model's name by default).")
    var service: String

    @Option(help: "The request as JSON.")
    var data: String?

    @Option(help: "A file with the request as JSON (- for standard input).")
    var file: String?

    @Option(help: "The model's name in the URL (default: the Service's fair.dev/model-name annotation).")
    var model: String?

    @OptionGroup var cluster: ClusterOptions

    func validate() throws {
        if (data == nil) == (file == nil) { throw ValidationError("give the instances with either --data or --file") }
    }

    func run() throws {
        try reportingFailures {
            let text: [UInt8]
            if let data {
                text = Array(data.utf8)
            } else if file == "-" {
                text = Array(FileHandle.standardInput.readDataToEndOfFile())
            } else {
                guard let contents = FileManager.default.contents(atPath: file!) else {
                    throw InputError(description: "cannot read --file \(file!)")
                }
                text = Array(contents)
            }
            let request = try Self.request(from: text, source: data != nil ? "--data" : "--file \(file!)")

            let client = try cluster.client()
            let namespace = cluster.namespace(for: client)
            let service: JSONValue
            do {
                service = try client.get(.services, namespace: namespace, name: self.service)
            } catch let error as KubeError where error.code == 404 {
                throw KubeError(code: 404, reason: "NotFound", message: "no service \(self.service) in namespace \(namespace) (start one with fair serve)")
            }
            let modelName = model ?? service.value(at: "metadata.annotations")?["fair.dev/model-name"]?.stringValue ?? self.service
            let path = "/api/v1/namespaces/\(namespace)/services/\(self.service):http/proxy/v1/models/\(modelName):predict"
            let response = try client.raw("POST", path: path, body: JSONCoding.encodeBytes(request))
            let body = try? JSONCoding.decode(response.body)
            guard response.status == 200, let predictions = body?["predictions"] else {
                let message = body?["error"]?.stringValue ?? body?["message"]?.stringValue
                    ?? String(decoding: response.body.prefix(500), as: UTF8.self)
                throw KubeError(code: response.status, reason: "PredictFailed", message: "\(self.service) answered \(response.status): \(message)")
            }
            Console.result(String(decoding: JSONCoding.encode(predictions), as: UTF8.self))
        }
    }

    /// `{"instances": [...]}` as given, or a bare list wrapped in it.
    static func request(from bytes: [UInt8], source: String) throws -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONCoding.decode(bytes)
        } catch {
            throw InputError(description: "\(source) is not JSON: \(error)")
        }
        if case .array = value { return ["instances": value] }
        guard case .array = value["instances"] ?? .null else {
            throw InputError(description: "\(source) must be {\"instances\": [...]} or a JSON list of instances")
        }
        return value
    }
}
