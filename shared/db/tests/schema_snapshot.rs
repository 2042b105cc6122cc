//! Guards for `migrations/`:
//!
//! - every SQL function or procedure is created in exactly one migration file, so its
//!   definition can be read in one place;
//! - the schema the migrations produce equals the reviewed snapshot `shared/db/schema.sql`
//!   (regenerate it with `infra/scripts/schema-snapshot.sh`).
//!
//! The second test runs a throwaway PostgreSQL cluster (akta-pgcluster), so it needs the server
//! binaries on the machine, like the other database tests.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use akta_pgcluster::{Cluster, PgBinaries};

const UPDATE_HINT: &str = "run infra/scripts/schema-snapshot.sh to update";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `.sql` files of `migrations/`, in name (= version) order, with their text.
fn migration_files() -> Vec<(String, String)> {
    let dir = repo_root().join("migrations");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .map(|path| {
            let name = path
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            (name, text)
        })
        .collect();
    files.sort();
    files
}

/// Names of the functions and procedures that `sql` creates, i.e. what follows
/// `CREATE [OR REPLACE] FUNCTION|PROCEDURE` (case-insensitive), lower-cased, without schema
/// and quotes. Simple string scanning: `--` comments are skipped, string literals are not
/// understood (no migration builds a CREATE FUNCTION inside a string).
fn created_routines(sql: &str) -> Vec<String> {
    let code: String = sql
        .lines()
        .map(|line| line.find("--").map_or(line, |at| &line[..at]))
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase()
        .replace('(', " ( ");
    let tokens: Vec<&str> = code.split_whitespace().collect();
    let mut names = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if *token != "create" {
            continue;
        }
        let mut next = i + 1;
        if tokens.get(next) == Some(&"or") && tokens.get(next + 1) == Some(&"replace") {
            next += 2;
        }
        if matches!(tokens.get(next), Some(&"function") | Some(&"procedure")) {
            if let Some(name) = tokens.get(next + 1) {
                let unqualified = name.rsplit('.').next().unwrap_or(name);
                names.push(unqualified.trim_matches('"').to_owned());
            }
        }
    }
    names
}

