// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "fair",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "fair", targets: ["fair"]),
        .executable(name: "fair-bench", targets: ["fair-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", exact: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", exact: "1.7.4"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", exact: "2.1.1"),
        // Already resolved through Hummingbird; named here because the service proxy's backend
        // client is written against NIO directly, and converts to Hummingbird's HTTP types.
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-http-types.git", exact: "1.8.0"),
        // Resolved through Hummingbird too; `fair server` runs its three servers as one ServiceGroup.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        // exec, attach and port-forward are WebSocket streams: the server side through Hummingbird,
        // the API server's hop to the node through swift-websocket's client.
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", exact: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", exact: "1.6.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", exact: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", exact: "2.37.6"),
    ],
    targets: [
        // System libraries from Debian (-dev packages), found through pkg-config.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // The primitives every loop below the CLI shares: a work queue, a thread pool, a keyed lock,
        // an injectable clock. Imports nothing but Foundation.
        .target(name: "FairSupport", swiftSettings: [.swiftLanguageMode(.v5)]),
        // Byte streams, hashing, compression and tar (libarchive). Imports nothing of ours.
        .target(
            name: "FairArchive",
            dependencies: [
                "CArchive", "CZlib", "CZstd",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // Certificates: the cluster's root, the leaves it signs, self-signed node certificates, key pins.
        .target(
            name: "FairTLS",
            dependencies: [
                "FairArchive",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // OCI image-spec types, image layout and oci-archive.
        .target(
            name: "FairOCI",
            dependencies: ["FairArchive"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // HTTP client over libcurl: connection pool, streaming bodies, redirects.
        .target(
            name: "FairHTTP",
            dependencies: ["CCurl", "FairArchive"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // OCI distribution client: auth (docker config, Basic, Bearer tokens), push, pull, mount, retries.
        .target(
            name: "FairRegistry",
            dependencies: ["FairSupport", "FairHTTP", "FairOCI", "FairArchive"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // fair.yaml, build context, preprocessors, layers, image assembly, cache.
        .target(
            name: "FairBuild",
            dependencies: ["FairOCI", "FairArchive", "FairRegistry", "Yams"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // Kubernetes API objects as JSON values, with the conventions every component shares.
        .target(
            name: "FairKube",
            dependencies: ["FairSupport", "FairHTTP", "FairArchive", "Yams"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // What the CLI does with a cluster: training and serving manifests rendered from Templates/,
        // following a Job's pods and logs, waiting for a rollout, copying files into and out of
        // claims. Only `fair` links it.
        .target(
            name: "FairWorkloads",
            dependencies: ["FairKube", "FairArchive", "FairHTTP", "FairSupport", "CZlib", "Yams", .product(name: "Mustache", package: "swift-mustache")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // The API server: REST subset of Kubernetes, discovery, validation, SQLite store, watches.
        // Kubernetes' protobuf request bodies: code generated from its .proto files
        // (scripts/generate-protobuf), and their JSON.
        .target(
            name: "FairKubeProto",
            dependencies: ["FairKube", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .target(
            name: "FairAPIServer",
            dependencies: [
                "FairKube", "FairHTTP", "FairArchive", "FairKubeProto", "FairSupport", "FairHTTPServer", "FairTLS",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "WSCore", package: "swift-websocket"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // The embedded OCI registry (distribution API) on a content-addressed blob store.
        .target(
            name: "FairRegistryServer",
            dependencies: [
                "FairSupport", "FairOCI", "FairArchive",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // The scheduler: binds pending pods to nodes that fit them.
        .target(
            name: "FairScheduler",
            dependencies: ["FairKube", "FairSupport"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // The controllers: Job, ReplicaSet, Deployment, Endpoints, garbage collection, node lifecycle.
        .target(
            name: "FairControllers",
            dependencies: ["FairKube", "FairSupport", "FairTLS"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // What every server of fair shares on top of Hummingbird.
        .target(
            name: "FairHTTPServer",
            dependencies: [
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "WSCore", package: "swift-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // The node agent (kubelet): pulls and unpacks images, runs pods with runc, logs, probes.
        .target(
            name: "FairNode",
            dependencies: [
                "FairKube", "FairSupport", "FairRegistry", "FairOCI", "FairArchive", "FairHTTP", "FairTLS", "FairHTTPServer", "CZlib",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "WSCore", package: "swift-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // The service proxy: routes requests to a Service's ready endpoints (kube-proxy's job).
        .target(
            name: "FairServing",
            dependencies: [
                "FairKube", "FairSupport", "FairArchive",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // The bundled control plane assembled in one process.
        .target(
            name: "FairServer",
            dependencies: [
                "FairAPIServer", "FairRegistryServer", "FairKube", "FairSupport", "FairScheduler", "FairControllers", "FairNode", "FairServing", "FairArchive", "FairTLS", "FairHTTPServer", "Yams",
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(
            name: "fair",
            dependencies: [
                "FairBuild", "FairRegistry", "FairOCI", "FairArchive", "FairServer", "FairNode", "FairKube", "FairWorkloads",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // Load generators for the control-plane benchmarks (scripts/bench_server.py runs them).
        .executableTarget(
            name: "fair-bench",
            dependencies: [
                "FairKube", "FairServer", "FairScheduler", "FairNode",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),

        .testTarget(name: "FairSupportTests", dependencies: ["FairSupport"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(
            name: "FairHTTPServerTests",
            dependencies: [
                "FairHTTPServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(name: "FairArchiveTests", dependencies: ["FairArchive"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "FairOCITests", dependencies: ["FairOCI"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "FairBuildTests", dependencies: ["FairBuild", "FairRegistry"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "FairRegistryTests", dependencies: ["FairRegistry"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "FairKubeTests", dependencies: ["FairKube", "FairServer", "FairSupport"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "FairWorkloadsTests", dependencies: ["FairWorkloads", "FairKube", "FairArchive"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "FairSchedulerTests", dependencies: ["FairScheduler", "FairKube", "FairServer", "FairSupport", "FairAPIServer"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "FairControllersTests", dependencies: ["FairControllers", "FairKube", "FairServer", "FairSupport", "FairAPIServer", "FairTLS"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "FairNodeTests", dependencies: ["FairNode", "FairKube", "FairSupport", "FairRegistry", "FairServer", "FairArchive", "FairOCI", "FairHTTP", "FairTLS", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(
            name: "FairServingTests",
            dependencies: [
                "FairServing", "FairKube", "FairHTTP", "FairArchive",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(name: "FairAPIServerTests", dependencies: ["FairAPIServer", "FairKube", "FairServer", "FairKubeProto", "FairSupport",
                                                             .product(name: "Crypto", package: "swift-crypto"),
                                                             .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(
            name: "FairRegistryServerTests",
            dependencies: ["FairRegistryServer", "FairRegistry", "FairOCI", "FairArchive", .product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "FairHTTPTests",
            dependencies: ["FairHTTP"],
            exclude: ["test_server.py"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
