//! `akta-bench search`: the search benchmark of issue #4. Generates a deterministic German
//! corpus ([`crate::corpus`]), files it in a real `akta serve` and loads the same texts into a
//! PostgreSQL full-text table (`german` configuration, GIN index) on the same throwaway
//! PostgreSQL, times how long each needs until the corpus is searchable, and runs the same
//! queries against Akta over HTTP and against PostgreSQL with concurrent clients.
//!
//! By default Akta gets the corpus the way users give it documents: through its REST API
//! ([`crate::ingest`]), with several concurrent uploaders, from a server with its default
//! wiring (encryption at rest, audit events, extraction in `akta extract-worker` children, the
//! index applier). Its time is "uploaded → searchable": from the first request until the
//! text of every document is found and the index log is applied.
//!
//! `--bulk-shortcut` keeps the old loader, which is NOT a path any user takes: it writes, as
//! the database owner in tenant-scoped transactions (row-level security is FORCEd on the
//! owner too), the rows the repositories write for an uploaded and extracted plain-text
//! document: plan units, Akten, Vorgänge, documents, one version each (blob key, SHA-256 and
//! size of the text), the finished extraction job, the extracted text, one `index_log` entry
//! per document, usage and reference counters. It skips the blobs themselves, upload intents,
//! audit events and the extraction, and stores the text in the clear (`text`), not sealed
//! under the version's key, so the applier skips one decryption per document. Akta's indexing
//! time is then what a server started afterwards needs to bring its tantivy index level with
//! that log.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use sqlx::postgres::{PgConnection, PgPoolOptions};
use sqlx::{Connection, PgPool, Row};
use time::Date;
use uuid::Uuid;

use crate::corpus::{self, Corpus};
use crate::ingest::{self, filed_text, Api, Filed};
use crate::upload::locate_akta;

#[derive(clap::Args)]
pub struct Args {
    /// Number of documents.
    #[arg(long, default_value_t = 10_000)]
    docs: usize,
    /// 1,000,000 documents (overrides --docs), filed with `akta import folder` (as
    /// --via-import): through the API that would take hours.
    #[arg(long)]
    large: bool,
    /// File the corpus with `akta import folder` (the core's bulk path: sealed, audited,
    /// extracted and indexed like uploads) from a generated file share, instead of the REST API.
    #[arg(long)]
    via_import: bool,
    /// Concurrent uploaders filing the corpus through Akta's REST API.
    #[arg(long, default_value_t = 8)]
    uploaders: usize,
    /// Not the user path: write the corpus straight into Akta's tables (no upload, blobs,
    /// encryption, audit events or extraction) and time only the index applier of a server
    /// started afterwards.
    #[arg(long)]
    bulk_shortcut: bool,
    /// Seed of the corpus.
    #[arg(long, default_value_t = 4)]
    seed: u64,
    /// Concurrent clients per engine.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Length of the measured phase per engine, in seconds.
    #[arg(long, default_value_t = 25)]
    seconds: u64,
    /// Queries per client instead of a fixed duration.
    #[arg(long)]
    queries_per_client: Option<usize>,
    /// Warm-up rounds before measuring (each asks every query once, shared out among the
    /// clients; the first is the pass that compares both engines' totals).
    #[arg(long, default_value_t = 2)]
    warmup_rounds: usize,
    /// Documents per loading transaction (PostgreSQL baseline; Akta with --bulk-shortcut).
    #[arg(long, default_value_t = 2_000)]
    batch: usize,
    /// Give up waiting for Akta to make the corpus searchable after this many seconds.
    #[arg(long, default_value_t = 7_200)]
    index_timeout_secs: u64,
    /// Path of the `akta` binary (default: next to this one).
    #[arg(long)]
    akta_bin: Option<PathBuf>,
}

/// Results per page, for both engines (Akta's default page size).
const PAGE: usize = 20;

/// One query of the set, as both engines are asked it.
#[derive(Debug, Clone)]
struct QuerySpec {
    class: &'static str,
    /// The query text as a clerk types it (Akta's `q`; `websearch_to_tsquery` for PostgreSQL).
    q: String,
    kind: Option<&'static str>,
    from: Option<Date>,
    to: Option<Date>,
    plan_unit: Option<&'static str>,
    /// An Aktenzeichen: exact match on Akte or Vorgang reference.
    reference: bool,
}

impl QuerySpec {
    fn text(class: &'static str, q: &str) -> Self {
        Self {
            class,
            q: q.to_owned(),
            kind: None,
            from: None,
            to: None,
            plan_unit: None,
            reference: false,
        }
    }

    fn label(&self) -> String {
        let mut s = self.q.clone();
        if let Some(k) = self.kind {
            s.push_str(&format!(" kind={k}"));
        }
        if let (Some(f), Some(t)) = (self.from, self.to) {
            s.push_str(&format!(" {f}..{t}"));
        }
        if let Some(p) = self.plan_unit {
            s.push_str(&format!(" plan_unit={p}"));
        }
        s
    }
}

fn date(y: i32, m: u8, d: u8) -> anyhow::Result<Date> {
    Ok(Date::from_calendar_date(y, time::Month::try_from(m)?, d)?)
}

