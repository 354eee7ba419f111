/// Int64 arithmetic that clamps at the ends of the range instead of trapping.
///
/// The GCRA runs on instants that come from Redis, which the gateway does not control: a reply of
/// `now = Int64.max`, or a stored instant of 9.2e18 against a negative `now`, made `tat - now` overflow,
/// and an overflow in Swift kills the whole process. The reply decoder refuses such values, but the
/// arithmetic must not depend on that: whatever it is fed, it clamps, and a clamped instant only ever
/// means "far in the future" (refuse, retry much later) or "far in the past" (fully recovered).
extension Int64 {
    /// `self + other`, clamped to `Int64.min...Int64.max`.
    @inlinable
    public func addingSaturated(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }

    /// `self - other`, clamped to `Int64.min...Int64.max`.
    @inlinable
    public func subtractingSaturated(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other < 0 ? .max : .min
    }

    /// `self × other`, clamped to `Int64.min...Int64.max`.
    @inlinable
    public func multipliedSaturated(by other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        guard overflow else { return product }
        return (self < 0) == (other < 0) ? .max : .min
    }
}
