//! Loading the search corpus the way specialist software files documents: through the REST
//! API of a running `akta serve`. Plan units, Akten and Vorgänge are created with their
//! POST routes, every document is a multipart upload (`metadata` JSON and a `file` part of
//! plain text, `text/plain; charset=utf-8`) that the server stores encrypted, audits, and
//! hands to its extraction worker (`akta extract-worker`), whose text its index applier then
//! indexes. Akten the corpus has closed are closed (zdA) with PATCH after their documents are
//! filed, Vorgänge first. Several uploaders work at once, each on one Akte at a time.
//!
//! Akta gives Aktenzeichen and Vorgangszeichen itself (current year, numbers in the order the
//! concurrent uploaders create the Akten), so the corpus' own references cannot be kept: each
//! document's text names its Akte, and that name is replaced by the Aktenzeichen Akta gave
//! before uploading. [`Filed`] keeps Akta's references per Akte so that the PostgreSQL
//! baseline can be loaded with the same texts and references afterwards.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use reqwest::header::{ETAG, IF_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::{mpsc, Mutex};

use crate::corpus::{self, Corpus, TEXT_ONLY_QUERIES};
use crate::search::{iso, Loaded};

/// What Akta named one Akte of the corpus: its Aktenzeichen and the Vorgangszeichen of its
/// Vorgänge, in corpus order.
#[derive(Debug, Clone, Default)]
pub struct Filed {
    pub reference: String,
    pub case_references: Vec<String>,
}

/// The document's text as it was uploaded: the corpus' Aktenzeichen replaced by Akta's.
pub fn filed_text(text: &str, corpus_reference: &str, filed: &Filed) -> String {
    text.replace(corpus_reference, &filed.reference)
}

/// The outcome of the upload phase.
pub struct Ingested {
    pub loaded: Loaded,
    /// Akta's references, indexed like the corpus' Akten.
    pub filed: Vec<Filed>,
    /// When the first request was sent.
    pub started: Instant,
    /// From the first request until the last one was answered.
    pub upload: Duration,
    /// Requests sent (plan units, Akten, Vorgänge, documents, reads and closings).
    pub requests: usize,
    /// Latency of each document upload.
    pub upload_latencies: Vec<Duration>,
    /// Each document's id and when its upload was answered (since `started`).
    pub uploaded_at: Vec<(String, Duration)>,
}

/// A client of one tenant's REST API.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    /// Sends `request` and expects `want`; returns the JSON body and the ETag.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        what: &str,
        want: StatusCode,
    ) -> anyhow::Result<(Value, Option<String>)> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("{what}: sending"))?;
        let status = response.status();
        let etag = response
            .headers()
            .get(ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body: Value = response
            .json()
            .await
            .with_context(|| format!("{what}: answer {status} is not JSON"))?;
        if status != want {
            bail!("{what}: Akta answered {status}: {body}");
        }
        Ok((body, etag))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) async fn create(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let request = self.http.post(self.url(path)).json(&body);
        Ok(self
            .send(request, &format!("POST {path}"), StatusCode::CREATED)
            .await?
            .0)
    }

    /// Closes an Akte or Vorgang (zdA) at the version a GET reports, as a client would.
    async fn close(&self, path: &str) -> anyhow::Result<()> {
        let (_, etag) = self
            .send(
                self.http.get(self.url(path)),
                &format!("GET {path}"),
                StatusCode::OK,
            )
            .await?;
        let etag = etag.with_context(|| format!("GET {path}: no ETag"))?;
        let request = self
            .http
            .request(Method::PATCH, self.url(path))
            .header(IF_MATCH, etag)
            .json(&json!({"status": "zdA"}));
        self.send(request, &format!("PATCH {path}"), StatusCode::OK)
            .await?;
        Ok(())
    }

    /// Documents the text-only queries find between them, and the index lag of the answers
    /// (the larger of the two).
    pub async fn text_searchable(&self) -> anyhow::Result<(u64, i64)> {
        let (mut found, mut lag) = (0, 0);
        for q in TEXT_ONLY_QUERIES {
            let request = self
                .http
                .get(self.url("/api/v1/search"))
                .query(&[("q", q), ("limit", "1")]);
            let (body, _) = self
                .send(request, &format!("search {q}"), StatusCode::OK)
                .await?;
            // A fuzzy answer stands in for "nothing found".
            if body["fuzzy"] != Value::Bool(true) {
                found += body["total"]
                    .as_u64()
                    .with_context(|| format!("no total in {body}"))?;
            }
            lag = lag.max(body["index_lag"].as_i64().unwrap_or(i64::MAX));
        }
        Ok((found, lag))
    }
}

