// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "fair",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "fair", targets: ["fair"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
    ],
    targets: [
        // System libraries from Debian (-dev packages), found through pkg-config.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // Byte streams, hashing, compression and tar (libarchive). Imports nothing of ours.
        .target(
            name: "FairArchive",
            dependencies: [
                "CArchive", "CZlib", "CZstd",
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
            dependencies: ["FairHTTP", "FairOCI", "FairArchive"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // fair.yaml, build context, preprocessors, layers, image assembly, cache.
        .target(
            name: "FairBuild",
            dependencies: ["FairOCI", "FairArchive", "FairRegistry", "Yams"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(
            name: "fair",
            dependencies: [
                "FairBuild", "FairRegistry", "FairOCI", "FairArchive",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),

        .testTarget(name: "FairArchiveTests", dependencies: ["FairArchive"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "FairOCITests", dependencies: ["FairOCI"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "FairBuildTests", dependencies: ["FairBuild", "FairRegistry"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "FairRegistryTests", dependencies: ["FairRegistry"], swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(
            name: "FairHTTPTests",
            dependencies: ["FairHTTP"],
            exclude: ["test_server.py"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