/// Normalises a `pg_dump --schema-only` so that only the schema remains: drops comment lines
/// (`--` at the start of a line: pg_dump's headers, which name versions and object kinds),
/// `SET ...` and `SELECT pg_catalog.set_config(...)` session settings, and the
/// `\restrict <key>` / `\unrestrict <key>` lines newer pg_dump versions emit with a random
/// key; collapses runs of blank lines into one and drops leading and trailing blank lines.
/// Idempotent. Must stay in step with `normalise` in infra/scripts/schema-snapshot.sh.
fn normalise(dump: &str) -> String {
    let mut out = String::new();
    let mut blank = false;
    for line in dump.split('\n') {
        if line.starts_with("--")
            || line.starts_with("SET ")
            || line.starts_with("SELECT pg_catalog.set_config")
            || line.starts_with("\\restrict")
            || line.starts_with("\\unrestrict")
        {
            continue;
        }
        if line.chars().all(|c| c == ' ' || c == '\t') {
            blank = true;
            continue;
        }
        if blank && !out.is_empty() {
            out.push('\n');
        }
        blank = false;
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Where `expected` and `actual` first differ, unified-diff style: a few lines of context, the
/// differing lines of each side (at most 20), a few lines of context after.
fn first_difference(expected: &str, actual: &str) -> String {
    const CONTEXT: usize = 3;
    const MAX_LINES: usize = 20;
    let exp: Vec<&str> = expected.lines().collect();
    let act: Vec<&str> = actual.lines().collect();
    let prefix = exp.iter().zip(&act).take_while(|(e, a)| e == a).count();
    let suffix = exp[prefix..]
        .iter()
        .rev()
        .zip(act[prefix..].iter().rev())
        .take_while(|(e, a)| e == a)
        .count();
    let (exp_mid, act_mid) = (
        &exp[prefix..exp.len() - suffix],
        &act[prefix..act.len() - suffix],
    );
    let start = prefix.saturating_sub(CONTEXT);
    let mut out = format!(
        "--- shared/db/schema.sql\n+++ schema from migrations/\n@@ -{},{} +{},{} @@\n",
        prefix + 1,
        exp_mid.len(),
        prefix + 1,
        act_mid.len()
    );
    for line in &exp[start..prefix] {
        out.push_str(&format!(" {line}\n"));
    }
    for (sign, lines) in [('-', exp_mid), ('+', act_mid)] {
        for line in lines.iter().take(MAX_LINES) {
            out.push_str(&format!("{sign}{line}\n"));
        }
        if lines.len() > MAX_LINES {
            out.push_str(&format!("{sign}… {} more lines\n", lines.len() - MAX_LINES));
        }
    }
    let after = exp.len() - suffix;
    for line in exp[after..].iter().take(CONTEXT) {
        out.push_str(&format!(" {line}\n"));
    }
    out
}

#[test]
fn scanner_finds_created_routines() {
    let sql = "-- CREATE FUNCTION in_a_comment()\n\
               CREATE FUNCTION a() RETURNS uuid AS $$ SELECT 1 $$;\n\
               create or replace function public.\"B\"(x int) returns int;\n\
               CREATE PROCEDURE c(tbl regclass) LANGUAGE plpgsql AS $$ BEGIN END $$;\n\
               CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW EXECUTE FUNCTION a();";
    assert_eq!(created_routines(sql), ["a", "b", "c"]);
}

#[test]
fn normalising_drops_settings_comments_and_blank_runs() {
    let dump = "--\n-- PostgreSQL database dump\n--\n\\restrict abc\nSET x = 1;\n\
                SELECT pg_catalog.set_config('search_path', '', false);\n\n\n\
                CREATE TABLE t (\n    a int\n);\n\n\n\nCREATE INDEX i ON t (a);\n\n\\unrestrict abc\n\n";
    let normalised = normalise(dump);
    assert_eq!(
        normalised,
        "CREATE TABLE t (\n    a int\n);\n\nCREATE INDEX i ON t (a);\n"
    );
    assert_eq!(normalise(&normalised), normalised, "idempotent");
}

/// Each function or procedure is created in exactly one migration file: a later redefinition
/// would hide the definition in force somewhere else.
#[test]
fn every_routine_is_created_in_one_migration_file() {
    let files = migration_files();
    assert!(!files.is_empty(), "no migrations found");
    let mut defined_in: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (file, sql) in &files {
        for name in created_routines(sql) {
            let files = defined_in.entry(name).or_default();
            if !files.contains(file) {
                files.push(file.clone());
            }
        }
    }
    assert!(
        defined_in.contains_key("akta_authenticate"),
        "the scanner found none of the known functions: {:?}",
        defined_in.keys().collect::<Vec<_>>()
    );
    let repeated: Vec<String> = defined_in
        .iter()
        .filter(|(_, files)| files.len() > 1)
        .map(|(name, files)| format!("{name}: {}", files.join(", ")))
        .collect();
    assert!(
        repeated.is_empty(),
        "functions/procedures created in more than one migration file:\n{}",
        repeated.join("\n")
    );
}

/// The migrations, applied by sqlx as `akta migrate` does (as `akta_owner`), produce exactly
/// the schema in shared/db/schema.sql.
#[tokio::test]
async fn schema_matches_snapshot() {
    // A dir the `postgres` system user can enter (tempfile makes them 0700) when we are root.
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let cluster = Cluster::open_or_init(&tmp.path().join("postgres"))
        .unwrap_or_else(|e| panic!("creating a throwaway cluster: {e}"));
    cluster.spawn_child().unwrap_or_else(|e| {
        panic!(
            "starting the throwaway cluster: {e} (server log: {})",
            cluster.log_path().display()
        )
    });
    let urls = cluster
        .ensure_database("akta_schema")
        .await
        .expect("creating the database");
    akta_db::Db::migrate(&urls.owner_url)
        .await
        .unwrap_or_else(|e| panic!("applying migrations: {e}"));

    // pg_dump of the same installation as the server, so the versions match.
    let bins = PgBinaries::locate().expect("PostgreSQL binaries");
    let dump = Command::new(bins.bin("pg_dump"))
        .args(["--schema-only", "--no-owner"])
        // sqlx's bookkeeping table, not part of the schema (the script never creates it).
        .arg("--exclude-table=public._sqlx_migrations")
        .arg(format!("--dbname={}?sslmode=disable", urls.owner_url))
        .output()
        .expect("running pg_dump");
    cluster.stop().expect("stopping the cluster");
    assert!(
        dump.status.success(),
        "pg_dump failed ({}): {}",
        dump.status,
        String::from_utf8_lossy(&dump.stderr)
    );
    let actual = normalise(&String::from_utf8(dump.stdout).expect("pg_dump output is UTF-8"));

    let snapshot_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.sql");
    let snapshot = std::fs::read_to_string(&snapshot_path)
        .unwrap_or_else(|e| panic!("reading {}: {e}; {UPDATE_HINT}", snapshot_path.display()));
    let expected = normalise(&snapshot);
    if actual != expected {
        let written = Path::new(env!("CARGO_TARGET_TMPDIR")).join("schema-from-migrations.sql");
        let _ = std::fs::write(&written, &actual);
        panic!(
            "the schema from migrations/ differs from shared/db/schema.sql \
             (full dump: {}):\n{}\n{UPDATE_HINT}",
            written.display(),
            first_difference(&expected, &actual)
        );
    }
}
