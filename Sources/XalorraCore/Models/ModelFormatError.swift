/// Why a model file could not be imported: what is wrong with it or not supported, in words a user can act on.
public struct ModelFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, e.g. `multi-class models are not supported (num_class 3)`.
    public let message: String

    /// Creates an error that says `message`.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
