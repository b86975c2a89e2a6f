import FairArchive
import FairOCI
import FairRegistry
import Foundation

/// `fair build`: base image layers untouched, then a deps layer (when the project has
/// requirements) and a code layer, a derived config, and a manifest — written to an
/// oci-archive and/or an OCI layout. Same inputs give the same bytes and the same digest.
public struct ImageBuilder {
    public var options: BuildOptions
    public var home: FairHome
    public var log: (String) -> Void
    /// Registry access for registry bases and `--push`.
    public var registries: RegistryClients?
    public var pushEvents: ((TransferEvent) -> Void)?

    public init(options: BuildOptions, home: FairHome = FairHome(), registries: RegistryClients? = nil,
                log: @escaping (String) -> Void = { _ in }) {
        self.options = options
        self.home = home
        self.registries = registries
        self.log = log
    }

    public func build() throws -> BuildResult {
        let project = try loadProject()
        let projectDirectory = project.directory
        let config = project.config
        let level = try compressionLevel()
        let writer = LayerWriter(compression: options.compression, level: level, workers: options.workers, mtime: options.epoch)

        // Base image: the flag wins over fair.yaml; flag paths are relative to where fair runs,
        // fair.yaml paths to the project.
        // Neither: FAIR_BASE, the user's fair config, else the official Python image.
        let defaultBase = options.base == nil && config.base == nil ? DefaultBase.choose() : nil
        let baseText = options.base ?? config.base ?? defaultBase!.reference
        let baseReference = try ImageReference.parse(baseText, relativeTo: config.base != nil && options.base == nil ? projectDirectory : options.currentDirectory)
        let pushReference = try options.push.map { text -> RegistryReference in
            do { return try RegistryReference(parsing: text) } catch let error as RegistryError {
                throw BuildError.invalidOption(option: "--push", message: error.description)
            }
        }
        let source: ImageSource
        do {
            source = try baseReference.open(registries: registries)
        } catch {
            throw Self.explainDefaultBase(defaultBase, error)
        }
        let requestedPlatform = try config.platform.map { try Platform(parsing: $0) } ?? .linuxAMD64
        let base: ResolvedImage?
        do {
            base = try source.resolve(platform: requestedPlatform)
        } catch let error as OCIError {
            throw BuildError.invalidBase(reference: source.reference, reason: error.description)
        } catch {
            throw Self.explainDefaultBase(defaultBase, error)
        }
        let platform = base?.config.platform ?? requestedPlatform

        // Context.
        let outputs = try resolveOutputs(project: config)
        let rules = try ignoreRules(projectDirectory)
        var walker = ContextWalker(root: projectDirectory, rules: rules, excludedAbsolutePaths: Set(outputs.excluded), skipsVirtualenvs: true)
        let context = try walker.walk()
        var warnings = walker.warnings

        let scratch = try home.makeScratchDirectory(prefix: "build")
        TemporaryFiles.register(scratch)
        defer {
            try? FileManager.default.removeItem(atPath: scratch)
            TemporaryFiles.unregister(scratch)
        }

        // Files by rate of change: fair.yaml's `layers:` (by default big non-code files as
        // `assets`), the rest as code. The entrypoint always stays with the code.
        let entrypoint = config.entrypoint.hasPrefix("./") ? String(config.entrypoint.dropFirst(2)) : config.entrypoint
        let plan = try LayerPlan(context: context, rules: config.layers ?? LayerRule.defaults, keepInCode: [entrypoint])
        let targetPython = try? pythonVersion(base: base, config: config, reference: source.reference)
        let code = try codeEntries(context: context, files: plan.code, entrypoint: entrypoint, config: config, projectDirectory: projectDirectory,
                                   targetPython: targetPython, scratch: scratch)
        let (codeEntries, scriptPath) = (code.entries, code.scriptPath)
        warnings += code.warnings
        if let sizeWarning = CodeLayerSize.warning(for: codeEntries, workdir: String(config.workdir.dropFirst())) {
            warnings.append(sizeWarning)
        }

        var builtLayers: [(layer: BuiltLayer, source: String, cached: Bool, createdBy: String, files: Int?)] = []
        if config.requirements != nil || !options.extraRequirements.isEmpty {
            var requirementsPath: String?
            if let requirements = config.requirements {
                let path = try ProjectPath.resolve(requirements, in: projectDirectory, field: "requirements")
                guard FileManager.default.fileExists(atPath: path) else {
                    throw BuildError.config(file: project.file, line: nil, field: "requirements", message: "\(requirements) not found in \(projectDirectory)")
                }
                warnings += try RequirementsReview.review(path: path, name: requirements, project: projectDirectory)
                requirementsPath = path
            }
            let deps = DependencyLayer(
                requirementsPath: requirementsPath, extraRequirements: options.extraRequirements, projectDirectory: projectDirectory,
                pythonVersion: try pythonVersion(base: base, config: config, reference: source.reference),
                platform: platform, glibcVersion: base?.config.config?.Labels?[ImageConfigurator.glibcVersionLabel] ?? "2.28")
            let (layer, cached) = try deps.build(writer: writer, cache: LayerCache(home: home), scratch: scratch, log: log)
            let installed = ([config.requirements.map { "-r \($0)" }].compactMap { $0 } + options.extraRequirements).joined(separator: " ")
            builtLayers.append((layer, "deps", cached, "fair build: pip install \(installed) --target \(DependencyLayer.sitePackages)", nil))
        }
        // Layers built now go to the registry while they are written (--push).
        var uploads: [StreamedBlobUpload] = []
        let streamTo = try pushReference.flatMap { target in
            try registries.flatMap { options.streamsLayers ? (client: try $0.client(for: target.host), repository: target.repository) : nil }
        }
        func upload() -> StreamedBlobUpload? {
            guard let streamTo else { return nil }
            let upload = StreamedBlobUpload(client: streamTo.client, repository: streamTo.repository)
            uploads.append(upload)
            return upload
        }
        defer { for upload in uploads { upload.abandon() } }  // a build that fails leaves no session open

        let prefix = String(config.workdir.dropFirst())
        for planned in plan.layers {
            let entries = planned.files.map { item in
                LayerEntry(path: prefix.isEmpty ? item.relativePath : "\(prefix)/\(item.relativePath)", content: item.content,
                           mode: LayerEntry.normalisedMode(for: item.content, sourceMode: item.sourceMode))
            }
            let (layer, cached) = try FileLayer(name: planned.name, entries: entries)
                .build(writer: writer, cache: LayerCache(home: home), scratch: scratch, upload: upload)
            builtLayers.append((layer, planned.name, cached, "fair build: copy \(config.name)'s \(planned.name) to \(config.workdir)", planned.files.count))
        }
        let codeLayer = try writer.write(codeEntries, to: "\(scratch)/code.layer", upload: upload())
        builtLayers.append((codeLayer, "code", false, "fair build: copy \(config.name) to \(config.workdir)",
                            plan.code.filter { if case .directory = $0.content { return false } else { return true } }.count))
        if let addition = options.addition {
            let layer = try writer.write(addition.entries, to: "\(scratch)/\(addition.source).layer", upload: upload())
            builtLayers.append((layer, addition.source, false, "fair: add \(addition.files.map { "/" + $0.path }.joined(separator: " "))", nil))
        }

        // Config and manifest.
        var configurator = ImageConfigurator(project: config, scriptPath: scriptPath, epoch: options.epoch)
        configurator.addition = options.addition
        let imageConfig = configurator.makeConfig(
            base: base?.config, platform: platform,
            layers: builtLayers.map { ($0.layer.diffID, $0.createdBy, $0.source) },
            hasDeps: builtLayers.contains { $0.source == "deps" })
        let configBytes = try CanonicalJSON.encode(imageConfig)
        let configDescriptor = Descriptor(mediaType: MediaType.imageConfig, digest: Digest.sha256(of: configBytes), size: Int64(configBytes.count))

        let baseLayers = (base?.manifest.layers ?? []).map { layer -> Descriptor in
            var layer = layer
            layer.mediaType = MediaType.ociLayerType(layer.mediaType)
            return layer
        }
        let newLayers = builtLayers.map { Descriptor(mediaType: $0.layer.mediaType, digest: $0.layer.digest, size: $0.layer.size) }
        var annotations: [String: String] = [AnnotationKey.created: configurator.created]
        if let base { annotations[AnnotationKey.baseDigest] = base.manifestDigest.description }
        let manifest = ImageManifest(config: configDescriptor, layers: baseLayers + newLayers, annotations: annotations)
        let manifestBytes = try CanonicalJSON.encode(manifest)
        let manifestDigest = Digest.sha256(of: manifestBytes)

        let tag = try options.tag.map { try ImageTag(parsing: $0) } ?? ImageTag(parsing: ImageTag.sanitisedName(config.name))
        var manifestDescriptor = Descriptor(mediaType: MediaType.imageManifest, digest: manifestDigest, size: Int64(manifestBytes.count))
        manifestDescriptor.annotations = [AnnotationKey.refName: tag.description]

        var blobs = [
            BlobToWrite(digest: manifestDigest, size: Int64(manifestBytes.count), content: .bytes(manifestBytes), verify: false),
            BlobToWrite(digest: configDescriptor.digest, size: configDescriptor.size, content: .bytes(configBytes), verify: false),
        ]
        for layer in base?.manifest.layers ?? [] {
            blobs.append(BlobToWrite(digest: layer.digest, size: layer.size, content: source.layerContent(layer), verify: true))
        }
        for built in builtLayers {
            blobs.append(BlobToWrite(digest: built.layer.digest, size: built.layer.size, content: .file(path: built.layer.path), verify: false))
        }
        let image = ImageToWrite(manifest: manifestDescriptor, blobs: blobs)
        if let archive = outputs.archive {
            try OCIArchiveWriter.write(image, to: archive, mtime: options.epoch)
        }
        if let layout = outputs.layout {
            try OCILayoutWriter.add(image, to: layout)
        }
        var pushReport: ImagePusher.Report?
        if let pushReference, let registries {
            var target = pushReference
            if target.tag == nil && target.digest == nil { target.tag = tag.tag }
            // What went up while it was built is only checked (HEAD) by the pusher; a streamed
            // upload that failed is sent again the usual way, or its error reported.
            var streamed: [Digest: Int64] = [:]
            for upload in uploads where (try? upload.wait()) != nil {
                if let blob = upload.uploaded { streamed[blob.digest] = blob.size }
            }
            pushReport = try registries.pusher(for: target.host, events: pushEvents).push(image, to: target, streamed: streamed)
        }

        var layers: [BuildResult.Layer] = []
        for (layer, diffID) in zip(baseLayers, base?.config.rootfs.diff_ids ?? []) {
            layers.append(.init(digest: layer.digest, diffID: diffID, size: layer.size, mediaType: layer.mediaType, source: "base", cached: true))
        }
        for built in builtLayers {
            layers.append(.init(digest: built.layer.digest, diffID: built.layer.diffID, size: built.layer.size, mediaType: built.layer.mediaType,
                                source: built.source, cached: built.cached, files: built.files))
        }
        return BuildResult(
            digest: manifestDigest, tag: tag.description, mediaType: MediaType.imageManifest, size: Int64(manifestBytes.count),
            config: configDescriptor.digest, base: base?.reference ?? source.reference, platform: platform.description, layers: layers,
            outputs: .init(archive: outputs.archive, layout: outputs.layout), push: pushReport, warnings: warnings,
            pythonPath: imageConfig.config?.environmentValue("PYTHONPATH"),
            command: (imageConfig.config?.Entrypoint ?? []) + (imageConfig.config?.Cmd ?? []))
    }

