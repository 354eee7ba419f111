/// A parsed Content-Type, so the pipeline can choose the body decoder by type and read `boundary`/`charset`
/// without string slicing at each use.
public struct MediaType: Sendable, Equatable {
    /// Lowercased top-level type, e.g. "multipart".
    public var type: String
    /// Lowercased subtype, e.g. "form-data".
    public var subtype: String
    /// Parameters by lowercased name; values keep their case (a boundary is case-sensitive), quotes removed.
    public var parameters: [String: String]

    /// Creates a media type from parts.
    public init(type: String, subtype: String, parameters: [String: String] = [:]) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    /// Parses `type "/" subtype *( OWS ";" OWS [ name "=" ( token / quoted-string ) ] )`; nil if malformed or a
    /// parameter name repeats.
    public init?(parsing text: String) {
        var text = text
        let parsed = text.withUTF8 { bytes -> (String, String, [String: String])? in
            guard let (leading, parameters) = HeaderParameters.parse(UnsafeRawBufferPointer(bytes), leadingAllowsSlash: true) else { return nil }
            let essence = UnsafeBufferPointer(rebasing: bytes[leading])
            guard let slash = essence.firstIndex(of: ASCII.slash) else { return nil }
            let type = ASCII.lowercased(String(decoding: UnsafeBufferPointer(rebasing: essence[..<slash]), as: UTF8.self))
            let subtype = ASCII.lowercased(String(decoding: UnsafeBufferPointer(rebasing: essence[(slash + 1)...]), as: UTF8.self))
            var dictionary: [String: String] = [:]
            for parameter in parameters { dictionary[parameter.name] = parameter.value }
            return (type, subtype, dictionary)
        }
        guard let (type, subtype, parameters) = parsed else { return nil }
        self.init(type: type, subtype: subtype, parameters: parameters)
    }

    /// Whether `contentType` is exactly `application/x-www-form-urlencoded` (any letter case, no
    /// parameters): the spelling nearly every form post uses, recognised without parsing.
    public static func isPlainFormURLEncoded(_ contentType: String) -> Bool {
        ASCII.caseInsensitiveEquals(contentType, "application/x-www-form-urlencoded")
    }

    /// Whether this is `type/subtype`, compared case-insensitively.
    public func matches(type: String, subtype: String) -> Bool {
        ASCII.caseInsensitiveEquals(self.type, type) && ASCII.caseInsensitiveEquals(self.subtype, subtype)
    }
}
