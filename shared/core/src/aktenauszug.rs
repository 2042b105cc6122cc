//! The Aktenauszug of an Akte: its Aktendeckel (what the Akte is, where it belongs, who
//! leads it, its Laufzeit, status and Aufbewahrung, its Vorgänge) and its
//! Inhaltsverzeichnis (every document in filing order with date, kind, title, Absender or
//! Empfänger, Vorgang and number of versions), as a PDF Akta makes itself. Reading it is
//! audited like reading the Akte.

use akta_domain::german::{date, date_time};
use akta_domain::{Principal, TenantId};
use akta_print::{Aktenauszug, Entry, Field, Labels};
use uuid::Uuid;

use crate::{Core, CoreError};

fn labels() -> Labels {
    Labels {
        cover: "Aktendeckel".into(),
        cases: "Vorgänge".into(),
        no_cases: "Keine Vorgänge.".into(),
        contents: "Inhaltsverzeichnis".into(),
        no_documents: "Die Akte enthält noch keine Dokumente.".into(),
        nr: "Nr.".into(),
        date: "Datum".into(),
        kind: "Art".into(),
        title: "Titel".into(),
        party: "Absender/Empfänger".into(),
        case: "Vorgang".into(),
        versions: "Vers.".into(),
        page: "Seite {n} von {total}".into(),
    }
}

fn confidentiality(c: &str) -> &str {
    match c {
        "streng_vertraulich" => "streng vertraulich",
        other => other,
    }
}

impl Core {
    /// The Aktenauszug of Akte `id` as PDF bytes.
    pub async fn aktenauszug(&self, who: &Principal, id: Uuid) -> Result<Vec<u8>, CoreError> {
        let (tenant, _) = who.tenant_role().ok_or(CoreError::NotFound)?;
        let view = self.file_view(who, id, false).await?;
        let authority = self.authority_name(who, tenant).await?;
        let file = &view.file;
        let lead = file
            .lead_org_unit_id
            .and_then(|lead| view.org_units.iter().find(|o| o.id == lead))
            .map(|o| format!("{} {}", o.code, o.name))
            .unwrap_or_else(|| "–".into());
        let period = format!(
            "{} – {}",
            date(file.period_from),
            file.period_to.map(date).unwrap_or_default()
        );
        let status = if file.status == "zdA" {
            "zu den Akten verfügt (zdA)".to_owned()
        } else {
            "offen".to_owned()
        };
        let retention = file
            .retention
            .as_ref()
            .map(|r| {
                let years = match r.get("years").and_then(|y| y.as_i64()) {
                    Some(y) => format!("{y} Jahre"),
                    None => return "unbefristet".to_owned(),
                };
                match r.get("disposition").and_then(|d| d.as_str()) {
                    Some("A") => format!("{years}, danach dem Archiv anbieten (A)"),
                    Some("B") => format!("{years}, danach vom Archiv bewerten lassen (B)"),
                    Some("V") => format!("{years}, danach vernichten (V)"),
                    _ => years,
                }
            })
            .unwrap_or_else(|| "–".into());
        let field = |label: &str, value: String| Field {
            label: label.into(),
            value,
        };
        let mut fields = vec![
            field(
                "Aktenplan",
                format!("{} {}", view.plan_unit.code, view.plan_unit.title),
            ),
            field("Federführung", lead),
            field("Laufzeit", period),
            field("Status", status),
            field(
                "Vertraulichkeit",
                confidentiality(&file.confidentiality).to_owned(),
            ),
            field("Aufbewahrung", retention),
        ];
        if let Some(hold) = &file.hold_reason {
            fields.push(field("Sperre (Aufbewahrung ausgesetzt)", hold.clone()));
        }
        let case_ref = |case: Option<Uuid>| {
            case.and_then(|c| view.cases.iter().find(|k| k.id == c))
                .map(|k| k.reference.clone())
                .unwrap_or_default()
        };
        let mut documents: Vec<_> = view.documents.iter().collect();
        // In the order they were filed, as pages are in a paper file.
        documents.sort_by_key(|d| (d.created_at, d.id));
        let entries = documents
            .into_iter()
            .map(|d| Entry {
                date: d
                    .document_date
                    .map(date)
                    .unwrap_or_else(|| date(d.created_at.date())),
                kind: d.kind.clone(),
                title: d.title.clone(),
                party: d
                    .sender
                    .clone()
                    .or_else(|| d.recipient.clone())
                    .unwrap_or_default(),
                case: case_ref(d.case_id),
                versions: d.versions.len().max(1).to_string(),
            })
            .collect();
        let auszug = Aktenauszug {
            authority,
            reference: file.reference.clone(),
            subject: file.subject.clone(),
            fields,
            cases: view
                .cases
                .iter()
                .map(|c| {
                    let closed = if c.status == "zdA" { " (zdA)" } else { "" };
                    (c.reference.clone(), format!("{}{closed}", c.subject))
                })
                .collect(),
            entries,
            printed: format!(
                "Aktenauszug, erstellt am {} von {}",
                date_time(time::OffsetDateTime::now_utc()),
                self.display_name(who).await?
            ),
            labels: labels(),
        };
        akta_print::aktenauszug(&auszug).map_err(|e| CoreError::Internal(e.to_string()))
    }

    /// The authority's name as its pages show it (the branding's name, else the tenant's).
    async fn authority_name(&self, who: &Principal, tenant: TenantId) -> Result<String, CoreError> {
        let branding = self.branding(who).await?;
        match branding.header_name {
            Some(name) => Ok(name),
            None => Ok(self.db.tenant_by_id(tenant).await?.display_name),
        }
    }

    /// Who the caller is, as a person reads it: a user's display name, a token's name.
    pub(crate) async fn display_name(&self, who: &Principal) -> Result<String, CoreError> {
        match who {
            Principal::User { .. } => Ok(self.current_user(who).await?.0.display_name),
            Principal::Tenant { name, .. } => Ok(format!("{name} (Schnittstelle)")),
            Principal::Operator { name, .. } => Ok(name.clone()),
        }
    }
}
