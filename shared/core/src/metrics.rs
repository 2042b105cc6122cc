//! What an operator's Prometheus scrapes at `GET /metrics`: requests by method and status
//! class with their durations, searches with theirs, documents and bytes filed, and how far
//! this node's search index trails the index log. Counted in memory per process (each
//! replica is scraped on its own); no tenant is named.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use akta_telemetry::{label_value, Histogram};

/// (route template, method, status class).
type RouteKey = (String, &'static str, &'static str);

#[derive(Default)]
pub struct Metrics {
    /// (method, status class) → count.
    requests: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    request_seconds: Histogram,
    /// (route template, method, status class) → durations. Routes are the router's
    /// templates (`/api/v1/files/{id}`), so the label set stays bounded.
    routes: Mutex<BTreeMap<RouteKey, Arc<Histogram>>>,
    search_seconds: Histogram,
    documents_filed: AtomicU64,
    bytes_filed: AtomicU64,
}

/// What is read at scrape time beside the counters: the database pool, the outboxes and
/// each tenant's storage.
#[derive(Debug, Default)]
pub struct Gauges {
    /// This node's search index behind the index log (entries), where it serves search.
    pub index_lag: Option<i64>,
    pub pool_connections: u32,
    pub pool_idle: u32,
    pub pool_max: u32,
    /// (outbox, state) → rows.
    pub outboxes: Vec<(String, String, i64)>,
    /// (tenant slug, bytes as filed, bytes in the store).
    pub storage: Vec<(String, i64, i64)>,
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

fn help(out: &mut String, name: &str, kind: &str, text: &str) {
    let _ = writeln!(out, "# HELP {name} {text}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

impl Metrics {
    /// One answered request; `route` is the matched route template (`None`: no route
    /// matched, counted as `unmatched`).
    pub fn record_request(&self, method: &str, route: Option<&str>, status: u16, took: Duration) {
        let (method, class) = (method_label(method), class_label(status));
        if let Ok(mut map) = self.requests.lock() {
            *map.entry((method, class)).or_default() += 1;
        }
        self.request_seconds.observe(took);
        let route = route.unwrap_or("unmatched").to_owned();
        let histogram = self.routes.lock().ok().map(|mut map| {
            map.entry((route, method, class))
                .or_insert_with(|| Arc::new(Histogram::default()))
                .clone()
        });
        if let Some(h) = histogram {
            h.observe(took);
        }
    }

    pub(crate) fn record_search(&self, took: Duration) {
        self.search_seconds.observe(took);
    }

    pub(crate) fn record_filed(&self, bytes: u64) {
        self.documents_filed.fetch_add(1, Ordering::Relaxed);
        self.bytes_filed.fetch_add(bytes, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::new();
        help(
            &mut out,
            "akta_http_requests_total",
            "counter",
            "HTTP requests answered, by method and status class.",
        );
        if let Ok(map) = self.requests.lock() {
            for ((method, class), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "akta_http_requests_total{{method=\"{method}\",status=\"{class}\"}} {n}"
                );
            }
        }
        help(
            &mut out,
            "akta_http_request_duration_seconds",
            "histogram",
            "Time to answer HTTP requests.",
        );
        self.request_seconds
            .write(&mut out, "akta_http_request_duration_seconds", "");
        help(
            &mut out,
            "akta_http_route_duration_seconds",
            "histogram",
            "Time to answer HTTP requests, by route template, method and status class.",
        );
        let routes: Vec<_> = self
            .routes
            .lock()
            .map(|map| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        for ((route, method, class), h) in routes {
            let labels = format!(
                "route=\"{}\",method=\"{method}\",status=\"{class}\"",
                label_value(&route)
            );
            h.write(&mut out, "akta_http_route_duration_seconds", &labels);
        }
        help(
            &mut out,
            "akta_search_duration_seconds",
            "histogram",
            "Time of full-text searches in the core.",
        );
        self.search_seconds
            .write(&mut out, "akta_search_duration_seconds", "");
        help(
            &mut out,
            "akta_documents_filed_total",
            "counter",
            "Document versions filed by this node.",
        );
        let _ = writeln!(
            out,
            "akta_documents_filed_total {}",
            self.documents_filed.load(Ordering::Relaxed)
        );
        help(
            &mut out,
            "akta_filed_bytes_total",
            "counter",
            "Plaintext bytes filed by this node.",
        );
        let _ = writeln!(
            out,
            "akta_filed_bytes_total {}",
            self.bytes_filed.load(Ordering::Relaxed)
        );
        if let Some(lag) = gauges.index_lag {
            help(
                &mut out,
                "akta_search_index_lag_entries",
                "gauge",
                "Index log entries this node's search index has not applied.",
            );
            let _ = writeln!(out, "akta_search_index_lag_entries {lag}");
        }
        help(
            &mut out,
            "akta_db_pool_connections",
            "gauge",
            "Connections of this node's PostgreSQL pool, by state.",
        );
        let busy = gauges.pool_connections.saturating_sub(gauges.pool_idle);
        let _ = writeln!(out, "akta_db_pool_connections{{state=\"busy\"}} {busy}");
        let _ = writeln!(
            out,
            "akta_db_pool_connections{{state=\"idle\"}} {}",
            gauges.pool_idle
        );
        help(
            &mut out,
            "akta_db_pool_max_connections",
            "gauge",
            "Most connections this node's pool opens.",
        );
        let _ = writeln!(out, "akta_db_pool_max_connections {}", gauges.pool_max);
        help(
            &mut out,
            "akta_outbox_depth",
            "gauge",
            "Rows in the outboxes (all tenants), by outbox and state.",
        );
        for (outbox, state, n) in &gauges.outboxes {
            let _ = writeln!(
                out,
                "akta_outbox_depth{{outbox=\"{}\",state=\"{}\"}} {n}",
                label_value(outbox),
                label_value(state)
            );
        }
        help(
            &mut out,
            "akta_tenant_storage_bytes",
            "gauge",
            "Each tenant's stored content, as filed (logical) and in the store (sealed).",
        );
        for (tenant, logical, stored) in &gauges.storage {
            let tenant = label_value(tenant);
            let _ = writeln!(
                out,
                "akta_tenant_storage_bytes{{tenant=\"{tenant}\",kind=\"logical\"}} {logical}"
            );
            let _ = writeln!(
                out,
                "akta_tenant_storage_bytes{{tenant=\"{tenant}\",kind=\"stored\"}} {stored}"
            );
        }
        akta_telemetry::jobs().render(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_add_up() {
        let m = Metrics::default();
        m.record_request(
            "GET",
            Some("/api/v1/files/{id}"),
            200,
            Duration::from_millis(3),
        );
        m.record_request(
            "GET",
            Some("/api/v1/files/{id}"),
            204,
            Duration::from_millis(30),
        );
        m.record_request("BREW", None, 418, Duration::from_secs(20));
        let text = m.render(&Gauges {
            index_lag: Some(7),
            pool_connections: 5,
            pool_idle: 2,
            pool_max: 10,
            outboxes: vec![("extraction".into(), "pending".into(), 4)],
            storage: vec![("witten".into(), 10, 60)],
        });
        assert!(text.contains("akta_http_requests_total{method=\"GET\",status=\"2xx\"} 2"));
        assert!(text.contains("akta_http_requests_total{method=\"other\",status=\"4xx\"} 1"));
        assert!(text.contains("akta_http_request_duration_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("akta_http_request_duration_seconds_bucket{le=\"0.05\"} 2"));
        assert!(text.contains("akta_http_request_duration_seconds_bucket{le=\"+Inf\"} 3"));
        assert!(text.contains("akta_http_request_duration_seconds_count 3"));
        assert!(text.contains("akta_search_index_lag_entries 7"));
        assert!(text.contains("akta_http_route_duration_seconds_count{route=\"/api/v1/files/{id}\",method=\"GET\",status=\"2xx\"} 2"));
        assert!(text.contains("akta_http_route_duration_seconds_count{route=\"unmatched\",method=\"other\",status=\"4xx\"} 1"));
        assert!(text.contains("akta_db_pool_connections{state=\"busy\"} 3"));
        assert!(text.contains("akta_outbox_depth{outbox=\"extraction\",state=\"pending\"} 4"));
        assert!(text.contains("akta_tenant_storage_bytes{tenant=\"witten\",kind=\"stored\"} 60"));
    }
}
