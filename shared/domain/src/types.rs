//! The records model's enums and identities: roles, principals, statuses, kinds, retention.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

use crate::DomainError;

/// A tenant (Mandant). Only obtained from an authenticated principal or the operator's own lookups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(pub Uuid);

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Roles inside one tenant. The operator is not a tenant role: see [`Principal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Clerk,
    Reader,
    /// Reads everything and carries out Aussonderung (disposal, transfer to the archive).
    Archivist,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Clerk => "clerk",
            Role::Reader => "reader",
            Role::Archivist => "archivist",
        }
    }

    pub fn parse(s: &str) -> Result<Role, DomainError> {
        match s {
            "admin" => Ok(Role::Admin),
            "clerk" => Ok(Role::Clerk),
            "reader" => Ok(Role::Reader),
            "archivist" => Ok(Role::Archivist),
            _ => Err(DomainError::new(
                "role",
                "must be admin, clerk, reader or archivist",
            )),
        }
    }

    /// May create and change records (Akten, Vorgänge, Dokumente).
    pub fn can_write_records(self) -> bool {
        matches!(self, Role::Admin | Role::Clerk)
    }

    /// May change the tenant's structure: Aktenplan, org units, tokens.
    pub fn can_administer(self) -> bool {
        matches!(self, Role::Admin)
    }
}

/// Who is calling, as established by authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The hosting city's IT: manages tenants, never reads tenant content.
    Operator { token_id: Uuid, name: String },
    /// An API token of a tenant (specialist software, scripts).
    Tenant {
        tenant_id: TenantId,
        role: Role,
        token_id: Uuid,
        name: String,
        /// `false` for read-only tokens, whatever their role.
        can_write: bool,
        /// Limits the token to the Akten of one Aktenplan subtree.
        plan_scope: Option<Uuid>,
    },
    /// A person logged in with a session cookie.
    User {
        tenant_id: TenantId,
        role: Role,
        user_id: Uuid,
        username: String,
        session_id: Uuid,
        csrf_token: String,
        /// The user's org unit, which may open confidential Akten shared with the unit.
        org_unit_id: Option<Uuid>,
        /// Limits the user to the Akten of one Aktenplan subtree.
        plan_scope: Option<Uuid>,
    },
}

impl Principal {
    /// The name written into audit events.
    pub fn actor(&self) -> String {
        match self {
            Principal::Operator { name, .. } => format!("operator:{name}"),
            Principal::Tenant { name, .. } => format!("token:{name}"),
            Principal::User { username, .. } => format!("user:{username}"),
        }
    }

    /// Whether the principal may change records at all (role and token scope together).
    pub fn can_write(&self) -> bool {
        match self {
            Principal::Operator { .. } => false,
            Principal::Tenant {
                role, can_write, ..
            } => *can_write && role.can_write_records(),
            Principal::User { role, .. } => role.can_write_records(),
        }
    }

    /// The tenant and role of a tenant principal; `None` for the operator.
    pub fn tenant_role(&self) -> Option<(TenantId, Role)> {
        match self {
            Principal::Operator { .. } => None,
            Principal::Tenant {
                tenant_id, role, ..
            }
            | Principal::User {
                tenant_id, role, ..
            } => Some((*tenant_id, *role)),
        }
    }
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? } field $field:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the order of the definition.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Result<Self, DomainError> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(DomainError::new(
                        $field,
                        concat!("must be one of:", $(" ", $text),+),
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// Bearbeitungsstand of an Akte or Vorgang: open, or closed "zu den Akten".
    FileStatus { Open => "offen", Closed => "zdA" } field "status"
);
string_enum!(
    /// Vertraulichkeit of an Akte.
    Confidentiality {
        Normal => "normal",
        Confidential => "vertraulich",
        StrictlyConfidential => "streng_vertraulich",
    } field "confidentiality"
);
string_enum!(
    /// Aussonderungsart: A = archivwürdig, B = bewerten, V = vernichten.
    Disposition { Archive => "A", Evaluate => "B", Destroy => "V" } field "disposition"
);
string_enum!(
    /// Kind of a Dokument.
    DocumentKind {
        Incoming => "Eingang",
        Outgoing => "Ausgang",
        Note => "Vermerk",
        Decision => "Bescheid",
        Other => "Sonstiges",
    } field "kind"
);

/// Aufbewahrungsfrist: years after zdA, or unlimited ("unbefristet").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    Years(u16),
    Unlimited,
}

impl Retention {
    pub const MAX_YEARS: u16 = 500;

    /// From the API's `retention_years`, where `null` means unlimited.
    pub fn from_years(years: Option<i64>) -> Result<Retention, DomainError> {
        match years {
            None => Ok(Retention::Unlimited),
            Some(y) if (0..=i64::from(Self::MAX_YEARS)).contains(&y) => {
                Ok(Retention::Years(y as u16))
            }
            Some(_) => Err(DomainError::new(
                "retention_years",
                format!(
                    "must be between 0 and {} or null (unbefristet)",
                    Self::MAX_YEARS
                ),
            )),
        }
    }

    pub fn years(self) -> Option<u16> {
        match self {
            Retention::Years(y) => Some(y),
            Retention::Unlimited => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_their_german_names() {
        assert_eq!(FileStatus::parse("zdA"), Ok(FileStatus::Closed));
        assert_eq!(
            DocumentKind::parse("Bescheid").map(|k| k.as_str()),
            Ok("Bescheid")
        );
        assert_eq!(
            serde_json_like(Confidentiality::StrictlyConfidential),
            "streng_vertraulich"
        );
        let err = DocumentKind::parse("Brief").unwrap_err();
        assert_eq!(err.field, "kind");
        assert!(err.message.contains("Eingang"));
    }

    fn serde_json_like(c: Confidentiality) -> &'static str {
        c.as_str()
    }

    #[test]
    fn retention_accepts_null_as_unlimited_and_rejects_negative() {
        assert_eq!(Retention::from_years(None), Ok(Retention::Unlimited));
        assert_eq!(Retention::from_years(Some(10)), Ok(Retention::Years(10)));
        assert!(Retention::from_years(Some(-1)).is_err());
        assert!(Retention::from_years(Some(501)).is_err());
    }

    #[test]
    fn only_admin_and_clerk_write_records() {
        assert!(Role::Clerk.can_write_records());
        assert!(!Role::Reader.can_write_records());
        assert!(!Role::Clerk.can_administer());
        assert_eq!(Role::parse("operator").unwrap_err().field, "role");
    }
}
