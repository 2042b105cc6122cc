//! Usage for cost sharing between the district's towns: one row per tenant and month, for the
//! operator (API, CSV, console). Collected as it happens (see `akta_db::repo::usage`).

use akta_db::UsageRow;

use crate::{Core, CoreError};

/// A month as `YYYY-MM`, as its first day.
pub fn parse_month(raw: &str) -> Result<time::Date, CoreError> {
    let invalid = || CoreError::validation("month", "must be a month like 2026-12");
    let (year, month) = raw.trim().split_once('-').ok_or_else(invalid)?;
    if year.len() != 4 || month.len() != 2 {
        return Err(invalid());
    }
    let year: i32 = year.parse().map_err(|_| invalid())?;
    let month: u8 = month.parse().map_err(|_| invalid())?;
    let month = time::Month::try_from(month).map_err(|_| invalid())?;
    time::Date::from_calendar_date(year, month, 1).map_err(|_| invalid())
}

/// The current month in Germany.
pub fn this_month() -> time::Date {
    let today = akta_domain::german::today();
    today.replace_day(1).unwrap_or(today)
}

/// The columns of the CSV export, in order.
pub const USAGE_CSV_HEADER: &str = "month,tenant,name,status,documents,versions,bytes_added,\
stored_bytes_added,logical_bytes,stored_bytes,active_users,api_requests,search_requests,\
extraction_seconds";

/// The report as CSV (RFC 4180; names quoted, a leading formula character defused so a
/// spreadsheet shows a town's name as text).
pub fn usage_csv(month: time::Date, rows: &[UsageRow]) -> String {
    let mut out = String::from(USAGE_CSV_HEADER);
    out.push_str("\r\n");
    let month = format!("{:04}-{:02}", month.year(), u8::from(month.month()));
    for r in rows {
        let fields = [
            month.clone(),
            quote(&r.slug),
            quote(&r.display_name),
            r.status.clone(),
            r.documents.to_string(),
            r.versions.to_string(),
            r.bytes_added.to_string(),
            r.stored_bytes_added.to_string(),
            r.logical_bytes.to_string(),
            r.stored_bytes.to_string(),
            r.active_users.to_string(),
            r.api_requests.to_string(),
            r.search_requests.to_string(),
            format!("{:.3}", r.extraction_ms as f64 / 1000.0),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

fn quote(text: &str) -> String {
    let defused = match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

impl Core {
    /// Every tenant's usage in `month` (its first day).
    pub async fn usage_report(&self, month: time::Date) -> Result<Vec<UsageRow>, CoreError> {
        Ok(self.db.usage_report(month).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_strictly() {
        assert_eq!(
            parse_month("2026-12").expect("month"),
            time::macros::date!(2026 - 12 - 01)
        );
        for bad in [
            "2026-13", "2026-1", "26-12", "2026/12", "", "2026-00", "abcd-ef",
        ] {
            assert!(parse_month(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn csv_quotes_names_and_defuses_formulas() {
        let row = UsageRow {
            tenant_id: uuid::Uuid::nil(),
            slug: "witten".into(),
            display_name: "=HYPERLINK(\"x\")".into(),
            status: "active".into(),
            documents: 2,
            versions: 3,
            bytes_added: 10,
            stored_bytes_added: 60,
            logical_bytes: 10,
            stored_bytes: 60,
            active_users: 1,
            api_requests: 7,
            search_requests: 1,
            extraction_ms: 1500,
        };
        let csv = usage_csv(time::macros::date!(2026 - 12 - 01), &[row]);
        let line = csv.lines().nth(1).expect("row");
        assert_eq!(
            line,
            "2026-12,\"witten\",\"'=HYPERLINK(\"\"x\"\")\",active,2,3,10,60,10,60,1,7,1,1.500"
        );
    }
}
