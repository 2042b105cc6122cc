//! People and how they get in: users of a tenant, password login with lockout, sessions,
//! the lookup of tokens and session cookies, and the operator's support access.

use akta_db::{NewUser, TenantRow, TenantTx, User, UserChanges};
use akta_domain::{bounded_text, Principal, Role, TenantId};
use serde_json::json;
use uuid::Uuid;

use crate::secrets::{checked_password_hash, hash_token, random_text, verify_password};
use crate::tenants::parse_username;
use crate::{Core, CoreError};

/// A session just started: the cookie's secret (shown once) and its CSRF token.
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: time::OffsetDateTime,
}

pub struct LoggedIn {
    pub session: NewSession,
    pub user: User,
    pub tenant: TenantRow,
    /// The UI language the user chose, which follows them to every browser.
    pub language: Option<String>,
}

/// A new user as the admin gives it; the password is hashed here.
pub struct UserInput {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password: Option<String>,
    pub org_unit_id: Option<Uuid>,
    pub plan_unit_id: Option<Uuid>,
}

/// A change of a user; `None` keeps a value.
#[derive(Default)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub password: Option<String>,
    pub disabled: Option<bool>,
    pub org_unit_id: Option<Option<Uuid>>,
    pub plan_unit_id: Option<Option<Uuid>>,
}

/// The user and session of a logged-in principal.
fn session_of(principal: &Principal) -> Result<(Uuid, Uuid), CoreError> {
    match principal {
        Principal::User {
            user_id,
            session_id,
            ..
        } => Ok((*user_id, *session_id)),
        _ => Err(CoreError::NotFound),
    }
}

/// Every failed login takes the same time, whatever failed, so timing tells nothing about
/// which tenants and users exist.
const LOGIN_FLOOR: std::time::Duration = std::time::Duration::from_millis(500);

pub(crate) async fn failed(started: tokio::time::Instant) -> CoreError {
    tokio::time::sleep_until(started + LOGIN_FLOOR).await;
    CoreError::LoginFailed
}

pub(crate) async fn password_matches(
    password: String,
    stored: Option<String>,
) -> Result<bool, CoreError> {
    // Bounded: each hash holds about 19 MiB while it runs.
    let _permit = crate::login_guard::hashing()
        .acquire()
        .await
        .map_err(|e| CoreError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || verify_password(&password, stored.as_deref()))
        .await
        .map_err(|e| CoreError::Internal(e.to_string()))
}

impl Core {
    /// The principal behind an API token, if it is live.
    pub async fn authenticate_token(&self, token: &str) -> Result<Option<Principal>, CoreError> {
        Ok(self.db.authenticate(&hash_token(token)).await?)
    }

    /// The person behind a session cookie, if the session is live and not idle too long.
    pub async fn authenticate_session(&self, token: &str) -> Result<Option<Principal>, CoreError> {
        Ok(self
            .db
            .authenticate_session(&hash_token(token), self.settings.session_idle)
            .await?)
    }

    /// The operator reading a tenant under its support grant: a read-only principal, and
    /// every request audited in the tenant's chain.
    pub async fn support_principal(
        &self,
        slug: &str,
        token_id: Uuid,
        operator: &str,
        method: &str,
        path: &str,
    ) -> Result<Principal, CoreError> {
        let Some((tenant_id, grant)) = self.db.live_support_grant(slug).await? else {
            return Err(CoreError::Forbidden(
                "no support access granted by this tenant (or it has expired)",
            ));
        };
        let principal = Principal::Tenant {
            tenant_id,
            role: Role::Reader,
            token_id,
            name: format!("support by operator {operator}"),
            can_write: false,
            plan_scope: None,
        };
        let mut tx = self.db.tx_for(&principal).await?;
        tx.audit_support_request(grant, method, path).await?;
        tx.commit().await?;
        Ok(principal)
    }

