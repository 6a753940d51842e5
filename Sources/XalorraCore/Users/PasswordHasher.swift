import HummingbirdBcrypt
import Synchronization

/// bcrypt, run on ``BackgroundWorkers`` (lowest-priority threads) rather than the caller's: a cost-12 hash takes a
/// quarter of a second of CPU, which on an event loop or the cooperative pool would stall every other request, and
/// at normal priority would take the cores from them.
public struct PasswordHasher: Sendable {
    /// The default work factor (`XALORRA_BCRYPT_COST`).
    public static let defaultCost = 12
    /// The lowest accepted work factor.
    public static let minimumCost = 10
    /// The highest accepted: each step doubles the time (cost 16 is about 4 s a login).
    public static let maximumCost = 16

    /// Comparisons made in this process, successful or not (`xalorra_password_checks_total` in `/metrics`): an
    /// unknown username costs one too, so that timing does not tell which usernames exist.
    public static var checks: Int { checkCount.load(ordering: .relaxed) }
    private static let checkCount = Atomic<Int>(0)

    /// The hash compared against when the user is unknown, one per cost, made on first need.
    private static let dummyHashes = Mutex<[Int: String]>([:])

    public let cost: Int

    public init(cost: Int = PasswordHasher.defaultCost) {
        self.cost = cost
    }

    /// A new salted hash of `password`.
    public func hash(_ password: String) async -> String {
        let cost = UInt8(self.cost)
        return await Self.offload { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`; with no hash (an unknown user) it compares against a dummy of the same
    /// cost and answers false, so both cases take the same time.
    /// A password no stored hash can match (over 72 bytes, which bcrypt would cut, or with NUL, where it would
    /// stop) is compared against the dummy too, and refused.
    public func verify(_ password: String, hash: String?) async -> Bool {
        let acceptable = password.utf8.count <= UserRules.passwordRule.maxBytes ?? 72 && !password.utf8.contains(0)
        let stored: String
        if let hash, acceptable {
            stored = hash
        } else {
            stored = await dummyHash()
        }
        let candidate = acceptable ? password : "xalorra-refused-password"
        let matches = await Self.offload { Bcrypt.verify(candidate, hash: stored) }
        Self.checkCount.add(1, ordering: .relaxed)
        return matches && hash != nil && acceptable
    }

    private func dummyHash() async -> String {
        if let known = Self.dummyHashes.withLock({ $0[cost] }) { return known }
        let made = await hash("xalorra-dummy-password")
        return Self.dummyHashes.withLock { hashes in
            if let known = hashes[cost] { return known }
            hashes[cost] = made
            return made
        }
    }

    private static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await BackgroundWorkers.shared.run(work)
    }
}
