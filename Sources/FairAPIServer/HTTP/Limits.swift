/// Sizes the API server refuses to go past, as the reference sets them: kube-apiserver reads at
/// most 3 MiB of a request body, and etcd stores objects of at most 1.5 MiB (its default
/// `--max-request-bytes`). Both answer 413 `RequestEntityTooLarge`.
enum Limits {
    static let requestBody = 3 << 20
    static let storedObject = 3 << 19
}
