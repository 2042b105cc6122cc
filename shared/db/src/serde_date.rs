//! ISO 8601 encodings for the JSON the API returns.

time::serde::format_description!(pub iso_date, Date, "[year]-[month]-[day]");
