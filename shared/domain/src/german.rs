//! Dates and times as German authorities write them, in German local time, for every
//! surface that prints them (web pages, the Aktenauszug).

/// `25.11.2026`
pub fn date(d: time::Date) -> String {
    format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year())
}

/// `25.11.2026 14:03` in German local time (CET/CEST by the EU rule).
pub fn date_time(t: time::OffsetDateTime) -> String {
    let local = t.to_offset(berlin_offset(t));
    format!(
        "{} {:02}:{:02}",
        date(local.date()),
        local.hour(),
        local.minute()
    )
}

/// Today in Germany.
pub fn today() -> time::Date {
    let now = time::OffsetDateTime::now_utc();
    now.to_offset(berlin_offset(now)).date()
}

/// UTC+2 between the last Sundays of March and October (01:00 UTC), else UTC+1.
pub fn berlin_offset(t: time::OffsetDateTime) -> time::UtcOffset {
    let utc = t.to_offset(time::UtcOffset::UTC);
    let year = utc.year();
    let last_sunday = |month: time::Month| {
        let mut d = time::Date::from_calendar_date(year, month, 31).unwrap_or(time::Date::MIN);
        while d.weekday() != time::Weekday::Sunday {
            d = d.previous_day().unwrap_or(d);
        }
        d.with_hms(1, 0, 0)
            .map(|dt| dt.assume_utc())
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    };
    let summer = utc >= last_sunday(time::Month::March) && utc < last_sunday(time::Month::October);
    time::UtcOffset::from_hms(if summer { 2 } else { 1 }, 0, 0).unwrap_or(time::UtcOffset::UTC)
}
