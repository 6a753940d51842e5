extension PostgresSchema {
    /// What several instances on one database share live (issue 14): the rate-limit counters, and triggers that
    /// announce (NOTIFY on ``PostgresEvents/channel``, delivered at commit) a change to what the instances cache:
    /// accounts and deleted names (`users`: the per-request account check), API keys (`keys`) and models and their
    /// versions (`models`). Statement-level, so a bulk change announces once; only the columns a cache holds count
    /// (a login's `updated_at`, a key's `last_used_at` do not empty anything).
    static let sharedState = Migration(name: "p3-shared-state", statements: [
        """
        CREATE UNLOGGED TABLE rate_limit_counters (
            slot TEXT NOT NULL,
            window_start BIGINT NOT NULL,
            window_end BIGINT NOT NULL,
            count BIGINT NOT NULL,
            PRIMARY KEY (slot, window_start)
        )
        """,
        """
        CREATE FUNCTION xalorra_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('\(PostgresEvents.channel)', TG_ARGV[0]);
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE TRIGGER users_changed AFTER INSERT OR DELETE OR UPDATE OF role, tenant, is_active, created_at
        ON users FOR EACH STATEMENT EXECUTE FUNCTION xalorra_notify_change('users')
        """,
        """
        CREATE TRIGGER deleted_users_changed AFTER INSERT OR UPDATE OR DELETE
        ON deleted_users FOR EACH STATEMENT EXECUTE FUNCTION xalorra_notify_change('users')
        """,
        """
        CREATE TRIGGER api_keys_changed AFTER DELETE OR UPDATE OF revoked_at, expires_at, role, tenant, scopes, models,
            rate_limit, rate_window, account_id, owner
        ON api_keys FOR EACH STATEMENT EXECUTE FUNCTION xalorra_notify_change('keys')
        """,
        """
        CREATE TRIGGER models_changed AFTER INSERT OR DELETE OR UPDATE
        ON models FOR EACH STATEMENT EXECUTE FUNCTION xalorra_notify_change('models')
        """,
        """
        CREATE TRIGGER model_versions_changed AFTER INSERT OR DELETE OR UPDATE
        ON model_versions FOR EACH STATEMENT EXECUTE FUNCTION xalorra_notify_change('models')
        """,
    ])
}
