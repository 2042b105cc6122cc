//! Aufbewahrung: how long a closed Akte is kept and what becomes of it then, decided once for
//! every surface. An Akte inherits its Aufbewahrungsfrist and Aussonderungsart from the nearest
//! plan unit that sets them unless it sets them itself; it is due for Aussonderung at the end
//! of the year of its closing (zdA) plus the years; `unbefristet` never falls due. A legal hold
//! (Aussonderungssperre) blocks disposal, Abgabe and deletion while it lasts.

use serde::Serialize;
use time::{Date, Month};

use crate::{Disposition, DomainError, Retention};

/// What an Akte itself says; `None` parts come from its plan unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OwnRule {
    pub retention: Option<Retention>,
    pub disposition: Option<Disposition>,
}

impl OwnRule {
    /// From the stored columns: `set` with `years` NULL is `unbefristet`.
    pub fn from_columns(
        set: bool,
        years: Option<i32>,
        disposition: Option<&str>,
    ) -> Result<OwnRule, DomainError> {
        let retention = set
            .then(|| Retention::from_years(years.map(i64::from)))
            .transpose()?;
        Ok(OwnRule {
            retention,
            disposition: disposition.map(Disposition::parse).transpose()?,
        })
    }
}

/// The rule in force for an Akte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effective {
    pub retention: Retention,
    pub disposition: Disposition,
}

/// The Akte's own values where it sets them, else its plan unit's effective ones (which the
/// plan unit inherits along the Aktenplan).
pub fn effective(own: OwnRule, plan_unit: Effective) -> Effective {
    Effective {
        retention: own.retention.unwrap_or(plan_unit.retention),
        disposition: own.disposition.unwrap_or(plan_unit.disposition),
    }
}

/// When an Akte closed on `closed_on` falls due: 31 December of the closing year plus the
/// years. `None` while open and for `unbefristet`.
pub fn due_on(effective: &Effective, closed_on: Option<Date>) -> Option<Date> {
    let closed_on = closed_on?;
    let years = effective.retention.years()?;
    let year = closed_on.year().checked_add(i32::from(years))?;
    Date::from_calendar_date(year, Month::December, 31).ok()
}

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// An Aussonderungssperre: while it holds, nothing in the Akte may be disposed of, handed over
/// or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    pub reason: String,
    /// Holds until the end of this day; `None`: until lifted.
    #[serde(with = "iso_date::option")]
    pub until: Option<Date>,
    pub by: String,
}

impl Hold {
    /// Whether the hold is in force on `today`.
    pub fn holds_on(&self, today: Date) -> bool {
        self.until.is_none_or(|until| today <= until)
    }
}

/// Refuses disposal, Abgabe or deletion under a hold in force (409 on every surface).
pub fn check_not_held(hold: Option<&Hold>, today: Date) -> Result<(), &'static str> {
    match hold {
        Some(h) if h.holds_on(today) => {
            Err("the file is under a legal hold (Aussonderungssperre): lift it first")
        }
        _ => Ok(()),
    }
}

/// A past closing date for records closed on paper long ago: not in the future.
pub fn check_closed_on(closed_on: Date, today: Date) -> Result<Date, DomainError> {
    if closed_on > today {
        return Err(DomainError::new("closed_on", "must not be in the future"));
    }
    Ok(closed_on)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_akte_s_own_values_come_first_then_its_plan_unit_s() {
        let unit = Effective {
            retention: Retention::Years(10),
            disposition: Disposition::Archive,
        };
        let own = OwnRule {
            retention: None,
            disposition: Some(Disposition::Destroy),
        };
        let e = effective(own, unit);
        assert_eq!(e.retention, Retention::Years(10));
        assert_eq!(e.disposition, Disposition::Destroy);
        assert_eq!(
            OwnRule::from_columns(true, None, None)
                .expect("rule")
                .retention,
            Some(Retention::Unlimited)
        );
    }

    #[test]
    fn due_at_the_end_of_the_closing_year_plus_the_years() {
        let ten = Effective {
            retention: Retention::Years(10),
            disposition: Disposition::Evaluate,
        };
        assert_eq!(
            due_on(&ten, Some(date!(2012 - 06 - 30))),
            Some(date!(2022 - 12 - 31))
        );
        assert_eq!(
            due_on(&ten, Some(date!(2012 - 01 - 01))),
            Some(date!(2022 - 12 - 31))
        );
        assert_eq!(due_on(&ten, None), None, "open Akten are not due");
        let forever = Effective {
            retention: Retention::Unlimited,
            disposition: Disposition::Archive,
        };
        assert_eq!(due_on(&forever, Some(date!(1990 - 01 - 01))), None);
    }

    #[test]
    fn a_hold_blocks_until_its_day_has_passed() {
        let hold = Hold {
            reason: "Klage".into(),
            until: Some(date!(2027 - 03 - 31)),
            by: "anna".into(),
        };
        assert!(check_not_held(Some(&hold), date!(2027 - 03 - 31)).is_err());
        assert!(check_not_held(Some(&hold), date!(2027 - 04 - 01)).is_ok());
        assert!(check_not_held(None, date!(2027 - 04 - 01)).is_ok());
        assert!(check_closed_on(date!(2030 - 01 - 01), date!(2026 - 12 - 05)).is_err());
    }
}
