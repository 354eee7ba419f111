extension StringProtocol {
    /// Without leading and trailing spaces and tabs: the optional whitespace (OWS) HTTP allows around a header
    /// value's parts, and what an operator may type around a time. Nothing else is trimmed.
    public func trimmingASCIISpaces() -> Substring {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return Substring(slice)
    }
}
