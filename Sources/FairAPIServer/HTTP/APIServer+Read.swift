import FairKube
import Foundation
import Hummingbird
import ServiceLifecycle

/// GET: one object, a list (selectors, limit + continue), a watch, a scale or a log.
extension APIServer {
    func read(_ path: ResourcePath, query: Query, table: Bool = false) async throws -> Response {
        let definition = path.definition
        let watching = path.watch || query.flag("watch")
        guard let name = path.name else {
            if watching { return try watch(path, query: query, table: table) }
            return try list(path, query: query, table: table)
        }
        // A watch of one object (`GET …/pods/NAME?watch=1`, or the legacy `…/watch/…/pods/NAME`).
        if watching && path.subresource == nil { return try watch(path, query: query, table: table) }
        guard let stored = store.get(definition.storageKey, namespace: path.namespace ?? "", name: name) else {
            throw APIError.notFound(definition, name)
        }
        switch path.subresource {
        case "scale":
            return Self.json(scale(of: stored.object))
        case "log":
            return try await log(path, name: name, query: query)
        default:
            if table { return Self.json(TablePrinter.table(definition, objects: [stored.object], resourceVersion: stored.object.resourceVersion)) }
            return Self.json(stored.object)
        }
    }

    func filters(_ query: Query, _ definition: KindDefinition) throws -> (LabelSelector, FieldSelector?) {
        let labels = try query["labelSelector"].map { try LabelSelector(parsing: $0) } ?? .everything
        let fields = try query["fieldSelector"].flatMap { $0.isEmpty ? nil : try FieldSelector(parsing: $0) }
        // Only the fields the kind declares, as kube-apiserver's field label conversion allows.
        if let unsupported = fields?.requirements.first(where: { !definition.selects($0.path) }) {
            throw APIError.badRequest("field label not supported: \(unsupported.path)")
        }
        return (labels, fields)
    }

    /// `resourceVersion` as a list or watch reads it: empty, or the revision a client saw.
    private func requestedRevision(_ query: Query) throws -> Int64? {
        guard let text = query["resourceVersion"], !text.isEmpty else { return nil }
        guard let revision = Int64(text), revision >= 0 else {
            throw APIError.badRequest("invalid resource version \"\(text)\": must be a non-negative integer")
        }
        return revision
    }

    private func list(_ path: ResourcePath, query: Query, table: Bool) throws -> Response {
        let definition = path.definition
        _ = try requestedRevision(query)
        let (labels, fields) = try filters(query, definition)
        let (items, revision) = store.list(definition.storageKey, namespace: path.namespace)
        var selected = items.map(\.object).filter { labels.matches($0.labels) && (fields?.matches($0) ?? true) }
        var metadata: JSONValue = ["resourceVersion": .string(String(revision))]
        if let token = query["continue"], !token.isEmpty {
            guard let data = Data(base64Encoded: token), let after = String(data: data, encoding: .utf8) else {
                throw APIError.badRequest("invalid continue token")
            }
            selected = selected.filter { Self.sortKey($0) > after }
        }
        if let limit = try query.integer("limit").map(Int.init), limit > 0, selected.count > limit {
            let last = Self.sortKey(selected[limit - 1])
            selected = Array(selected.prefix(limit))
            metadata["continue"] = .string(Data(last.utf8).base64EncodedString())
            metadata["remainingItemCount"] = .int(Int64(items.count - limit))
        }
        if table {
            return Self.json(TablePrinter.table(definition, objects: selected, resourceVersion: String(revision),
                                                continue: metadata["continue"]?.stringValue))
        }
        return Self.json(["kind": .string("\(definition.kind)List"), "apiVersion": .string(definition.apiVersion),
                          "metadata": metadata, "items": .array(selected)])
    }

    static func sortKey(_ object: JSONValue) -> String { "\(object.namespace ?? "")/\(object.name ?? "")" }

