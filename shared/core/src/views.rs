//! Read models of the web UI's pages, each read in one transaction as the caller: the start
//! page, the Aktenplan, an Akte with its registers, a Dokument with its preview text, the
//! header of every page, and the tenant's branding.

use akta_db::repo::workplace::{
    Branding, DueItem, LogoChange, PlanNode, RecentChange, Resubmission, WorkItem,
};
use akta_db::{
    AuditEvent, Case, Document, FileFilter, FileRecord, OrgUnit, PlanUnit, TenantRow, User,
};
use akta_domain::{FileStatus, Principal, TenantId};
use uuid::Uuid;

use crate::{Core, CoreError};

/// "Mein Arbeitsplatz".
pub struct Workplace {
    pub due: Vec<DueItem>,
    pub files: Vec<WorkItem>,
    pub cases: Vec<WorkItem>,
    pub recent: Vec<RecentChange>,
}

/// The Aktenplan with the Akten of the chosen unit.
pub struct PlanOverview {
    pub nodes: Vec<PlanNode>,
    pub unit: Option<PlanUnit>,
    pub files: Vec<FileRecord>,
}

/// An Akte with its registers.
pub struct FileView {
    pub file: FileRecord,
    pub plan_unit: PlanUnit,
    pub org_units: Vec<OrgUnit>,
    pub cases: Vec<Case>,
    pub documents: Vec<Document>,
    pub resubmissions: Vec<Resubmission>,
    /// Only when asked for (the history register).
    pub history: Vec<AuditEvent>,
}

/// A Dokument with what its page shows.
pub struct DocumentView {
    pub document: Document,
    pub file: FileRecord,
    /// Whether the Vorgang it is filed in (if any) is open.
    pub case_open: bool,
}

/// What the header of every page shows about the logged-in person and their tenant.
pub struct SessionContext {
    pub user: User,
    pub branding: Branding,
    pub tenant: TenantRow,
}

/// Enough for one page: registers and lists are bounded here.
const PAGE_ITEMS: i64 = 500;

impl Core {
    pub async fn workplace(&self, who: &Principal, user_id: Uuid) -> Result<Workplace, CoreError> {
        let actor = who.actor();
        let mut tx = self.db.tx_for(who).await?;
        // Mine, and those of whom I stand in for today.
        let mut people = vec![user_id];
        people.extend(tx.standing_in_for(user_id).await?);
        let view = Workplace {
            due: tx.due_resubmissions(&people, 50).await?,
            files: tx.my_open_files(&actor, 20).await?,
            cases: tx.my_open_cases(&actor, 20).await?,
            recent: tx.recent_changes(10).await?,
        };
        tx.commit().await?;
        Ok(view)
    }

    pub async fn plan_overview(
        &self,
        who: &Principal,
        selected: Option<Uuid>,
    ) -> Result<PlanOverview, CoreError> {
        let mut tx = self.db.tx_for(who).await?;
        let nodes = tx.plan_tree().await?;
        let (unit, files) = match selected {
            Some(id) => {
                let unit = tx.plan_unit(id).await?;
                let filter = FileFilter {
                    plan_unit_id: Some(id),
                    status: None,
                };
                let files = tx.list_files(&filter, None, PAGE_ITEMS).await?.items;
                (Some(unit), files)
            }
            None => (None, Vec::new()),
        };
        tx.commit().await?;
        Ok(PlanOverview { nodes, unit, files })
    }

    /// The Aktenplan and the org units, for the Akte form's choices.
    pub async fn file_form_choices(
        &self,
        who: &Principal,
    ) -> Result<(Vec<PlanNode>, Vec<OrgUnit>), CoreError> {
        let mut tx = self.db.tx_for(who).await?;
        let units = tx.plan_tree().await?;
        let org_units = tx.list_org_units().await?;
        tx.commit().await?;
        Ok((units, org_units))
    }

    /// An Akte with its registers; reading it is audited for confidential Akten.
    pub async fn file_view(
        &self,
        who: &Principal,
        id: Uuid,
        with_history: bool,
    ) -> Result<FileView, CoreError> {
        let mut tx = self.db.tx_for(who).await?;
        let mut file = tx.file(id).await?;
        crate::retention::fill(&mut tx, std::slice::from_mut(&mut file)).await?;
        let plan_unit = tx.plan_unit(file.plan_unit_id).await?;
        let org_units = tx.list_org_units().await?;
        let cases = tx.list_cases(id, None, PAGE_ITEMS).await?.items;
        let documents = tx.list_documents(id, None).await?;
        let resubmissions = tx.resubmissions_in_file(id).await?;
        if let akta_domain::Principal::User { user_id, .. } = who {
            // "Zuletzt geöffnet" on the start page.
            tx.note_visit(*user_id, id).await?;
        }
        let history = if with_history {
            tx.file_history(id, None, PAGE_ITEMS).await?.items
        } else {
            Vec::new()
        };
        tx.note_read(id, "file", id).await?;
        tx.commit().await?;
        Ok(FileView {
            file,
            plan_unit,
            org_units,
            cases,
            documents,
            resubmissions,
            history,
        })
    }

