//! Per-tenant tantivy indexes: schema, writing, and turning a [`Query`] plus
//! [`SearchOptions`] into hits, counts, facets and snippets.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::indexer::IndexWriterOptions;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EmptyQuery, FuzzyTermQuery, Occur, PhraseQuery,
    Query as TQuery, RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value, FAST,
    STORED, STRING,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, TantivyDocument,
    Term,
};
use time::Date;
use uuid::Uuid;

use crate::analysis::{self, GERMAN, GERMAN_PLAIN};
use crate::doc::{DocKind, DocStatus, Facets, SearchDoc, SearchHit, SearchResults};
use crate::facets::{self, FacetCounter};
use crate::merge::{BoundedMergePolicy, MAX_MERGED_DOCS};
use crate::query::{looks_like_reference, Clause, Query, QueryField};
use crate::SearchError;

/// Default indexing memory per tenant writer.
pub const DEFAULT_WRITER_MEMORY: usize = 50_000_000;
/// tantivy refuses less than this per indexing thread.
const MIN_WRITER_MEMORY: usize = 15_000_000;
/// Largest page a caller may ask for.
pub const MAX_LIMIT: usize = 200;
/// Changes with every incompatible change of the index schema; indexes live in a directory
/// per version, so a new version starts empty and is filled from PostgreSQL.
pub const SCHEMA_VERSION: u32 = 4;
/// Words shorter than this are not retried with a typo tolerance (too many neighbours).
const FUZZY_MIN_CHARS: usize = 5;
const SNIPPET_CHARS: usize = 200;
const YEAR_FIELD: &str = "year";
const KIND_FIELD: &str = "kind_code";
const PLAN_TOP_FIELD: &str = "plan_top";
/// How much of a document's text is searched for a snippet.
const SNIPPET_SCAN_BYTES: usize = 16 * 1024;

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SortOrder {
    /// Best match first.
    #[default]
    Relevance,
    /// Newest effective date (document date, else creation day) first.
    DateDesc,
}

/// Restrictions, ordering and paging for a search. Filters combine with AND.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchOptions {
    /// Plan unit code; matches documents filed under that unit or any unit below it.
    pub plan_unit: Option<String>,
    pub file_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub kind: Option<DocKind>,
    pub status: Option<DocStatus>,
    pub org_unit: Option<Uuid>,
    /// Inclusive bounds on the effective date.
    pub date_from: Option<Date>,
    pub date_to: Option<Date>,
    /// `key=value` matches on free metadata (nested keys dotted, values compared
    /// case-insensitively); all pairs must match.
    pub metadata: Vec<(String, String)>,
    pub sort: SortOrder,
    /// Page size, 1..=[`MAX_LIMIT`].
    pub limit: usize,
    /// From [`SearchResults::next_cursor`]. Currently an encoded offset (at most 10,000):
    /// pages can shift when documents are indexed between requests.
    pub cursor: Option<String>,
    /// Whether to count facets (a second pass over the hits).
    pub facets: bool,
    /// What the caller may see. Applied inside the search, so that totals and facets
    /// count only visible documents.
    #[serde(default)]
    pub visibility: Visibility,
}

/// The part of a tenant's index a caller may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visibility {
    /// Plan unit code the caller is limited to (with everything below it).
    pub plan_scope: Option<String>,
    /// `None`: every confidential Akte is visible. `Some(ids)`: only these confidential
    /// Akten are; documents of other confidential Akten are left out.
    pub confidential_files: Option<Vec<Uuid>>,
}

/// Fails closed: no confidential Akte is visible unless named.
impl Default for Visibility {
    fn default() -> Self {
        Self {
            plan_scope: None,
            confidential_files: Some(Vec::new()),
        }
    }
}

impl Visibility {
    /// Everything in the tenant's index, confidential Akten included (housekeeping).
    pub fn everything() -> Self {
        Self {
            plan_scope: None,
            confidential_files: None,
        }
    }
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            plan_unit: None,
            file_id: None,
            case_id: None,
            kind: None,
            status: None,
            org_unit: None,
            date_from: None,
            date_to: None,
            metadata: Vec::new(),
            sort: SortOrder::Relevance,
            limit: 20,
            cursor: None,
            facets: false,
            visibility: Visibility::default(),
        }
    }
}

