//! The operator console's operations: operators with passwords and their own sessions (apart
//! from tenant people), the tenants' figures and audit chain status, and onboarding a town in
//! one flow (tenant, Aktenplan, branding, host name, the first admin's invitation). The
//! tenant lifecycle itself (create, suspend, resume, quotas, delete) is the same core code
//! the REST operator API calls (`tenants.rs`).

use akta_db::repo::workplace::LogoChange;
use akta_db::{InvitationRow, SupportGrant, TenantActivity, TenantRow, TenantUsage};
use akta_domain::{Principal, Role, TenantId};
use uuid::Uuid;

use crate::plan_exchange::PlanImport;
use crate::secrets::{checked_password_hash, hash_token, random_text};
use crate::tenants::parse_username;
use crate::{Core, CoreError, LoggedIn};

/// How long an invitation link is valid.
pub const INVITATION_DAYS: u64 = 7;

/// A live console session.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    pub session_id: Uuid,
    /// `Principal::Operator` with the operator's id and username.
    pub principal: Principal,
    pub csrf_token: String,
}

/// A new console session: the cookie's secret (shown once) and its CSRF token.
pub struct NewConsoleSession {
    pub token: String,
    pub csrf_token: String,
}

/// A tenant as the console lists it.
pub struct ConsoleTenant {
    pub tenant: TenantRow,
    pub usage: Option<TenantUsage>,
    pub activity: TenantActivity,
    pub host_name: Option<String>,
}

/// The audit chain of one tenant, as `akta audit verify` sees it.
#[derive(Debug, Clone)]
pub struct AuditStatus {
    pub entries: i64,
    pub signed_up_to: Option<i64>,
    /// `None`: intact; else the first break.
    pub problem: Option<String>,
}

/// One tenant in detail.
pub struct ConsoleTenantDetail {
    pub overview: ConsoleTenant,
    pub support_grants: Vec<SupportGrant>,
    pub audit: AuditStatus,
}

/// Where a new town's Aktenplan comes from.
pub enum PlanSource {
    None,
    Template(String),
    /// The template CSV format (`plan_templates.rs`).
    Csv(Vec<u8>),
    /// An `Aktenplan.Aktenplan.0301` (XML or zip).
    Xdomea(Vec<u8>),
}

impl PlanSource {
    /// A file by its content: XML or zip is xdomea, anything else the CSV format.
    pub fn from_file(bytes: Vec<u8>) -> PlanSource {
        let head = bytes.iter().skip_while(|b| b.is_ascii_whitespace());
        let first: Vec<u8> = head.take(2).copied().collect();
        if first.starts_with(b"<") || first == b"PK" {
            PlanSource::Xdomea(bytes)
        } else {
            PlanSource::Csv(bytes)
        }
    }
}

/// Everything of a new town, as the console's form or the CLI gives it.
pub struct Onboarding {
    pub slug: String,
    pub name: String,
    pub reference_format: Option<String>,
    pub plan: PlanSource,
    pub header_name: Option<String>,
    /// `#rrggbb`.
    pub accent_color: Option<String>,
    /// The coat of arms and its media type (checked by the caller: PNG/SVG, size).
    pub logo: Option<(Vec<u8>, String)>,
    pub host_name: Option<String>,
    /// Who gets the first admin's invitation.
    pub admin_email: Option<String>,
}

/// What onboarding made.
pub struct Onboarded {
    pub tenant: TenantRow,
    /// The tenant's first admin token (as `tenant create` always printed it).
    pub admin_token: String,
    pub plan: Option<PlanImport>,
    /// The invitation's secret token (the link is `/einladung/{token}`), shown once.
    pub invitation: Option<String>,
}

/// What the invitation page shows.
pub struct InvitationView {
    pub tenant_slug: String,
    pub tenant_name: String,
    pub email: String,
    pub state: InvitationState,
    /// The tenant logs in with its OpenID provider: no password to set.
    pub oidc: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    Open,
    Used,
    Expired,
}

/// A host name in lowercase (`akta.herdecke.de`), at least two labels.
pub fn parse_host_name(raw: &str) -> Result<String, CoreError> {
    let host = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let labels: Vec<&str> = host.split('.').collect();
    if host.len() <= 253 && labels.len() >= 2 && labels.iter().all(|l| label_ok(l)) {
        Ok(host)
    } else {
        Err(CoreError::validation(
            "host_name",
            "must be a host name such as akta.herdecke.de",
        ))
    }
}

