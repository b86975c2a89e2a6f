/// A boolean query parameter as Kubernetes reads one (kube-apiserver's query decoding and
/// kubelet's `PodLogOptions` alike): absent is false; the spellings Go's `strconv.ParseBool`
/// knows mean what they say (`True`, `t`, `1`, `FALSE`, `f`, `0`, …); any other value present
/// (even empty, `?watch`) is true, as apimachinery's `Convert_Slice_string_To_bool` decides.
public enum QueryFlag {
    public static func value(_ raw: String?) -> Bool {
        guard let raw else { return false }
        return parseBool(raw) ?? true
    }

    /// Go's `strconv.ParseBool`: nil for anything it would refuse.
    public static func parseBool(_ value: String) -> Bool? {
        switch value {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: return nil
        }
    }
}
