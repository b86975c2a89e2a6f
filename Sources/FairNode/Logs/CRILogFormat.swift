import FairKube
import Foundation

/// A container log line as CRI runtimes write them (kubelet's `pkg/kubelet/kuberuntime/logs`):
/// `2016-10-06T00:17:09.669794202Z stdout F content`, where `F` ends a line and `P` is part of a
/// longer one (split at `maximumLineBytes`) that the next line continues. Each line carries the
/// time it was read from the container, so `--timestamps`, `sinceSeconds` and `sinceTime` mean
/// what they say.
enum CRILogFormat {
    /// containerd's and CRI-O's limit before a line is split into partials.
    static let maximumLineBytes = 16 * 1024

    struct Line {
        var time: Date
        /// `2016-10-06T00:17:09.669794202Z`, as written.
        var timeText: Substring
        var stream: Substring
        var partial: Bool
        /// What the container wrote, without the newline.
        var content: ArraySlice<UInt8>
    }

    /// Parses one line (without its newline); nil when it is not in the CRI format (a log from a
    /// runtime that writes raw output, or from before one that stamps).
    static func parse(_ line: ArraySlice<UInt8>) -> Line? {
        guard let firstSpace = line.firstIndex(of: UInt8(ascii: " ")) else { return nil }
        let timeBytes = line[line.startIndex..<firstSpace]
        guard timeBytes.count >= 20, timeBytes.last == UInt8(ascii: "Z"),
              let timeText = String(bytes: timeBytes, encoding: .ascii), let time = KubeTime.parse(timeText) else { return nil }
        let afterTime = line[line.index(after: firstSpace)...]
        guard let secondSpace = afterTime.firstIndex(of: UInt8(ascii: " ")) else { return nil }
        let stream = afterTime[afterTime.startIndex..<secondSpace]
        guard stream.elementsEqual("stdout".utf8) || stream.elementsEqual("stderr".utf8) else { return nil }
        let afterStream = afterTime[afterTime.index(after: secondSpace)...]
        guard let tag = afterStream.first, tag == UInt8(ascii: "F") || tag == UInt8(ascii: "P") else { return nil }
        let afterTag = afterStream.dropFirst()
        guard afterTag.isEmpty || afterTag.first == UInt8(ascii: " ") else { return nil }
        return Line(time: time, timeText: Substring(timeText), stream: Substring(String(decoding: stream, as: UTF8.self)),
                    partial: tag == UInt8(ascii: "P"), content: afterTag.dropFirst())
    }

    /// One CRI line for `content` (no newline inside), read at `time`.
    static func line(_ content: ArraySlice<UInt8>, stream: String, partial: Bool, time: Date) -> [UInt8] {
        var bytes = Array("\(KubeTime.formatNano(time)) \(stream) \(partial ? "P" : "F") ".utf8)
        bytes.reserveCapacity(bytes.count + content.count + 1)
        bytes.append(contentsOf: content)
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }
}