/// An accent colour `#rrggbb` (lowercased).
pub fn parse_accent_color(raw: &str) -> Result<String, CoreError> {
    let c = raw.trim().to_ascii_lowercase();
    let ok = c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit());
    if ok {
        Ok(c)
    } else {
        Err(CoreError::validation(
            "accent_color",
            "must be a colour like #005a9c",
        ))
    }
}

/// An e-mail address, plausibly (it is only shown with the invitation, never mailed by Akta).
fn parse_email(raw: &str) -> Result<String, CoreError> {
    let mail = akta_domain::bounded_text("admin_email", raw, 254)?;
    match mail.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !mail.contains(char::is_whitespace) =>
        {
            Ok(mail)
        }
        _ => Err(CoreError::validation(
            "admin_email",
            "must be an e-mail address",
        )),
    }
}

impl Core {
    /// Creates an operator with a password (the CLI), hashed as tenant users' are.
    pub async fn create_operator(&self, username: &str, password: &str) -> Result<Uuid, CoreError> {
        self.create_operator_with(username, Some(password), None)
            .await
    }

    /// Creates an operator (the CLI): with a password, linked to the operator's OpenID
    /// provider as `oidc` = (issuer, subject), or both.
    pub async fn create_operator_with(
        &self,
        username: &str,
        password: Option<&str>,
        oidc: Option<(&str, &str)>,
    ) -> Result<Uuid, CoreError> {
        let username = parse_username(username)?;
        let hash = match password {
            Some(p) => Some(checked_password_hash("password", p.to_owned()).await?),
            None => None,
        };
        if let Some((_, subject)) = oidc {
            if subject.trim().is_empty() || subject.len() > 255 {
                return Err(CoreError::validation(
                    "oidc_subject",
                    "must be 1 to 255 characters",
                ));
            }
        } else if hash.is_none() {
            return Err(CoreError::validation(
                "password",
                "an operator needs a password or an OIDC subject",
            ));
        }
        Ok(self
            .db
            .insert_operator(&username, hash.as_deref(), oidc)
            .await?
            .id)
    }

    /// Console login. Every failure is one answer after the same time, like a tenant login.
    pub async fn operator_login(
        &self,
        username: &str,
        password: String,
        client: Option<std::net::IpAddr>,
    ) -> Result<NewConsoleSession, CoreError> {
        // Counted apart from every tenant (no tenant can be named like this).
        self.admit_login(client, "_betrieb").await?;
        let started = tokio::time::Instant::now();
        let username = username.trim().to_lowercase();
        let operator = match parse_username(&username) {
            Ok(name) => self.db.operator_by_username(&name).await?,
            Err(_) => None,
        };
        // An operator without a password (OIDC only) is checked against the dummy hash.
        let stored = operator.as_ref().and_then(|o| o.password_hash.clone());
        let ok = crate::people::password_matches(password, stored).await?;
        let Some(operator) = operator.filter(|o| ok && o.disabled_at.is_none()) else {
            tracing::info!(operator = %username, "console login failed");
            return Err(crate::people::failed(started).await);
        };
        let session = self.new_console_session(operator.id).await?;
        tracing::info!(operator = %operator.username, "console login");
        Ok(session)
    }

    async fn new_console_session(&self, operator: Uuid) -> Result<NewConsoleSession, CoreError> {
        let token = random_text(32);
        let csrf_token = random_text(24);
        self.db
            .insert_operator_session(
                operator,
                &hash_token(&token),
                &csrf_token,
                self.settings.session_lifetime,
            )
            .await?;
        Ok(NewConsoleSession { token, csrf_token })
    }

    /// Keeps a console login sent to the operator's provider until the browser comes back
    /// with `state` (stored hashed; outside every tenant).
    pub async fn store_operator_oidc_login(
        &self,
        state: &str,
        pending: &akta_db::repo::oidc::PendingOidcLogin,
        ttl: std::time::Duration,
    ) -> Result<(), CoreError> {
        Ok(self
            .db
            .insert_operator_oidc_login(&hash_token(state), pending, ttl)
            .await?)
    }

