extension Array where Element == UInt8 {
    /// `withUnsafeBytes` that keeps the closure's typed error: the standard one rethrows it as
    /// `any Error`, which would force every parser call site to cast it back.
    ///
    /// `@inlinable`, so callers in other modules get it specialised: called as an opaque generic it looked up
    /// `Result`'s metadata and ran `withUnsafeBytes` unspecialised on every request (~1k instructions).
    @inlinable
    public func withBytes<Value, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Value
    ) throws(Failure) -> Value {
        let result: Result<Value, Failure> = withUnsafeBytes { raw in Result { () throws(Failure) in try body(raw) } }
        return try result.get()
    }
}
