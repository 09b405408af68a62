// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "runsheet",
    // Linux is what is built and tested (.ci/run); no Apple platform is claimed.
    products: [
        .executable(name: "runsheet", targets: ["runsheet"]),
        .library(name: "RunsheetCore", targets: ["RunsheetCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // The PostgreSQL run store (RunsheetPostgres): the driver, and the TLS and logging types its API takes.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CCmark",
            pkgConfig: "libcmark",
            providers: [.apt(["libcmark-dev"])]
        ),
        // The only target that sees the C API: it copies cmark's tree into Swift values.
        .target(name: "RunsheetMarkdown", dependencies: ["CCmark"]),
        // The runbook skeletons of templates/runbooks, embedded (see SkeletonFiles.swift).
        .target(name: "RunsheetSkeletons", resources: [.embedInCode("Skeletons")]),
        .target(
            name: "RunsheetCore",
            dependencies: [
                "RunsheetMarkdown",
                "RunsheetSkeletons",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                // scrypt, for the digests of secret parameter values a signature covers (RunPlan).
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            // The report layouts of templates/reports, embedded (see BuiltinTemplates.swift).
            resources: [.embedInCode("Report/Layouts")]
        ),
        // The PostgreSQL run store: connection settings as libpq reads them, the schema, push and pull.
        // The only target that sees postgres-nio.
        .target(
            name: "RunsheetPostgres",
            dependencies: [
                "RunsheetCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "RunsheetCLI",
            dependencies: ["RunsheetCore", "RunsheetMarkdown", "RunsheetPostgres", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The entry point, and the allocator settings of the program (Allocator.swift).
        .executableTarget(name: "runsheet", dependencies: ["RunsheetCLI", "RunsheetMarkdown"]),
        // libFuzzer target; scripts/fuzz builds it with -sanitize=fuzzer -DFUZZING.
        .executableTarget(name: "runsheet-fuzz", dependencies: ["RunsheetCore"], path: "Fuzz/RunsheetFuzz"),
        // storeappend (StoreAppends.swift) drives the PostgreSQL store through RunsheetPostgres and postgres-nio.
        .executableTarget(name: "runsheet-bench", dependencies: ["RunsheetCore", "RunsheetPostgres", .product(name: "PostgresNIO", package: "postgres-nio"),
                                                                 .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log")],
                          path: "Benchmarks/JournalBench"),
        .target(name: "RunsheetTestSupport", dependencies: ["RunsheetCore", "RunsheetCLI"], path: "Tests/RunsheetTestSupport"),
        .testTarget(name: "RunsheetMarkdownTests", dependencies: ["RunsheetMarkdown", "RunsheetTestSupport"]),
        .testTarget(
            name: "RunsheetCoreTests",
            // Crypto: the tests build security-key (sk-) and rsa-sha2-256 signatures no ssh-keygen here can make.
            dependencies: ["RunsheetCore", "RunsheetTestSupport", .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "CryptoExtras", package: "swift-crypto")]
        ),
        .testTarget(name: "RunsheetPostgresTests", dependencies: ["RunsheetPostgres"]),
        .testTarget(
            name: "RunsheetCLITests",
            dependencies: ["RunsheetCore", "RunsheetCLI", "RunsheetTestSupport", "runsheet", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
