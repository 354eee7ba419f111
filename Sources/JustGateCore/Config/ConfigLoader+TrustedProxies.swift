import JustGateHTTP
import Yams

/// `server.trusted_proxies`: the proxies whose `X-Forwarded-For` the gateway believes (`ClientAddress`).
extension ConfigLoader {
    /// A list of CIDR blocks or single addresses, IPv4 and IPv6. Every entry is checked and every bad one
    /// reported with its line; a block with host bits set (`10.1.2.3/8`) is an error, since its author meant
    /// either a host or another block, and a block that trusts everyone is warned about.
    static func trustedProxies(_ node: Node, reader: inout ConfigNodeReader) -> [IPNetwork]? {
        let path = "server.trusted_proxies"
        guard let items = reader.sequence(node, at: path) else { return nil }
        var networks: [IPNetwork] = []
        var isValid = true
        for (index, item) in items.enumerated() {
            let itemPath = ConfigNodeReader.join(path, index)
            guard let text = reader.string(item, at: itemPath) else { isValid = false; continue }
            switch IPNetwork.parse(text) {
            case .success(let network):
                if network.isEverything {
                    reader.warning("""
                        trusts every peer: any client can then write its own X-Forwarded-For and be logged and \
                        audited as any address; list only the proxies in front of the gateway
                        """, at: itemPath, node: item)
                }
                if networks.contains(network) {
                    reader.warning("'\(text)' is listed twice", at: itemPath, node: item)
                } else {
                    networks.append(network)
                }
            case .failure(let problem):
                isValid = false
                reader.error(message(for: problem, text: text), at: itemPath, node: item)
            }
        }
        return isValid ? networks : nil
    }

    private static func message(for problem: IPNetwork.ParseError, text: String) -> String {
        switch problem {
        case .notAnAddress:
            return """
                '\(text)' is not an IP address or CIDR block; write e.g. 10.0.0.5, 10.0.0.0/8, fd00::/8 or ::1 \
                (no host names, ports or brackets)
                """
        case .badPrefix(let maximum):
            return "'\(text)' has a bad prefix length; write a number from 0 to \(maximum) after the /"
        case .hostBitsSet(let network):
            return """
                '\(text)' has bits set after its prefix; write the block as \(network), or the single proxy \
                without a prefix
                """
        }
    }
}