const CURSOR_PREFIX: &str = "o1.";

fn encode_cursor(offset: usize) -> String {
    format!("{CURSOR_PREFIX}{offset}")
}

/// Deepest offset a cursor may reach: ranking keeps `offset + limit` hits in memory, so a
/// forged cursor must not ask for millions.
const MAX_OFFSET: usize = 10_000;

fn decode_cursor(cursor: &str) -> Result<usize, SearchError> {
    cursor
        .strip_prefix(CURSOR_PREFIX)
        .and_then(|n| n.parse().ok())
        .filter(|&n| n <= MAX_OFFSET)
        .ok_or(SearchError::InvalidCursor)
}

/// One page of hits: score (when ranked by relevance) and address.
type Page = Vec<(Option<f32>, DocAddress)>;

/// Field handles of the schema.
#[derive(Clone, Copy)]
struct Fields {
    document_id: Field,
    file_id: Field,
    case_id: Field,
    org_unit: Field,
    confidential: Field,
    kind: Field,
    status: Field,
    reference: Field,
    case_reference: Field,
    plan_code: Field,
    metadata_kv: Field,
    title: Field,
    subject: Field,
    sender: Field,
    recipient: Field,
    metadata_text: Field,
    content: Field,
    plain: Field,
    date: Field,
    year: Field,
    kind_code: Field,
    plan_top: Field,
    stored: Field,
}

fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let german = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(GERMAN)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    // The fuzzy fallback only needs to know which documents contain a word.
    let plain = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(GERMAN_PLAIN)
            .set_index_option(IndexRecordOption::Basic),
    );
    let fields = Fields {
        document_id: b.add_text_field("document_id", STRING),
        file_id: b.add_text_field("file_id", STRING),
        case_id: b.add_text_field("case_id", STRING),
        org_unit: b.add_text_field("org_unit", STRING),
        confidential: b.add_text_field("confidential", STRING),
        kind: b.add_text_field("kind", STRING),
        status: b.add_text_field("status", STRING),
        reference: b.add_text_field("reference", STRING),
        case_reference: b.add_text_field("case_reference", STRING),
        plan_code: b.add_text_field("plan_code", STRING),
        metadata_kv: b.add_text_field("metadata_kv", STRING),
        title: b.add_text_field("title", german.clone()),
        subject: b.add_text_field("subject", german.clone()),
        sender: b.add_text_field("sender", german.clone()),
        recipient: b.add_text_field("recipient", german.clone()),
        metadata_text: b.add_text_field("metadata_text", german.clone()),
        // Stored for snippets.
        content: b.add_text_field("content", german.set_stored()),
        plain: b.add_text_field("plain", plain),
        date: b.add_i64_field("date", NumericOptions::default().set_indexed().set_fast()),
        // Fast fields for the facets (see `facets.rs`).
        year: b.add_i64_field(
            YEAR_FIELD,
            NumericOptions::default().set_indexed().set_fast(),
        ),
        kind_code: b.add_u64_field(KIND_FIELD, NumericOptions::default().set_fast()),
        plan_top: b.add_text_field(PLAN_TOP_FIELD, STRING | FAST),
        stored: b.add_text_field("stored", STORED),
    };
    (b.build(), fields)
}

/// The hit fields kept verbatim in the index (as JSON), so a hit needs no database trip.
#[derive(Serialize, Deserialize)]
struct StoredHit {
    document_id: Uuid,
    version: i32,
    file_id: Uuid,
    case_id: Option<Uuid>,
    title: String,
    kind: DocKind,
    reference: String,
    case_reference: Option<String>,
    document_date: Option<Date>,
    /// The Akte's Betreff, shown with the hit.
    subject: String,
}

struct TenantIndex {
    index: Index,
    reader: IndexReader,
    /// Created on first write, so a search-only use takes no directory lock.
    writer: Mutex<Option<IndexWriter>>,
}

