import JustGateCore

extension GatewayContext {
    /// Whether `text` is a site key or an upstream token this gateway knows. A client-chosen request id is
    /// written to the log and the audit record, so a site that sends its key (or a token) as `X-Request-Id`
    /// gets a generated id instead: secrets never reach either, whatever a site sends.
    func isCredential(_ text: String) -> Bool {
        keys.match(presentedKey: text) != nil || sites.contains { $0.upstreamToken == Secret(text) }
    }
}
