//! What an operator's Prometheus scrapes at `GET /metrics`: requests by method and status
//! class with their durations, searches with theirs, documents and bytes filed, and how far
//! this node's search index trails the index log. Counted in memory per process (each
//! replica is scraped on its own); no tenant is named.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the duration buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A Prometheus histogram of durations.
#[derive(Default)]
struct Histogram {
    /// Per bucket (not cumulative; summed when written), plus +Inf.
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        let slot = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        self.counts[slot].fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
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

#[derive(Default)]
pub struct Metrics {
    /// (method, status class) → count.
    requests: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    request_seconds: Histogram,
    search_seconds: Histogram,
    documents_filed: AtomicU64,
    bytes_filed: AtomicU64,
}

/// The methods counted by name; others count as `other` (labels stay bounded).
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

fn class_label(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

impl Metrics {
    pub fn record_request(&self, method: &str, status: u16, took: Duration) {
        if let Ok(mut map) = self.requests.lock() {
            *map.entry((method_label(method), class_label(status)))
                .or_default() += 1;
        }
        self.request_seconds.observe(took);
    }

    pub(crate) fn record_search(&self, took: Duration) {
        self.search_seconds.observe(took);
    }

    pub(crate) fn record_filed(&self, bytes: u64) {
        self.documents_filed.fetch_add(1, Ordering::Relaxed);
        self.bytes_filed.fetch_add(bytes, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4); `index_lag` is added when this node
    /// serves search.
    pub fn render(&self, index_lag: Option<i64>) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP akta_http_requests_total HTTP requests answered, by method and status class.\n",
        );
        out.push_str("# TYPE akta_http_requests_total counter\n");
        if let Ok(map) = self.requests.lock() {
            for ((method, class), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "akta_http_requests_total{{method=\"{method}\",status=\"{class}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP akta_http_request_duration_seconds Time to answer HTTP requests.\n");
        out.push_str("# TYPE akta_http_request_duration_seconds histogram\n");
        self.request_seconds
            .write(&mut out, "akta_http_request_duration_seconds", "");
        out.push_str(
            "# HELP akta_search_duration_seconds Time of full-text searches in the core.\n",
        );
        out.push_str("# TYPE akta_search_duration_seconds histogram\n");
        self.search_seconds
            .write(&mut out, "akta_search_duration_seconds", "");
        out.push_str("# HELP akta_documents_filed_total Document versions filed by this node.\n");
        out.push_str("# TYPE akta_documents_filed_total counter\n");
        let _ = writeln!(
            out,
            "akta_documents_filed_total {}",
            self.documents_filed.load(Ordering::Relaxed)
        );
        out.push_str("# HELP akta_filed_bytes_total Plaintext bytes filed by this node.\n");
        out.push_str("# TYPE akta_filed_bytes_total counter\n");
        let _ = writeln!(
            out,
            "akta_filed_bytes_total {}",
            self.bytes_filed.load(Ordering::Relaxed)
        );
        if let Some(lag) = index_lag {
            out.push_str("# HELP akta_search_index_lag_entries Index log entries this node's search index has not applied.\n");
            out.push_str("# TYPE akta_search_index_lag_entries gauge\n");
            let _ = writeln!(out, "akta_search_index_lag_entries {lag}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_add_up() {
        let m = Metrics::default();
        m.record_request("GET", 200, Duration::from_millis(3));
        m.record_request("GET", 204, Duration::from_millis(30));
        m.record_request("BREW", 418, Duration::from_secs(20));
        let text = m.render(Some(7));
        assert!(text.contains("akta_http_requests_total{method=\"GET\",status=\"2xx\"} 2"));
        assert!(text.contains("akta_http_requests_total{method=\"other\",status=\"4xx\"} 1"));
        assert!(text.contains("akta_http_request_duration_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("akta_http_request_duration_seconds_bucket{le=\"0.05\"} 2"));
        assert!(text.contains("akta_http_request_duration_seconds_bucket{le=\"+Inf\"} 3"));
        assert!(text.contains("akta_http_request_duration_seconds_count 3"));
        assert!(text.contains("akta_search_index_lag_entries 7"));
    }
}
