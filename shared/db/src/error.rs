//! The database layer's one error type; unique and foreign-key violations mapped once.

/// Errors of the database layer. Unique violations become [`DbError::Conflict`] here, once.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule or a state rule of the model refused the change.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A referenced object (named by the input field) does not exist for this tenant.
    #[error("{field} refers to nothing that exists")]
    MissingReference { field: &'static str },
    /// Optimistic locking: the caller's `If-Match` no longer names the current version.
    #[error("the object was changed by someone else")]
    VersionMismatch,
    /// A new version identical (same SHA-256) to the current version `0`: nothing to store.
    #[error("the file is identical to version {0} (same SHA-256); no new version was stored")]
    IdenticalVersion(i32),
    /// The tenant's quota (storage bytes or documents) would be exceeded.
    #[error("the tenant's {0} quota is exhausted")]
    QuotaExceeded(&'static str),
    #[error("database error: {0}")]
    Sqlx(sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => DbError::NotFound,
            // A row-level security refusal: the target is out of the caller's reach, which
            // must look exactly like a target that does not exist.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("42501") => DbError::NotFound,
            sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
                DbError::Conflict(unique_message(db.constraint()))
            }
            _ => DbError::Sqlx(e),
        }
    }
}

/// What a unique violation means to the person who caused it; constraint names stay in
/// the database.
fn unique_message(constraint: Option<&str>) -> String {
    match constraint {
        Some("plan_units_tenant_id_code_key") => "a plan unit with this code exists",
        Some("tenants_slug_key") => "a tenant with this slug exists",
        Some("org_units_tenant_id_code_key") => "an org unit with this code exists",
        Some("users_tenant_id_username_key") => "a user with this username exists",
        Some("users_tenant_id_oidc_subject_key") => {
            "a user with this identity provider account exists"
        }
        Some("file_access_once") => "this grantee is on the access list already",
        Some("transfer_items_one_open") => {
            "an Akte or Vorgang of these is already in an unfinished transfer"
        }
        Some("files_tenant_id_reference_key" | "cases_tenant_id_reference_key") => {
            "this Aktenzeichen exists already"
        }
        _ => "this exists already",
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_never_show_constraint_names() {
        for constraint in [
            Some("users_tenant_id_username_key"),
            Some("some_future_key"),
            None,
        ] {
            let message = unique_message(constraint);
            assert!(!message.contains("_key"), "{message}");
        }
        assert_eq!(
            unique_message(Some("users_tenant_id_username_key")),
            "a user with this username exists"
        );
    }
}