/// Opens, caches and writes the per-tenant indexes under one root directory. Every
/// method touches only the index of the tenant it is given. Methods block (disk I/O,
/// CPU); call them from `spawn_blocking` in async code.
pub struct IndexManager {
    root: PathBuf,
    writer_memory: usize,
    schema: Schema,
    fields: Fields,
    indexes: Mutex<HashMap<Uuid, Arc<TenantIndex>>>,
}

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>, SearchError> {
    m.lock().map_err(|_| SearchError::Poisoned)
}

impl IndexManager {
    /// Manages indexes in `root/<tenant uuid>/`, with [`DEFAULT_WRITER_MEMORY`] per writer.
    pub fn open(root: PathBuf) -> Result<Self, SearchError> {
        Self::with_writer_memory(root, DEFAULT_WRITER_MEMORY)
    }

    /// Like [`IndexManager::open`] with a chosen indexing memory budget per tenant writer
    /// (at least 15 MB).
    pub fn with_writer_memory(root: PathBuf, writer_memory: usize) -> Result<Self, SearchError> {
        if writer_memory < MIN_WRITER_MEMORY {
            return Err(SearchError::Config(format!(
                "writer memory must be at least {MIN_WRITER_MEMORY} bytes"
            )));
        }
        std::fs::create_dir_all(&root).map_err(|e| SearchError::Io(root.clone(), e))?;
        let (schema, fields) = build_schema();
        Ok(Self {
            root,
            writer_memory,
            schema,
            fields,
            indexes: Mutex::new(HashMap::new()),
        })
    }

