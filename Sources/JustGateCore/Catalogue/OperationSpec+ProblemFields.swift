extension OperationSpec {
    /// Every field name a `FieldProblem` of this operation can carry when the problem is about a field the
    /// catalogue knows: its path parameter, its fields, and for the `data` object of `utm.update` the
    /// documented members (`data.email`, …). A bounded set fixed by the catalogue, unlike the names of
    /// unknown fields, which the caller chooses; metrics label by this set only (see `MetricLabels`).
    public var problemFieldNames: Set<String> {
        var names: Set<String> = []
        for spec in allFields {
            names.insert(spec.name)
            if spec.rule == .utmData {
                for member in UTMDataRule.documentedKeys { names.insert("\(spec.name).\(member)") }
            }
        }
        return names
    }
}
