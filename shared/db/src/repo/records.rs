//! Finding Akten and Vorgänge themselves (not their documents) by Aktenzeichen and Betreff:
//! a clerk types "63.02-0001/2026" or "Bahnhofstraße" and expects the Akte, even one
//! without a single document. Row-level security decides what the caller sees.

use serde::Serialize;
use uuid::Uuid;

use crate::{DbError, DocumentTarget, TenantTx};

/// An Akte or a Vorgang found by its Zeichen or Betreff.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RecordHit {
    /// `file` or `case`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Uuid,
    pub file_id: Uuid,
    pub case_id: Option<Uuid>,
    /// The Aktenzeichen, or the Vorgang's own Zeichen.
    pub reference: String,
    pub subject: String,
    pub status: String,
    /// The Akte a Vorgang belongs to.
    pub file_reference: String,
    pub file_subject: String,
    pub plan_unit_code: String,
    pub plan_unit_title: String,
}

/// `s` as a literal inside a LIKE pattern.
fn like_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Candidates asked of the lookup per kind of match: twice what is shown, at least 20. A word
/// found in more Betreffe than this shows the best of the first candidates the index gives,
/// not of all of them: a clerk who types a word that many Akten share narrows it or uses the
/// document hits below. Each candidate costs a visibility probe under row-level security, on
/// every first page of a search: 50 candidates for 10 hits made the lookup half of a
/// search's database time at 100,000 documents.
fn record_candidates(limit: i64) -> i32 {
    (limit.saturating_mul(2)).clamp(20, 100) as i32
}

impl TenantTx {
    /// Akten and Vorgänge whose Zeichen starts with `reference` or whose Betreff contains
    /// every one of `words` (case-insensitive), Zeichen matches first, open before closed.
    /// The candidates come from the trigram lookup (`akta_record_candidates`); row-level
    /// security and the match itself are then checked on them here.
    pub async fn find_records(
        &mut self,
        reference: &str,
        words: &[String],
        limit: i64,
    ) -> Result<Vec<RecordHit>, DbError> {
        let reference = reference.trim();
        let mut words: Vec<String> = words
            .iter()
            .filter(|w| !w.trim().is_empty())
            .map(|w| w.trim().to_lowercase())
            .collect();
        // The longest word first: the lookup's index asks for it, and it has the most
        // trigrams to narrow by.
        words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        let words: Vec<String> = words
            .iter()
            .map(|w| format!("%{}%", like_literal(w)))
            .collect();
        if reference.is_empty() && words.is_empty() {
            return Ok(Vec::new());
        }
        let prefix = if reference.is_empty() {
            None
        } else {
            Some(format!("{}%", like_literal(&reference.to_lowercase())))
        };
        // An empty word list would match every row under LIKE ALL.
        let words = if words.is_empty() { None } else { Some(words) };
        Ok(sqlx::query_as::<_, RecordHit>(
            "WITH found AS (SELECT * FROM akta_record_candidates($1, $2, $4)),
             hits AS (
                SELECT 'file' AS kind, f.id, f.id AS file_id, NULL::uuid AS case_id, f.reference,
                       f.subject, f.status, f.reference AS file_reference,
                       f.subject AS file_subject, f.plan_unit_id
                  FROM files f
                 WHERE f.id IN (SELECT id FROM found WHERE kind = 'file')
                   AND (lower(f.reference) LIKE $1 OR lower(f.subject) LIKE ALL($2))
                UNION ALL
                SELECT 'case', c.id, c.file_id, c.id, c.reference, c.subject, c.status,
                       f.reference, f.subject, f.plan_unit_id
                  FROM cases c JOIN files f ON f.id = c.file_id
                 WHERE c.id IN (SELECT id FROM found WHERE kind = 'case')
                   AND (lower(c.reference) LIKE $1 OR lower(c.subject) LIKE ALL($2)))
             SELECT h.kind, h.id, h.file_id, h.case_id, h.reference, h.subject, h.status,
                    h.file_reference, h.file_subject, p.code AS plan_unit_code,
                    p.title AS plan_unit_title
               FROM hits h JOIN plan_units p ON p.id = h.plan_unit_id
              ORDER BY (lower(h.reference) LIKE $1) IS TRUE DESC, h.status = 'zdA',
                       h.kind = 'case', h.reference
              LIMIT $3",
        )
        .bind(prefix)
        .bind(words)
        .bind(limit)
        .bind(record_candidates(limit))
        .fetch_all(&mut *self.tx)
        .await?)
    }
}

impl TenantTx {
    /// The Akte or Vorgang whose Zeichen is exactly `reference` (what a clerk types when
    /// filing), if the caller sees it.
    pub async fn target_by_reference(
        &mut self,
        reference: &str,
    ) -> Result<Option<DocumentTarget>, DbError> {
        let found: Option<(Uuid, Option<Uuid>)> = sqlx::query_as(
            "SELECT id, NULL::uuid FROM files WHERE reference = $1
             UNION ALL
             SELECT file_id, id FROM cases WHERE reference = $1
             LIMIT 1",
        )
        .bind(reference.trim())
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(found.map(|(file, case)| match case {
            Some(case) => DocumentTarget::Case(case),
            None => DocumentTarget::File(file),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_take_input_literally() {
        assert_eq!(like_literal("50%_a\\b"), "50\\%\\_a\\\\b");
        assert_eq!(like_literal("Bahnhofstraße"), "Bahnhofstraße");
    }
}
