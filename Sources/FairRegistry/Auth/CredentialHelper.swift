import Foundation

/// A docker credential helper (`docker-credential-NAME get|store|erase`), speaking its JSON
/// protocol on standard input and output.
struct CredentialHelper {
    let name: String
    var executable: String { "docker-credential-\(name)" }

    func get(serverURL: String) throws -> Credentials? {
        let (status, output) = try run("get", input: serverURL)
        if status != 0 {
            // Helpers report a host they know nothing about this way; anything else is a failure.
            if output.localizedCaseInsensitiveContains("credentials not found") { return nil }
            throw RegistryError.credentialHelper(helper: executable, reason: output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
              let username = object["Username"] as? String, let secret = object["Secret"] as? String else {
            throw RegistryError.credentialHelper(helper: executable, reason: "answered `get` with something that is not {\"Username\",\"Secret\"} JSON")
        }
        return Credentials(username: username, password: secret)
    }

    func store(serverURL: String, credentials: Credentials) throws {
        let payload = try JSONSerialization.data(withJSONObject: ["ServerURL": serverURL, "Username": credentials.username, "Secret": credentials.password])
        let (status, output) = try run("store", input: String(decoding: payload, as: UTF8.self))
        if status != 0 { throw RegistryError.credentialHelper(helper: executable, reason: output) }
    }

    func erase(serverURL: String) throws -> Bool {
        let (status, _) = try run("erase", input: serverURL)
        return status == 0
    }

    private func run(_ action: String, input: String) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable, action]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        do {
            try process.run()
        } catch {
            throw RegistryError.credentialHelper(helper: executable, reason: "not found on PATH")
        }
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try? stdin.fileHandleForWriting.close()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus == 127 {
            throw RegistryError.credentialHelper(helper: executable, reason: "not found on PATH")
        }
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
