//! Process-wide measurements for `GET /metrics` in the Prometheus text format: a lock-free
//! duration histogram, and the counts of the background jobs (which run beside, not inside,
//! the application core). Each replica is scraped on its own.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// Upper bounds of the duration buckets, in seconds.
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A Prometheus histogram of durations.
#[derive(Default)]
pub struct Histogram {
    /// Per bucket (not cumulative; summed when written), plus +Inf.
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let slot = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        self.counts[slot].fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(
            u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// The series of one histogram with `labels` (`key="value",…`, already escaped).
    pub fn write(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0u64;
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, bound) in BUCKETS.iter().enumerate() {
            cumulative += self.counts[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += self.counts[BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {cumulative}"
        );
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {cumulative}");
    }
}

/// What the background jobs of this process count.
#[derive(Default)]
pub struct Jobs {
    /// Time from claiming extraction jobs to having their outcome (one observation per job;
    /// a batch's time is shared by its jobs).
    pub extraction_seconds: Histogram,
    pub extractions_done: AtomicU64,
    pub extractions_failed: AtomicU64,
    /// Time the index applier took for one round of log entries.
    pub index_apply_seconds: Histogram,
}

/// This process's job counters.
pub fn jobs() -> &'static Jobs {
    static JOBS: OnceLock<Jobs> = OnceLock::new();
    JOBS.get_or_init(Jobs::default)
}

impl Jobs {
    pub fn render(&self, out: &mut String) {
        out.push_str("# HELP akta_extraction_duration_seconds Time to extract one document version's text (this process's workers).\n");
        out.push_str("# TYPE akta_extraction_duration_seconds histogram\n");
        self.extraction_seconds
            .write(out, "akta_extraction_duration_seconds", "");
        out.push_str(
            "# HELP akta_extractions_total Extraction jobs finished by this process, by outcome.\n",
        );
        out.push_str("# TYPE akta_extractions_total counter\n");
        let _ = writeln!(
            out,
            "akta_extractions_total{{outcome=\"done\"}} {}",
            self.extractions_done.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "akta_extractions_total{{outcome=\"failed\"}} {}",
            self.extractions_failed.load(Ordering::Relaxed)
        );
        out.push_str("# HELP akta_index_apply_duration_seconds Time of one round of the search index applier.\n");
        out.push_str("# TYPE akta_index_apply_duration_seconds histogram\n");
        self.index_apply_seconds
            .write(out, "akta_index_apply_duration_seconds", "");
    }
}

/// A label value in the text format: backslash, double quote and newline escaped.
pub fn label_value(raw: &str) -> String {
    raw.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_labels_escaped() {
        let h = Histogram::default();
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_millis(30));
        h.observe(Duration::from_secs(20));
        let mut out = String::new();
        h.write(&mut out, "x", "route=\"/a\"");
        assert!(out.contains("x_bucket{route=\"/a\",le=\"0.005\"} 1"));
        assert!(out.contains("x_bucket{route=\"/a\",le=\"0.05\"} 2"));
        assert!(out.contains("x_bucket{route=\"/a\",le=\"+Inf\"} 3"));
        assert!(out.contains("x_count{route=\"/a\"} 3"));
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
