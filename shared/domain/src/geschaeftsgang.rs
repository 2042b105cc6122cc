//! The Geschäftsgang's vocabulary: how a Verfügung's numbered steps are read from what a
//! clerk writes ("1. Schreiben ab", "2. WV 14 Tage", "3. z.d.A.") into what Akta carries out
//! when the Verfügung is signed.

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// What Akta does for a step when the Verfügung is signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum StepAction {
    /// A step for people (a letter goes out, a Vermerk): recorded, nothing to do.
    Note,
    /// Wiedervorlage in `days` days for the one who started the Verfügung.
    Wv { days: u16 },
    /// Zu den Akten: the Vorgang of the document (or the Akte, if it lies in none) closes.
    Zda,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub nr: u16,
    pub text: String,
    #[serde(flatten)]
    pub action: StepAction,
}

/// The steps of a Verfügung, one per line, numbered or not; empty lines are skipped. At
/// most 20 steps of 300 characters.
pub fn parse_steps(text: &str) -> Result<Vec<Step>, DomainError> {
    let mut steps = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        // "1." or "1)" in front is the clerk's numbering; Akta numbers anew.
        let body = match line.split_once(['.', ')']) {
            Some((n, rest)) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => {
                rest.trim()
            }
            _ => line,
        };
        if body.is_empty() {
            continue;
        }
        if body.chars().count() > 300 || body.chars().any(char::is_control) {
            return Err(DomainError::new(
                "steps",
                "each step is one line of at most 300 characters",
            ));
        }
        steps.push(Step {
            nr: steps.len() as u16 + 1,
            text: body.to_owned(),
            action: action_of(body)?,
        });
        if steps.len() > 20 {
            return Err(DomainError::new(
                "steps",
                "a Verfügung has at most 20 steps",
            ));
        }
    }
    if steps.is_empty() {
        return Err(DomainError::new(
            "steps",
            "a Verfügung needs at least one step, e.g. \"1. z.d.A.\"",
        ));
    }
    Ok(steps)
}

fn action_of(body: &str) -> Result<StepAction, DomainError> {
    let plain: String = body
        .to_lowercase()
        .chars()
        .filter(|c| !matches!(c, '.' | ' '))
        .collect();
    if plain == "zda" || plain == "zudenakten" {
        return Ok(StepAction::Zda);
    }
    let lower = body.to_lowercase();
    let wv = lower
        .strip_prefix("wv")
        .or_else(|| lower.strip_prefix("wiedervorlage"));
    if let Some(rest) = wv {
        // "WV 14 Tage", "Wiedervorlage in 3 Wochen", "WV 1 Monat".
        let words: Vec<&str> = rest.split_whitespace().filter(|w| *w != "in").collect();
        let amount = words.first().and_then(|n| n.parse::<u16>().ok());
        let unit = words.get(1).copied().unwrap_or("tage");
        let days = match (amount, unit) {
            (Some(n), u) if u.starts_with("tag") => Some(n),
            (Some(n), u) if u.starts_with("woche") => n.checked_mul(7),
            (Some(n), u) if u.starts_with("monat") => n.checked_mul(30),
            _ => None,
        };
        return match days {
            Some(d) if (1..=3650).contains(&d) => Ok(StepAction::Wv { days: d }),
            _ => Err(DomainError::new(
                "steps",
                "a Wiedervorlage step names a period, e.g. \"WV 14 Tage\" or \"WV 2 Wochen\"",
            )),
        };
    }
    Ok(StepAction::Note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verfuegung_reads_like_paper() {
        let steps = parse_steps("1. Schreiben ab\n2. WV 14 Tage\n\n3. z.d.A.").unwrap();
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[0].action, StepAction::Note);
        assert_eq!(steps[0].text, "Schreiben ab");
        assert_eq!(steps[1].action, StepAction::Wv { days: 14 });
        assert_eq!(steps[2].action, StepAction::Zda);
        assert_eq!(steps[2].nr, 3);
        assert_eq!(
            parse_steps("Wiedervorlage in 2 Wochen").unwrap()[0].action,
            StepAction::Wv { days: 14 }
        );
        assert_eq!(parse_steps("zdA").unwrap()[0].action, StepAction::Zda);
        assert!(parse_steps("WV irgendwann").is_err());
        assert!(parse_steps("\n \n").is_err());
        assert!(parse_steps(&"x".repeat(301)).is_err());
    }
}
