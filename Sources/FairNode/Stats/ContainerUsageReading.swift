/// A runtime whose containers' CPU and memory use can be read: runc's, from their cgroups.
protocol ContainerUsageReading {
    func usage(ofContainer id: String) -> CgroupSample?
    /// All of the node's containers together: their common cgroup, so several nodes on one
    /// host each report their own pods rather than the whole machine.
    func nodeUsage() -> CgroupSample?
}

extension RuncRuntime: ContainerUsageReading {
    func usage(ofContainer id: String) -> CgroupSample? {
        CgroupSample.read(cgroupsPath: configBuilder.cgroupsPath(for: id))
    }

    func nodeUsage() -> CgroupSample? {
        CgroupSample.read(cgroupsPath: configBuilder.parentCgroupsPath)
    }
}
