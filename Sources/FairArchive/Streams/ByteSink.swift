/// A stage of a streaming pipeline: bytes go in through `write`, and `finish` flushes
/// everything and finishes the next stage. Stages never keep more than a bounded buffer,
/// so a layer of any size passes through in constant memory.
public protocol ByteSink: AnyObject {
    /// Consumes `bytes`. The buffer is only valid for the duration of the call.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Flushes buffered bytes, writes any trailer, and finishes the downstream stage.
    func finish() throws
}

extension ByteSink {
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    public func write(_ string: String) throws {
        try write(Array(string.utf8))
    }
}