    fn tenant(&self, tenant: Uuid) -> Result<Arc<TenantIndex>, SearchError> {
        let mut indexes = lock(&self.indexes)?;
        if let Some(t) = indexes.get(&tenant) {
            return Ok(Arc::clone(t));
        }
        let dir = self.root.join(tenant.hyphenated().to_string());
        std::fs::create_dir_all(&dir).map_err(|e| SearchError::Io(dir.clone(), e))?;
        let directory = MmapDirectory::open(&dir)?;
        let index = Index::open_or_create(directory, self.schema.clone())?;
        // Tokenizers are not persisted with the index; register them on every open.
        index
            .tokenizers()
            .register(GERMAN, analysis::german_analyzer());
        index
            .tokenizers()
            .register(GERMAN_PLAIN, analysis::german_plain_analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let t = Arc::new(TenantIndex {
            index,
            reader,
            writer: Mutex::new(None),
        });
        indexes.insert(tenant, Arc::clone(&t));
        Ok(t)
    }

    fn with_writer<R>(
        &self,
        tenant: Uuid,
        f: impl FnOnce(&mut IndexWriter) -> Result<R, SearchError>,
    ) -> Result<(Arc<TenantIndex>, R), SearchError> {
        let t = self.tenant(tenant)?;
        let r = {
            let mut guard = lock(&t.writer)?;
            let writer = match guard.as_mut() {
                Some(w) => w,
                None => {
                    // One indexing thread and one merge thread per tenant: many tenants share
                    // a small machine, and merges one after another keep what they map (the
                    // segments being merged) to one merge's worth, bounded by the policy.
                    let options = IndexWriterOptions::builder()
                        .memory_budget_per_thread(self.writer_memory)
                        .num_worker_threads(1)
                        .num_merge_threads(1)
                        .build();
                    let w = t.index.writer_with_options(options)?;
                    w.set_merge_policy(Box::new(BoundedMergePolicy::new(MAX_MERGED_DOCS)));
                    guard.insert(w)
                }
            };
            f(writer)?
        };
        Ok((t, r))
    }

    /// Adds the document, replacing any earlier version of it. Visible after [`commit`].
    ///
    /// [`commit`]: IndexManager::commit
    pub fn upsert(&self, tenant: Uuid, doc: &SearchDoc) -> Result<(), SearchError> {
        let tdoc = self.to_tantivy(doc)?;
        let key = Term::from_field_text(self.fields.document_id, &doc.document_id.to_string());
        self.with_writer(tenant, |w| {
            w.delete_term(key);
            w.add_document(tdoc)?;
            Ok(())
        })?;
        Ok(())
    }

    /// Removes the document (all versions). Visible after [`IndexManager::commit`].
    pub fn delete(&self, tenant: Uuid, document_id: Uuid) -> Result<(), SearchError> {
        let key = Term::from_field_text(self.fields.document_id, &document_id.to_string());
        self.with_writer(tenant, |w| {
            w.delete_term(key);
            Ok(())
        })?;
        Ok(())
    }

    /// Removes every document of the tenant (before re-adding them all). Visible after
    /// [`IndexManager::commit`].
    pub fn clear(&self, tenant: Uuid) -> Result<(), SearchError> {
        self.with_writer(tenant, |w| {
            w.delete_all_documents()?;
            Ok(())
        })?;
        Ok(())
    }

    /// Makes pending changes durable and visible to searches.
    pub fn commit(&self, tenant: Uuid) -> Result<(), SearchError> {
        let (t, _) = self.with_writer(tenant, |w| Ok(w.commit()?))?;
        t.reader.reload()?;
        Ok(())
    }

    /// Number of searchable documents of the tenant.
    pub fn doc_count(&self, tenant: Uuid) -> Result<u64, SearchError> {
        Ok(self.tenant(tenant)?.reader.searcher().num_docs())
    }

    fn to_tantivy(&self, d: &SearchDoc) -> Result<TantivyDocument, SearchError> {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.document_id, d.document_id.to_string());
        doc.add_text(f.file_id, d.file_id.to_string());
        if let Some(c) = d.case_id {
            doc.add_text(f.case_id, c.to_string());
        }
        if let Some(o) = d.org_unit {
            doc.add_text(f.org_unit, o.to_string());
        }
        doc.add_text(f.confidential, if d.confidential { "1" } else { "0" });
        doc.add_text(f.kind, d.kind.as_str().to_lowercase());
        doc.add_text(f.status, d.status.as_str().to_lowercase());
        doc.add_text(f.reference, d.reference.trim().to_lowercase());
        if let Some(vz) = &d.case_reference {
            doc.add_text(f.case_reference, vz.trim().to_lowercase());
        }
        for code in &d.plan_unit_path {
            doc.add_text(f.plan_code, code);
        }
        let mut meta_text = String::new();
        flatten_metadata("", &d.metadata, &mut |key, value| {
            meta_text.push_str(value);
            meta_text.push('\n');
            // Long values are prose, not something to filter on.
            if value.len() <= 256 {
                doc.add_text(f.metadata_kv, format!("{key}={}", value.to_lowercase()));
            }
        });
        let texts = [
            (f.title, d.title.as_str()),
            (f.subject, d.subject.as_str()),
            (f.sender, d.sender.as_str()),
            (f.recipient, d.recipient.as_deref().unwrap_or("")),
            (f.metadata_text, meta_text.as_str()),
            (f.content, d.content.as_str()),
        ];
        for (field, text) in texts {
            if !text.is_empty() {
                doc.add_text(field, text);
                doc.add_text(f.plain, text);
            }
        }
        let date = d.effective_date();
        doc.add_i64(f.date, i64::from(date.to_julian_day()));
        doc.add_i64(f.year, i64::from(date.year()));
        doc.add_u64(f.kind_code, facets::kind_code(d.kind));
        if let Some(top) = d.plan_unit_path.first() {
            doc.add_text(f.plan_top, top);
        }
        let stored = StoredHit {
            document_id: d.document_id,
            version: d.version,
            file_id: d.file_id,
            case_id: d.case_id,
            title: d.title.clone(),
            kind: d.kind,
            reference: d.reference.clone(),
            case_reference: d.case_reference.clone(),
            document_date: d.document_date,
            subject: d.subject.clone(),
        };
        doc.add_text(f.stored, serde_json::to_string(&stored)?);
        Ok(doc)
    }

