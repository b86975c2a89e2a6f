/// Quantities as metrics-server writes them, canonical as apimachinery makes them: CPU in
/// nanocores with the largest exact SI suffix (`1234567n`, `5m`, `2`), memory in bytes with the
/// largest exact power of 1024 (`4Ki`, `100Mi`), plain below 1024 or when not a multiple.
enum MetricsQuantity {
    static func cpu(nanoCores: Int64) -> String {
        guard nanoCores > 0 else { return "0" }
        for (suffix, scale) in [("", Int64(1_000_000_000)), ("m", 1_000_000), ("u", 1_000)] where nanoCores % scale == 0 {
            return "\(nanoCores / scale)\(suffix)"
        }
        return "\(nanoCores)n"
    }

    static func memory(bytes: Int64) -> String {
        guard bytes > 0 else { return "0" }
        for (suffix, shift) in [("Ei", 60), ("Pi", 50), ("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10)] {
            let unit = Int64(1) << Int64(shift)
            if bytes % unit == 0 { return "\(bytes / unit)\(suffix)" }
        }
        return "\(bytes)"
    }
}