    private func watch(_ path: ResourcePath, query: Query, table: Bool) throws -> Response {
        let definition = path.definition
        let (labels, fields) = try filters(query, definition)
        let since: Int64? = try requestedRevision(query).flatMap { $0 == 0 ? nil : $0 }
        let onlyName = path.name
        // Selected as the store publishes, so a watcher wakes only for its own events. A
        // deleted object is sent whatever its labels now say (a client that saw it must hear
        // it went).
        let events = try store.watch(definition.storageKey, namespace: path.namespace, since: since) { event in
            (labels.matches(event.object.labels) || event.kind == .deleted) && (fields?.matches(event.object) ?? true)
                && (onlyName == nil || event.object.name == onlyName)
        }
        let bookmarks = query.flag("allowWatchBookmarks")
        let timeout = try query.integer("timeoutSeconds").map { Double(max(1, min($0, 86_400))) } ?? 1800
        let store = self.store
        let apiVersion = definition.apiVersion, kind = definition.kind

        // Relay the store's events and a timer (bookmarks, timeout) into one ordered stream.
        let (merged, relay) = AsyncStream<WatchEvent?>.makeStream()
        let pump = Task {
            for await event in events { relay.yield(event) }
            relay.finish()
        }
        let clock = Task {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                try await Task.sleep(nanoseconds: UInt64(min(10, deadline.timeIntervalSinceNow) * 1e9))
                if bookmarks { relay.yield(nil) }
            }
            relay.finish()
        }
        let body = ResponseBody { writer in
            defer {
                pump.cancel()
                clock.cancel()
            }
            var columnsSent = false
            // A server shutting down ends its watches at once, as kube-apiserver does; clients
            // see the stream end and watch again elsewhere or later.
            try await withGracefulShutdownHandler {
                for await item in merged {
                    let line: JSONValue
                    if let event = item {
                        if table {
                            // kubectl get -w: each event carries a one-row table; columns come once.
                            let row = TablePrinter.table(definition, objects: [event.object], resourceVersion: event.object.resourceVersion,
                                                         includeColumns: !columnsSent)
                            columnsSent = true
                            line = ["type": .string(event.kind.rawValue), "object": row]
                        } else {
                            // The object as the store encoded it: once for every watcher.
                            try await writer.write(Self.watchLine(event))
                            continue
                        }
                    } else {
                        line = ["type": "BOOKMARK", "object": ["kind": .string(kind), "apiVersion": .string(apiVersion),
                                                               "metadata": ["resourceVersion": .string(String(store.currentRevision))]]]
                    }
                    var buffer = ByteBuffer(data: JSONCoding.encode(line))
                    buffer.writeString("\n")
                    try await writer.write(buffer)
                }
            } onGracefulShutdown: {
                relay.finish()
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache"], body: body)
    }

    /// `{"type":…,"object":…}` and a newline, around the object's shared encoding.
    static func watchLine(_ event: WatchEvent) -> ByteBuffer {
        let object = event.objectJSON
        var buffer = ByteBuffer()
        buffer.reserveCapacity(object.count + 32)
        buffer.writeString("{\"type\":\"\(event.kind.rawValue)\",\"object\":")
        buffer.writeBytes(object)
        buffer.writeString("}\n")
        return buffer
    }

    func scale(of object: JSONValue) -> JSONValue {
        let selector = LabelSelector(object: object.value(at: "spec.selector") ?? [:])
        let selectorText = selector.requirements.compactMap { requirement -> String? in
            if case let .equals(key, value) = requirement { return "\(key)=\(value)" }
            return nil
        }.joined(separator: ",")
        return ["kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": ["name": object["metadata"]?["name"] ?? .null, "namespace": object["metadata"]?["namespace"] ?? .null,
                             "uid": object["metadata"]?["uid"] ?? .null, "resourceVersion": object["metadata"]?["resourceVersion"] ?? .null,
                             "creationTimestamp": object["metadata"]?["creationTimestamp"] ?? .null],
                "spec": ["replicas": object.value(at: "spec.replicas") ?? .int(0)],
                "status": ["replicas": object.value(at: "status.replicas") ?? .int(0), "selector": .string(selectorText)]]
    }

    private func log(_ path: ResourcePath, name: String, query: Query) async throws -> Response {
        var options = LogOptions(container: query["container"], follow: query.flag("follow"),
                                 tailLines: try query.integer("tailLines").map(Int.init), timestamps: query.flag("timestamps"))
        options.previous = query.flag("previous")
        options.sinceSeconds = try query.integer("sinceSeconds")
        options.sinceTime = query["sinceTime"].flatMap { $0.isEmpty ? nil : $0 }
        options.limitBytes = try query.integer("limitBytes")
        // PodLogOptions' validation, as kube-apiserver applies it before asking the node.
        if let tail = options.tailLines, tail < 0 { throw APIError.badRequest("tailLines: Invalid value: \(tail): must be greater than or equal to 0") }
        if let seconds = options.sinceSeconds, seconds < 1 { throw APIError.badRequest("sinceSeconds: Invalid value: \(seconds): must be greater than 0") }
        if let bytes = options.limitBytes, bytes < 1 { throw APIError.badRequest("limitBytes: Invalid value: \(bytes): must be greater than 0") }
        if options.sinceSeconds != nil && options.sinceTime != nil {
            throw APIError.badRequest("at most one of `sinceTime` or `sinceSeconds` may be specified")
        }
        let chunks = try await logs.open(namespace: path.namespace ?? "default", pod: name, options: options)
        let body = ResponseBody { writer in
            for await chunk in chunks { try await writer.write(ByteBuffer(bytes: chunk)) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain"], body: body)
    }
}