    /// Starts a session for `user` inside `tx` (password and OpenID logins alike).
    pub(crate) async fn start_session_in(
        &self,
        tx: &mut TenantTx,
        user: &User,
    ) -> Result<NewSession, CoreError> {
        let token = random_text(32);
        let csrf_token = random_text(24);
        let row = tx
            .create_session(
                user.id,
                &hash_token(&token),
                &csrf_token,
                self.settings.session_lifetime,
            )
            .await?;
        Ok(NewSession {
            token,
            csrf_token,
            expires_at: row.expires_at,
        })
    }

    /// Password login. Every failure — unknown tenant, unknown user, wrong password, locked
    /// or disabled account — is one answer after the same time; the reason goes to the
    /// tenant's audit log only. Failed passwords in a row lock the account for a while.
    pub async fn password_login(
        &self,
        tenant_slug: &str,
        username: &str,
        password: String,
        client: Option<std::net::IpAddr>,
    ) -> Result<LoggedIn, CoreError> {
        self.admit_login(client, tenant_slug).await?;
        let started = tokio::time::Instant::now();
        let username = username.trim().to_lowercase();
        // A name no user can have fails like a wrong password, through the same door and in
        // the same time: the answer says nothing about which tenants or users exist.
        let plausible = akta_domain::check_input("username", &username).is_ok();
        let tenant = match self.tenant_by_slug(tenant_slug.trim()).await {
            Ok(t) if t.status == "active" && plausible => t,
            Ok(_) | Err(CoreError::NotFound) => {
                password_matches(password, None).await?;
                return Err(failed(started).await);
            }
            Err(e) => return Err(e),
        };
        // A login is one of the tenant's requests: over its limit, no more logins either.
        // (That a 429 here means "this tenant exists" tells only what its flood shows anyway.)
        self.admit_request(TenantId(tenant.id)).await?;
        let mut tx = self
            .db
            .tenant_tx(TenantId(tenant.id), &format!("user:{username}"))
            .await?;
        let user = tx.user_by_username(&username).await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let password_ok = password_matches(password, stored).await?;
        let now = time::OffsetDateTime::now_utc();
        let refusal = match &user {
            None => Some("unknown user"),
            Some(u) if u.disabled_at.is_some() => Some("account disabled"),
            Some(u) if u.locked_until.is_some_and(|t| t > now) => Some("account locked"),
            Some(_) if !password_ok => Some("wrong password"),
            Some(_) => None,
        };
        match (refusal, user) {
            (None, Some(user)) => {
                tx.record_login_success(user.id).await?;
                let session = self.start_session_in(&mut tx, &user).await?;
                tx.audit_login("login.succeeded", user.id, &json!({"method": "password"}))
                    .await?;
                let language = tx.user_language(user.id).await?;
                tx.commit().await?;
                Ok(LoggedIn {
                    session,
                    user,
                    tenant,
                    language,
                })
            }
            (reason, user) => {
                let user_id = user.as_ref().map_or(Uuid::nil(), |u| u.id);
                let mut locked_now = false;
                if let Some(u) = &user {
                    if reason == Some("wrong password") {
                        locked_now = tx
                            .record_login_failure(
                                u.id,
                                self.settings.max_login_failures,
                                self.settings.lockout,
                            )
                            .await?;
                    }
                }
                tx.audit_login(
                    "login.failed",
                    user_id,
                    &json!({"username": username, "reason": reason, "locked": locked_now}),
                )
                .await?;
                tx.commit().await?;
                Err(failed(started).await)
            }
        }
    }

    /// The logged-in user and their tenant.
    pub async fn current_user(&self, who: &Principal) -> Result<(User, TenantRow), CoreError> {
        let (user_id, _) = session_of(who)?;
        let mut tx = self.db.tx_for(who).await?;
        let user = tx.user(user_id).await?;
        let tenant_id = tx.tenant();
        tx.commit().await?;
        let tenant = self.db.tenant_by_id(tenant_id).await?;
        Ok((user, tenant))
    }

