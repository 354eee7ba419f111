import JustGateCore
import JustGateHTTP

/// The label values the gateway's metrics may carry, each from a set fixed by the code or the config, so
/// no caller can grow the number of series (every series costs memory here and in every Prometheus server
/// that scrapes it, for as long as the process runs).
///
/// Which set bounds each label (`MetricCardinalityTests` checks them on a live `/metrics`):
/// - `site`: the configured site ids, or `-` before a key matched (an unauthenticated request);
/// - `operation`: the catalogue's operation ids, or `-` when no path matched;
/// - `policy`: the configured rate-limit policy names (only a matched site's);
/// - `field`: `OperationSpec.problemFieldNames` of the operation, or `(unknown)` for any other name;
/// - `code`: `ProblemCode.all`, or `(unknown)`;
/// - `status`: the registered statuses the writer has a phrase for, and 499; any other one as its class (`5xx`);
/// - `outcome`: `RequestOutcome`, a closed enum (`-` only for a record no stage decided, which none is);
/// - `reason`: `UpstreamFailureReason`, a closed enum;
/// - `key`: the fingerprints of the configured site keys (12 hex digits of a hash, never a key);
/// - `worker`: the event loops' indexes and `server`; `result`, `state`: fixed words.
/// Methods, paths, request ids, key values and field values are never labels.
enum MetricLabels {
    /// The one value every name outside a bounded set becomes.
    static let unknown = "(unknown)"

    private static let fieldsByOperation: [String: Set<String>] = Dictionary(
        Catalogue.standardOperations.map { ($0.id, $0.problemFieldNames) }, uniquingKeysWith: { first, _ in first })
    private static let problemCodes = Set(ProblemCode.all)
    private static let unregisteredPhrases: Set<String> = ["Informational", "Success", "Redirection", "Client Error", "Server Error"]

    /// `name` when it is a field the catalogue knows for `operation`, else `(unknown)`.
    static func field(_ name: String, operation: String) -> String {
        fieldsByOperation[operation]?.contains(name) == true ? name : unknown
    }

    /// `code` when it is one of the published problem codes, else `(unknown)`.
    static func code(_ code: String) -> String {
        problemCodes.contains(code) ? code : unknown
    }

    /// A registered status (or 499, a client that left) as itself; any other number as its class. The
    /// upstream chooses the statuses that are relayed, and 100...599 is 500 possible values per series.
    static func status(_ status: Int) -> String {
        if status == 499 || !unregisteredPhrases.contains(HTTPResponseWriter.reasonPhrase(status)) {
            return String(status)
        }
        return (100...599).contains(status) ? "\(status / 100)xx" : unknown
    }
}
