// swift-tools-version:6.1
import PackageDescription

/// justgate: a validating, token-injecting gateway in front of the Just Services profiles API.
///
/// Module layout (edges depend on the core, never the reverse):
/// - `JustGateHTTP`: HTTP/1.1 wire format on bytes (request parser, chunked decoder, response writer,
///   urlencoded and multipart bodies). Pure.
/// - `JustGateCore`: what the server runs: the operation catalogue, field rules, JSON, config model and loader,
///   site keys, problem details, rate-limit policies, the audit record and its hash chain. Pure.
/// - `JustGateOpenAPI`: the OpenAPI document of the site-facing contract, emitted from the catalogue (offline tool,
///   for `justgate openapi`). Pure.
/// - `JustGateAuditReview`: reading audit logs back: chain verification, summary, report (HTML), filters,
///   latency histograms (offline tools, for `justgate audit`). Pure. The server depends on neither.
/// - `JustGateSandbox`: the emulated upstream API, as a pure request → response function with state.
/// - `JustGateReactor`: the event loop and nothing of HTTP: epoll, watchers of foreign descriptors, timers, the
///   monotonic clock, listening sockets, socket addresses and errors, thread names. Edge (sockets).
/// - `JustGateServer`: the HTTP/1.1 server on the reactor: connections (a pure state machine and the edge that
///   performs its actions), their deadlines, the drain, handlers. Edge (sockets).
/// - `JustGateUpstream`: the libcurl multi client driven from the event loops (on the reactor). Edge (libcurl).
/// - `JustGateRedis`: a pipelined RESP client on an event loop (on the reactor), for the shared rate limiter.
///   Edge (sockets).
/// - `JustGateApp`: the request driver (one per event loop: named phases over one per-request context, one
///   exit for log line, audit record and metrics) and composition of the runtime modules above (not the
///   offline tools).
/// - `justgate`: the command line.
let package = Package(
    name: "justgate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "justgate", targets: ["justgate"]),
        // The pure modules as libraries, so the fuzzing and micro-benchmark packages (Fuzz/, bench/micro/)
        // can depend on them without dragging their own tooling into this package's build.
        .library(name: "JustGateHTTP", targets: ["JustGateHTTP"]),
        .library(name: "JustGateCore", targets: ["JustGateCore"]),
        // For Fuzz/ (the RESP reply parser is fuzzed there).
        .library(name: "JustGateRedis", targets: ["JustGateRedis"]),
        // For bench/outbox (the outbox's file backend is an edge, in the app module).
        .library(name: "JustGateApp", targets: ["JustGateApp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-structured-headers", from: "1.7.0"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "CLinuxSystem"),
        // libcrypto's SHA-256, justgate's only one (headers from libssl-dev; the library is libcurl's own).
        .target(name: "CSHA256", linkerSettings: [.linkedLibrary("crypto")]),
        .target(name: "JustGateHTTP"),
        .target(
            name: "JustGateCore",
            dependencies: [
                "CSHA256",
                "JustGateHTTP",  // IPNetwork, for server.trusted_proxies
                .product(name: "Yams", package: "Yams"),
                .product(name: "RawStructuredFieldValues", package: "swift-http-structured-headers"),
            ]
        ),
        // Offline tools on the core; the server (JustGateApp) must not depend on them, the CLI does.
        .target(name: "JustGateOpenAPI", dependencies: ["JustGateCore"]),
        .target(name: "JustGateAuditReview", dependencies: ["JustGateCore"]),
        .target(name: "JustGateSandbox"),
        .target(name: "JustGateReactor", dependencies: ["CLinuxSystem"]),
        .target(name: "JustGateServer", dependencies: ["CLinuxSystem", "JustGateHTTP", "JustGateReactor"]),
        .target(name: "JustGateUpstream", dependencies: ["CCurl", "JustGateReactor"]),
        .target(name: "JustGateRedis", dependencies: ["JustGateReactor", "JustGateCore"]),
        .target(
            name: "JustGateApp",
            dependencies: [
                "JustGateHTTP", "JustGateCore", "JustGateSandbox", "JustGateReactor", "JustGateServer", "JustGateUpstream",
                "JustGateRedis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "justgate",
            dependencies: [
                "JustGateApp",
                "JustGateSandbox",
                "JustGateReactor",
                "JustGateOpenAPI",
                "JustGateAuditReview",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Test data shared by several test targets (the malformed-request corpus).
        .target(name: "JustGateTestSupport", path: "Tests/JustGateTestSupport"),
        .testTarget(name: "JustGateHTTPTests", dependencies: ["JustGateHTTP", "JustGateTestSupport"]),
        .testTarget(
            name: "JustGateCoreTests",
            dependencies: ["JustGateCore", "JustGateAuditReview",
                           .product(name: "PropertyBased", package: "swift-property-based"),
                           // swift-crypto's SHA256 and HMAC<SHA256> are the references justgate's own (libcrypto's,
                           // through CSHA256) are tested against.
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(name: "JustGateSandboxTests", dependencies: ["JustGateSandbox"]),
        .testTarget(name: "JustGateOpenAPITests",
                    dependencies: ["JustGateOpenAPI", "JustGateCore", .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "JustGateAuditReviewTests", dependencies: ["JustGateAuditReview", "JustGateCore"]),
        .testTarget(name: "JustGateReactorTests", dependencies: ["JustGateReactor", "CLinuxSystem"]),
        .testTarget(name: "JustGateRedisTests", dependencies: ["JustGateRedis", "JustGateCore"]),
        .testTarget(
            name: "JustGateAppTests",
            dependencies: ["JustGateApp", "JustGateUpstream", "JustGateReactor", "JustGateServer", "JustGateSandbox", "JustGateTestSupport",
                           "JustGateRedis", "JustGateAuditReview", "CTestSupport",
                           // deploy/compose.yaml is parsed as YAML by the deploy tests.
                           .product(name: "Yams", package: "Yams")]
        ),
        .target(name: "CTestSupport", path: "Tests/CTestSupport"),
    ]
)
