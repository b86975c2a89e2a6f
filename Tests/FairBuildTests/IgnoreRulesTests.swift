import FairBuild
import XCTest

final class IgnoreRulesTests: XCTestCase {
    private func rules(_ lines: String..., file: StaticString = #filePath, line: UInt = #line) -> IgnoreRules {
        do {
            return try IgnoreRules(contents: lines.joined(separator: "\n"))
        } catch {
            XCTFail("unexpected error: \(error)", file: file, line: line)
            return .none
        }
    }

    private func assertExcluded(_ rules: IgnoreRules, _ paths: [String], file: StaticString = #filePath, line: UInt = #line) {
        for path in paths {
            XCTAssertTrue(rules.isExcluded(path), "\(path) should be excluded", file: file, line: line)
        }
    }

    private func assertIncluded(_ rules: IgnoreRules, _ paths: [String], file: StaticString = #filePath, line: UInt = #line) {
        for path in paths {
            XCTAssertFalse(rules.isExcluded(path), "\(path) should be included", file: file, line: line)
        }
    }

    func testNoneExcludesNothing() {
        assertIncluded(.none, ["a", "a/b.py", ".git", "build/x"])
        XCTAssertFalse(IgnoreRules.none.mayReincludeBelow("build"))
    }

    func testCommentsAndBlankLines() {
        let r = rules("# a comment", "", "   ", "\t", "*.log", "#*.py")
        assertExcluded(r, ["train.log"])
        assertIncluded(r, ["train.py", "# a comment", "#x.py"])
    }

    func testOnlyAHashInTheFirstColumnStartsAComment() {
        // As in Docker: the comment check happens before whitespace is trimmed.
        let r = rules("  #notes")
        assertExcluded(r, ["#notes"])
    }

    func testSurroundingWhitespaceAndCRLFAreTrimmed() throws {
        let r = try IgnoreRules(contents: "  secrets.env  \r\n\tdata/raw\t\r\n")
        assertExcluded(r, ["secrets.env", "data/raw", "data/raw/a.csv"])
        assertIncluded(r, ["data", "data/clean.csv"])
    }

    func testByteOrderMarkIsIgnored() {
        let r = rules("\u{FEFF}*.tmp")
        assertExcluded(r, ["x.tmp"])
    }

    func testStarSuffix() {
        let r = rules("*.pyc")
        assertExcluded(r, ["a.pyc", ".pyc"])
        // `*` does not cross `/`: only top-level files match...
        assertIncluded(r, ["a.py", "pkg/a.pyc", "a.pyc.txt"])
    }

    func testDoubleStarPrefix() {
        let r = rules("**/__pycache__")
        assertExcluded(r, ["__pycache__", "pkg/__pycache__", "a/b/c/__pycache__", "a/__pycache__/m.cpython-311.pyc"])
        assertIncluded(r, ["pkg/not__pycache__", "__pycache__x", "pkg/__pycache__x/y"])
    }

    func testDoubleStarInTheMiddle() {
        let r = rules("data/**/*.csv")
        assertExcluded(r, ["data/a.csv", "data/x/a.csv", "data/x/y/z/a.csv"])
        assertIncluded(r, ["a.csv", "other/data/a.csv", "data/a.json", "data/x/a.csv.gz", "datax/a.csv"])
    }

    func testDoubleStarSuffix() {
        let r = rules("logs/**")
        assertExcluded(r, ["logs/a", "logs/a/b/c.txt"])
        // Docker: `logs/**` matches below logs, not the directory itself.
        assertIncluded(r, ["logs", "logsx", "x/logs/a"])
    }

    func testDoubleStarGlued() {
        // Docker matches `**` + literal text as a plain suffix at any depth.
        let r = rules("**.pyc")
        assertExcluded(r, ["a.pyc", "pkg/a.pyc", "a/b/c/d.pyc"])
        assertIncluded(r, ["a.py", "pyc", "a.pyc.bak"])
        // ...and, like any match, it excludes what is below a matching directory.
        assertExcluded(r, ["odd.pyc/inside.txt"])
        XCTAssertTrue(rules("**").isExcluded("anything/at/all"))
    }

