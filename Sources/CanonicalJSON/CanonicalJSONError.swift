/// JSON input that does not describe a message: what is wrong, in words naming the member.
public struct CanonicalJSONError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
