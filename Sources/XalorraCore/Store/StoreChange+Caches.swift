extension LocalAPI {
    /// Drops what this process's caches hold that `change` makes stale: another instance (or process) changed the
    /// store. The caches' one-second limit stays the fallback for a change never announced.
    ///
    /// The access-token cache (``TokenCache`` in the server) holds only what a token's signature proves, never the
    /// store's word: the account behind it is checked in ``AccountStatusCache`` on every request. A refresh token
    /// is looked up in the store at each use, uncached.
    package func invalidateCaches(_ change: StoreChange) {
        switch change {
        case .predictions: break
        case .users: accountStatus.clear()
        case .apiKeys: APIKeyCache.shared.clear()
        case .models:
            // Kept explainers stay: their keys hold each version's creation time, so a changed version is never
            // explained with them, and the least recently used go first when room is needed.
            modelCache.clear()
        case .resync:
            accountStatus.clear()
            APIKeyCache.shared.clear()
            modelCache.clear()
            explainers.clear()
        }
    }
}
