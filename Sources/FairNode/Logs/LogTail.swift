import Foundation

/// Finds where the last N lines of a log file start by reading backwards in blocks: a log of
/// gigabytes costs a few reads, never a whole copy in memory.
enum LogTail {
    static let blockSize = 64 * 1024

    /// The byte offset of the first of the last `lines` lines of the open file `descriptor` of
    /// `size` bytes. A final line without a newline counts as a line.
    static func offset(descriptor: Int32, size: Int64, lines: Int) -> Int64 {
        guard lines > 0 else { return size }
        guard size > 0 else { return 0 }
        var end = size
        var remaining = lines
        var block = [UInt8](repeating: 0, count: blockSize)
        while end > 0 {
            let start = max(0, end - Int64(blockSize))
            let count = Int(end - start)
            let read = block.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, off_t(start)) }
            guard read == count else { return 0 }
            for index in stride(from: count - 1, through: 0, by: -1) where block[index] == UInt8(ascii: "\n") {
                let position = start + Int64(index)
                // The newline that ends the file's last line does not start a line after it.
                if position == size - 1 { continue }
                remaining -= 1
                if remaining == 0 { return position + 1 }
            }
            end = start
        }
        return 0
    }
}