    func testExceptionAfterExclusionReincludes() {
        let r = rules("*.txt", "!keep.txt")
        assertExcluded(r, ["a.txt", "notes.txt"])
        assertIncluded(r, ["keep.txt", "a.py"])
    }

    func testExclusionAfterExceptionWins() {
        let r = rules("!keep.txt", "*.txt")
        assertExcluded(r, ["a.txt", "keep.txt"])
    }

    func testLastMatchDecidesOverManyLines() {
        let r = rules("data", "!data/small", "data/small/tmp")
        assertExcluded(r, ["data", "data/big.bin", "data/small/tmp", "data/small/tmp/x"])
        assertIncluded(r, ["data/small", "data/small/a.csv"])
    }

    func testParentDirectoryExclusion() {
        let r = rules("build")
        assertExcluded(r, ["build", "build/x", "build/x/y.py"])
        assertIncluded(r, ["builder", "src/build", "src/build/x", "build.py"])
    }

    func testParentMatchThroughWildcard() {
        let r = rules("*.egg-info")
        assertExcluded(r, ["fair.egg-info", "fair.egg-info/PKG-INFO"])
        assertIncluded(r, ["src/fair.egg-info"])
    }

    func testLeadingSlashAndCleaning() {
        let r = rules("/secrets", "./out/", "a//b/../c", "!/secrets/public")
        assertExcluded(r, ["secrets", "secrets/key.pem", "out", "out/model.pt", "a/c", "a/c/x"])
        assertIncluded(r, ["secrets/public", "secrets/public/readme", "x/secrets", "a/b"])
    }

    func testExceptionWithSpaceAfterBang() {
        let r = rules("*.md", "! /README.md")
        assertIncluded(r, ["README.md"])
        assertExcluded(r, ["CHANGES.md"])
    }

    func testQuestionMark() {
        let r = rules("run?.log")
        assertExcluded(r, ["run1.log", "runA.log"])
        assertIncluded(r, ["run.log", "run12.log"])
        // `?` does not match `/`.
        assertIncluded(rules("a?b"), ["a/b"])
    }

    func testCharacterClasses() {
        let r = rules("ckpt-[0-9][0-9].pt", "[^a-m]*.tmp", "file[abc]")
        assertExcluded(r, ["ckpt-07.pt", "ckpt-99.pt", "x.tmp", "zebra.tmp", "filea", "filec"])
        assertIncluded(r, ["ckpt-7.pt", "ckpt-a1.pt", "alpha.tmp", "m.tmp", "filed", "file"])
    }

    func testBangInsideAClassIsLiteralAsInGo() {
        // Go's filepath.Match (and so Docker) negates a class only with `^`.
        let r = rules("[!a]x")
        assertExcluded(r, ["!x", "ax"])
        assertIncluded(r, ["bx"])
    }

