-- Operators may log into the console through the operator's own OpenID provider (issue 13),
-- configured apart from every tenant's. An operator account must exist and be linked to the
-- provider's subject; nothing is created by a login.
ALTER TABLE operators
    ALTER COLUMN password_hash DROP NOT NULL,
    ADD COLUMN oidc_issuer  text,
    ADD COLUMN oidc_subject text,
    ADD CONSTRAINT operators_oidc_pair CHECK ((oidc_issuer IS NULL) = (oidc_subject IS NULL)),
    ADD CONSTRAINT operators_some_login CHECK (password_hash IS NOT NULL OR oidc_subject IS NOT NULL),
    ADD CONSTRAINT operators_oidc_subject_key UNIQUE (oidc_issuer, oidc_subject);

-- Console logins on their way through the provider, like `oidc_logins` but outside every
-- tenant (no row-level security, as `operators`). Only the state's hash is stored.
CREATE TABLE operator_oidc_logins (
    state_hash     bytea PRIMARY KEY,
    nonce          text NOT NULL,
    pkce_verifier  text NOT NULL,
    redirect_uri   text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL
);
CREATE INDEX operator_oidc_logins_expiry ON operator_oidc_logins (expires_at);
GRANT SELECT, INSERT, DELETE ON operator_oidc_logins TO akta_app;