    /// Searches the tenant's index. An empty query lists every document (filters still
    /// apply); a query whose words are all stop words finds nothing. When nothing matches
    /// exactly, words of five or more letters are retried with one typo allowed.
    pub fn search(
        &self,
        tenant: Uuid,
        query: &Query,
        options: &SearchOptions,
    ) -> Result<SearchResults, SearchError> {
        if options.limit == 0 || options.limit > MAX_LIMIT {
            return Err(SearchError::InvalidLimit(MAX_LIMIT));
        }
        let offset = options
            .cursor
            .as_deref()
            .map(decode_cursor)
            .transpose()?
            .unwrap_or(0);
        let t = self.tenant(tenant)?;
        let searcher = t.reader.searcher();
        let mut builder = QueryBuilder {
            fields: &self.fields,
            analyzer: analysis::german_analyzer(),
            plain: analysis::german_plain_analyzer(),
        };
        let filters = self.filters(options);
        let mut tq = builder.build(query, false, &filters);
        let (mut total, mut page, mut facets) = self.page(&searcher, &tq, options, offset)?;
        let mut fuzzy = false;
        if total == 0 && builder.has_fuzzy_candidates(query) {
            tq = builder.build(query, true, &filters);
            (total, page, facets) = self.page(&searcher, &tq, options, offset)?;
            fuzzy = true;
        }
        let snippets = self.snippet_generator(&searcher, &tq)?;
        let mut items = Vec::with_capacity(page.len());
        for (score, addr) in page {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let stored = doc
                .get_first(self.fields.stored)
                .and_then(|v| v.as_str())
                .ok_or(SearchError::Corrupt("hit without stored fields"))?;
            let s: StoredHit = serde_json::from_str(stored)?;
            // Only the beginning is searched for the snippet: analysing a long document's whole
            // text on every request would cost more than the search itself.
            let content = doc
                .get_first(self.fields.content)
                .and_then(|v| v.as_str())
                .unwrap_or("");
            let mut snippet = snippets.snippet(prefix(content, SNIPPET_SCAN_BYTES));
            snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
            items.push(SearchHit {
                document_id: s.document_id,
                version: s.version,
                file_id: s.file_id,
                case_id: s.case_id,
                title: s.title,
                kind: s.kind,
                reference: s.reference,
                case_reference: s.case_reference,
                document_date: s.document_date,
                subject: s.subject,
                score,
                snippet: if snippet.highlighted().is_empty() {
                    String::new()
                } else {
                    snippet.to_html()
                },
            });
        }
        let end = offset + items.len();
        let next_cursor = (end < total as usize && !items.is_empty() && end <= MAX_OFFSET)
            .then(|| encode_cursor(end));
        Ok(SearchResults {
            total,
            items,
            facets,
            next_cursor,
            fuzzy,
        })
    }

    /// Counts, ranks one page and (when asked) counts the facets, in one pass over the hits.
    fn page(
        &self,
        searcher: &Searcher,
        q: &dyn TQuery,
        options: &SearchOptions,
        offset: usize,
    ) -> Result<(u64, Page, Option<Facets>), SearchError> {
        let top = TopDocs::with_limit(options.limit).and_offset(offset);
        let facets = options.facets.then_some(FacetCounter {
            kind: KIND_FIELD,
            plan: PLAN_TOP_FIELD,
            year: YEAR_FIELD,
        });
        let (n, page, counts) = match options.sort {
            SortOrder::Relevance => {
                let (n, docs, counts) =
                    searcher.search(q, &(Count, top.order_by_score(), facets))?;
                let page = docs.into_iter().map(|(s, a)| (Some(s), a)).collect();
                (n, page, counts)
            }
            SortOrder::DateDesc => {
                let by_date = top.order_by_fast_field::<i64>("date", Order::Desc);
                let (n, docs, counts) = searcher.search(q, &(Count, by_date, facets))?;
                let page = docs.into_iter().map(|(_, a)| (None, a)).collect();
                (n, page, counts)
            }
        };
        Ok((n as u64, page, counts.map(facets::Counts::into_facets)))
    }