    // MARK: - Steps

    /// A base nobody named that cannot be had (no network, no such image) is explained: where
    /// the choice came from, and how to make a base without a registry.
    static func explainDefaultBase(_ choice: DefaultBase.Choice?, _ error: Error) -> Error {
        guard let choice else { return error }
        return BuildError.invalidBase(
            reference: choice.reference,
            reason: "no base image was named, so \(choice.origin) chose \(choice.reference), which cannot be fetched (\(error)); "
                + "name one with --base, `base:` in fair.yaml or FAIR_BASE, or make one without a registry: "
                + "`fair base create --output base.tar` then FAIR_BASE=oci-archive:base.tar")
    }

    private func loadProject() throws -> (directory: String, file: String, config: ProjectConfig) {
        let directory = Self.realPath(options.projectDirectory, relativeTo: options.currentDirectory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw BuildError.projectNotFound(options.projectDirectory)
        }
        let given = options.configFile.map { Self.realPath($0, relativeTo: options.currentDirectory) }
        let config = try ProjectConfig.loadOrInfer(file: given, projectDirectory: directory, entrypoint: options.entrypoint)
        return (directory, given ?? "\(directory)/fair.yaml", config)
    }

    private func compressionLevel() throws -> Int {
        let level = options.level ?? options.compression.defaultLevel
        guard options.compression.levels.contains(level) else {
            throw BuildError.invalidOption(
                option: "--level",
                message: "\(level) is not a \(options.compression.rawValue) level; use \(options.compression.levels.lowerBound)...\(options.compression.levels.upperBound)")
        }
        return level
    }

