/// profile.create: the only operation that mints state out of nothing, so it owns JUID issuance.
extension SandboxAPI {
    /// How many generated JUIDs may collide before creation gives up (only a constant test generator gets there).
    private static let juidAttempts = 8

    func createProfile(_ request: SandboxRequest, project: String, now: Int64) -> SandboxResponse {
        let ip = SandboxFieldRules.present(request.formValue("ip"))
        let name = SandboxFieldRules.present(request.formValue("name"))
        let gender = SandboxFieldRules.present(request.formValue("gender"))
        guard [ip, name, gender].allSatisfy({ $0.map(SandboxFieldRules.fitsStorage) ?? true }) else {
            return .text(400, "Error save data")
        }
        var birthDate: Int64?
        if let text = SandboxFieldRules.present(request.formValue("birthDate")) {
            guard let timestamp = SandboxFieldRules.int64(text) else { return .text(400, "Error save data") }
            birthDate = timestamp
        }

        for _ in 0..<Self.juidAttempts {
            guard let juid = SandboxFieldRules.juid(juidGenerator()) else { break }
            let profile = SandboxProfile(
                juid: juid, ip: ip, name: name, gender: gender, birthDate: birthDate, createdAt: now)
            switch store.withLock({ $0.insert(profile, project: project) }) {
            case .success: return .text(200, juid)
            case .failure(.full): return .text(500, "Error save data")
            case .failure(.duplicate): continue
            }
        }
        return .text(500, "Error save data")
    }
}
