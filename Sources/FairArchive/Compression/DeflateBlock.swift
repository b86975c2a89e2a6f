#if canImport(Glibc)
import Glibc
#endif

/// One block of a parallel gzip stream: up to `capacity` input bytes, preceded in the same buffer
/// by the (at most 32 KiB of) input before them that primes the compressor, and the block's raw
/// deflate output. The caller fills the input; a worker then owns the block until it is completed.
final class DeflateBlock {
    /// The deflate window: a block's matches can reach this far back into earlier input.
    static let windowSize = 32 * 1024

    let capacity: Int
    private let storage: UnsafeMutableRawPointer
    private(set) var dictionaryCount = 0
    private(set) var count = 0
    var isLast = false

    private(set) var output: UnsafeMutableRawPointer?
    private(set) var outputCapacity = 0
    var outputCount = 0
    var crc: UInt32 = 0

    init(capacity: Int) {
        self.capacity = capacity
        storage = .allocate(byteCount: Self.windowSize + capacity, alignment: 64)
    }

    deinit {
        storage.deallocate()
        output?.deallocate()
    }

    var data: UnsafeMutableRawPointer { storage + Self.windowSize }
    var dictionary: UnsafeRawPointer { UnsafeRawPointer(storage + Self.windowSize - dictionaryCount) }
    var isFull: Bool { count == capacity }
    var compressed: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: output, count: outputCount) }

    /// Copies as much of `bytes` as fits and returns how many bytes that was.
    func append(_ bytes: UnsafeRawBufferPointer) -> Int {
        let n = min(capacity - count, bytes.count)
        if n > 0 { memcpy(data + count, bytes.baseAddress!, n) }
        count += n
        return n
    }

    /// Empties the block and primes it with the last window of input up to the end of `previous`
    /// (`nil` for the first block of a stream).
    func start(after previous: DeflateBlock?) {
        let carried = previous.map { min(Self.windowSize, $0.dictionaryCount + $0.count) } ?? 0
        if let previous, carried > 0 {
            memcpy(data - carried, UnsafeRawPointer(previous.data + previous.count - carried), carried)
        }
        dictionaryCount = carried
        count = 0
        isLast = false
        outputCount = 0
        crc = 0
    }

    /// Makes the output buffer at least `byteCount` long, keeping its first `outputCount` bytes.
    func reserveOutput(_ byteCount: Int) {
        guard byteCount > outputCapacity else { return }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        if let output {
            if outputCount > 0 { memcpy(grown, output, outputCount) }
            output.deallocate()
        }
        output = grown
        outputCapacity = byteCount
    }
}
