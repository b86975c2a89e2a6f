import FairKube
import Foundation
import XCTest

final class JSONCodingTests: XCTestCase {
    // MARK: - Round trips

    func testPodAndDeploymentRoundTripAndMatchFoundation() throws {
        for document in [Self.podJSON, Self.deploymentJSON] {
            let bytes = Data(document.utf8)
            let parsed = try JSONCoding.decode(bytes)
            XCTAssertEqual(parsed, try JSONDecoder().decode(JSONValue.self, from: bytes), "same value as the Codable path")
            XCTAssertEqual(try JSONCoding.decode(JSONCoding.encode(parsed)), parsed)
            XCTAssertEqual(try JSONCoding.decode(JSONCoding.encode(parsed, pretty: true)), parsed)
            XCTAssertEqual(JSONCoding.encode(parsed), try Self.foundationEncode(parsed, pretty: false))
            XCTAssertEqual(JSONCoding.encode(parsed, pretty: true), try Self.foundationEncode(parsed, pretty: true))
        }
        let pod = try JSONCoding.decode(Data(Self.podJSON.utf8))
        XCTAssertEqual(pod.name, "web-7d9c8f6b5-x2x4k")
        XCTAssertEqual(pod.value(at: "spec.terminationGracePeriodSeconds"), .int(30))
        XCTAssertEqual(pod.value(at: "status.cpuRatio"), .double(0.75))
        XCTAssertEqual(pod.value(at: "metadata.annotations")?["kubectl.kubernetes.io/last-applied-configuration"],
                       "{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}\n")
        XCTAssertEqual(pod.value(at: "spec.containers")?.arrayValue?.first?["env"]?.arrayValue?.last?["value"], "héllo wörld ✓")
        XCTAssertEqual(pod.value(at: "status.conditions")?.arrayValue?.first?["lastProbeTime"], .null)
    }

