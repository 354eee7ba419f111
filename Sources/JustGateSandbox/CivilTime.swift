/// UTC calendar arithmetic for the statistics endpoints, done by hand so the sandbox needs no Foundation.
///
/// The proleptic Gregorian calendar repeats every 400 years (146 097 days). Counting years from March makes
/// February the last month, so leap days fall at the end of a year and month lengths follow a fixed pattern.
enum CivilTime {
    static let secondsPerDay: Int64 = 86_400
    private static let daysPerEra: Int64 = 146_097
    /// Days from 0000-03-01 (the start of era 0 in March-based years) to 1970-01-01.
    private static let epochOffsetDays: Int64 = 719_468

    /// Days since 1970-01-01 for a valid calendar date.
    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let marchYear = month <= 2 ? year - 1 : year
        let era = floorDivide(marchYear, 400)
        let yearOfEra = marchYear - era * 400
        let monthFromMarch = Int64((month + 9) % 12)
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * daysPerEra + dayOfEra - epochOffsetDays
    }

    /// The calendar date of a day counted from 1970-01-01; the inverse of `days(year:month:day:)`.
    static func date(days: Int64) -> (year: Int64, month: Int, day: Int) {
        let shifted = days + epochOffsetDays
        let era = floorDivide(shifted, daysPerEra)
        let dayOfEra = shifted - era * daysPerEra
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / (daysPerEra - 1)) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthFromMarch + 2) / 5 + 1)
        let month = Int(monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9)
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// Parses `YYYY-MM-DD HH:MM:SS` (UTC) into Unix seconds, rejecting impossible dates such as 2021-02-29.
    static func unixSeconds(parsing text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 19,
            bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: " "),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let year = number(bytes[0..<4]), let month = number(bytes[5..<7]), let day = number(bytes[8..<10]),
            let hour = number(bytes[11..<13]), let minute = number(bytes[14..<16]),
            let second = number(bytes[17..<19])
        else { return nil }
        guard (1...12).contains(month), (1...daysInMonth(year: Int64(year), month: month)).contains(day),
            (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second)
        else { return nil }
        let dayCount = days(year: Int64(year), month: month, day: day)
        return dayCount * secondsPerDay + Int64(hour * 3600 + minute * 60 + second)
    }

    /// `YYYY-MM-DD` of the UTC day containing `unixSeconds`, the key format of stat-by-refid.
    static func dateString(unixSeconds: Int64) -> String {
        let civil = date(days: floorDivide(unixSeconds, secondsPerDay))
        return padded(civil.year, 4) + "-" + padded(Int64(civil.month), 2) + "-" + padded(Int64(civil.day), 2)
    }

    /// `YYYY-MM-DD HH:MM:SS` of `unixSeconds` in UTC, the inverse of `unixSeconds(parsing:)`.
    static func dateTimeString(unixSeconds: Int64) -> String {
        let secondOfDay = unixSeconds - floorDivide(unixSeconds, secondsPerDay) * secondsPerDay
        return dateString(unixSeconds: unixSeconds) + " "
            + padded(secondOfDay / 3600, 2) + ":" + padded(secondOfDay / 60 % 60, 2) + ":" + padded(secondOfDay % 60, 2)
    }

    static func isLeapYear(_ year: Int64) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    static func daysInMonth(year: Int64, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Division rounding toward negative infinity, so days before 1970 still start at midnight.
    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? quotient - 1 : quotient
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in digits {
            guard SandboxFieldRules.isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func padded(_ value: Int64, _ width: Int) -> String {
        let digits = String(value.magnitude)
        let sign = value < 0 ? "-" : ""
        return sign + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
