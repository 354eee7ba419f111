#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// For what the gateway does just after an answer (a log line, a thread starting, a counter going back to
/// zero): reads again every 10 ms until the reading is what the test waits for or the time is up, and hands
/// back the last reading, so the test's own `#expect` on it says what was there when it gave up.
enum Polling {
    static func read<Value>(timeoutSeconds: Double, until isDone: (Value) -> Bool, _ read: () -> Value) -> Value {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var value = read()
        while !isDone(value) && Date() < deadline {
            usleep(10_000)
            value = read()
        }
        return value
    }
}