    private func resolveOutputs(project: ProjectConfig) throws -> (archive: String?, layout: String?, excluded: [String]) {
        var archive = options.outputArchive.map { Self.realPath($0, relativeTo: options.currentDirectory) }
        var layout = options.layoutDirectory.map { Self.realPath($0, relativeTo: options.currentDirectory) }
        if archive == nil && layout == nil && options.push == nil {
            // Like a local image store: built images land in fair's own layout unless told otherwise.
            layout = home.images
        }
        if let path = archive {
            let directory = (path as NSString).deletingLastPathComponent
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw BuildError.invalidOption(option: "--output", message: "directory \(directory) does not exist")
            }
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                archive = path + "/\(ImageTag.sanitisedName(project.name)).tar"
            }
        }
        return (archive, layout, [archive, layout].compactMap { $0 })
    }

    private func ignoreRules(_ projectDirectory: String) throws -> IgnoreRules {
        let path = "\(projectDirectory)/.fairignore"
        var userRules = ""
        if FileManager.default.fileExists(atPath: path) {
            try FileSizeLimit.check(path, limit: FileSizeLimit.ignoreFile, kind: "a .fairignore")
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw BuildError.unreadable(path: path, reason: "not readable UTF-8 text")
            }
            do {
                _ = try IgnoreRules(contents: text)
            } catch let error as IgnoreRulesError {
                throw BuildError.config(file: path, line: error.line, field: "", message: "\(error.reason): \(error.pattern)")
            }
            userRules = text
        }
        return try IgnoreRules(contents: (DefaultIgnores.patterns + [userRules]).joined(separator: "\n"))
    }

    /// The code layer's entries: `files` (what the layer plan left for the code) and the
    /// converted notebook; `context` (every file) is what the checks look at.
    /// `entrypoint` is fair.yaml's, without a leading `./`.
    private func codeEntries(context: [ContextWalker.Entry], files: [ContextWalker.Entry], entrypoint: String, config: ProjectConfig,
                             projectDirectory: String, targetPython: String?,
                             scratch: String) throws -> (entries: [LayerEntry], scriptPath: String, warnings: [String]) {
        // Resolved first: a symlink out of the project must not even be checked for existence.
        let entrypointPath = try ProjectPath.resolve(entrypoint, in: projectDirectory, field: "entrypoint")
        guard FileManager.default.fileExists(atPath: entrypointPath) else {
            throw BuildError.entrypointNotFound(entrypoint: config.entrypoint, project: projectDirectory)
        }
        guard context.contains(where: { $0.relativePath == entrypoint }) else {
            throw BuildError.entrypointIgnored(entrypoint: config.entrypoint)
        }
        let prefix = String(config.workdir.dropFirst())
        func imagePath(_ relative: String) -> String { prefix.isEmpty ? relative : "\(prefix)/\(relative)" }

        var entries = files.map { item in
            LayerEntry(path: imagePath(item.relativePath), content: item.content,
                       mode: LayerEntry.normalisedMode(for: item.content, sourceMode: item.sourceMode))
        }
        if !prefix.isEmpty { entries.append(LayerEntry(path: prefix, content: .directory, mode: 0o755)) }

        var script = entrypoint
        var warnings: [String] = []
        if entrypoint.hasSuffix(".ipynb") {
            script = String(entrypoint.dropLast(".ipynb".count)) + ".py"
            if context.contains(where: { $0.relativePath == script }) {
                throw BuildError.config(
                    file: "fair.yaml", line: nil, field: "entrypoint",
                    message: "\(entrypoint) converts to \(script), which already exists in the project; rename one of them or ignore \(script) in .fairignore")
            }
            try FileSizeLimit.check(entrypointPath, limit: FileSizeLimit.notebook, kind: "a notebook")
            guard let data = FileManager.default.contents(atPath: entrypointPath) else {
                throw BuildError.unreadable(path: entrypointPath, reason: "permission denied")
            }
            let conversion = try NotebookConverter.conversion(of: data, sourceName: entrypoint)
            try NotebookSyntaxCheck.check(conversion, sourceName: entrypoint, targetPython: targetPython, scratch: scratch)
            warnings = conversion.warnings.map(\.description)
            entries.append(LayerEntry(path: imagePath(script), content: .bytes(Array(conversion.script.utf8)), mode: 0o644))
        }
        return (entries, config.workdir == "/" ? "/\(script)" : "\(config.workdir)/\(script)", warnings)
    }

    private func pythonVersion(base: ResolvedImage?, config: ProjectConfig, reference: String) throws -> String {
        if let explicit = config.python { return explicit }
        let execution = base?.config.config
        if let label = execution?.Labels?[ImageConfigurator.pythonVersionLabel] { return label }
        if let full = execution?.environmentValue("PYTHON_VERSION") {
            return full.split(separator: ".").prefix(2).joined(separator: ".")
        }
        throw BuildError.pythonVersionUnknown(base: reference)
    }

    /// An absolute path with symlinks resolved where it exists, so the same file is always
    /// recognised (e.g. an output archive inside the project being built).
    public static func realPath(_ path: String, relativeTo directory: String) -> String {
        let absolute = path.hasPrefix("/") ? path : "\(directory)/\(path)"
        let standardized = URL(fileURLWithPath: absolute).standardizedFileURL
        let resolvedParent = standardized.deletingLastPathComponent().resolvingSymlinksInPath()
        return resolvedParent.appendingPathComponent(standardized.lastPathComponent).path
    }
}
