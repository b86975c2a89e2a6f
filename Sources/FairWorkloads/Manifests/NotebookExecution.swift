/// `fair train NOTEBOOK --execute`: the notebook runs with a real Jupyter kernel in the training
/// container (`python3 -m fair.execute`, from the SDK the pod imports) instead of converted to a
/// script, and is stored executed with the model. A failing cell is reported in the failure file,
/// so the notebook as far as it ran is stored too (under the failed tag) before the Job fails.
public struct NotebookExecution: Sendable, Equatable {
    /// nbclient and ipykernel, pinned so that two builds of a project install the same kernel.
    public static let requirements = ["nbclient==0.11.0", "nbformat==5.11.1", "ipykernel==7.4.0", "jupyter_client==8.10.0"]
    /// Where the executed notebook goes: in the model directory, stored with the model.
    public static let output = "/model/notebook.ipynb"

    /// The notebook's path in the image.
    public var notebook: String
    /// NAME VALUE pairs, in the order given.
    public var parameters: [(name: String, value: String)]

    public init(notebook: String, parameters: [(name: String, value: String)]) {
        self.notebook = notebook
        self.parameters = parameters
    }

    public static func == (lhs: NotebookExecution, rhs: NotebookExecution) -> Bool {
        lhs.notebook == rhs.notebook && lhs.parameters.map { [$0.name, $0.value] } == rhs.parameters.map { [$0.name, $0.value] }
    }

    /// The training container's command.
    public var command: [String] {
        ["python3", "-m", "fair.execute", notebook, "--output", Self.output, "--failure-file", TrainingJob.failureFile]
            + parameters.flatMap { ["-p", $0.name, $0.value] }
    }

    /// `-p` values as given on the command line (flattened by the parser): pairs, or why not.
    public static func pairs(_ flat: [String]) throws -> [(name: String, value: String)] {
        guard flat.count % 2 == 0 else {
            throw TrainingJob.Invalid(description: "-p takes a NAME and a VALUE each time (got \(flat.joined(separator: " ")))")
        }
        return stride(from: 0, to: flat.count, by: 2).map { (flat[$0], flat[$0 + 1]) }
    }
}