    /// Highlights the query's words in the text of a hit, analysing only the words that
    /// can be one of them (see [`analysis::highlight_analyzer`]).
    fn snippet_generator(
        &self,
        searcher: &Searcher,
        q: &dyn TQuery,
    ) -> Result<SnippetGenerator, SearchError> {
        let content = self.fields.content;
        let mut terms: Vec<Term> = Vec::new();
        q.query_terms(&mut |term, _| {
            if term.field() == content && !terms.contains(term) {
                terms.push(term.clone());
            }
        });
        let mut scored = BTreeMap::new();
        for term in terms {
            let Some(text) = term.value().as_str().map(str::to_owned) else {
                continue;
            };
            // Rarer words weigh more when choosing the fragment, as tantivy's own generator does.
            let doc_freq = searcher.doc_freq(&term)?;
            if doc_freq > 0 {
                scored.insert(text, 1.0 / (1.0 + doc_freq as f32));
            }
        }
        let analyzer = analysis::highlight_analyzer(scored.keys().cloned().collect());
        Ok(SnippetGenerator::new(
            scored,
            analyzer,
            content,
            SNIPPET_CHARS,
        ))
    }

    /// What every hit must match, and what no hit may match.
    fn filters(&self, o: &SearchOptions) -> Filters {
        let f = &self.fields;
        let mut out: Vec<Box<dyn TQuery>> = Vec::new();
        let mut hidden: Vec<Box<dyn TQuery>> = Vec::new();
        let mut term = |field: Field, value: String| {
            out.push(Box::new(TermQuery::new(
                Term::from_field_text(field, &value),
                IndexRecordOption::Basic,
            )));
        };
        if let Some(code) = &o.plan_unit {
            term(f.plan_code, code.clone());
        }
        if let Some(code) = &o.visibility.plan_scope {
            term(f.plan_code, code.clone());
        }
        if let Some(id) = o.file_id {
            term(f.file_id, id.to_string());
        }
        if let Some(id) = o.case_id {
            term(f.case_id, id.to_string());
        }
        if let Some(id) = o.org_unit {
            term(f.org_unit, id.to_string());
        }
        if let Some(k) = o.kind {
            term(f.kind, k.as_str().to_lowercase());
        }
        if let Some(s) = o.status {
            term(f.status, s.as_str().to_lowercase());
        }
        for (k, v) in &o.metadata {
            term(f.metadata_kv, format!("{k}={}", v.to_lowercase()));
        }
        if let Some(files) = &o.visibility.confidential_files {
            // Left out: confidential and not in one of the confidential Akten the caller may
            // see. Said as an exclusion, the filter walks the few confidential documents, not
            // every hit twice.
            let confidential: Box<dyn TQuery> = Box::new(TermQuery::new(
                Term::from_field_text(f.confidential, "1"),
                IndexRecordOption::Basic,
            ));
            let listed: Box<dyn TQuery> = Box::new(TermSetQuery::new(
                files
                    .iter()
                    .map(|id| Term::from_field_text(f.file_id, &id.to_string())),
            ));
            hidden.push(Box::new(BooleanQuery::new(vec![
                (Occur::Must, confidential),
                (Occur::MustNot, listed),
            ])));
        }
        if o.date_from.is_some() || o.date_to.is_some() {
            let bound = |d: Option<Date>| match d {
                Some(d) => {
                    Bound::Included(Term::from_field_i64(f.date, i64::from(d.to_julian_day())))
                }
                None => Bound::Unbounded,
            };
            out.push(Box::new(RangeQuery::new(
                bound(o.date_from),
                bound(o.date_to),
            )));
        }
        Filters {
            required: out,
            excluded: hidden,
        }
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Calls `sink(dotted key, text)` for every scalar in the metadata.
fn flatten_metadata(
    prefix: &str,
    map: &serde_json::Map<String, serde_json::Value>,
    sink: &mut dyn FnMut(&str, &str),
) {
    for (k, v) in map {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        flatten_value(&key, v, sink);
    }
}

fn flatten_value(key: &str, v: &serde_json::Value, sink: &mut dyn FnMut(&str, &str)) {
    use serde_json::Value as J;
    match v {
        J::Null => {}
        J::String(s) => sink(key, s),
        J::Bool(b) => sink(key, if *b { "true" } else { "false" }),
        J::Number(n) => sink(key, &n.to_string()),
        J::Array(items) => items.iter().for_each(|i| flatten_value(key, i, sink)),
        J::Object(m) => flatten_metadata(key, m, sink),
    }
}

/// Full-text fields searched by plain words, with their weight.
fn text_fields(f: &Fields) -> [(Field, f32); 6] {
    [
        (f.title, 3.0),
        (f.subject, 2.0),
        (f.sender, 1.0),
        (f.recipient, 1.0),
        (f.metadata_text, 1.0),
        (f.content, 1.0),
    ]
}

/// The options' restrictions as queries.
struct Filters {
    required: Vec<Box<dyn TQuery>>,
    excluded: Vec<Box<dyn TQuery>>,
}

struct QueryBuilder<'a> {
    fields: &'a Fields,
    analyzer: TextAnalyzer,
    plain: TextAnalyzer,
}

impl QueryBuilder<'_> {
    fn has_fuzzy_candidates(&self, q: &Query) -> bool {
        q.clauses
            .iter()
            .any(|c| !c.negated && c.field.is_none() && !c.phrase && fuzzy_word(&c.value))
    }