fn id_of(body: &Value) -> anyhow::Result<String> {
    body["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no id in {body}"))
}

fn reference_of(body: &Value) -> anyhow::Result<String> {
    body["reference"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no reference in {body}"))
}

/// What one uploader did with one Akte.
struct FiledFile {
    index: usize,
    filed: Filed,
    cases: usize,
    documents: usize,
    invoices: usize,
    text_bytes: u64,
    requests: usize,
    latencies: Vec<Duration>,
    uploaded_at: Vec<(String, Duration)>,
}

/// Files one Akte with its Vorgänge and documents, then closes it if the corpus has it closed.
async fn file_one(
    api: &Api,
    plan_ids: &[String],
    index: usize,
    file: &corpus::File,
    since: Instant,
) -> anyhow::Result<FiledFile> {
    let created = api
        .create(
            "/api/v1/files",
            json!({
                "plan_unit_id": plan_ids[file.plan_unit],
                "subject": file.subject,
                "period_from": iso(file.period_from),
            }),
        )
        .await?;
    let file_id = id_of(&created)?;
    let mut filed = Filed {
        reference: reference_of(&created)?,
        case_references: Vec::new(),
    };
    let mut requests = 1;
    let mut case_ids = Vec::new();
    for case in &file.cases {
        let created = api
            .create(
                &format!("/api/v1/files/{file_id}/cases"),
                json!({"subject": case.subject}),
            )
            .await?;
        requests += 1;
        case_ids.push(id_of(&created)?);
        filed.case_references.push(reference_of(&created)?);
    }
    let mut latencies = Vec::with_capacity(file.documents.len());
    let mut uploaded_at = Vec::with_capacity(file.documents.len());
    let mut text_bytes = 0;
    for (n, d) in file.documents.iter().enumerate() {
        let path = match d.case {
            Some(c) => format!("/api/v1/cases/{}/documents", case_ids[c]),
            None => format!("/api/v1/files/{file_id}/documents"),
        };
        let metadata = json!({
            "title": d.title,
            "kind": d.kind,
            "sender": d.sender,
            "recipient": d.recipient,
            "document_date": iso(d.date),
        });
        let text = filed_text(&d.text, &file.reference, &filed);
        text_bytes += text.len() as u64;
        let form = reqwest::multipart::Form::new()
            .part(
                "metadata",
                reqwest::multipart::Part::text(metadata.to_string())
                    .mime_str("application/json")?,
            )
            .part(
                "file",
                reqwest::multipart::Part::bytes(text.into_bytes())
                    .file_name(format!("dokument-{}.txt", n + 1))
                    .mime_str("text/plain; charset=utf-8")?,
            );
        let started = Instant::now();
        let (created, _) = api
            .send(
                api.http.post(api.url(&path)).multipart(form),
                &format!("upload to {path}"),
                StatusCode::CREATED,
            )
            .await?;
        latencies.push(started.elapsed());
        uploaded_at.push((id_of(&created)?, since.elapsed()));
        requests += 1;
    }
    if file.status == "zdA" {
        for case_id in &case_ids {
            api.close(&format!("/api/v1/cases/{case_id}")).await?;
            requests += 2;
        }
        api.close(&format!("/api/v1/files/{file_id}")).await?;
        requests += 2;
    }
    Ok(FiledFile {
        index,
        filed,
        cases: file.cases.len(),
        documents: file.documents.len(),
        invoices: file.documents.iter().filter(|d| d.invoice).count(),
        text_bytes,
        requests,
        latencies,
        uploaded_at,
    })
}

/// Creates the Aktenplan, then files the corpus with `uploaders` concurrent clients.
pub async fn upload(
    api: &Api,
    seed: u64,
    docs: usize,
    uploaders: usize,
) -> anyhow::Result<Ingested> {
    let mut corpus = Corpus::new(seed, docs);
    let plan = corpus.plan().to_vec();
    let started = Instant::now();
    let mut plan_ids: Vec<String> = Vec::with_capacity(plan.len());
    for unit in &plan {
        let created = api
            .create(
                "/api/v1/plan-units",
                json!({
                    "code": unit.code,
                    "title": unit.title,
                    "parent_id": unit.parent.map(|p| plan_ids[p].clone()),
                }),
            )
            .await?;
        plan_ids.push(id_of(&created)?);
    }
    let plan_ids = Arc::new(plan_ids);

    // The corpus is generated while it is uploaded; a short queue keeps the uploaders fed.
    let (sender, receiver) = mpsc::channel::<(usize, corpus::File)>(2 * uploaders);
    let receiver = Arc::new(Mutex::new(receiver));
    let uploaded = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..uploaders {
        let (api, plan_ids, receiver, uploaded) = (
            api.clone(),
            plan_ids.clone(),
            receiver.clone(),
            uploaded.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut done = Vec::new();
            loop {
                let next = receiver.lock().await.recv().await;
                let Some((index, file)) = next else {
                    return Ok::<_, anyhow::Error>(done);
                };
                match file_one(&api, &plan_ids, index, &file, started).await {
                    Ok(filed) => {
                        uploaded.fetch_add(filed.documents, Ordering::Relaxed);
                        done.push(filed);
                    }
                    Err(e) => {
                        // Stops the corpus from being handed out; the others finish what
                        // they hold.
                        receiver.lock().await.close();
                        return Err(e.context(format!("filing Akte {}", file.reference)));
                    }
                }
            }
        }));
    }
    let progress = {
        let (api, uploaded) = (api.clone(), uploaded.clone());
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs(15));
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let searchable = match api.text_searchable().await {
                    Ok((n, _)) => n.to_string(),
                    Err(e) => format!("? ({e:#})"),
                };
                eprintln!(
                    "  {} documents uploaded, {searchable} with their text searchable ({:.0} s)",
                    uploaded.load(Ordering::Relaxed),
                    started.elapsed().as_secs_f64()
                );
            }
        })
    };

    // The Aktenzeichen the query set asks for, chosen as the table loader chooses it: the
    // first Akte under 63.01 if there is one, else the first Akte.
    let mut chosen: Option<(usize, bool)> = None;
    let mut index = 0;
    for file in corpus.by_ref() {
        let under_6301 = plan[file.plan_unit].code == "63.01";
        if chosen.is_none_or(|(_, c)| !c && under_6301) {
            chosen = Some((index, under_6301));
        }
        // Every uploader gone means one failed: its error is reported below.
        if sender.send((index, file)).await.is_err() {
            break;
        }
        index += 1;
    }
    drop(sender);
    let mut loaded = Loaded::default();
    let mut filed = vec![Filed::default(); index];
    let mut requests = plan.len();
    let mut upload_latencies = Vec::with_capacity(docs);
    let mut uploaded_at = Vec::with_capacity(docs);
    let mut failure = None;
    for worker in workers {
        match worker.await? {
            Ok(done) => {
                for one in done {
                    loaded.files += 1;
                    loaded.cases += one.cases;
                    loaded.documents += one.documents;
                    loaded.invoices += one.invoices;
                    loaded.text_bytes += one.text_bytes;
                    requests += one.requests;
                    upload_latencies.extend(one.latencies);
                    uploaded_at.extend(one.uploaded_at);
                    filed[one.index] = one.filed;
                }
            }
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    let upload = started.elapsed();
    progress.abort();
    if let Some(e) = failure {
        return Err(e);
    }
    loaded.reference = chosen
        .and_then(|(i, _)| filed.get(i))
        .map(|f| f.reference.clone())
        .unwrap_or_default();
    Ok(Ingested {
        loaded,
        filed,
        started,
        upload,
        requests,
        upload_latencies,
        uploaded_at,
    })
}

/// Polls until the text-only queries find every document and the index has applied its
/// whole log; returns the time since `started`.
pub async fn wait_searchable(
    api: &Api,
    documents: usize,
    started: Instant,
    timeout: Duration,
) -> anyhow::Result<Duration> {
    let mut last_report = Instant::now();
    loop {
        let (found, lag) = api.text_searchable().await?;
        if found > documents as u64 {
            bail!("the text-only queries found {found} documents of {documents}");
        }
        if found == documents as u64 && lag == 0 {
            return Ok(started.elapsed());
        }
        if last_report.elapsed() > Duration::from_secs(15) {
            eprintln!(
                "  {found} of {documents} documents searchable by their text, index_lag {lag} ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
        if started.elapsed() > timeout {
            bail!(
                "Akta did not make every text searchable within {timeout:?} ({found} of {documents}, index_lag {lag})"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
