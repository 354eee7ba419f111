#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import JustGateCore

/// Durations counted in buckets 2 % wide, so percentiles over a million records need a few kilobytes rather
/// than every value, at the cost of up to 2 % error in a reported percentile.
public struct LatencyHistogram: Sendable, Equatable {
    private static let growth = log(1.02)
    private var buckets: [Int32] = []
    /// Values counted.
    public private(set) var count = 0

    public init() {}

    /// Counts a duration in microseconds.
    public mutating func add(micros: Int) {
        let index = micros <= 0 ? 0 : Int(log(Double(micros) + 1) / LatencyHistogram.growth)
        if index >= buckets.count { buckets.append(contentsOf: repeatElement(0, count: index - buckets.count + 1)) }
        buckets[index] += 1
        count += 1
    }

    /// The value (microseconds) at or below which `fraction` of the values fall, or `nil` when empty.
    public func percentile(_ fraction: Double) -> Int? {
        guard count > 0 else { return nil }
        let rank = max(1, Int((fraction * Double(count)).rounded(.up)))
        var seen = 0
        for (index, bucketCount) in buckets.enumerated() {
            seen += Int(bucketCount)
            if seen >= rank { return Int((exp(Double(index + 1) * LatencyHistogram.growth) - 1).rounded()) }
        }
        return nil
    }
}