    /// The whole query with filters. `fuzzy` widens eligible words to one edit.
    fn build(&mut self, q: &Query, fuzzy: bool, filters: &Filters) -> BooleanQuery {
        let mut subs: Vec<(Occur, Box<dyn TQuery>)> = Vec::new();
        let (mut positive, mut kept) = (0, 0);
        for clause in &q.clauses {
            // `None` means the clause was only stop words: it is ignored.
            let Some(built) = self.clause(clause, fuzzy) else {
                positive += usize::from(!clause.negated);
                continue;
            };
            if clause.negated {
                subs.push((Occur::MustNot, built));
            } else {
                positive += 1;
                kept += 1;
                subs.push((Occur::Must, built));
            }
        }
        if positive > 0 && kept == 0 {
            // Only stop words were asked for: they say nothing, so nothing matches.
            subs.push((Occur::Must, Box::new(EmptyQuery)));
        } else if positive == 0 {
            // Exclusions alone (or an empty query) apply to everything.
            subs.push((Occur::Must, Box::new(AllQuery)));
        }
        for f in &filters.required {
            subs.push((Occur::Must, f.box_clone()));
        }
        for f in &filters.excluded {
            subs.push((Occur::MustNot, f.box_clone()));
        }
        BooleanQuery::new(subs)
    }