/// The benchmark's own ten queries (issue #4), then a mix of 190 of the kind clerks type
/// (issue #15): words that occur in a large share of the corpus, lowercase parts of compounds,
/// surnames, two words, and phrases. 200 queries in all, each asked equally often.
fn query_set(reference: &str) -> anyhow::Result<Vec<QuerySpec>> {
    let mut set = vec![
        QuerySpec::text("word", "Rechnung"),
        QuerySpec::text("word", "Widerspruch"),
        QuerySpec::text("word", "Grundsteuer"),
        QuerySpec::text("compound", "Baugenehmigung"),
        QuerySpec::text("compound", "Straßenreinigung"),
        QuerySpec::text("phrase", "\"Antrag auf Baugenehmigung\""),
    ];
    set.push(QuerySpec {
        kind: Some("Bescheid"),
        ..QuerySpec::text("filtered", "Widerspruch")
    });
    set.push(QuerySpec {
        from: Some(date(2023, 1, 1)?),
        to: Some(date(2023, 12, 31)?),
        ..QuerySpec::text("filtered", "Rechnung")
    });
    set.push(QuerySpec {
        plan_unit: Some("22"),
        ..QuerySpec::text("filtered", "Gebührenbescheid")
    });
    set.push(QuerySpec {
        reference: true,
        ..QuerySpec::text("reference", reference)
    });
    let surnames: Vec<&str> = corpus::LAST_NAMES
        .iter()
        .chain(&SURNAME_VARIANTS)
        .copied()
        .collect();
    let mix: [(&'static str, &[&str]); 5] = [
        ("frequent", &FREQUENT),
        ("compound part", &COMPOUND_PARTS),
        ("surname", &surnames),
        ("two words", &TWO_WORDS),
        ("phrase", &PHRASES),
    ];
    for (class, queries) in mix {
        set.extend(queries.iter().map(|q| QuerySpec::text(class, q)));
    }
    Ok(set)
}

const CLASSES: [&str; 9] = [
    "word",
    "compound",
    "filtered",
    "reference",
    "frequent",
    "compound part",
    "surname",
    "two words",
    "phrase",
];

/// Words of the letters' frame and of the filler sentences: each is in a large share of the
/// documents, so counting, ranking and faceting their hits is the expensive case.
const FREQUENT: [&str; 30] = [
    "Stadt",
    "Bergheide",
    "Aktenzeichen",
    "Unterlagen",
    "Frist",
    "Termin",
    "Rückfragen",
    "Schreiben",
    "Akte",
    "Bearbeitung",
    "Antrag",
    "Prüfung",
    "Vorgang",
    "Widerspruch",
    "Bescheid",
    "Grundstück",
    "Damen",
    "Herren",
    "Grüßen",
    "Verfügung",
    "Telefonnummer",
    "Kenntnis",
    "Nachweise",
    "Hinweise",
    "Stellungnahme",
    "Datenschutz",
    "Sachstand",
    "Vollmacht",
    "Zustellung",
    "Wiedervorlage",
];

/// Lowercase parts of compounds, as clerks type them to find every kind of "…gebühr".
const COMPOUND_PARTS: [&str; 40] = [
    "erlaubnis",
    "gebühr",
    "förderung",
    "steuer",
    "genehmigung",
    "beitrag",
    "zahlung",
    "vorlage",
    "besichtigung",
    "reinigung",
    "nutzung",
    "verfahren",
    "stellung",
    "bescheid",
    "antrag",
    "ordnung",
    "meldung",
    "anmeldung",
    "garage",
    "haus",
    "plan",
    "wert",
    "betrag",
    "frist",
    "nummer",
    "schein",
    "kasse",
    "stelle",
    "vertrag",
    "aufsicht",
    "zeichen",
    "bau",
    "weg",
    "satzung",
    "recht",
    "grenze",
    "gewerbe",
    "abfall",
    "hund",
    "kita",
];

/// The corpus' surnames, and some as clerks type them without umlauts or misspell them.
const SURNAME_VARIANTS: [&str; 5] = ["mueller", "schroeder", "kruger", "Schmid", "Maier"];

const TWO_WORDS: [&str; 45] = [
    "Widerspruch Grundsteuer",
    "Antrag Stundung",
    "Baugenehmigung Müller",
    "Frist verlängert",
    "Termin Bürgerbüro",
    "Stadt Bergheide",
    "Unterlagen Vollständigkeit",
    "Grundsteuer Mahnung",
    "Widerspruch Baugenehmigung",
    "Gebühr Sondernutzung",
    "Hundesteuer Anmeldung",
    "Gewerbe Anmeldung",
    "Kita Platz",
    "Wohngeld Antrag",
    "Straßenreinigung Gebühren",
    "Ortsbesichtigung Bauaufsicht",
    "Lageplan Stellplätze",
    "Rechnung Stadtwerke",
    "Müller Bau",
    "Schmidt Widerspruch",
    "Fischer Autohaus",
    "Hartmann Ingenieurbüro",
    "Abstandflächen Grundstück",
    "Finanzamt Einspruch",
    "Gewerbesteuer Vorauszahlungen",
    "Elternbeitrag Kita",
    "Bußgeld Verwarnung",
    "Ratssitzung Tagesordnung",
    "Haushalt Kämmerei",
    "Abfall Gebühren",
    "Zahlung Mahngebühr",
    "Antrag Baugenehmigung",
    "Nachbar Widerspruch",
    "Datenschutz Grundverordnung",
    "Postzustellungsurkunde Zustellung",
    "Melderegister Angaben",
    "Sachgebietsleiter Mitzeichnung",
    "Fachämter Beteiligung",
    "Bauvorlagen Lageplan",
    "Kassenzeichen Grundsteuer",
    "Bescheid 2023",
    "Schulz Termin",
    "Becker Rechnung",
    "Wagner Stellungnahme",
    "Neumann Vermessung",
];

const PHRASES: [&str; 35] = [
    "\"Sehr geehrte Damen und Herren\"",
    "\"Mit freundlichen Grüßen\"",
    "\"zu den Akten\"",
    "\"Baubeginn ist der Bauaufsicht\"",
    "\"Widerspruch gegen den Grundsteuerbescheid\"",
    "\"Stundung der Grundsteuer\"",
    "\"Nach Aktenlage bestehen keine Bedenken\"",
    "\"Eine Ortsbesichtigung ist nicht erforderlich\"",
    "\"Die Frist wurde auf Antrag\"",
    "\"Das Original verbleibt in der Akte\"",
    "\"Vermerk zum Vorgang\"",
    "\"Ihr Zeichen\"",
    "\"Stadt Bergheide\"",
    "\"im Bürgerbüro\"",
    "\"gesetzlichen Fristen\"",
    "\"pflichtgemäßem Ermessen\"",
    "\"Rechnung Nr\"",
    "\"19 % Umsatzsteuer\"",
    "\"sachliche und rechnerische Richtigkeit\"",
    "\"innerhalb von 30 Tagen\"",
    "\"Gegen diesen Bescheid\"",
    "\"als unbegründet zurückgewiesen\"",
    "\"Abstandflächen zu meinem Grundstück\"",
    "\"grün gestempelten Bauvorlagen\"",
    "\"Grundsteuer B\"",
    "\"Gewerbesteuer-Vorauszahlungen\"",
    "\"amtlichen Lageplan\"",
    "\"Nachweis der Stellplätze\"",
    "\"Beteiligung der Fachämter\"",
    "\"Mahnung Grundsteuer\"",
    "\"Die Prüfung hat keine Beanstandungen ergeben\"",
    "\"Termin am\"",
    "\"telefonisch mit Frau\"",
    "\"Wiedervorlage wurde\"",
    "\"Vorgaben der Datenschutz-Grundverordnung\"",
];

// ---------------------------------------------------------------------------------------
// Loading

/// Counts of what the corpus held, for the sanity checks.
#[derive(Default)]
pub(crate) struct Loaded {
    pub(crate) files: usize,
    pub(crate) cases: usize,
    pub(crate) documents: usize,
    pub(crate) invoices: usize,
    pub(crate) text_bytes: u64,
    /// An Aktenzeichen of the corpus (a file under 63.01, if there is one), for the query set.
    pub(crate) reference: String,
}

impl Loaded {
    /// Keeps the first Aktenzeichen of the corpus, or the first one under 63.01.
    fn consider_reference(&mut self, plan_code: &str, reference: &str) {
        if self.reference.is_empty()
            || (plan_code == "63.01" && !self.reference.starts_with("63.01"))
        {
            self.reference = reference.to_owned();
        }
    }
}

/// Opens a transaction in which row-level security lets the owner write `tenant`'s rows.
async fn tenant_tx(
    pool: &PgPool,
    tenant: Uuid,
) -> anyhow::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(tenant.to_string())
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

fn sha256_hex(text: &str) -> String {
    hex::encode(openssl::sha::sha256(text.as_bytes()))
}

/// What Akta's tables say the upload went through: versions with a wrapped DEK (encrypted
/// content), finished extraction jobs, sealed extracted texts and audit events. Fails unless
/// every document was encrypted and extracted.
async fn check_real_path(owner: &PgPool, tenant: Uuid, documents: usize) -> anyhow::Result<String> {
    let mut tx = tenant_tx(owner, tenant).await?;
    let row = sqlx::query(
        "SELECT (SELECT count(*) FROM document_versions) AS versions,
                (SELECT count(*) FROM document_versions WHERE wrapped_dek IS NOT NULL) AS encrypted,
                (SELECT count(*) FROM extraction_jobs WHERE state = 'done') AS extracted,
                (SELECT count(*) FROM extracted_texts WHERE sealed IS NOT NULL) AS sealed,
                (SELECT count(*) FROM audit_events) AS audit",
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let n = |c: &str| row.try_get::<i64, _>(c);
    let (versions, encrypted, extracted, sealed, audit) = (
        n("versions")?,
        n("encrypted")?,
        n("extracted")?,
        n("sealed")?,
        n("audit")?,
    );
    let want = i64::try_from(documents)?;
    if versions != want || encrypted != want || extracted != want {
        bail!(
            "expected {want} encrypted and extracted versions, Akta holds {versions} versions, \
             {encrypted} encrypted, {extracted} extraction jobs done"
        );
    }
    Ok(format!(
        "Akta's tables after the upload: {versions} versions, {encrypted} of them encrypted, \
         {extracted} extraction jobs done, {sealed} extracted texts sealed, {audit} audit events."
    ))
}

/// Writes the corpus into Akta's own tables as the repositories would (see the module doc).
async fn load_akta(
    owner: &PgPool,
    tenant: Uuid,
    seed: u64,
    docs: usize,
    batch: usize,
) -> anyhow::Result<Loaded> {
    let mut corpus = Corpus::new(seed, docs);
    let plan = corpus.plan().to_vec();
    let mut tx = tenant_tx(owner, tenant).await?;
    for unit in &plan {
        sqlx::query(
            "INSERT INTO plan_units (id, tenant_id, parent_id, code, title) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(unit.id)
        .bind(tenant)
        .bind(unit.parent.map(|p| plan[p].id))
        .bind(unit.code)
        .bind(unit.title)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;

    let mut loaded = Loaded::default();
    let mut pending: Vec<corpus::File> = Vec::new();
    let mut pending_docs = 0;
    let started = Instant::now();
    loop {
        let done = match corpus.next() {
            Some(file) => {
                loaded.consider_reference(plan[file.plan_unit].code, &file.reference);
                pending_docs += file.documents.len();
                pending.push(file);
                if pending_docs < batch {
                    continue;
                }
                false
            }
            None => true,
        };
        if !pending.is_empty() {
            insert_akta_batch(owner, tenant, &plan, &pending, &mut loaded).await?;
            pending.clear();
            pending_docs = 0;
            if loaded.documents % 20_000 < batch {
                eprintln!(
                    "  Akta tables: {} documents ({:.0} s)",
                    loaded.documents,
                    started.elapsed().as_secs_f64()
                );
            }
        }
        if done {
            break;
        }
    }

    let mut tx = tenant_tx(owner, tenant).await?;
    for (unit, year, last) in corpus.counters() {
        sqlx::query(
            "INSERT INTO reference_counters (tenant_id, scope_id, year, last_nr) VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant)
        .bind(plan[unit].id)
        .bind(year)
        .bind(i64::from(last))
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "INSERT INTO tenant_usage (tenant_id, storage_bytes, documents) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id) DO UPDATE SET storage_bytes = tenant_usage.storage_bytes + $2,
                documents = tenant_usage.documents + $3",
    )
    .bind(tenant)
    .bind(i64::try_from(loaded.text_bytes)?)
    .bind(i64::try_from(loaded.documents)?)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(loaded)
}

/// One transaction with multi-row inserts (`UNNEST` of arrays) for a batch of Akten.
async fn insert_akta_batch(
    owner: &PgPool,
    tenant: Uuid,
    plan: &[corpus::PlanUnit],
    files: &[corpus::File],
    loaded: &mut Loaded,
) -> anyhow::Result<()> {
    let mut tx = tenant_tx(owner, tenant).await?;
    sqlx::query(
        "INSERT INTO files (id, tenant_id, plan_unit_id, reference, subject, period_from, status)
         SELECT u.id, $1, u.unit, u.reference, u.subject, u.period_from, u.status
           FROM UNNEST($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::date[], $7::text[])
                AS u(id, unit, reference, subject, period_from, status)",
    )
    .bind(tenant)
    .bind(files.iter().map(|f| f.id).collect::<Vec<_>>())
    .bind(
        files
            .iter()
            .map(|f| plan[f.plan_unit].id)
            .collect::<Vec<_>>(),
    )
    .bind(
        files
            .iter()
            .map(|f| f.reference.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(files.iter().map(|f| f.subject.as_str()).collect::<Vec<_>>())
    .bind(files.iter().map(|f| f.period_from).collect::<Vec<_>>())
    .bind(files.iter().map(|f| f.status).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;

    let cases: Vec<(&corpus::File, &corpus::Case)> = files
        .iter()
        .flat_map(|f| f.cases.iter().map(move |c| (f, c)))
        .collect();
    sqlx::query(
        "INSERT INTO cases (id, tenant_id, file_id, nr, reference, subject, status)
         SELECT u.id, $1, u.file_id, u.nr, u.reference, u.subject, u.status
           FROM UNNEST($2::uuid[], $3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::text[])
                AS u(id, file_id, nr, reference, subject, status)",
    )
    .bind(tenant)
    .bind(cases.iter().map(|(_, c)| c.id).collect::<Vec<_>>())
    .bind(cases.iter().map(|(f, _)| f.id).collect::<Vec<_>>())
    .bind(cases.iter().map(|(_, c)| c.nr).collect::<Vec<_>>())
    .bind(
        cases
            .iter()
            .map(|(_, c)| c.reference.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        cases
            .iter()
            .map(|(_, c)| c.subject.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(cases.iter().map(|(f, _)| f.status).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    // Vorgänge are numbered per Akte (scope = the Akte, year 0), like `create_case` does.
    let with_cases: Vec<&corpus::File> = files.iter().filter(|f| !f.cases.is_empty()).collect();
    sqlx::query(
        "INSERT INTO reference_counters (tenant_id, scope_id, year, last_nr)
         SELECT $1, u.file_id, 0, u.last FROM UNNEST($2::uuid[], $3::bigint[]) AS u(file_id, last)",
    )
    .bind(tenant)
    .bind(with_cases.iter().map(|f| f.id).collect::<Vec<_>>())
    .bind(
        with_cases
            .iter()
            .map(|f| f.cases.len() as i64)
            .collect::<Vec<_>>(),
    )
    .execute(&mut *tx)
    .await?;

    let docs: Vec<(&corpus::File, &corpus::Document)> = files
        .iter()
        .flat_map(|f| f.documents.iter().map(move |d| (f, d)))
        .collect();
    sqlx::query(
        "INSERT INTO documents (id, tenant_id, file_id, case_id, title, kind, sender, recipient,
                                document_date)
         SELECT u.id, $1, u.file_id, u.case_id, u.title, u.kind, u.sender, u.recipient, u.day
           FROM UNNEST($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[],
                       $8::text[], $9::date[])
                AS u(id, file_id, case_id, title, kind, sender, recipient, day)",
    )
    .bind(tenant)
    .bind(docs.iter().map(|(_, d)| d.id).collect::<Vec<_>>())
    .bind(docs.iter().map(|(f, _)| f.id).collect::<Vec<_>>())
    .bind(
        docs.iter()
            .map(|(f, d)| d.case.map(|i| f.cases[i].id))
            .collect::<Vec<_>>(),
    )
    .bind(
        docs.iter()
            .map(|(_, d)| d.title.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(docs.iter().map(|(_, d)| d.kind).collect::<Vec<_>>())
    .bind(
        docs.iter()
            .map(|(_, d)| d.sender.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(
        docs.iter()
            .map(|(_, d)| d.recipient.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(docs.iter().map(|(_, d)| d.date).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;

    // One version per document: key, hash and size of its text, as a plain-text upload would
    // have them (unencrypted: no wrapped data key). The blob itself is not written.
    sqlx::query(
        "INSERT INTO document_versions (id, tenant_id, document_id, nr, blob_key, sha256, size_bytes,
                                        media_type, file_name, author)
         SELECT u.id, $1, u.document_id, 1, u.blob_key, u.sha256, u.size, 'text/plain',
                u.file_name, 'bench:loader'
           FROM UNNEST($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::bigint[], $7::text[])
                AS u(id, document_id, blob_key, sha256, size, file_name)",
    )
    .bind(tenant)
    .bind(docs.iter().map(|(_, d)| d.version_id).collect::<Vec<_>>())
    .bind(docs.iter().map(|(_, d)| d.id).collect::<Vec<_>>())
    .bind(
        docs.iter()
            .map(|(_, d)| format!("t/{tenant}/{}", d.version_id))
            .collect::<Vec<_>>(),
    )
    .bind(
        docs.iter()
            .map(|(_, d)| sha256_hex(&d.text))
            .collect::<Vec<_>>(),
    )
    .bind(
        docs.iter()
            .map(|(_, d)| d.text.len() as i64)
            .collect::<Vec<_>>(),
    )
    .bind(
        docs.iter()
            .map(|(_, d)| format!("{}.txt", d.id))
            .collect::<Vec<_>>(),
    )
    .execute(&mut *tx)
    .await?;
    // The extraction is done: finished job and stored text, as `complete_extraction_job` leaves them.
    sqlx::query(
        "INSERT INTO extraction_jobs (id, tenant_id, version_id, state, attempts)
         SELECT gen_random_uuid(), $1, u.version_id, 'done', 1 FROM UNNEST($2::uuid[]) AS u(version_id)",
    )
    .bind(tenant)
    .bind(docs.iter().map(|(_, d)| d.version_id).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO extracted_texts (version_id, tenant_id, method, text)
         SELECT u.version_id, $1, 'plain', u.text FROM UNNEST($2::uuid[], $3::text[]) AS u(version_id, text)",
    )
    .bind(tenant)
    .bind(docs.iter().map(|(_, d)| d.version_id).collect::<Vec<_>>())
    .bind(docs.iter().map(|(_, d)| d.text.as_str()).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    // Nobody tails the log while loading, so the writers' shared advisory lock is not needed.
    sqlx::query(
        "INSERT INTO index_log (tenant_id, document_id, op)
         SELECT $1, u.id, 'upsert' FROM UNNEST($2::uuid[]) WITH ORDINALITY AS u(id, n) ORDER BY u.n",
    )
    .bind(tenant)
    .bind(docs.iter().map(|(_, d)| d.id).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;

    loaded.files += files.len();
    loaded.cases += cases.len();
    loaded.documents += docs.len();
    loaded.invoices += docs.iter().filter(|(_, d)| d.invoice).count();
    loaded.text_bytes += docs.iter().map(|(_, d)| d.text.len() as u64).sum::<u64>();
    Ok(())
}

/// The PostgreSQL baseline's table: the same fields Akta's index searches (title, Betreff of
/// the Akte, sender, recipient, text) in one stored `tsvector`, plus what the filters need.
const FTS_SCHEMA: &str = "
CREATE SCHEMA bench_fts;
CREATE TABLE bench_fts.documents (
    id              uuid PRIMARY KEY,
    title           text NOT NULL,
    subject         text NOT NULL,
    kind            text NOT NULL,
    sender          text,
    recipient       text,
    document_date   date NOT NULL,
    plan_code       text NOT NULL,
    plan_path       text[] NOT NULL,
    reference       text NOT NULL,
    case_reference  text,
    content         text NOT NULL,
    tsv             tsvector GENERATED ALWAYS AS (
                        to_tsvector('german', title || ' ' || subject || ' ' || coalesce(sender, '')
                                    || ' ' || coalesce(recipient, '') || ' ' || content)) STORED
)";

/// Gives an Akte of the corpus the references Akta gave it, and its texts as uploaded.
fn as_filed(file: &mut corpus::File, filed: &Filed, texts: bool) -> anyhow::Result<()> {
    if filed.case_references.len() != file.cases.len() {
        bail!(
            "Akte {} has {} Vorgänge in the corpus and {} in Akta",
            file.reference,
            file.cases.len(),
            filed.case_references.len()
        );
    }
    let corpus_reference = std::mem::replace(&mut file.reference, filed.reference.clone());
    if texts {
        for d in &mut file.documents {
            d.text = filed_text(&d.text, &corpus_reference, filed);
        }
    }
    for (case, reference) in file.cases.iter_mut().zip(&filed.case_references) {
        case.reference = reference.clone();
    }
    Ok(())
}

struct PgLoad {
    load: Duration,
    index: Duration,
}

/// Loads the same corpus into `bench_fts.documents` (the `tsvector` is computed while
/// inserting), then builds the GIN index and the B-tree indexes for Aktenzeichen lookups.
/// With `filed` (the corpus went through Akta's API), the rows carry Akta's Aktenzeichen and
/// Vorgangszeichen and the texts as uploaded; without, the corpus' own.
/// Akta's Zeichen for the corpus' Akten, for the PostgreSQL table, so that an Aktenzeichen
/// query asks both engines for the same Akte.
enum Names<'a> {
    /// The corpus' own (`--bulk-shortcut` wrote them into Akta).
    Corpus,
    /// Filed through the API, one entry per corpus Akte in order; the uploaded texts name
    /// Akta's Zeichen.
    Uploaded(&'a [Filed]),
    /// Assigned by `akta import folder`, found by the Akte's Betreff (which carries the
    /// corpus' Zeichen); the imported texts keep the corpus' Zeichen.
    Imported(&'a Imported),
}

/// Akta's Zeichen of each imported Akte by its Betreff, with its Vorgänge' by theirs.
type Imported =
    std::collections::HashMap<String, (String, std::collections::HashMap<String, String>)>;

/// What `akta import folder` made of the corpus' Akten (see [`Names::Imported`]).
async fn imported_names(owner: &PgPool, tenant: Uuid) -> anyhow::Result<Imported> {
    let mut tx = tenant_tx(owner, tenant).await?;
    let rows: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT f.subject, f.reference, c.subject, c.reference
           FROM files f LEFT JOIN cases c ON c.file_id = f.id",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut names = Imported::new();
    for (subject, reference, case_subject, case_reference) in rows {
        let entry = names
            .entry(subject)
            .or_insert_with(|| (reference, Default::default()));
        if let (Some(s), Some(r)) = (case_subject, case_reference) {
            entry.1.insert(s, r);
        }
    }
    Ok(names)
}

/// Loads the corpus into PostgreSQL's table under Akta's names; returns the time taken and
/// Akta's Zeichen of the corpus Akte `reference`.
async fn load_fts(
    owner: &PgPool,
    seed: u64,
    docs: usize,
    batch: usize,
    names: Names<'_>,
    reference: &str,
) -> anyhow::Result<(PgLoad, String)> {
    let mut renamed = reference.to_owned();
    for statement in FTS_SCHEMA.split(";\n") {
        sqlx::query(statement).execute(owner).await?;
    }
    let mut corpus = Corpus::new(seed, docs);
    let paths: Vec<String> = (0..corpus.plan().len())
        .map(|i| corpus.plan_path(i).join("|"))
        .collect();
    let codes: Vec<&str> = corpus.plan().iter().map(|p| p.code).collect();
    let started = Instant::now();
    let mut pending: Vec<corpus::File> = Vec::new();
    let mut pending_docs = 0;
    let mut index = 0;
    loop {
        let done = match corpus.next() {
            Some(mut file) => {
                let corpus_reference = file.reference.clone();
                match names {
                    Names::Corpus => {}
                    Names::Uploaded(filed) => {
                        let names = filed
                            .get(index)
                            .with_context(|| format!("Akta has no Akte {index} of the corpus"))?;
                        as_filed(&mut file, names, true)?;
                    }
                    // An Akte without documents was not on the share.
                    Names::Imported(_) if file.documents.is_empty() => {}
                    Names::Imported(imported) => {
                        let betreff = crate::import::imported_subject(&file);
                        let (akte, cases) = imported
                            .get(&betreff)
                            .with_context(|| format!("Akta has no Akte `{betreff}`"))?;
                        let filed = Filed {
                            reference: akte.clone(),
                            case_references: file
                                .cases
                                .iter()
                                .map(|c| cases.get(&c.subject).unwrap_or(&c.reference).clone())
                                .collect(),
                        };
                        as_filed(&mut file, &filed, false)?;
                    }
                }
                if corpus_reference == reference {
                    renamed = file.reference.clone();
                }
                index += 1;
                pending_docs += file.documents.len();
                pending.push(file);
                if pending_docs < batch {
                    continue;
                }
                false
            }
            None => true,
        };
        if !pending.is_empty() {
            let rows: Vec<(&corpus::File, &corpus::Document)> = pending
                .iter()
                .flat_map(|f| f.documents.iter().map(move |d| (f, d)))
                .collect();
            sqlx::query(
                "INSERT INTO bench_fts.documents (id, title, subject, kind, sender, recipient,
                        document_date, plan_code, plan_path, reference, case_reference, content)
                 SELECT u.id, u.title, u.subject, u.kind, u.sender, u.recipient, u.day, u.code,
                        string_to_array(u.path, '|'), u.reference, u.case_reference, u.content
                   FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                               $6::text[], $7::date[], $8::text[], $9::text[], $10::text[],
                               $11::text[], $12::text[])
                        AS u(id, title, subject, kind, sender, recipient, day, code, path,
                             reference, case_reference, content)",
            )
            .bind(rows.iter().map(|(_, d)| d.id).collect::<Vec<_>>())
            .bind(
                rows.iter()
                    .map(|(_, d)| d.title.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                rows.iter()
                    .map(|(f, _)| f.subject.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(rows.iter().map(|(_, d)| d.kind).collect::<Vec<_>>())
            .bind(
                rows.iter()
                    .map(|(_, d)| d.sender.as_deref())
                    .collect::<Vec<_>>(),
            )
            .bind(
                rows.iter()
                    .map(|(_, d)| d.recipient.as_deref())
                    .collect::<Vec<_>>(),
            )
            .bind(rows.iter().map(|(_, d)| d.date).collect::<Vec<_>>())
            .bind(
                rows.iter()
                    .map(|(f, _)| codes[f.plan_unit])
                    .collect::<Vec<_>>(),
            )
            .bind(
                rows.iter()
                    .map(|(f, _)| paths[f.plan_unit].as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                rows.iter()
                    .map(|(f, _)| f.reference.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                rows.iter()
                    .map(|(f, d)| d.case.map(|i| f.cases[i].reference.as_str()))
                    .collect::<Vec<_>>(),
            )
            .bind(
                rows.iter()
                    .map(|(_, d)| d.text.as_str())
                    .collect::<Vec<_>>(),
            )
            .execute(owner)
            .await?;
            pending.clear();
            pending_docs = 0;
        }
        if done {
            break;
        }
    }
    let load = started.elapsed();
    let started = Instant::now();
    let mut conn = owner.acquire().await?;
    // What an administrator would give an index build; PostgreSQL's default is 64 MB.
    sqlx::query("SET maintenance_work_mem = '256MB'")
        .execute(&mut *conn)
        .await?;
    for statement in [
        "CREATE INDEX documents_tsv ON bench_fts.documents USING gin (tsv)",
        "CREATE INDEX documents_reference ON bench_fts.documents (reference)",
        "CREATE INDEX documents_case_reference ON bench_fts.documents (case_reference)",
        "ANALYZE bench_fts.documents",
    ] {
        sqlx::query(statement).execute(&mut *conn).await?;
    }
    sqlx::query("RESET maintenance_work_mem")
        .execute(&mut *conn)
        .await?;
    Ok((
        PgLoad {
            load,
            index: started.elapsed(),
        },
        renamed,
    ))
}

// ---------------------------------------------------------------------------------------
// The two engines

/// An `akta serve` process on the throwaway PostgreSQL; killed when dropped.
pub(crate) struct Server {
    pub(crate) child: tokio::process::Child,
    pub(crate) base: String,
    started: Instant,
    pub(crate) memory: MemoryWatch,
}

/// The server's resident memory split, sampled from `/proc/<pid>/status` every 250 ms while
/// it runs: VmHWM alone counts the index's memory-mapped segment files that queries touched
/// (page cache the kernel may take back) together with the heap.
pub(crate) struct MemoryWatch {
    /// Highest RssAnon (heap, stacks) and RssFile (mapped files) seen, in KiB.
    peaks: std::sync::Arc<std::sync::Mutex<(u64, u64)>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl MemoryWatch {
    fn start(pid: u32) -> Self {
        let peaks = std::sync::Arc::new(std::sync::Mutex::new((0, 0)));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (p, s) = (peaks.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(std::sync::atomic::Ordering::Relaxed) {
                let (Ok(anon), Ok(file)) = (
                    crate::upload::rss_kib(pid, "RssAnon:"),
                    crate::upload::rss_kib(pid, "RssFile:"),
                ) else {
                    return;
                };
                if let Ok(mut peaks) = p.lock() {
                    peaks.0 = peaks.0.max(anon);
                    peaks.1 = peaks.1.max(file);
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        });
        Self { peaks, stop }
    }

    /// (RssAnon, RssFile) peaks in KiB so far.
    pub(crate) fn peaks(&self) -> (u64, u64) {
        self.peaks.lock().map_or((0, 0), |p| *p)
    }
}

impl Drop for MemoryWatch {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

pub(crate) async fn start_akta(
    akta_bin: &Path,
    urls: &akta_pgcluster::ClusterUrls,
    data_dir: &Path,
    master_key_hex: &str,
) -> anyhow::Result<Server> {
    let port = akta_pgcluster::free_port()?;
    let started = Instant::now();
    let child = tokio::process::Command::new(akta_bin)
        .arg("serve")
        .env("AKTA_LISTEN", format!("127.0.0.1:{port}"))
        .env("AKTA_DATABASE_URL", &urls.app_url)
        .env("AKTA_DATABASE_OWNER_URL", &urls.owner_url)
        .env("AKTA_DATA_DIR", data_dir)
        .env("AKTA_MASTER_KEY", master_key_hex)
        .env("AKTA_LOG", "warn")
        // The bench measures the catch-up itself: the server is to answer from the start.
        .env("AKTA_READY_MAX_INDEX_LAG", "1000000000")
        .env_remove("AKTA_MASTER_KEY_FILE")
        .env_remove("AKTA_S3_BUCKET")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting akta serve")?;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await {
            if r.status().is_success() {
                break;
            }
        }
        if Instant::now() > deadline {
            bail!("akta serve did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let memory = MemoryWatch::start(child.id().context("akta serve's pid")?);
    Ok(Server {
        child,
        base,
        started,
        memory,
    })
}

impl Server {
    /// The benchmark's clients are one tenant asking far more than a town would: the operator
    /// lifts that tenant's request limit, as `PUT /api/v1/tenants/{slug}/quota` does for anyone.
    pub(crate) async fn lift_rate_limit(
        &self,
        operator_token: &str,
        slug: &str,
    ) -> anyhow::Result<()> {
        let response = reqwest::Client::new()
            .put(format!("{}/api/v1/tenants/{slug}/quota", self.base))
            .bearer_auth(operator_token)
            .json(&serde_json::json!({"requests_per_minute": i32::MAX}))
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            bail!(
                "setting the quota of {slug} answered {status}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        Ok(())
    }

    pub(crate) async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// What one search answered: the total and how many hits the first page held.
#[derive(Debug, Clone, Copy)]
struct Answer {
    total: u64,
    page: usize,
}

enum Engine {
    Akta {
        http: reqwest::Client,
        base: String,
        token: String,
    },
    Pg(PgConnection),
}

pub(crate) fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The PostgreSQL equivalent of Akta's answer: total count, the first page ranked by
/// `ts_rank`, and a highlighted snippet for each hit of that page.
fn pg_sql(spec: &QuerySpec) -> String {
    if spec.reference {
        return format!(
            "SELECT d.id, d.title, d.kind, d.reference, d.document_date, '' AS snippet,
                    count(*) OVER () AS total
               FROM bench_fts.documents d
              WHERE d.reference = $1 OR d.case_reference = $1
              ORDER BY d.document_date DESC
              LIMIT {PAGE}"
        );
    }
    let mut filters = String::new();
    let mut n = 1;
    if spec.kind.is_some() {
        n += 1;
        filters.push_str(&format!(" AND d.kind = ${n}"));
    }
    if spec.from.is_some() {
        n += 1;
        filters.push_str(&format!(" AND d.document_date >= ${n}"));
    }
    if spec.to.is_some() {
        n += 1;
        filters.push_str(&format!(" AND d.document_date <= ${n}"));
    }
    if spec.plan_unit.is_some() {
        n += 1;
        filters.push_str(&format!(" AND d.plan_path @> ARRAY[${n}::text]"));
    }
    format!(
        "SELECT p.id, p.title, p.kind, p.reference, p.document_date,
                ts_headline('german', p.content, p.q,
                            'StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=15') AS snippet,
                p.total
           FROM (SELECT d.id, d.title, d.kind, d.reference, d.document_date, d.content, q.q,
                        ts_rank(d.tsv, q.q) AS rank, count(*) OVER () AS total
                   FROM bench_fts.documents d, websearch_to_tsquery('german', $1) AS q(q)
                  WHERE d.tsv @@ q.q{filters}
                  ORDER BY rank DESC
                  LIMIT {PAGE}) p
          ORDER BY p.rank DESC"
    )
}

impl Engine {
    async fn search(&mut self, spec: &QuerySpec, sql: &str) -> anyhow::Result<Answer> {
        match self {
            Engine::Akta { http, base, token } => {
                let mut params: Vec<(&str, String)> =
                    vec![("q", spec.q.clone()), ("limit", PAGE.to_string())];
                if let Some(k) = spec.kind {
                    params.push(("kind", k.to_owned()));
                }
                if let Some(d) = spec.from {
                    params.push(("from", iso(d)));
                }
                if let Some(d) = spec.to {
                    params.push(("to", iso(d)));
                }
                if let Some(p) = spec.plan_unit {
                    params.push(("plan_unit", p.to_owned()));
                }
                let response = http
                    .get(format!("{base}/api/v1/search"))
                    .bearer_auth(&*token)
                    .query(&params)
                    .send()
                    .await?;
                let status = response.status();
                let body: serde_json::Value = response.json().await?;
                if !status.is_success() {
                    bail!("Akta answered {status}: {body}");
                }
                Ok(Answer {
                    total: body["total"]
                        .as_u64()
                        .with_context(|| format!("no total in {body}"))?,
                    page: body["items"].as_array().map_or(0, Vec::len),
                })
            }
            Engine::Pg(conn) => {
                let mut query = sqlx::query(sql).bind(&spec.q);
                if let Some(k) = spec.kind {
                    query = query.bind(k);
                }
                if let Some(d) = spec.from {
                    query = query.bind(d);
                }
                if let Some(d) = spec.to {
                    query = query.bind(d);
                }
                if let Some(p) = spec.plan_unit {
                    query = query.bind(p);
                }
                let rows = query.fetch_all(&mut *conn).await?;
                let total = match rows.first() {
                    Some(r) => u64::try_from(r.try_get::<i64, _>("total")?)?,
                    None => 0,
                };
                // Read what a client would show, so both sides decode their answer.
                for r in &rows {
                    let _: (&str, &str) = (r.try_get("title")?, r.try_get("snippet")?);
                }
                Ok(Answer {
                    total,
                    page: rows.len(),
                })
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Running queries

/// Latencies of one engine's measured phase: (query index, latency).
struct Run {
    samples: Vec<(usize, Duration)>,
    wall: Duration,
    errors: usize,
    first_error: Option<String>,
    /// Share of the machine other processes used while measuring.
    foreign_cpu: f64,
}

/// Every query asked once, shared out among `engines` asking at the same time; the answers
/// in the order of `queries`.
async fn ask_all(engines: &mut [Engine], queries: &[QuerySpec]) -> anyhow::Result<Vec<Answer>> {
    let clients = engines.len();
    let asked = futures_util::future::join_all(engines.iter_mut().enumerate().map(
        |(worker, engine)| async move {
            let mut answers = Vec::new();
            for q in (worker..queries.len()).step_by(clients) {
                let answer = engine.search(&queries[q], &pg_sql(&queries[q])).await?;
                answers.push((q, answer));
            }
            anyhow::Ok(answers)
        },
    ))
    .await;
    let mut answers: Vec<Option<Answer>> = queries.iter().map(|_| None).collect();
    for part in asked {
        for (q, answer) in part? {
            answers[q] = Some(answer);
        }
    }
    answers
        .into_iter()
        .map(|a| a.context("a query was not asked"))
        .collect()
}

async fn run_clients(
    engines: Vec<Engine>,
    queries: Arc<Vec<QuerySpec>>,
    warmup_rounds: usize,
    measure: Measure,
) -> anyhow::Result<Run> {
    let sql: Arc<Vec<String>> = Arc::new(queries.iter().map(pg_sql).collect());
    let clients = engines.len();
    // Every client walks the set in the same mixed order (so a slow engine, measured for a
    // fixed time, still samples every class), each from its own starting point.
    let mut order: Vec<usize> = (0..queries.len()).collect();
    {
        use rand::seq::SliceRandom;
        use rand::SeedableRng;
        order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(15));
    }
    let order = Arc::new(order);
    let barrier = Arc::new(tokio::sync::Barrier::new(clients + 1));
    let mut tasks = Vec::new();
    for (worker, mut engine) in engines.into_iter().enumerate() {
        let (queries, sql, barrier, order) =
            (queries.clone(), sql.clone(), barrier.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            // Each round asks the whole set once, shared out among the clients.
            for _ in 0..warmup_rounds {
                for q in (worker..queries.len()).step_by(clients) {
                    let _ = engine.search(&queries[q], &sql[q]).await;
                }
            }
            barrier.wait().await;
            let started = Instant::now();
            let mut samples = Vec::new();
            let (mut errors, mut first_error) = (0, None);
            let mut i = worker * queries.len() / clients;
            loop {
                match measure {
                    Measure::Queries(n) if samples.len() + errors >= n => break,
                    Measure::Seconds(s) if started.elapsed() >= s => break,
                    _ => {}
                }
                let q = order[i % queries.len()];
                let t = Instant::now();
                match engine.search(&queries[q], &sql[q]).await {
                    Ok(_) => samples.push((q, t.elapsed())),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("{}: {e:#}", queries[q].q));
                    }
                }
                i += 1;
            }
            (samples, errors, first_error)
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let cpu_before = cpu_ticks();
    let mut run = Run {
        samples: Vec::new(),
        wall: Duration::ZERO,
        errors: 0,
        first_error: None,
        foreign_cpu: 0.0,
    };
    for task in tasks {
        let (samples, errors, first_error) = task.await?;
        run.samples.extend(samples);
        run.errors += errors;
        if run.first_error.is_none() {
            run.first_error = first_error;
        }
    }
    run.wall = started.elapsed();
    run.foreign_cpu = foreign_share(cpu_before, cpu_ticks(), run.wall);
    Ok(run)
}

#[derive(Clone, Copy)]
enum Measure {
    Queries(usize),
    Seconds(Duration),
}

#[derive(Clone, Copy, Default)]
pub(crate) struct Stats {
    pub(crate) n: usize,
    pub(crate) p50: f64,
    pub(crate) p99: f64,
    pub(crate) mean: f64,
}

/// Nearest-rank percentiles in milliseconds.
pub(crate) fn stats(mut ms: Vec<f64>) -> Stats {
    if ms.is_empty() {
        return Stats::default();
    }
    ms.sort_by(f64::total_cmp);
    let rank = |p: f64| ms[((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
    Stats {
        n: ms.len(),
        p50: rank(0.50),
        p99: rank(0.99),
        mean: ms.iter().sum::<f64>() / ms.len() as f64,
    }
}

impl Run {
    fn select(&self, keep: impl Fn(usize) -> bool) -> Stats {
        stats(
            self.samples
                .iter()
                .filter(|(q, _)| keep(*q))
                .map(|(_, d)| d.as_secs_f64() * 1000.0)
                .collect(),
        )
    }

    fn qps(&self) -> f64 {
        self.samples.len() as f64 / self.wall.as_secs_f64()
    }
}

/// CPU time (clock ticks) of the whole machine and of this process with its descendants
/// (the PostgreSQL cluster and `akta serve` are children of the bench), so a run can say how
/// much of the machine other work took while it measured.
#[derive(Clone, Copy, Default)]
struct CpuTicks {
    machine_busy: u64,
    ours: u64,
}

fn cpu_ticks() -> CpuTicks {
    let machine_busy = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let fields: Vec<u64> = s
                .lines()
                .next()?
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal …: processes' time is user, nice
            // and system (interrupt time, loopback traffic included, belongs to no process).
            Some(fields.iter().take(3).sum::<u64>())
        })
        .unwrap_or(0);
    let mut procs: Vec<(u32, u32, u64)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Fields after the parenthesised command: state, ppid, …, utime (12th), stime (13th).
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        // cutime/cstime (14th, 15th) hold reaped children: PostgreSQL's parallel workers
        // exit within a query and leave their time with the postmaster.
        procs.push((pid, num(1) as u32, num(11) + num(12) + num(13) + num(14)));
    }
    let me = std::process::id();
    let mut ours = std::collections::HashSet::from([me]);
    // Parents have smaller pids almost always, but iterate until nothing changes to be sure.
    loop {
        let before = ours.len();
        for &(pid, ppid, _) in &procs {
            if ours.contains(&ppid) {
                ours.insert(pid);
            }
        }
        if ours.len() == before {
            break;
        }
    }
    let ours = procs
        .iter()
        .filter(|(pid, _, _)| ours.contains(pid))
        .map(|(_, _, t)| t)
        .sum();
    CpuTicks { machine_busy, ours }
}

/// Share of the machine's CPUs that processes outside this benchmark used between `a` and `b`.
fn foreign_share(a: CpuTicks, b: CpuTicks, wall: Duration) -> f64 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let foreign = (b.machine_busy.saturating_sub(a.machine_busy))
        .saturating_sub(b.ours.saturating_sub(a.ours)) as f64;
    // /proc counts in USER_HZ, 100 per second on Linux.
    foreign / 100.0 / (wall.as_secs_f64() * cores)
}

/// Segments of the tantivy index in `dir`, from its `meta.json` (`None` if unreadable).
fn segments(dir: &Path) -> Option<usize> {
    let meta = std::fs::read_to_string(dir.join("meta.json")).ok()?;
    let meta: serde_json::Value = serde_json::from_str(&meta).ok()?;
    meta["segments"].as_array().map(Vec::len)
}

fn dir_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// Akta's data dir for the run, removed however the run ends.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn create(path: PathBuf) -> anyhow::Result<Self> {
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The directory called `name` at most `depth` levels below `root`: the tenant's index sits
/// under `<data_dir>/index`, possibly inside a directory per index schema version.
fn find_dir(root: &Path, name: &str, depth: usize) -> anyhow::Result<Option<PathBuf>> {
    for entry in std::fs::read_dir(root).with_context(|| format!("reading {}", root.display()))? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        if entry.file_name() == name {
            return Ok(Some(entry.path()));
        }
        if depth > 1 {
            if let Some(found) = find_dir(&entry.path(), name, depth - 1)? {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Polls Akta until its index holds every document and the log is applied; returns the
/// time since the server process was started.
async fn wait_for_index(
    server: &Server,
    token: &str,
    documents: usize,
    timeout: Duration,
) -> anyhow::Result<Duration> {
    let http = reqwest::Client::new();
    let mut last_report = Instant::now();
    loop {
        let response = http
            .get(format!("{}/api/v1/search", server.base))
            .bearer_auth(token)
            .query(&[("limit", "1")])
            .send()
            .await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        if !status.is_success() {
            bail!("search while indexing answered {status}: {body}");
        }
        let lag = body["index_lag"].as_i64().unwrap_or(i64::MAX);
        let total = body["total"].as_u64().unwrap_or(0);
        if lag == 0 && total >= documents as u64 {
            return Ok(server.started.elapsed());
        }
        if last_report.elapsed() > Duration::from_secs(15) {
            eprintln!(
                "  indexing: {total} documents searchable, index_lag {lag} ({:.0} s)",
                server.started.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
        if server.started.elapsed() > timeout {
            bail!(
                "Akta's index did not catch up within {timeout:?} (lag {lag}, {total} searchable)"
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

struct PgSizes {
    gin: i64,
    tsv: i64,
    heap: i64,
    total: i64,
}

async fn pg_sizes(owner: &PgPool) -> anyhow::Result<PgSizes> {
    let row = sqlx::query(
        "SELECT pg_relation_size('bench_fts.documents_tsv') AS gin,
                (SELECT coalesce(sum(pg_column_size(tsv)), 0)::bigint FROM bench_fts.documents) AS tsv,
                pg_relation_size('bench_fts.documents') AS heap,
                pg_total_relation_size('bench_fts.documents') AS total",
    )
    .fetch_one(owner)
    .await?;
    Ok(PgSizes {
        gin: row.try_get("gin")?,
        tsv: row.try_get("tsv")?,
        heap: row.try_get("heap")?,
        total: row.try_get("total")?,
    })
}

fn check(ok: bool) -> &'static str {
    if ok {
        "✓"
    } else {
        "✗"
    }
}

/// How Akta got the corpus, and what that took.
enum AktaLoad {
    /// Through the REST API (the default).
    Api {
        /// What Akta's tables say about encryption, extraction and audit.
        verified: String,
        uploaders: usize,
        /// From the first request until the last upload was answered.
        upload: Duration,
        /// From the first request until every text was searchable and the log applied.
        searchable: Duration,
        requests: usize,
        /// Latency of one document upload.
        upload_latency: Stats,
    },
    /// `--via-import`: `akta import folder` from a generated file share.
    Import {
        /// From the import's start until the import process ended.
        written: Duration,
        /// From the import's start until every text was searchable and the log applied.
        searchable: Duration,
        /// Peak RSS of the import process.
        import_peak_kib: u64,
        /// Writing the file share (not counted).
        tree: Duration,
    },
    /// `--bulk-shortcut`: rows written into Akta's tables, then a server started.
    Bulk {
        /// Writing the tables (not counted as indexing).
        load: Duration,
        /// From starting `akta serve` until its index had applied the whole log.
        indexing: Duration,
        /// From starting `akta serve` until `/readyz` answered.
        ready: Duration,
    },
}

impl AktaLoad {
    /// Akta's side of the "indexing time" row.
    fn indexing(&self) -> Duration {
        match self {
            AktaLoad::Api { searchable, .. } | AktaLoad::Import { searchable, .. } => *searchable,
            AktaLoad::Bulk { indexing, .. } => *indexing,
        }
    }
}

/// What the corpus holds, counted from the generator as the loaders count it.
fn corpus_summary(seed: u64, docs: usize) -> Loaded {
    let mut corpus = Corpus::new(seed, docs);
    let plan = corpus.plan().to_vec();
    let mut loaded = Loaded::default();
    for file in corpus.by_ref() {
        loaded.consider_reference(plan[file.plan_unit].code, &file.reference);
        loaded.files += 1;
        loaded.cases += file.cases.len();
        for d in &file.documents {
            loaded.documents += 1;
            loaded.invoices += usize::from(d.invoice);
            loaded.text_bytes += d.text.len() as u64;
        }
    }
    loaded
}

/// `--via-import`: writes the corpus as a file share with its manifest, creates the Aktenplan
/// over the API and runs `akta import folder` beside a running server, whose extraction
/// workers and index applier make the texts searchable; timed from the import's start.
#[allow(clippy::too_many_arguments)]
async fn load_via_import(
    akta_bin: &Path,
    urls: &akta_pgcluster::ClusterUrls,
    data_dir: &Path,
    master_key_hex: &str,
    (slug, token, operator_token): (&str, &str, &str),
    seed: u64,
    docs: usize,
    timeout: Duration,
) -> anyhow::Result<(Loaded, AktaLoad, Server)> {
    let share = data_dir.join("share");
    eprintln!("writing the corpus as a file share of {docs} text files with a manifest …");
    let t = Instant::now();
    let (manifest, units, _, _) = crate::import::write_tree(&share, seed, docs)?;
    let tree = t.elapsed();
    let loaded = corpus_summary(seed, docs);
    eprintln!("starting akta serve …");
    let server = start_akta(akta_bin, urls, data_dir, master_key_hex).await?;
    server.lift_rate_limit(operator_token, slug).await?;
    let api = Api {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        token: token.to_owned(),
    };
    crate::import::create_plan(&api, &units).await?;
    eprintln!("importing with akta import folder …");
    let started = Instant::now();
    let target = crate::import::Target {
        urls,
        data_dir,
        master_key_hex,
        slug,
    };
    let (written, import_peak_kib, last_line) =
        crate::import::import_folder(akta_bin, target, &manifest).await?;
    eprintln!(
        "  import done after {:.1} s: {last_line}",
        written.as_secs_f64()
    );
    let searchable = ingest::wait_searchable(&api, loaded.documents, started, timeout).await?;
    Ok((
        loaded,
        AktaLoad::Import {
            written,
            searchable,
            import_peak_kib,
            tree,
        },
        server,
    ))
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let docs = if args.large { 1_000_000 } else { args.docs };
    let via_import = (args.via_import || args.large) && !args.bulk_shortcut;
    if docs == 0 || args.clients == 0 || args.uploaders == 0 {
        bail!("--docs, --clients and --uploaders must be at least 1");
    }
    let akta_bin = locate_akta(args.akta_bin.clone())?;
    eprintln!("starting a throwaway PostgreSQL …");
    let crate::setup::BenchTenant {
        urls,
        master_key_hex,
        tenant,
        token,
        operator_token,
    } = crate::setup::bench_tenant("Stadt Bergheide").await?;
    let tenant_id = tenant.id;
    let owner = PgPoolOptions::new()
        .max_connections(2)
        .connect(&urls.owner_url)
        .await?;
    let scratch = ScratchDir::create(
        std::env::temp_dir().join(format!("akta-bench-search-{}", std::process::id())),
    )?;
    let data_dir = scratch.0.clone();
    let timeout = Duration::from_secs(args.index_timeout_secs);

    let (loaded, filed, akta_load, server) = if args.bulk_shortcut {
        eprintln!(
            "--bulk-shortcut: writing {docs} documents straight into Akta's tables (not the path users take) …"
        );
        let started = Instant::now();
        let loaded = load_akta(&owner, tenant_id, args.seed, docs, args.batch).await?;
        let load = started.elapsed();
        eprintln!(
            "  {} Akten, {} Vorgänge, {} documents ({:.1} MiB of text, {} invoices) in {:.1} s",
            loaded.files,
            loaded.cases,
            loaded.documents,
            mib(loaded.text_bytes),
            loaded.invoices,
            load.as_secs_f64()
        );
        eprintln!("starting akta serve and waiting for its index to catch up …");
        let server = start_akta(&akta_bin, &urls, &data_dir, &master_key_hex).await?;
        let ready = server.started.elapsed();
        server
            .lift_rate_limit(&operator_token, &tenant.slug)
            .await?;
        let indexing = wait_for_index(&server, &token, loaded.documents, timeout).await?;
        let akta_load = AktaLoad::Bulk {
            load,
            indexing,
            ready,
        };
        (loaded, None, akta_load, server)
    } else if via_import {
        let (loaded, akta_load, server) = load_via_import(
            &akta_bin,
            &urls,
            &data_dir,
            &master_key_hex,
            (&tenant.slug, &token, &operator_token),
            args.seed,
            docs,
            timeout,
        )
        .await?;
        (loaded, None, akta_load, server)
    } else {
        eprintln!("starting akta serve …");
        let server = start_akta(&akta_bin, &urls, &data_dir, &master_key_hex).await?;
        server
            .lift_rate_limit(&operator_token, &tenant.slug)
            .await?;
        let api = Api {
            http: reqwest::Client::new(),
            base: server.base.clone(),
            token: token.clone(),
        };
        eprintln!(
            "filing {docs} documents through Akta's REST API with {} uploaders …",
            args.uploaders
        );
        let ingested = ingest::upload(&api, args.seed, docs, args.uploaders).await?;
        let loaded = ingested.loaded;
        eprintln!(
            "  {} Akten, {} Vorgänge, {} documents ({:.1} MiB of text, {} invoices) uploaded in \
             {:.1} s with {} requests; waiting until every text is searchable …",
            loaded.files,
            loaded.cases,
            loaded.documents,
            mib(loaded.text_bytes),
            loaded.invoices,
            ingested.upload.as_secs_f64(),
            ingested.requests
        );
        let searchable =
            ingest::wait_searchable(&api, loaded.documents, ingested.started, timeout).await?;
        let verified = check_real_path(&owner, tenant_id, loaded.documents).await?;
        eprintln!("  {verified}");
        let akta_load = AktaLoad::Api {
            verified,
            uploaders: args.uploaders,
            upload: ingested.upload,
            searchable,
            requests: ingested.requests,
            upload_latency: stats(
                ingested
                    .upload_latencies
                    .iter()
                    .map(|d| d.as_secs_f64() * 1000.0)
                    .collect(),
            ),
        };
        (loaded, Some(ingested.filed), akta_load, server)
    };
    let index_dir =
        find_dir(&data_dir.join("index"), &tenant_id.to_string(), 3)?.with_context(|| {
            format!(
                "no index directory of tenant {tenant_id} under {}",
                data_dir.display()
            )
        })?;
    let akta_index_bytes = dir_bytes(&index_dir)?;
    let akta_segments = segments(&index_dir);
    eprintln!(
        "  searchable after {:.1} s; index {:.1} MiB",
        akta_load.indexing().as_secs_f64(),
        mib(akta_index_bytes)
    );

    eprintln!("loading the same texts into bench_fts.documents and building its indexes …");
    let imported = match (&filed, via_import) {
        (None, true) => Some(imported_names(&owner, tenant_id).await?),
        _ => None,
    };
    let names = match (&filed, &imported) {
        (Some(filed), _) => Names::Uploaded(filed),
        (None, Some(imported)) => Names::Imported(imported),
        (None, None) => Names::Corpus,
    };
    let (pg, reference) = load_fts(
        &owner,
        args.seed,
        docs,
        args.batch,
        names,
        &loaded.reference,
    )
    .await?;
    drop(imported);
    eprintln!(
        "  load {:.1} s, CREATE INDEX {:.1} s",
        pg.load.as_secs_f64(),
        pg.index.as_secs_f64()
    );
    sqlx::query("VACUUM ANALYZE").execute(&owner).await?;
    let sizes = pg_sizes(&owner).await?;

    let queries = Arc::new(query_set(&reference)?);
    let akta_engine = || Engine::Akta {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        token: token.clone(),
    };
    let mut pg_engines = Vec::new();
    for _ in 0..args.clients {
        pg_engines.push(Engine::Pg(PgConnection::connect(&urls.owner_url).await?));
    }

    // Sanity: both engines find the same things before anything is timed. Every client asks
    // its share of the set at once (at 1,000,000 documents PostgreSQL needs seconds for a
    // frequent word, and one client asking 200 queries in turn took longer than the run);
    // this pass is the first warm-up round of both engines.
    let mut akta_engines: Vec<Engine> = (0..args.clients).map(|_| akta_engine()).collect();
    eprintln!(
        "asking both engines every query once ({} clients each) to compare totals …",
        args.clients
    );
    let akta_totals = ask_all(&mut akta_engines, &queries).await?;
    let pg_totals = ask_all(&mut pg_engines, &queries).await?;
    let totals: Vec<(Answer, Answer)> = akta_totals.into_iter().zip(pg_totals).collect();
    for (q, (a, p)) in queries.iter().zip(&totals) {
        if q.class == "word" && (a.total == 0 || p.total == 0) {
            bail!(
                "`{}` found nothing (Akta {}, PostgreSQL {}): the benchmark would measure empty results",
                q.q,
                a.total,
                p.total
            );
        }
    }

    let measure = match args.queries_per_client {
        Some(n) => Measure::Queries(n),
        None => Measure::Seconds(Duration::from_secs(args.seconds)),
    };
    eprintln!(
        "running the query set against Akta over HTTP with {} clients …",
        args.clients
    );
    let warmup = args.warmup_rounds.saturating_sub(1);
    let akta_run = run_clients(akta_engines, queries.clone(), warmup, measure).await?;
    eprintln!(
        "running the query set against PostgreSQL FTS with {} clients …",
        args.clients
    );
    let pg_run = run_clients(pg_engines, queries.clone(), warmup, measure).await?;
    let akta_index_after = dir_bytes(&index_dir)?;
    let akta_segments_after = segments(&index_dir);
    let server_peak_kib = server
        .child
        .id()
        .and_then(|pid| crate::upload::rss_kib(pid, "VmHWM:").ok());
    let server_peaks = server.memory.peaks();
    server.stop().await;
    drop(scratch);

    print_report(&Report {
        args: &args,
        docs,
        loaded: &loaded,
        akta_load: &akta_load,
        akta_index_bytes,
        akta_index_after,
        akta_segments: [akta_segments, akta_segments_after],
        server_peak_kib,
        server_peaks,
        pg: &pg,
        sizes: &sizes,
        queries: &queries,
        totals: &totals,
        akta: &akta_run,
        postgres: &pg_run,
    });
    Ok(())
}

struct Report<'a> {
    args: &'a Args,
    docs: usize,
    loaded: &'a Loaded,
    akta_load: &'a AktaLoad,
    akta_index_bytes: u64,
    akta_index_after: u64,
    /// Segments of Akta's index at catch-up and after the runs.
    akta_segments: [Option<usize>; 2],
    /// Peak RSS of `akta serve` over loading and queries.
    server_peak_kib: Option<u64>,
    /// Peaks of RssAnon and RssFile in KiB (see [`MemoryWatch`]).
    server_peaks: (u64, u64),
    pg: &'a PgLoad,
    sizes: &'a PgSizes,
    queries: &'a [QuerySpec],
    totals: &'a [(Answer, Answer)],
    akta: &'a Run,
    postgres: &'a Run,
}

fn print_report(r: &Report<'_>) {
    let l = r.loaded;
    let measured = match r.args.queries_per_client {
        Some(n) => format!("{n} queries per client"),
        None => format!("{} s per engine", r.args.seconds),
    };
    println!();
    println!(
        "Search benchmark: {} documents (seed {}; {} Akten, {} Vorgänge, {:.1} MiB of text), \
         {} clients, {} warm-up rounds, {measured}",
        r.docs,
        r.args.seed,
        l.files,
        l.cases,
        mib(l.text_bytes),
        r.args.clients,
        r.args.warmup_rounds
    );
    match r.akta_load {
        AktaLoad::Api { uploaders, .. } => println!(
            "Akta filled through its REST API by {uploaders} concurrent uploaders, as users file \
             documents: `akta serve` with its defaults (encryption at rest, audit events, extraction \
             in `akta extract-worker`, filesystem blobs)"
        ),
        AktaLoad::Import { .. } => println!(
            "Akta filled with `akta import folder` from a generated file share, as a town moves \
             in: the core's bulk path (encryption at rest, audit events, extraction in `akta \
             extract-worker` of the running `akta serve`, filesystem blobs)"
        ),
        AktaLoad::Bulk { .. } => println!(
            "Akta filled with --bulk-shortcut: rows written straight into its tables, NOT the path \
             users take (no upload, no blobs, no encryption, no audit events, no extraction)"
        ),
    }
    println!();
    println!(
        "{} queries in {} classes, each asked equally often; hits per class (the totals of every \
         query are listed at the end):",
        r.queries.len(),
        CLASSES.len()
    );
    println!();
    println!("| class | queries | Akta hits | PostgreSQL hits | Akta: no hit | PG: no hit |");
    println!("|---|--:|--:|--:|--:|--:|");
    for class in CLASSES {
        let in_class: Vec<&(Answer, Answer)> = r
            .queries
            .iter()
            .zip(r.totals)
            .filter(|(q, _)| q.class == class)
            .map(|(_, t)| t)
            .collect();
        println!(
            "| {class} | {} | {} | {} | {} | {} |",
            in_class.len(),
            in_class.iter().map(|(a, _)| a.total).sum::<u64>(),
            in_class.iter().map(|(_, p)| p.total).sum::<u64>(),
            in_class.iter().filter(|(a, _)| a.total == 0).count(),
            in_class.iter().filter(|(_, p)| p.total == 0).count(),
        );
    }
    println!(
        "corpus: {} invoices (documents saying \"Rechnung\"), {:.2} % of {}",
        l.invoices,
        100.0 * l.invoices as f64 / l.documents.max(1) as f64,
        l.documents
    );
    let words_agree = r
        .queries
        .iter()
        .zip(r.totals)
        .filter(|(q, _)| q.class == "word")
        .all(|(_, (a, p))| {
            let (hi, lo) = (a.total.max(p.total), a.total.min(p.total));
            lo > 0 && hi <= lo * 10
        });
    println!(
        "{} single words: both engines non-zero and within a factor of 10",
        check(words_agree)
    );
    println!();

    println!("| | Akta (HTTP) | PostgreSQL FTS | PG / Akta |");
    println!("|---|--:|--:|--:|");
    let akta_idx = r.akta_load.indexing().as_secs_f64();
    let pg_idx = (r.pg.load + r.pg.index).as_secs_f64();
    let docs = l.documents as f64;
    match r.akta_load {
        AktaLoad::Api {
            uploaders, upload, ..
        } => {
            println!(
                "| upload through the REST API ({uploaders} uploaders) | {:.1} s, {:.1} documents/s | | |",
                upload.as_secs_f64(),
                docs / upload.as_secs_f64()
            );
            println!(
                "| indexing time (Akta: uploaded → searchable) | {akta_idx:.1} s | {pg_idx:.1} s | {:.2} |",
                pg_idx / akta_idx
            );
        }
        AktaLoad::Import {
            written,
            import_peak_kib,
            ..
        } => {
            println!(
                "| `akta import folder` until written | {:.1} s, {:.1} documents/s, peak RSS {:.0} MiB | | |",
                written.as_secs_f64(),
                docs / written.as_secs_f64(),
                *import_peak_kib as f64 / 1024.0
            );
            println!(
                "| indexing time (Akta: import start → searchable) | {akta_idx:.1} s | {pg_idx:.1} s | {:.2} |",
                pg_idx / akta_idx
            );
        }
        AktaLoad::Bulk { load, .. } => {
            println!(
                "| loading Akta's tables (--bulk-shortcut, not counted) | {:.1} s | | |",
                load.as_secs_f64()
            );
            println!(
                "| indexing time (Akta: server start → index caught up) | {akta_idx:.1} s | {pg_idx:.1} s | {:.2} |",
                pg_idx / akta_idx
            );
        }
    }
    println!(
        "| ingestion rate until searchable | {:.1} documents/s | {:.1} documents/s | {:.2} |",
        docs / akta_idx,
        docs / pg_idx,
        akta_idx / pg_idx
    );
    println!(
        "| index size at catch-up | {:.1} MiB | {:.1} MiB | {:.2} |",
        mib(r.akta_index_bytes),
        mib(r.sizes.gin as u64),
        r.sizes.gin as f64 / r.akta_index_bytes as f64
    );
    println!(
        "| index size after the runs | {:.1} MiB | {:.1} MiB | {:.2} |",
        mib(r.akta_index_after),
        mib(r.sizes.gin as u64),
        r.sizes.gin as f64 / r.akta_index_after as f64
    );
    let count = |n: Option<usize>| n.map_or("?".to_owned(), |n| n.to_string());
    println!(
        "| Akta index segments at catch-up / after the runs | {} / {} | | |",
        count(r.akta_segments[0]),
        count(r.akta_segments[1])
    );
    println!(
        "| `akta serve` peak RSS (loading and queries) | {} | | |",
        r.server_peak_kib
            .map_or("?".to_owned(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
    );
    println!(
        "| of it at most: heap and stacks (RssAnon) / mapped files, mostly index segments (RssFile) | {:.0} MiB / {:.0} MiB | | |",
        r.server_peaks.0 as f64 / 1024.0,
        r.server_peaks.1 as f64 / 1024.0
    );
    let (a, p) = (r.akta.select(|_| true), r.postgres.select(|_| true));
    println!(
        "| p50 latency | {:.2} ms | {:.2} ms | {:.1} |",
        a.p50,
        p.p50,
        p.p50 / a.p50
    );
    println!(
        "| p99 latency | {:.2} ms | {:.2} ms | {:.1} |",
        a.p99,
        p.p99,
        p.p99 / a.p99
    );
    println!(
        "| queries per second | {:.0} | {:.0} | {:.2} |",
        r.akta.qps(),
        r.postgres.qps(),
        r.postgres.qps() / r.akta.qps()
    );
    println!(
        "| queries measured (errors) | {} ({}) | {} ({}) | |",
        a.n, r.akta.errors, p.n, r.postgres.errors
    );
    println!();
    let clients = r.args.clients as f64;
    for (name, run) in [("Akta (HTTP)", r.akta), ("PostgreSQL FTS", r.postgres)] {
        println!("{name}, {} clients:", r.args.clients);
        println!();
        println!("| class | queries | measured | p50 ms | p99 ms | q/s |");
        println!("|---|--:|--:|--:|--:|--:|");
        for class in CLASSES {
            let in_class = |q: usize| r.queries[q].class == class;
            let st = run.select(in_class);
            println!(
                "| {class} | {} | {} | {:.2} | {:.2} | {:.0}≈ |",
                r.queries.iter().filter(|q| q.class == class).count(),
                st.n,
                st.p50,
                st.p99,
                clients * 1000.0 / st.mean
            );
        }
        let all = run.select(|_| true);
        println!(
            "| **all** | {} | {} | {:.2} | {:.2} | {:.0} |",
            r.queries.len(),
            all.n,
            all.p50,
            all.p99,
            run.qps()
        );
        println!();
    }
    println!(
        "q/s per class ≈ clients / mean latency of that class (what a load of only that class \
         would reach); the last row is the measured throughput of the whole mix."
    );
    println!();
    let rechnung = 0; // the first query of the set
    let (ra, rp) = (
        r.akta.select(|q| q == rechnung),
        r.postgres.select(|q| q == rechnung),
    );
    let (ta, tp) = r.totals[rechnung];
    println!(
        "\"Rechnung\": {} hits in Akta, {} in PostgreSQL; count + first page of {PAGE} + snippets: \
         Akta p50 {:.2} ms / p99 {:.2} ms, PostgreSQL p50 {:.2} ms / p99 {:.2} ms",
        ta.total, tp.total, ra.p50, ra.p99, rp.p50, rp.p99
    );
    println!();
    match r.akta_load {
        AktaLoad::Api {
            upload,
            searchable,
            requests,
            upload_latency,
            verified,
            ..
        } => {
            println!(
            "Akta indexing = uploaded → searchable: from the first API request (Aktenplan, Akten, \
             Vorgänge, {} multipart uploads of plain text, closing the Akten the corpus has \
             closed: {requests} requests) until the text of every document is found by search \
             and the index log is applied. The uploads took {:.1} s (one upload p50 {:.1} ms, \
             p99 {:.1} ms); the text of the last ones became searchable {:.1} s later.",
            l.documents,
            upload.as_secs_f64(),
            upload_latency.p50,
            upload_latency.p99,
            searchable.saturating_sub(*upload).as_secs_f64()
            );
            println!("{verified}");
        }
        AktaLoad::Import {
            written,
            searchable,
            tree,
            ..
        } => println!(
            "Akta indexing = from starting `akta import folder` until the text of every document \
             is found by search and the index log is applied; the import process wrote for {:.1} s, \
             the last texts became searchable {:.1} s later. Writing the file share took {:.1} s \
             before and is not counted. The import gives the Akten new Aktenzeichen: the `reference` \
             query asks for the one Akta gave, and PostgreSQL's table carries the same.",
            written.as_secs_f64(),
            searchable.saturating_sub(*written).as_secs_f64(),
            tree.as_secs_f64()
        ),
        AktaLoad::Bulk {
            load,
            indexing: _,
            ready,
        } => println!(
            "Akta indexing = from starting `akta serve` (ready after {:.1} s) until its applier \
             has applied the whole index log ({} entries) and every document is searchable; \
             writing Akta's tables (--bulk-shortcut) took {:.1} s before that and is not counted.",
            ready.as_secs_f64(),
            l.documents,
            load.as_secs_f64()
        ),
    }
    println!(
        "PostgreSQL indexing = INSERT of the rows with their generated tsvector ({:.1} s) + \
         CREATE INDEX gin, two B-tree indexes for Aktenzeichen and ANALYZE ({:.1} s, \
         maintenance_work_mem 256MB).",
        r.pg.load.as_secs_f64(),
        r.pg.index.as_secs_f64()
    );
    println!(
        "Sizes: Akta = the tenant's tantivy directory (at catch-up it still holds segments that \
         background merges replace; it stores the text for snippets); PostgreSQL = GIN index \
         only; tsvector column {:.1} MiB, heap {:.1} MiB, table with all indexes and TOAST \
         {:.1} MiB.",
        mib(r.sizes.tsv as u64),
        mib(r.sizes.heap as u64),
        mib(r.sizes.total as u64)
    );
    println!(
        "Akta's answer also carries facet counts (kind, plan unit, year) and checks each hit's \
         visibility in PostgreSQL; the PostgreSQL query computes no facets. Both return the \
         total, {PAGE} ranked hits and highlighted snippets. Clients run on the same 2 cores as \
         the servers. QPS≈ per class = clients / mean latency."
    );
    println!(
        "Other processes on this machine used {:.0} % (Akta run) and {:.0} % (PostgreSQL run) \
         of its CPUs while measuring; above a few percent the latencies are disturbed.",
        100.0 * r.akta.foreign_cpu,
        100.0 * r.postgres.foreign_cpu
    );
    for (name, run) in [("Akta", r.akta), ("PostgreSQL", r.postgres)] {
        if let Some(e) = &run.first_error {
            println!("{name}: {} failed queries, first: {e}", run.errors);
        }
    }
    println!();
    println!("Totals per query:");
    println!();
    println!("| query | class | Akta total | PostgreSQL total | Akta page | PG page |");
    println!("|---|---|--:|--:|--:|--:|");
    for (q, (a, p)) in r.queries.iter().zip(r.totals) {
        println!(
            "| `{}` | {} | {} | {} | {} | {} |",
            q.label(),
            q.class,
            a.total,
            p.total,
            a.page,
            p.page
        );
    }
    println!();
    let a99 = a.p99;
    println!(
        "{} Akta p99 ≤ 50 ms at {} documents with {} clients: {:.2} ms",
        check(a99 <= 50.0),
        r.docs,
        r.args.clients,
        a99
    );
    println!(
        "{} Akta ≥ 300 queries/s over the whole mix: {:.0}",
        check(r.akta.qps() >= 300.0),
        r.akta.qps()
    );
    println!(
        "{} Akta ≥ 5× PostgreSQL FTS at p99: {:.1}×",
        check(p.p99 >= 5.0 * a99),
        p.p99 / a99
    );
    println!(
        "{} \"Rechnung\" ({} hits) counted with its first page in under 50 ms: p99 {:.2} ms",
        check(ra.p99 < 50.0),
        ta.total,
        ra.p99
    );
}