    /// Ends this session.
    pub async fn logout(&self, who: &Principal) -> Result<(), CoreError> {
        let (user_id, session_id) = session_of(who)?;
        let mut tx = self.db.tx_for(who).await?;
        tx.revoke_session(session_id).await?;
        tx.audit_login("logout", user_id, &json!({"sessions": 1}))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends every session of the user.
    pub async fn logout_everywhere(&self, who: &Principal) -> Result<u64, CoreError> {
        let (user_id, _) = session_of(who)?;
        let mut tx = self.db.tx_for(who).await?;
        let ended = tx.revoke_sessions(user_id).await?;
        tx.audit_login("logout", user_id, &json!({"sessions": ended}))
            .await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// The UI language saved for the logged-in user, if any.
    pub async fn user_language(&self, who: &Principal) -> Result<Option<String>, CoreError> {
        let (user_id, _) = session_of(who)?;
        self.as_caller(who, async |tx| tx.user_language(user_id).await)
            .await
    }

    pub async fn set_user_language(&self, who: &Principal, code: &str) -> Result<(), CoreError> {
        let (user_id, _) = session_of(who)?;
        self.as_caller(who, async |tx| tx.set_user_language(user_id, code).await)
            .await?;
        Ok(())
    }

    pub async fn create_user(&self, who: &Principal, input: UserInput) -> Result<User, CoreError> {
        let username = parse_username(&input.username)?;
        let display_name = bounded_text("display_name", &input.display_name, 200)?;
        let password_hash = match input.password {
            Some(p) => Some(checked_password_hash("password", p).await?),
            None => None,
        };
        let mut tx = self.db.tx_for(who).await?;
        let user = tx
            .create_user(NewUser {
                username: &username,
                display_name: &display_name,
                role: input.role,
                password_hash: password_hash.as_deref(),
                oidc_subject: None,
                org_unit_id: input.org_unit_id,
                plan_unit_id: input.plan_unit_id,
            })
            .await?;
        tx.commit().await?;
        Ok(user)
    }

    pub async fn list_users(&self, who: &Principal) -> Result<Vec<User>, CoreError> {
        self.as_caller(who, async |tx| tx.list_users().await).await
    }

    pub async fn user(&self, who: &Principal, id: Uuid) -> Result<User, CoreError> {
        self.as_caller(who, async |tx| tx.user(id).await).await
    }

    pub async fn update_user(
        &self,
        who: &Principal,
        id: Uuid,
        update: UserUpdate,
    ) -> Result<User, CoreError> {
        let changes = UserChanges {
            display_name: update
                .display_name
                .as_deref()
                .map(|d| bounded_text("display_name", d, 200))
                .transpose()?,
            role: update.role,
            password_hash: match update.password {
                Some(p) => Some(checked_password_hash("password", p).await?),
                None => None,
            },
            disabled: update.disabled,
            org_unit_id: update.org_unit_id,
            plan_unit_id: update.plan_unit_id,
        };
        self.as_caller(who, async |tx| tx.update_user(id, changes).await)
            .await
    }
}

impl Core {
    /// The tenant's active people as (id, login name, display name), by display name: whom
    /// an item can be forwarded to or a Wiedervorlage be for, and how the Verlauf names
    /// whoever did something.
    pub async fn directory(
        &self,
        who: &Principal,
    ) -> Result<Vec<(Uuid, String, String)>, CoreError> {
        let users = self
            .as_caller(who, async |tx| tx.list_users().await)
            .await?;
        let mut named: Vec<(Uuid, String, String)> = users
            .into_iter()
            .filter(|u| u.disabled_at.is_none())
            .map(|u| (u.id, u.username, u.display_name))
            .collect();
        named.sort_by(|a, b| a.2.cmp(&b.2));
        Ok(named)
    }

    /// [`Core::directory`] as (id, display name).
    pub async fn colleagues(&self, who: &Principal) -> Result<Vec<(Uuid, String)>, CoreError> {
        Ok(self
            .directory(who)
            .await?
            .into_iter()
            .map(|(id, _, name)| (id, name))
            .collect())
    }
}
