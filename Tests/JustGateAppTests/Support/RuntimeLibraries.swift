import Foundation

/// Which Debian packages a binary's shared libraries come from, as `ldd` and `dpkg` see them here:
/// what the container's runtime stage has to install.
struct RuntimeLibraries {
    /// Packages of debian:bookworm-slim that every image already has (libc6 and libgcc-s1 are essential,
    /// libstdc++6 comes with apt), together with everything they depend on.
    static let baseImagePackages: Set<String> = ["libc6", "libgcc-s1", "libstdc++6"]

    /// A library `ldd` listed: its soname and the file it resolved to (nil: not found).
    struct Library {
        var name: String
        var path: String?
        /// Part of the Swift toolchain: linked statically into the container's binary.
        var isSwiftRuntime: Bool { path?.contains("/lib/swift/linux/") == true }
    }

    var libraries: [Library] = []
    /// Package of each resolved library path.
    var packageByPath: [String: String] = [:]
    /// Direct dependencies of every installed package.
    var dependencies: [String: Set<String>] = [:]

    /// Runs ldd, dpkg -S and dpkg-query for `binary`.
    init(binary: String, ldd: String, dpkg: String, dpkgQuery: String) throws {
        let listing = try SystemTools.run(ldd, [binary])
        guard listing.status == 0 else { throw ChildProcess.Failure(description: "ldd failed: \(listing.stderr)") }
        libraries = Self.parseLDD(listing.stdout)
        let paths = libraries.compactMap(\.path).filter { !$0.contains("/lib/swift/linux/") }
        // ldd reports /lib/...; dpkg may know the file as /usr/lib/... (merged /usr), or the other way.
        let candidates = paths.flatMap { [$0, $0.hasPrefix("/usr/") ? String($0.dropFirst(4)) : "/usr" + $0] }
        let owners = try SystemTools.run(dpkg, ["-S"] + candidates)
        for line in owners.stdout.split(separator: "\n") {
            guard let separator = line.range(of: ": /") else { continue }
            let package = line[..<separator.lowerBound].split(separator: ",").first.map {
                String($0.trimmingCharacters(in: .whitespaces).prefix { $0 != ":" })
            }
            let file = "/" + line[separator.upperBound...]
            for path in paths where path == file || "/usr" + path == file || path == "/usr" + file {
                packageByPath[path] = package
            }
        }
        let installed = try SystemTools.run(dpkgQuery, ["-W", "-f", "${Package}\t${Depends}, ${Pre-Depends}\n"])
        for line in installed.stdout.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let names = parts[1].split(whereSeparator: { $0 == "," || $0 == "|" }).compactMap { item -> String? in
                let name = item.trimmingCharacters(in: .whitespaces).prefix { $0 != " " && $0 != ":" && $0 != "(" }
                return name.isEmpty ? nil : String(name)
            }
            dependencies[String(parts[0]), default: []].formUnion(names)
        }
    }

    /// `name => path (address)`, `path (address)` and `name => not found` lines.
    static func parseLDD(_ text: String) -> [Library] {
        text.split(separator: "\n").compactMap { raw in
            let line = raw.trimmingCharacters(in: .whitespaces)
            if let arrow = line.range(of: " => ") {
                let name = String(line[..<arrow.lowerBound])
                let target = line[arrow.upperBound...]
                if target.hasPrefix("not found") { return Library(name: name, path: nil) }
                return Library(name: name, path: String(target.prefix { $0 != " " }))
            }
            let path = String(line.prefix { $0 != " " })
            // linux-vdso is provided by the kernel, not a file.
            return path.hasPrefix("/") ? Library(name: path, path: path) : nil
        }
    }

    /// `roots` and everything they depend on, transitively, among installed packages.
    func closure(of roots: Set<String>) -> Set<String> {
        var seen = roots
        var queue = Array(roots)
        while let next = queue.popLast() {
            for dependency in dependencies[next] ?? [] where !seen.contains(dependency) {
                seen.insert(dependency)
                queue.append(dependency)
            }
        }
        return seen
    }

    /// The packages that own a library ldd reports, apart from the Swift runtime and the base image.
    var neededPackages: Set<String> {
        let base = closure(of: Self.baseImagePackages)
        return Set(libraries.filter { !$0.isSwiftRuntime }.compactMap { $0.path.flatMap { packageByPath[$0] } })
            .subtracting(base)
    }

    /// The fewest packages whose installation brings every needed one: those no other needed package
    /// depends on. This is what the runtime stage must list, no more and no fewer.
    var packagesToInstall: Set<String> {
        let needed = neededPackages
        return needed.filter { package in
            !needed.contains { other in other != package && closure(of: [other]).contains(package) }
        }
    }
}
