import XCTest
@testable import FairBuild

final class ProjectConfigTests: XCTestCase {
    private func parse(_ text: String) throws -> ProjectConfig {
        try ProjectConfig.parse(text, file: "fair.yaml", projectDirectory: "/nonexistent/my-project")
    }

    private func message(_ text: String) -> String {
        do {
            _ = try parse(text)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    func testFullConfig() throws {
        let config = try parse("""
            name: mnist
            base: oci-archive:base.tar
            entrypoint: train.ipynb
            args: [--epochs, 3]
            env:
              A: "1"
              B: two
            workdir: /srv/app/
            labels: {team: ml}
            requirements: reqs.txt
            python: "3.12"
            train:
              cpu: "2"
              gpu: 1
              nodeSelector: {disk: ssd}
              workers: 4
            serve:
              predict: predict.py:predict
              replicas: 2
            """)
        XCTAssertEqual(config.name, "mnist")
        XCTAssertEqual(config.train.workers, 4)
        XCTAssertEqual(config.args, ["--epochs", "3"])
        XCTAssertEqual(config.env.map(\.name), ["A", "B"])
        XCTAssertEqual(config.workdir, "/srv/app")
        XCTAssertEqual(config.labels, ["team": "ml"])
        XCTAssertEqual(config.requirements, "reqs.txt")
        XCTAssertEqual(config.train.gpu, 1)
        XCTAssertEqual(config.train.nodeSelector, ["disk": "ssd"])
        XCTAssertEqual(config.serve.replicas, 2)
    }

    func testDefaults() throws {
        let config = try parse("entrypoint: train.py\n")
        XCTAssertEqual(config.name, "my-project")
        XCTAssertEqual(config.workdir, "/app")
        XCTAssertNil(config.base)
        XCTAssertNil(config.requirements)
        XCTAssertEqual(config.args, [])
    }

    func testErrorsNameFieldAndLine() {
        XCTAssertEqual(message("entrypoint: train.py\nentrypont: x\n"),
                       "fair.yaml:2: unknown key \"entrypont\" (did you mean \"entrypoint\"?)")
        XCTAssertTrue(message("entrypoint: train.py\nserve:\n  replica: 2\n").hasPrefix("fair.yaml:3: unknown key \"serve.replica\""))
        XCTAssertEqual(message("entrypoint: train.py\ntrain:\n  gpu: lots\n"),
                       "fair.yaml:3: train.gpu: expected a whole number, got \"lots\"")
        XCTAssertTrue(message("entrypoint: train.py\ntrain:\n  workers: 0\n").hasPrefix("fair.yaml:3: train.workers:"), message("entrypoint: train.py\ntrain:\n  workers: 0\n"))
        XCTAssertTrue(message("entrypoint: train.r\n").contains("must be a .py script or an .ipynb notebook"))
        XCTAssertTrue(message("entrypoint: train.py\nworkdir: relative\n").contains("workdir: must be an absolute path"))
        XCTAssertTrue(message("name: x\n").contains("entrypoint: required"))
        XCTAssertTrue(message("entrypoint: [a\n").hasPrefix("fair.yaml:"))
        XCTAssertTrue(message("- a\n- b\n").contains("expected a mapping"))
        XCTAssertTrue(message("").contains("empty"))
        XCTAssertTrue(message("entrypoint: t.py\nenv: {\"1X\": a}\n").contains("invalid environment variable name"))
    }
}

final class ProjectConfigSecretsTests: XCTestCase {
    private func parse(_ text: String) throws -> ProjectConfig {
        try ProjectConfig.parse(text, file: "fair.yaml", projectDirectory: "/nonexistent/my-project")
    }

    func testSecretsOfTrainAndServe() throws {
        let config = try parse("""
        entrypoint: train.py
        train:
          secrets: [hf-token, "AWS_SECRET_ACCESS_KEY=s3:secret-key"]
        serve:
          secrets: [db]
        """)
        XCTAssertEqual(config.train.secrets, [.allKeys(secret: "hf-token"), .key(variable: "AWS_SECRET_ACCESS_KEY", secret: "s3", key: "secret-key")])
        XCTAssertEqual(config.serve.secrets, [.allKeys(secret: "db")])
    }

    func testABadEntryIsNamedWithTheFile() {
        for (entry, problem) in [("Bad_Name", "is not a Secret name"), ("X=s3", "expected VAR=SECRET:KEY"),
                                 ("1X=s3:k", "is not an environment variable name"), ("X=s3:a/b", "is not a Secret key")] {
            XCTAssertThrowsError(try parse("entrypoint: train.py\ntrain:\n  secrets: [\"\(entry)\"]\n")) { error in
                XCTAssertTrue("\(error)".contains("fair.yaml") && "\(error)".contains("secrets") && "\(error)".contains(problem), "\(error)")
            }
        }
    }
}