    /// An Akte with its Vorgänge, for choosing where a document goes.
    pub async fn file_with_cases(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<(FileRecord, Vec<Case>), CoreError> {
        let mut tx = self.db.tx_for(who).await?;
        let file = tx.file(id).await?;
        let cases = tx.list_cases(id, None, PAGE_ITEMS).await?.items;
        tx.commit().await?;
        Ok((file, cases))
    }

    /// A Dokument with its Akte; reading it is audited for confidential Akten.
    pub async fn document_view(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<DocumentView, CoreError> {
        let mut tx = self.db.tx_for(who).await?;
        let document = tx.document(id).await?;
        let file = tx.file(document.file_id).await?;
        let case_open = match document.case_id {
            Some(c) => FileStatus::parse(&tx.case(c).await?.status)? == FileStatus::Open,
            None => true,
        };
        tx.note_read(document.file_id, "document", id).await?;
        tx.commit().await?;
        Ok(DocumentView {
            document,
            file,
            case_open,
        })
    }

    /// The extracted text of a version for its preview, `None` while it is not (or cannot
    /// be) extracted.
    pub async fn preview_text(
        &self,
        who: &Principal,
        id: Uuid,
        nr: i32,
    ) -> Result<Option<String>, CoreError> {
        match self.version_text(who, id, nr).await {
            Ok(text) => Ok(Some(text)),
            Err(CoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The logged-in person, their tenant and its branding (every page's header).
    pub async fn session_context(&self, who: &Principal) -> Result<SessionContext, CoreError> {
        let Principal::User {
            tenant_id, user_id, ..
        } = who
        else {
            return Err(CoreError::NotFound);
        };
        let mut tx = self.db.tx_for(who).await?;
        let user = tx.user(*user_id).await?;
        let branding = tx.branding().await?;
        tx.commit().await?;
        let tenant = self.db.tenant_by_id(*tenant_id).await?;
        Ok(SessionContext {
            user,
            branding,
            tenant,
        })
    }

    /// The name a login page shows for an active tenant (its branding name if set), or
    /// `None` for a tenant that does not exist or is not active.
    pub async fn login_name(&self, slug: &str) -> Result<Option<String>, CoreError> {
        Ok(self.login_branding(slug).await?.map(|(name, _)| name))
    }

    /// What a login page shows of an active tenant: its name and whether it has a coat of
    /// arms (logo); `None` for a tenant that does not exist or is not active.
    pub async fn login_branding(&self, slug: &str) -> Result<Option<(String, bool)>, CoreError> {
        let tenant = match self.tenant_by_slug(slug).await {
            Ok(t) if t.status == "active" => t,
            Ok(_) | Err(CoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut tx = self.db.tenant_tx(TenantId(tenant.id), "web:login").await?;
        let branding = tx.branding().await?;
        tx.commit().await?;
        let has_logo = branding.logo_media_type.is_some();
        Ok(Some((
            branding.header_name.unwrap_or(tenant.display_name),
            has_logo,
        )))
    }

    /// An active tenant's coat of arms for its login page (the branding is public).
    pub async fn login_logo(&self, slug: &str) -> Result<Option<(Vec<u8>, String)>, CoreError> {
        let tenant = match self.tenant_by_slug(slug).await {
            Ok(t) if t.status == "active" => t,
            Ok(_) | Err(CoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut tx = self.db.tenant_tx(TenantId(tenant.id), "web:login").await?;
        let logo = tx.branding_logo().await?;
        tx.commit().await?;
        Ok(logo)
    }

    /// The active tenants by name, for the login page where no address names the town.
    pub async fn login_tenants(&self) -> Result<Vec<(String, String)>, CoreError> {
        let mut tenants: Vec<(String, String)> = self
            .db
            .list_tenants()
            .await?
            .into_iter()
            .filter(|t| t.status == "active")
            .map(|t| (t.slug, t.display_name))
            .collect();
        tenants.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(tenants)
    }

    pub async fn branding(&self, who: &Principal) -> Result<Branding, CoreError> {
        self.as_caller(who, async |tx| tx.branding().await).await
    }

    /// The logo and its media type, if the tenant has one.
    pub async fn branding_logo(
        &self,
        who: &Principal,
    ) -> Result<Option<(Vec<u8>, String)>, CoreError> {
        self.as_caller(who, async |tx| tx.branding_logo().await)
            .await
    }

    pub async fn set_branding(
        &self,
        who: &Principal,
        header_name: Option<&str>,
        accent_color: Option<&str>,
        logo: LogoChange,
    ) -> Result<Branding, CoreError> {
        self.as_caller(who, async |tx| {
            tx.set_branding(header_name, accent_color, logo).await
        })
        .await
    }
}