    func testByteArrayRawBufferAndDataSliceInputs() throws {
        let text = #"xx{"a":[1,"b"]}"#
        let expected: JSONValue = ["a": [1, "b"]]
        XCTAssertEqual(try JSONCoding.decode(Data(text.utf8).dropFirst(2)), expected)
        XCTAssertEqual(try JSONCoding.decode(Array(text.utf8.dropFirst(2))), expected)
        let raw = Array(text.utf8.dropFirst(2))
        XCTAssertEqual(try raw.withUnsafeBytes { try JSONCoding.decode($0) }, expected)
        XCTAssertEqual(JSONCoding.encodeBytes(expected), Array(#"{"a":[1,"b"]}"#.utf8))
    }

    func testByteOrderMarkAndWhitespaceAreSkipped() throws {
        XCTAssertEqual(try decode("\u{FEFF} \t\r\n[ 1 ,\n\t2 ] \n"), [1, 2])
        XCTAssertEqual(try decode("\u{FEFF}\"x\""), "x")
        try assertError("[1]\u{FEFF}", offset: 3, contains: "expected the end of the document")
    }

    func testDuplicateKeysKeepTheLastValue() throws {
        XCTAssertEqual(try decode(#"{"a":1,"b":2,"a":{"c":3}}"#), ["a": ["c": 3], "b": 2])
    }

    // MARK: - Strings

    func testEveryEscapeDecodes() throws {
        XCTAssertEqual(try decode(#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC\u0000""#),
                       .string("\"\\/\u{8}\u{C}\n\r\tAé€\u{0}"))
        XCTAssertEqual(try decode(#""plain then \n escaped, then ünïcödé 😀""#), "plain then \n escaped, then ünïcödé 😀")
        XCTAssertEqual(try decode(#""""#), "")
    }

    func testEncodingEscapesOnlyQuoteBackslashAndControlCharacters() throws {
        let controls = String(String.UnicodeScalarView((0..<0x20).compactMap(Unicode.Scalar.init)))
        let text = "\"\\/" + controls + "\u{7F}é€😀\u{2028}"
        let encoded = String(decoding: JSONCoding.encode(.string(text)), as: UTF8.self)
        XCTAssertEqual(encoded, #""\"\\/"# + #"\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f"#
            + #"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f"#
            + "\u{7F}é€😀\u{2028}\"")
        XCTAssertEqual(JSONCoding.encode(.string(text)), try Self.foundationEncode(.string(text), pretty: false))
        XCTAssertEqual(try JSONCoding.decode(JSONCoding.encode(.string(text))), .string(text))
    }

    func testSurrogatePairsAndLoneSurrogates() throws {
        XCTAssertEqual(try decode(#""\ud83d\ude00""#), "😀")
        XCTAssertEqual(try decode(#""a\uD834\uDD1Eb""#), "a𝄞b")
        try assertError(#""\ud800""#, offset: 1, contains: #"\uD800 is a lone high surrogate"#)
        try assertError(#""ab\ud800x""#, offset: 3, contains: "lone high surrogate")
        try assertError(#""\udc00""#, offset: 1, contains: #"\uDC00 is a lone low surrogate"#)
        try assertError(#""\ud83d\u0041""#, offset: 7, contains: "not a low surrogate")
        try assertError(#""\u12""#, offset: 5, contains: #"expected 4 hex digits after \u, found '"'"#)
    }

    func testControlCharactersAndInvalidUTF8InStringsAreErrors() throws {
        try assertError("\"a\nb\"", offset: 2, contains: #"control character 0x0A must be escaped inside a string (write \n)"#)
        try assertError("[\"\u{1}\"]", offset: 2, contains: #"(write \u0001)"#)
        try assertError("\"x\\n\t\"", offset: 4, contains: "control character 0x09")
        try assertError(bytes: [0x22, 0xFF, 0x22], offset: 1, contains: "byte 0xFF cannot start a character")
        try assertError(bytes: [0x22, 0x61, 0xC3, 0x22], offset: 2, contains: "2-byte sequence starting with 0xC3")
        try assertError(bytes: [0x22, 0xC0, 0xAF, 0x22], offset: 1, contains: "0xC0 cannot start", "overlong '/'")
        try assertError(bytes: [0x22, 0xED, 0xA0, 0x80, 0x22], offset: 1, contains: "3-byte sequence", "encoded surrogate")
        try assertError(bytes: [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], offset: 1, contains: "4-byte sequence", "past U+10FFFF")
        try assertError(bytes: Array(#"{"k":"\n"#.utf8) + [0xE2, 0x82] + Array(#""}"#.utf8), offset: 8,
                        contains: "3-byte sequence", "truncated, after an escape")
        XCTAssertEqual(try JSONCoding.decode([0x22, 0xF0, 0x9F, 0x98, 0x80, 0xE2, 0x82, 0xAC, 0x22]), "😀€")
    }

    // MARK: - Numbers

    func testNumbers() throws {
        XCTAssertEqual(try decode("9223372036854775807"), .int(.max))
        XCTAssertEqual(try decode("-9223372036854775808"), .int(.min))
        XCTAssertEqual(try decode("9223372036854775808"), .double(9_223_372_036_854_775_808))
        XCTAssertEqual(try decode("123456789012345678901234567890"), .double(1.2345678901234568e29))
        XCTAssertEqual(try decode("0"), .int(0))
        XCTAssertEqual(try decode("-17"), .int(-17))
        XCTAssertEqual(try decode("0.5"), .double(0.5))
        XCTAssertEqual(try decode("-0.25"), .double(-0.25))
        XCTAssertEqual(try decode("1.5e-7"), .double(1.5e-7))
        XCTAssertEqual(try decode("2.5E+2"), .int(250), "whole numbers become ints, as the Codable path did")
        XCTAssertEqual(try decode("1.25e1"), .double(12.5))
        XCTAssertEqual(try decode("1e19"), .double(1e19))
        XCTAssertEqual(try decode("1.0"), .int(1))
        XCTAssertEqual(try decode("1e3"), .int(1000))
        XCTAssertEqual(try decode("-0"), .int(0))
        XCTAssertEqual(try decode("-0.0"), .int(0))
        XCTAssertEqual(try decode("1e-400"), .int(0), "underflows to zero")
        XCTAssertEqual(try decode("9007199254740993.0"), .int(9_007_199_254_740_993), "exact, not via Double")
        XCTAssertEqual(try decode("-9223372036854775808.0"), .int(.min))
        for text in ["1.0", "-0", "-0.0", "1e3", "2.5E+2", "0.1", "1e19", "9223372036854775808", "1e-400", "12.5"] {
            XCTAssertEqual(try decode(text), try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)), text)
        }
        try assertError("1E400", offset: 0, contains: "number 1E400 is out of range")
        try assertError("[-1.7976931348623157e309]", offset: 1, contains: "out of range")
        try assertError("01", offset: 0, contains: "leading zeros")
        try assertError("-", offset: 1, contains: "expected a digit after '-', found the end of the input")
        try assertError("1.", offset: 2, contains: "expected a digit after the decimal point")
        try assertError("[1.e5]", offset: 3, contains: "expected a digit after the decimal point, found 'e'")
        try assertError("1e+", offset: 3, contains: "expected a digit in the exponent")
        try assertError(".5", offset: 0, contains: "expected a value")
        try assertError("+1", offset: 0, contains: "expected a value")
        try assertError("NaN", offset: 0, contains: "expected a value")
    }

    func testNumberPrintingMatchesFoundation() throws {
        let doubles: [Double] = [1.0, -0.0, 0, 1e3, 1e15, 1e16, 1e20, 0.1, 0.30000000000000004, 1.5e-7, 1e-5, 0.0001,
                                 5e-324, .greatestFiniteMagnitude, -3, 123.456, 4.35, 9_223_372_036_854_775_808, 2e-308]
        for number in doubles {
            XCTAssertEqual(String(decoding: JSONCoding.encode(.double(number)), as: UTF8.self),
                           String(decoding: try Self.foundationEncode(.double(number), pretty: false), as: UTF8.self))
        }
        XCTAssertEqual(String(decoding: JSONCoding.encode([.double(1), .double(-0.0), .double(1e16), .double(1.5e-7)]), as: UTF8.self),
                       "[1,-0,1e+16,1.5e-07]")
        XCTAssertEqual(String(decoding: JSONCoding.encode([.int(.min), .int(.max), 0, -5, 10, 99, 100]), as: UTF8.self),
                       "[-9223372036854775808,9223372036854775807,0,-5,10,99,100]")
        XCTAssertEqual(String(decoding: JSONCoding.encode([.double(.nan), .double(-.infinity)]), as: UTF8.self), "[null,null]")
    }

    // MARK: - Structure and errors

    func testNestingDepthIsLimited() throws {
        let limit = JSONCoding.maximumDepth
        let deepest = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        var value = try decode(deepest)
        var depth = 0
        while let inner = value.arrayValue { depth += 1; value = inner.first ?? .null }
        XCTAssertEqual(depth, limit)
        try assertError(String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1),
                        offset: limit, contains: "nest more than \(limit) levels deep")
        try assertError(String(repeating: #"{"a":"#, count: 100_000), offset: limit * 5, contains: "nest more than")
    }

    func testSyntaxErrorsNameTheByteAndWhatWasExpected() throws {
        let cases: [(String, Int, String)] = [
            ("", 0, "expected a value, found the end of the input"),
            ("   ", 3, "expected a value, found the end of the input"),
            (#"{"a":1"#, 6, "expected ',' or '}' after the value of \"a\", found the end of the input"),
            (#"{"a":1 "b":2}"#, 7, "expected ',' or '}' after the value of \"a\", found '\"'"),
            (#"{"a" 1}"#, 5, "expected ':' after member name \"a\", found '1'"),
            (#"{"a":}"#, 5, "expected a value (object, array, string, number, true, false or null), found '}'"),
            (#"{a:1}"#, 1, "expected a member name in double quotes, found 'a'"),
            (#"{"a":1,}"#, 6, "trailing comma before '}' is not allowed"),
            ("[1,2,]", 4, "trailing comma before ']' is not allowed"),
            ("[1 2]", 3, "expected ',' or ']' after array element 0, found '2'"),
            ("[1,", 3, "expected a value, found the end of the input"),
            ("[", 1, "expected a value, found the end of the input"),
            ("tru", 0, "expected 'true', found 'tru'"),
            ("[nul]", 1, "expected 'null', found 'nul]'"),
            ("falsy", 0, "expected 'false', found 'falsy'"),
            ("True", 0, "expected a value (object, array, string, number, true, false or null), found 'T'"),
            (#""abc"#, 4, "unterminated string: the string starting at byte 0 has no closing '\"'"),
            (#"["a\"]"#, 6, "unterminated string: the string starting at byte 1 has no closing '\"'"),
            (#""\x""#, 1, #"invalid escape '\x' in a string (valid: \" \\ \/ \b \f \n \r \t \uXXXX)"#),
            (#"{"a":1}}"#, 7, "expected the end of the document after the JSON value, found '}'"),
            ("1 2", 2, "expected the end of the document after the JSON value, found '2'"),
            ("[1] // note", 4, "expected the end of the document after the JSON value, found '/'"),
        ]
        for (text, offset, reason) in cases {
            XCTAssertThrowsError(try decode(text), text) { error in
                XCTAssertEqual(error as? JSONParseError, JSONParseError(offset: offset, reason: reason), text)
            }
        }
        XCTAssertThrowsError(try decode(#"{"a":1,}"#)) { error in
            XCTAssertEqual("\(error)", "invalid JSON at byte 6: trailing comma before '}' is not allowed")
            XCTAssertEqual(error.localizedDescription, "invalid JSON at byte 6: trailing comma before '}' is not allowed")
        }
    }

    // MARK: - Pretty printing

    func testPrettyPrintingLayout() {
        let value: JSONValue = ["b": [:], "a": [], "c": [1, ["x": nil, "url": "http://h/p"]]]
        XCTAssertEqual(String(decoding: JSONCoding.encode(value, pretty: true), as: UTF8.self), """
            {
              "a" : [

              ],
              "b" : {

              },
              "c" : [
                1,
                {
                  "url" : "http://h/p",
                  "x" : null
                }
              ]
            }
            """)
        XCTAssertEqual(String(decoding: JSONCoding.encode(value), as: UTF8.self), #"{"a":[],"b":{},"c":[1,{"url":"http://h/p","x":null}]}"#)
        XCTAssertEqual(String(decoding: JSONCoding.encode(3, pretty: true), as: UTF8.self), "3")
    }

    func testKeysAreSortedByUTF8BytesLikeFoundation() throws {
        // "e\u{301}" sorts by its bytes (before "f"), not by its composed form "é"; U+212B before U+00C6 would be
        // String order after normalization, byte order puts Æ first.
        let value: JSONValue = .object(["f": 1, "e\u{301}": 2, "a10": 3, "a9": 4, "\u{212B}": 5, "\u{C6}": 6, "B": 7,
                                        "_": 8, "😀": 9, "\u{FF5E}": 10, "": 11])
        let encoded = String(decoding: JSONCoding.encode(value), as: UTF8.self)
        XCTAssertEqual(encoded, "{\"\":11,\"B\":7,\"_\":8,\"a10\":3,\"a9\":4,\"e\u{301}\":2,\"f\":1,\"\u{C6}\":6,\"\u{212B}\":5,\"\u{FF5E}\":10,\"😀\":9}")
        XCTAssertEqual(JSONCoding.encode(value), try Self.foundationEncode(value, pretty: false))
    }

    // MARK: - Differential against Foundation

    func testRandomDocumentsMatchFoundationByteForByte() throws {
        var generator = SeededGenerator(seed: 0x5EED_1234)
        for round in 0..<400 {
            let value = Self.randomValue(depth: 0, using: &generator)
            for pretty in [false, true] {
                let ours = JSONCoding.encode(value, pretty: pretty)
                let theirs = try Self.foundationEncode(value, pretty: pretty)
                guard ours == theirs else {
                    XCTFail("round \(round) pretty=\(pretty): \(String(decoding: ours, as: UTF8.self)) != \(String(decoding: theirs, as: UTF8.self))")
                    return
                }
                let decoded = try JSONCoding.decode(ours)
                XCTAssertTrue(Self.readsBack(decoded, as: value), "round \(round): \(decoded) != \(value)")
                XCTAssertEqual(decoded, try JSONDecoder().decode(JSONValue.self, from: ours), "round \(round): same as the Codable path")
            }
        }
    }

    // MARK: - Speed (printed, not asserted: debug builds and a shared machine make numbers noisy)

    func testPrintDecodeAndEncodeTimesOfAPod() throws {
        let bytes = Data(Self.podJSON.utf8)
        let pod = try JSONCoding.decode(bytes)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func microseconds(_ runs: Int, _ body: () throws -> Void) rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<runs { try body() }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1000 / Double(runs)
        }
        let runs = 200
        let decodeOld = try microseconds(runs) { _ = try JSONDecoder().decode(JSONValue.self, from: bytes) }
        let decodeNew = try microseconds(runs) { _ = try JSONCoding.decode(bytes) }
        let encodeOld = try microseconds(runs) { _ = try encoder.encode(pod) }
        let encodeNew = microseconds(runs) { _ = JSONCoding.encode(pod) }
        #if DEBUG
        let build = "unoptimized build: Foundation's side is optimized, ours is not"
        #else
        let build = "optimized build"
        #endif
        print(String(format: "JSONCoding, one pod (%d bytes, %@): decode %.1f µs (Codable: %.1f µs), encode %.1f µs (Codable: %.1f µs)",
                     bytes.count, build, decodeNew, decodeOld, encodeNew, encodeOld))
    }

    // MARK: - Helpers

    private func decode(_ text: String) throws -> JSONValue {
        try JSONCoding.decode(Data(text.utf8))
    }

    private func assertError(_ text: String, offset: Int, contains reason: String, _ note: String = "",
                             file: StaticString = #filePath, line: UInt = #line) throws {
        try assertError(bytes: Array(text.utf8), offset: offset, contains: reason, note, file: file, line: line)
    }

    private func assertError(bytes: [UInt8], offset: Int, contains reason: String, _ note: String = "",
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let label = note.isEmpty ? String(decoding: bytes.prefix(60), as: UTF8.self) : note
        XCTAssertThrowsError(try JSONCoding.decode(bytes), label, file: file, line: line) { error in
            guard let error = error as? JSONParseError else {
                return XCTFail("\(label): not a JSONParseError: \(error)", file: file, line: line)
            }
            XCTAssertEqual(error.offset, offset, "\(label): \(error)", file: file, line: line)
            XCTAssertTrue(error.reason.contains(reason), "\(label): \(error.reason) does not mention \(reason)", file: file, line: line)
        }
    }

    static func foundationEncode(_ value: JSONValue, pretty: Bool) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Whether `decoded` is what reading the printed `original` should give: the same value,
    /// except that a whole double within Int64 prints without a fraction and so reads back as
    /// the int its shortest decimal names (which converts back to that same double).
    static func readsBack(_ decoded: JSONValue, as original: JSONValue) -> Bool {
        switch (decoded, original) {
        case let (.int(whole), .double(number)) where Int64(exactly: number) != nil:
            return Double(whole) == number
        case let (.array(elements), .array(originals)):
            return elements.count == originals.count && zip(elements, originals).allSatisfy { readsBack($0, as: $1) }
        case let (.object(members), .object(originals)):
            return members.count == originals.count
                && originals.allSatisfy { key, value in members[key].map { readsBack($0, as: value) } ?? false }
        default:
            return decoded == original
        }
    }

    static let stringPieces = ["a", "Z", "key", "/", "\\", "\"", "\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é", "e\u{301}",
                               "€", "😀", "𝄞", "\u{2028}", "\u{FEFF}", " ", "0", "{", "]", ":", ","]

    static func randomString<G: RandomNumberGenerator>(using generator: inout G) -> String {
        (0..<Int.random(in: 0...6, using: &generator)).map { _ in stringPieces.randomElement(using: &generator)! }.joined()
    }

    static func randomDouble<G: RandomNumberGenerator>(using generator: inout G) -> Double {
        switch Int.random(in: 0..<6, using: &generator) {
        case 0: return Double.random(in: -1000...1000, using: &generator)
        case 1: return Double.random(in: -1...1, using: &generator) * pow(10, Double(Int.random(in: -320...300, using: &generator)))
        case 2: return Double(Int.random(in: -1_000_000...1_000_000, using: &generator)) // whole
        case 3: return Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator)).nonFiniteAsZero
        case 4: return [0.1, 0.5, -0.0, 1e16, 1e21, 1e22, 9.223372036854775807e18, 1.7976931348623157e308, 5e-324]
            .randomElement(using: &generator)!
        default: return Double(Int64.random(in: .min ... .max, using: &generator)) / 7
        }
    }

    static func randomValue<G: RandomNumberGenerator>(depth: Int, using generator: inout G) -> JSONValue {
        let kinds = depth >= 4 ? 5 : 7
        switch Int.random(in: 0..<kinds, using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .int([Int64.random(in: -1000...1000, using: &generator), .min, .max,
                             Int64.random(in: .min ... .max, using: &generator)].randomElement(using: &generator)!)
        case 3: return .double(randomDouble(using: &generator))
        case 4: return .string(randomString(using: &generator))
        case 5: return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in randomValue(depth: depth + 1, using: &generator) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...5, using: &generator) {
                members[randomString(using: &generator)] = randomValue(depth: depth + 1, using: &generator)
            }
            return .object(members)
        }
    }

    // MARK: - Fixtures

    static let podJSON = """
        {"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\\"apiVersion\\":\\"v1\\",\\"kind\\":\\"Pod\\"}\\n","prometheus.io/scrape":"true"},"creationTimestamp":"2024-05-01T10:00:00Z","generateName":"web-7d9c8f6b5-","labels":{"app":"web","pod-template-hash":"7d9c8f6b5","tier":"frontend"},"name":"web-7d9c8f6b5-x2x4k","namespace":"default","ownerReferences":[{"apiVersion":"apps/v1","blockOwnerDeletion":true,"controller":true,"kind":"ReplicaSet","name":"web-7d9c8f6b5","uid":"4b1f0c1e-1c3a-4f5e-9a3b-2f6d7e8a9b0c"}],"resourceVersion":"123456","uid":"9e8d7c6b-5a4f-3e2d-1c0b-a9b8c7d6e5f4"},"spec":{"containers":[{"args":["--port=8080","--log-level=info"],"env":[{"name":"POD_NAME","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}},{"name":"GREETING","value":"héllo wörld ✓"}],"image":"registry.local/web:1.2.3","imagePullPolicy":"IfNotPresent","livenessProbe":{"failureThreshold":3,"httpGet":{"path":"/healthz","port":8080,"scheme":"HTTP"},"initialDelaySeconds":5,"periodSeconds":10,"successThreshold":1,"timeoutSeconds":1},"name":"web","ports":[{"containerPort":8080,"name":"http","protocol":"TCP"}],"resources":{"limits":{"cpu":"500m","memory":"256Mi"},"requests":{"cpu":"100m","memory":"64Mi"}},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","volumeMounts":[{"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","name":"kube-api-access","readOnly":true}]}],"dnsPolicy":"ClusterFirst","enableServiceLinks":true,"nodeName":"node-1","preemptionPolicy":"PreemptLowerPriority","priority":0,"restartPolicy":"Always","schedulerName":"default-scheduler","securityContext":{},"serviceAccountName":"default","terminationGracePeriodSeconds":30,"tolerations":[{"effect":"NoExecute","key":"node.kubernetes.io/not-ready","operator":"Exists","tolerationSeconds":300},{"effect":"NoExecute","key":"node.kubernetes.io/unreachable","operator":"Exists","tolerationSeconds":300}],"volumes":[{"name":"kube-api-access","projected":{"defaultMode":420,"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}}]}}]},"status":{"conditions":[{"lastProbeTime":null,"lastTransitionTime":"2024-05-01T10:00:01Z","status":"True","type":"Initialized"},{"lastProbeTime":null,"lastTransitionTime":"2024-05-01T10:00:03Z","status":"True","type":"Ready"},{"lastProbeTime":null,"lastTransitionTime":"2024-05-01T10:00:00Z","status":"True","type":"PodScheduled"}],"containerStatuses":[{"containerID":"fair://abc123","image":"registry.local/web:1.2.3","imageID":"sha256:0123456789abcdef","lastState":{},"name":"web","ready":true,"restartCount":0,"started":true,"state":{"running":{"startedAt":"2024-05-01T10:00:02Z"}}}],"hostIP":"10.0.0.1","phase":"Running","podIP":"10.244.0.5","podIPs":[{"ip":"10.244.0.5"}],"qosClass":"Burstable","startTime":"2024-05-01T10:00:00Z","cpuRatio":0.75}}
        """

    static let deploymentJSON = """
        {
          "apiVersion": "apps/v1",
          "kind": "Deployment",
          "metadata": {
            "name": "web", "namespace": "shop", "generation": 3,
            "labels": {"app": "web"},
            "annotations": {"deployment.kubernetes.io/revision": "2", "note": "tab\\there, quote \\" and \\u00e9 \\ud83d\\ude80"}
          },
          "spec": {
            "replicas": 3,
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {
              "metadata": {"labels": {"app": "web"}},
              "spec": {"containers": [{"name": "web", "image": "web:2", "resources": {"requests": {"cpu": 0.5, "memory": "64Mi"}}}]}
            }
          },
          "status": {"observedGeneration": 3, "replicas": 3, "readyReplicas": 2, "conditions": []}
        }
        """
}

private extension Double {
    var nonFiniteAsZero: Double { isFinite ? self : 0 }
}

/// SplitMix64: the same sequence on every run, so a failing round can be replayed.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
