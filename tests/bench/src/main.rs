//! `akta-bench upload`: uploads a large file through the Akta API (a real `akta serve`
//! process on Garage), once with encryption at rest off and once on, and compares both with a
//! direct aws-sdk-s3 multipart PUT of a file of the same size to the same Garage, with
//! akta_crypto's streaming encryption alone and with `openssl speed -evp aes-256-gcm`, in the
//! same run. Prints throughputs, their ratios and the server's peak RSS growth.
//!
//! `akta-bench search`: full-text search over a synthetic German corpus, filed in Akta through
//! its REST API, Akta over HTTP vs. PostgreSQL full-text search on the same PostgreSQL (see
//! `search.rs` and `ingest.rs`).

mod corpus;
mod hardening;
mod import;
mod ingest;
mod search;
mod setup;
mod upload;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "akta-bench",
    about = "Akta benchmarks with their baselines, side by side"
)]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Upload throughput and server memory: Akta API (encrypted and not) vs. direct S3
    /// multipart PUT, next to the raw speed of AES-256-GCM.
    Upload(upload::Args),
    /// Search latency, throughput, indexing time and index size: Akta over HTTP vs.
    /// PostgreSQL full-text search (`german`, GIN) on the same generated corpus.
    Search(search::Args),
    /// Small text documents through the REST API until searchable (documents per second
    /// end to end, upload → searchable), the binary before a change next to the current one.
    Ingest(hardening::IngestArgs),
    /// Concurrent failed password logins: peak RSS growth and /healthz latency, the binary
    /// before a change next to the current one.
    Logins(hardening::LoginArgs),
    /// A generated file share moved in with `akta import folder` (text documents, then
    /// large PDFs) until searchable, next to the same documents filed one by one through the
    /// REST API by 4 clients: documents/s and MiB/s end to end, peak RSS.
    Import(import::ImportArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Bench::Upload(args) => runtime.block_on(upload::run(args)),
        Bench::Search(args) => runtime.block_on(search::run(args)),
        Bench::Ingest(args) => runtime.block_on(hardening::ingest(args)),
        Bench::Logins(args) => runtime.block_on(hardening::logins(args)),
        Bench::Import(args) => runtime.block_on(import::run(args)),
    }
}
