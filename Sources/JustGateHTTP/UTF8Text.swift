/// Text from bytes that must be UTF-8, for every decoder in this module.
enum UTF8Text {
    /// The bytes as a `String`, or nil when they are not valid UTF-8.
    ///
    /// ASCII (nearly every field a site sends) is taken as it is; only other text goes through
    /// the standard library's validator, whose generic implementation looks up type metadata at
    /// run time on every call (measured: ~1 % of the gateway's CPU under load).
    static func validated(_ bytes: UnsafeRawBufferPointer) -> String? {
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        return String(validating: bytes, as: UTF8.self)
    }
}
