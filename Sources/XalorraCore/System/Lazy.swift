import Synchronization

/// A value made on first use and shared after, safe to reach from any task: one-shot commands then pay only for
/// what they use (no store for `token`, no secret for `predict`).
public final class Lazy<Value: Sendable>: Sendable {
    private let make: @Sendable () throws(XalorraError) -> Value
    private let state = Mutex<Value?>(nil)

    /// Creates a lazy value made by `make`; a failure is not cached, so the next use tries again.
    public init(_ make: @escaping @Sendable () throws(XalorraError) -> Value) { self.make = make }

    /// The value, made now if this is the first use.
    public func get() throws(XalorraError) -> Value {
        try state.withLock { (value: inout Value?) throws(XalorraError) -> Value in
            if let value { return value }
            let made = try make()
            value = made
            return made
        }
    }
}
