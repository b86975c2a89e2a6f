/// Definitions a converted notebook needs in place of IPython, written once at the top of the
/// script and only when some cell uses them (a script that needs none starts with its own code).
enum PreludeItem: Int, CaseIterable, Comparable {
    // Modules under private names, so they never shadow or get shadowed by the notebook's own.
    case contextlib, io, os, runpy, subprocess, sys, time
    case display, getIPython, capturedOutput

    static func < (lhs: PreludeItem, rhs: PreludeItem) -> Bool { lhs.rawValue < rhs.rawValue }

    /// What else an item's definition uses.
    var requires: [PreludeItem] {
        switch self {
        case .capturedOutput: return [.sys]
        default: return []
        }
    }

    var source: [String] {
        switch self {
        case .contextlib, .io, .os, .runpy, .subprocess, .sys, .time:
            let module = "\(self)"
            return ["import \(module) as _fair_\(module)"]
        case .display:
            return [
                "",
                "def display(*objs, **kwargs):",
                "    # Stands in for IPython's display(): without a notebook front end there is only text.",
                "    for obj in objs:",
                "        print(repr(obj))",
            ]
        case .getIPython:
            return [
                "",
                "def get_ipython():",
                "    # What IPython's own get_ipython() returns outside an IPython shell.",
                "    return None",
            ]
        case .capturedOutput:
            return [
                "",
                "class _FairCapturedOutput:",
                "    # What %%capture binds its variable to: the cell's captured stdout and stderr.",
                "    def __init__(self, stdout, stderr):",
                "        self.stdout = stdout",
                "        self.stderr = stderr",
                "        self.outputs = []",
                "",
                "    def show(self):",
                "        _fair_sys.stdout.write(self.stdout)",
                "        _fair_sys.stderr.write(self.stderr)",
                "",
                "    __call__ = show",
                "",
                "    def __str__(self):",
                "        return self.stdout",
            ]
        }
    }

    /// The prelude's lines for `items` (and what they require), in a fixed order.
    static func lines(for items: Set<PreludeItem>) -> [String] {
        var all = items
        for item in items { all.formUnion(item.requires) }
        guard !all.isEmpty else { return [] }
        return ["# Stand-ins for IPython, added by fair (see the build's warnings)."]
            + all.sorted().flatMap(\.source)
    }
}