    fn clause(&mut self, c: &Clause, fuzzy: bool) -> Option<Box<dyn TQuery>> {
        let f = *self.fields;
        let raw = |field: Field, v: &str| -> Box<dyn TQuery> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, &v.trim().to_lowercase()),
                IndexRecordOption::Basic,
            ))
        };
        match c.field {
            Some(QueryField::Kind) => Some(raw(f.kind, &c.value)),
            Some(QueryField::Status) => Some(raw(f.status, &c.value)),
            Some(QueryField::Reference) => Some(reference_query(&[f.reference], &c.value)),
            Some(QueryField::CaseReference) => Some(reference_query(&[f.case_reference], &c.value)),
            Some(QueryField::Year) => {
                let y: i64 = c.value.trim().parse().ok()?;
                Some(Box::new(TermQuery::new(
                    Term::from_field_i64(f.year, y),
                    IndexRecordOption::Basic,
                )))
            }
            Some(QueryField::Sender) => self.text(&[(f.sender, 1.0)], &c.value),
            Some(QueryField::Recipient) => self.text(&[(f.recipient, 1.0)], &c.value),
            Some(QueryField::Title) => self.text(&[(f.title, 1.0)], &c.value),
            None if !c.phrase && looks_like_reference(&c.value) => {
                Some(reference_query(&[f.reference, f.case_reference], &c.value))
            }
            None if fuzzy && !c.phrase && fuzzy_word(&c.value) => {
                let words = analysis::analyze(&mut self.plain, &c.value);
                let subs: Vec<(Occur, Box<dyn TQuery>)> = words
                    .into_iter()
                    .map(|(w, _)| {
                        let q: Box<dyn TQuery> = Box::new(FuzzyTermQuery::new(
                            Term::from_field_text(f.plain, &w),
                            1,
                            true,
                        ));
                        (Occur::Must, q)
                    })
                    .collect();
                (!subs.is_empty()).then(|| Box::new(BooleanQuery::new(subs)) as Box<dyn TQuery>)
            }
            None => self.text(&text_fields(&f), &c.value),
        }
    }

    /// Words of `value` in any of the fields; several positions make a phrase.
    fn text(&mut self, fields: &[(Field, f32)], value: &str) -> Option<Box<dyn TQuery>> {
        let tokens = analysis::analyze(&mut self.analyzer, value);
        // Group the tokens by position: first the whole word, then its compound parts.
        let mut positions: Vec<(usize, Vec<String>)> = Vec::new();
        for (text, pos) in tokens {
            match positions.last_mut() {
                Some((p, words)) if *p == pos => words.push(text),
                _ => positions.push((pos, vec![text])),
            }
        }
        if positions.is_empty() {
            return None;
        }
        let first = positions[0].0;
        let per_field: Vec<(Occur, Box<dyn TQuery>)> = fields
            .iter()
            .map(|&(field, boost)| {
                let q: Box<dyn TQuery> = if positions.len() == 1 {
                    word_query(field, &positions[0].1)
                } else {
                    let terms = positions
                        .iter()
                        .map(|(p, words)| (p - first, Term::from_field_text(field, &words[0])))
                        .collect();
                    Box::new(PhraseQuery::new_with_offset(terms))
                };
                let q: Box<dyn TQuery> = if boost == 1.0 {
                    q
                } else {
                    Box::new(BoostQuery::new(q, boost))
                };
                (Occur::Should, q)
            })
            .collect();
        Some(Box::new(BooleanQuery::new(per_field)))
    }
}

/// One analysed word: the whole form, or (for a compound) all of its parts together.
fn word_query(field: Field, forms: &[String]) -> Box<dyn TQuery> {
    let term = |w: &String| -> Box<dyn TQuery> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, w),
            IndexRecordOption::WithFreqs,
        ))
    };
    match forms {
        [whole] => term(whole),
        [whole, parts @ ..] => {
            let all_parts =
                BooleanQuery::new(parts.iter().map(|p| (Occur::Must, term(p))).collect());
            Box::new(BooleanQuery::new(vec![
                (Occur::Should, term(whole)),
                (Occur::Should, Box::new(all_parts)),
            ]))
        }
        [] => Box::new(EmptyQuery),
    }
}

fn fuzzy_word(w: &str) -> bool {
    w.chars().filter(|c| c.is_alphabetic()).count() >= FUZZY_MIN_CHARS
}

/// Exact match on reference fields, or a prefix match when the value ends in `-`, `/` or `*`.
fn reference_query(fields: &[Field], value: &str) -> Box<dyn TQuery> {
    let v = value.trim().to_lowercase();
    let prefix = if let Some(p) = v.strip_suffix('*') {
        Some(p.to_string())
    } else if v.ends_with(['-', '/']) {
        Some(v.clone())
    } else {
        None
    };
    let subs = fields
        .iter()
        .map(|&field| {
            let q: Box<dyn TQuery> = match &prefix {
                // Every string starting with `p` sorts between `p` and `p` + the largest char.
                Some(p) => Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_text(field, p)),
                    Bound::Excluded(Term::from_field_text(field, &format!("{p}{}", char::MAX))),
                )),
                None => Box::new(TermQuery::new(
                    Term::from_field_text(field, &v),
                    IndexRecordOption::Basic,
                )),
            };
            (Occur::Should, q)
        })
        .collect();
    Box::new(BooleanQuery::new(subs))
}