    /// The console login started with `state`, used up at once.
    pub async fn take_operator_oidc_login(
        &self,
        state: &str,
    ) -> Result<Option<akta_db::repo::oidc::PendingOidcLogin>, CoreError> {
        Ok(self.db.take_operator_oidc_login(&hash_token(state)).await?)
    }

    /// Console login of the operator linked to `subject` at `issuer` (validated by the
    /// caller). `None`: no such operator, or disabled; nobody is created by a login.
    pub async fn operator_oidc_login(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<NewConsoleSession>, CoreError> {
        let operator = self.db.operator_by_oidc(issuer, subject).await?;
        let Some(operator) = operator.filter(|o| o.disabled_at.is_none()) else {
            tracing::info!(%subject, "console OIDC login refused: no linked operator");
            return Ok(None);
        };
        let session = self.new_console_session(operator.id).await?;
        tracing::info!(operator = %operator.username, "console login (OIDC)");
        Ok(Some(session))
    }

    /// The console session behind a cookie, if it is live.
    pub async fn console_session(&self, token: &str) -> Result<Option<ConsoleSession>, CoreError> {
        let row = self
            .db
            .operator_session(&hash_token(token), self.settings.session_idle)
            .await?;
        Ok(row.map(|r| ConsoleSession {
            session_id: r.session_id,
            principal: Principal::Operator {
                token_id: r.operator_id,
                name: r.username,
            },
            csrf_token: r.csrf_token,
        }))
    }

    pub async fn console_logout(&self, session: &ConsoleSession) -> Result<(), CoreError> {
        Ok(self.db.revoke_operator_session(session.session_id).await?)
    }

    /// Every tenant with usage, quota, people and last activity.
    pub async fn console_tenants(&self) -> Result<Vec<ConsoleTenant>, CoreError> {
        let hosts = self.db.tenant_host_names().await?;
        let mut out = Vec::new();
        for o in self.tenant_overview().await? {
            out.push(self.console_line(o, &hosts).await?);
        }
        Ok(out)
    }

    async fn console_line(
        &self,
        o: crate::TenantOverview,
        hosts: &[(Uuid, String)],
    ) -> Result<ConsoleTenant, CoreError> {
        let mut tx = self
            .db
            .system_tx(TenantId(o.tenant.id), "operator:console")
            .await?;
        let activity = tx.tenant_activity().await?;
        tx.commit().await?;
        let host_name = hosts
            .iter()
            .find(|(id, _)| *id == o.tenant.id)
            .map(|(_, h)| h.clone());
        Ok(ConsoleTenant {
            tenant: o.tenant,
            usage: o.usage,
            activity,
            host_name,
        })
    }

    /// One tenant with its support grants and audit chain status.
    pub async fn console_tenant(&self, slug: &str) -> Result<ConsoleTenantDetail, CoreError> {
        let tenant = self.tenant_by_slug(slug).await?;
        let usage = self
            .db
            .tenant_overview()
            .await?
            .into_iter()
            .find(|u| u.tenant_id == tenant.id);
        let hosts = self.db.tenant_host_names().await?;
        let overview = self
            .console_line(
                crate::TenantOverview {
                    tenant: tenant.clone(),
                    usage,
                },
                &hosts,
            )
            .await?;
        let mut tx = self
            .db
            .system_tx(TenantId(tenant.id), "operator:console")
            .await?;
        let support_grants = tx.list_support_grants().await?;
        tx.commit().await?;
        let audit = self.audit_status(&tenant.slug).await?;
        Ok(ConsoleTenantDetail {
            overview,
            support_grants,
            audit,
        })
    }

    /// Verifies one tenant's audit chain as `akta audit verify` does, with the signing key's
    /// public half where this node has it.
    pub async fn audit_status(&self, slug: &str) -> Result<AuditStatus, CoreError> {
        let (keys, none);
        let anchors = match &self.audit_seal {
            Some(seal) => {
                keys = vec![akta_audit::public_of(&seal.0)?];
                &seal.1
            }
            None => {
                keys = Vec::new();
                none = akta_audit::Anchors::none();
                &none
            }
        };
        let found = akta_audit::verify(&self.db, &keys, anchors, Some(slug)).await?;
        let v = found.into_iter().next().ok_or(CoreError::NotFound)?;
        Ok(AuditStatus {
            entries: v.entries,
            signed_up_to: v.signed_up_to,
            problem: v.result.err().map(|e| e.to_string()),
        })
    }

    /// Deletes a tenant only when its slug was typed again as confirmation.
    pub async fn delete_tenant_confirmed(
        &self,
        slug: &str,
        confirm: &str,
        actor: &str,
    ) -> Result<(TenantRow, u64), CoreError> {
        if confirm.trim() != slug {
            return Err(CoreError::validation(
                "confirm",
                "type the tenant's slug to delete it",
            ));
        }
        self.delete_tenant(slug, actor).await
    }

    /// A new town in one flow: everything is checked first, then the tenant is created, its
    /// Aktenplan imported, its branding and host name set and the first admin invited.
    pub async fn onboard_tenant(
        &self,
        new: Onboarding,
        actor: &str,
    ) -> Result<Onboarded, CoreError> {
        let plan = match new.plan {
            PlanSource::None => None,
            PlanSource::Template(name) => {
                Some(self.plan_template(&name).await.map_err(|e| match e {
                    CoreError::NotFound => {
                        CoreError::validation("plan", format!("no template named {name}"))
                    }
                    e => e,
                })?)
            }
            PlanSource::Csv(bytes) => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| CoreError::validation("plan", "the CSV file is not UTF-8"))?;
                Some(crate::plan_templates::parse_plan_csv("CSV", &text)?)
            }
            PlanSource::Xdomea(bytes) => {
                let plan = crate::plan_exchange::read_plan_0301(&bytes)?;
                crate::plan_templates::check_plan_tree(&plan.units, None)?;
                Some(plan)
            }
        };
        let accent = parse_given(&new.accent_color, parse_accent_color)?;
        let host = parse_given(&new.host_name, parse_host_name)?;
        let email = parse_given(&new.admin_email, parse_email)?;
        let header_name = new
            .header_name
            .as_deref()
            .map(|n| akta_domain::optional_text("header_name", n, 120))
            .transpose()?
            .flatten();
        let (tenant, admin_token) = self
            .create_tenant(&new.slug, &new.name, new.reference_format.as_deref(), actor)
            .await?;
        if let Some(host) = &host {
            let mut tx = self.db.tenant_tx(TenantId(tenant.id), actor).await?;
            tx.set_host_name(Some(host)).await?;
            tx.commit().await?;
        }
        // The plan and branding are set as the tenant's first admin would set them.
        let admin = self
            .authenticate_token(&admin_token)
            .await?
            .ok_or_else(|| CoreError::Internal("the new admin token does not work".into()))?;
        let plan = match plan {
            Some(plan) => Some(self.import_plan_tree(&admin, plan).await?),
            None => None,
        };
        if header_name.is_some() || accent.is_some() || new.logo.is_some() {
            let logo = match new.logo {
                Some((bytes, media_type)) => LogoChange::Set { bytes, media_type },
                None => LogoChange::Keep,
            };
            self.set_branding(&admin, header_name.as_deref(), accent.as_deref(), logo)
                .await?;
        }
        let invitation = match email {
            Some(email) => Some(
                self.invite(TenantId(tenant.id), &email, Role::Admin, actor)
                    .await?
                    .1,
            ),
            None => None,
        };
        Ok(Onboarded {
            tenant,
            admin_token,
            plan,
            invitation,
        })
    }

    /// Invites a person into a tenant with a one-time link valid for [`INVITATION_DAYS`].
    pub async fn invite(
        &self,
        tenant: TenantId,
        email: &str,
        role: Role,
        actor: &str,
    ) -> Result<(InvitationRow, String), CoreError> {
        let email = parse_email(email)?;
        let token = random_text(32);
        let mut tx = self.db.tenant_tx(tenant, actor).await?;
        let row = tx
            .create_invitation(
                &email,
                role.as_str(),
                &hash_token(&token),
                std::time::Duration::from_secs(INVITATION_DAYS * 24 * 3600),
            )
            .await?;
        tx.commit().await?;
        Ok((row, token))
    }

    /// What the invitation page shows; `NotFound` for a token that names no invitation.
    pub async fn invitation(&self, token: &str) -> Result<InvitationView, CoreError> {
        let hash = hash_token(token);
        let tenant_id = self
            .db
            .invitation_tenant(&hash)
            .await?
            .ok_or(CoreError::NotFound)?;
        let tenant = self.db.tenant_by_id(TenantId(tenant_id)).await?;
        let mut tx = self
            .db
            .tenant_tx(TenantId(tenant_id), "web:invitation")
            .await?;
        let row = tx
            .invitation_locked(&hash)
            .await?
            .ok_or(CoreError::NotFound)?;
        let branding = tx.branding().await?;
        tx.commit().await?;
        let oidc = self.oidc_login_config(&tenant.slug).await?.is_some();
        Ok(InvitationView {
            tenant_name: branding.header_name.unwrap_or(tenant.display_name),
            tenant_slug: tenant.slug,
            email: row.email.clone(),
            state: state_of(&row),
            oidc,
        })
    }

    /// The invited person sets username and password: the user is created with the
    /// invitation's role, the invitation used up, and a session started, all at once.
    pub async fn accept_invitation(
        &self,
        token: &str,
        username: &str,
        display_name: &str,
        password: String,
    ) -> Result<LoggedIn, CoreError> {
        let hash = hash_token(token);
        let tenant_id = self
            .db
            .invitation_tenant(&hash)
            .await?
            .ok_or(CoreError::NotFound)?;
        // Where the town logs in through its provider, the invitation leads there: no
        // password is set (the page says so; this holds for a forged post too).
        let slug = self.db.tenant_by_id(TenantId(tenant_id)).await?.slug;
        if self.oidc_login_config(&slug).await?.is_some() {
            return Err(CoreError::Conflict(
                "this town logs in through its identity provider".into(),
            ));
        }
        let username = parse_username(username)?;
        let display_name = akta_domain::bounded_text("display_name", display_name, 200)?;
        let password_hash = checked_password_hash("password", password).await?;
        let mut tx = self
            .db
            .tenant_tx(TenantId(tenant_id), &format!("user:{username}"))
            .await?;
        let invitation = tx
            .invitation_locked(&hash)
            .await?
            .ok_or(CoreError::NotFound)?;
        match state_of(&invitation) {
            InvitationState::Open => {}
            InvitationState::Used => {
                return Err(CoreError::Conflict(
                    "the invitation was used already".into(),
                ))
            }
            InvitationState::Expired => {
                return Err(CoreError::Conflict("the invitation has expired".into()))
            }
        }
        let user = tx
            .create_user(akta_db::NewUser {
                username: &username,
                display_name: &display_name,
                role: Role::parse(&invitation.role)?,
                password_hash: Some(&password_hash),
                oidc_subject: None,
                org_unit_id: None,
                plan_unit_id: None,
            })
            .await?;
        tx.use_invitation(invitation.id, user.id).await?;
        let session = self.start_session_in(&mut tx, &user).await?;
        tx.audit_login(
            "login.succeeded",
            user.id,
            &serde_json::json!({"method": "invitation"}),
        )
        .await?;
        tx.commit().await?;
        let tenant = self.db.tenant_by_id(TenantId(tenant_id)).await?;
        Ok(LoggedIn {
            session,
            user,
            tenant,
            language: None,
        })
    }

    /// The town whose own host name this is (set at onboarding), if active.
    pub async fn tenant_of_host(&self, host: &str) -> Result<Option<String>, CoreError> {
        Ok(self
            .db
            .tenant_slug_by_host(&host.to_ascii_lowercase())
            .await?)
    }
}

fn state_of(row: &InvitationRow) -> InvitationState {
    if row.used_at.is_some() {
        InvitationState::Used
    } else if row.expires_at <= time::OffsetDateTime::now_utc() {
        InvitationState::Expired
    } else {
        InvitationState::Open
    }
}

/// An optional form field through its rule; empty means not given.
fn parse_given<T>(
    raw: &Option<String>,
    parse: impl FnOnce(&str) -> Result<T, CoreError>,
) -> Result<Option<T>, CoreError> {
    raw.as_deref()
        .filter(|v| !v.trim().is_empty())
        .map(parse)
        .transpose()
}