    func testClassWithEscapesAndSpecialCharacters() {
        let r = rules(#"v[\-\]]1"#, "[*?]")
        assertExcluded(r, ["v-1", "v]1", "*", "?"])
        assertIncluded(r, ["v1", "vx1", "a"])
    }

    func testEscapes() {
        let r = rules(#"\*.txt"#, #"what\?"#, #"\[draft\]"#)
        assertExcluded(r, ["*.txt", "what?", "[draft]"])
        assertIncluded(r, ["a.txt", "whatx", "d"])
    }

    func testRegexCharactersAreLiteral() {
        let r = rules("a+b(1).{x}$|")
        assertExcluded(r, ["a+b(1).{x}$|"])
        assertIncluded(r, ["aab(1)x{x}$|", "a+b1"])
        assertIncluded(rules("a.b"), ["axb"])
    }

    func testDirectoryExcludedButFileReincluded() {
        let r = rules("models", "!models/keep.json")
        assertExcluded(r, ["models", "models/big.bin", "models/sub/x"])
        assertIncluded(r, ["models/keep.json"])
        XCTAssertTrue(r.mayReincludeBelow("models"))
        XCTAssertFalse(r.mayReincludeBelow("models/sub"))
        XCTAssertFalse(r.mayReincludeBelow("other"))
    }

    func testMayReincludeBelowWithoutExceptions() {
        let r = rules("models", "*.bin")
        XCTAssertFalse(r.mayReincludeBelow("models"))
    }

    func testMayReincludeBelowNestedAndTrailingGlob() {
        let r = rules("data", "!data/a/b/**")
        XCTAssertTrue(r.mayReincludeBelow("data"))
        XCTAssertTrue(r.mayReincludeBelow("data/a"))
        XCTAssertTrue(r.mayReincludeBelow("data/a/b"))
        XCTAssertFalse(r.mayReincludeBelow("data/c"))
        XCTAssertFalse(r.mayReincludeBelow("dat"))
        assertIncluded(r, ["data/a/b/x"])
        assertExcluded(r, ["data/a/c", "data/a/b"])
    }

    func testMayReincludeBelowWithWildcardException() {
        // As in Docker's walker: a wildcard exception might match anywhere, so every excluded
        // directory must be walked.
        let r = rules("cache", "!**/keep")
        XCTAssertTrue(r.mayReincludeBelow("cache"))
        XCTAssertTrue(r.mayReincludeBelow("cache/deep/er"))
        assertIncluded(r, ["cache/x/keep"])
        assertExcluded(r, ["cache/x/other"])
    }

    func testMalformedPatternReportsLineAndPattern() {
        XCTAssertThrowsError(try IgnoreRules(contents: "*.pyc\n# comment\n\ndata/[abc\n")) { error in
            guard let error = error as? IgnoreRulesError else {
                return XCTFail("unexpected error type \(error)")
            }
            XCTAssertEqual(error.line, 4)
            XCTAssertEqual(error.pattern, "data/[abc")
            XCTAssertTrue(error.description.contains("line 4"), error.description)
            XCTAssertTrue(error.description.contains("data/[abc"), error.description)
        }
    }

    func testOtherMalformedPatterns() {
        for (text, line) in [("[]", 1), ("ok\n[^]", 2), ("[a-]", 1), ("[-a]", 1), (#"x\"#, 1), ("a\n!", 2), ("!/", 1), ("[z", 1)] {
            XCTAssertThrowsError(try IgnoreRules(contents: text), text) { error in
                XCTAssertEqual((error as? IgnoreRulesError)?.line, line, text)
            }
        }
        // A reversed range is accepted (as by Go) and matches nothing.
        XCTAssertFalse(rules("[z-a]").isExcluded("m"))
        // An unmatched `]` is an ordinary character.
        XCTAssertTrue(rules("a]").isExcluded("a]"))
    }

    func testNonASCIINames() {
        let r = rules("données/**/*.csv", "модель?.pt", "[α-ω].txt", "*.日本")
        assertExcluded(r, ["données/x/a.csv", "модель1.pt", "β.txt", "ファイル.日本"])
        assertIncluded(r, ["donnees/x/a.csv", "модель12.pt", "a.txt", "Ω.txt"])
        // `?` is one character (Unicode scalar), not one byte.
        XCTAssertTrue(rules("?.txt").isExcluded("é.txt"))
    }

    func testNamesAreComparedExactlyNotByUnicodeEquivalence() {
        // "é" precomposed vs. "e" + combining accent are different file names on Linux.
        let r = rules("caf\u{E9}")
        XCTAssertTrue(r.isExcluded("caf\u{E9}"))
        XCTAssertFalse(r.isExcluded("cafe\u{301}"))
    }

    func testPathsAreNormalised() {
        let r = rules("build")
        XCTAssertTrue(r.isExcluded("build/"))
        XCTAssertTrue(r.isExcluded("./build/x"))
        XCTAssertFalse(r.isExcluded("."))
        XCTAssertFalse(r.isExcluded(""))
    }

    func testManyStarsStayFast() {
        let r = rules("*a*a*a*a*a*a*a*a*a*a*b", "**/**/**/**/**/**/z")
        let long = String(repeating: "a", count: 200)
        let start = Date()
        XCTAssertFalse(r.isExcluded(long))
        XCTAssertFalse(r.isExcluded(Array(repeating: "d", count: 60).joined(separator: "/")))
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }
}
