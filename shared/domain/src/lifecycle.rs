//! The zdA rule of Akten and Vorgänge, decided once for every surface (REST, web UI, CLI,
//! imports): a record closed "zu den Akten" takes no change except reopening, and reopening
//! needs a reason that is kept with the event.

use crate::{DomainError, FileStatus};

/// Longest reason kept for a reopening.
pub const REASON_MAX: usize = 2000;

/// What a change request does to the status of an Akte or Vorgang.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// The status stays; other fields may change.
    Keep,
    /// Closes the record (zdA); other fields of the same request change with it.
    Close,
    /// Reopens a closed record; nothing else changes in the same request.
    Reopen { reason: String },
}

/// Why a change is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The record's state forbids the change (closed, or not closed for a reopening): 409.
    Conflict(&'static str),
    /// Input that breaks a rule, naming the field: 422.
    Invalid(DomainError),
}

impl From<DomainError> for Refusal {
    fn from(e: DomainError) -> Self {
        Refusal::Invalid(e)
    }
}

/// Decides a change to a record that is `current`. `requested` is the status asked for (if
/// any), `reason` the given reason, `other_changes` whether any other field is to change.
/// `what` names the record in messages ("file", "case").
pub fn decide(
    what: &str,
    current: FileStatus,
    requested: Option<FileStatus>,
    reason: Option<&str>,
    other_changes: bool,
) -> Result<Transition, Refusal> {
    let closed_message = if what == "case" {
        "the case is closed (zdA): reopen it with a reason first"
    } else {
        "the file is closed (zdA): reopen it with a reason first"
    };
    match (current, requested) {
        (FileStatus::Closed, Some(FileStatus::Open)) => {
            let reason =
                crate::optional_text_multiline("reason", reason.unwrap_or(""), REASON_MAX)?
                    .ok_or_else(|| DomainError::new("reason", "reopening needs a reason"))?;
            if other_changes {
                return Err(Refusal::Conflict(closed_message));
            }
            Ok(Transition::Reopen { reason })
        }
        (FileStatus::Closed, _) => Err(Refusal::Conflict(closed_message)),
        (FileStatus::Open, Some(FileStatus::Open)) if reason.is_some() => {
            // A second reopening (a double submit, a stale tab): the record is open already.
            Err(Refusal::Conflict(if what == "case" {
                "the case is not closed"
            } else {
                "the file is not closed"
            }))
        }
        (FileStatus::Open, requested) => {
            if reason.is_some_and(|r| !r.trim().is_empty()) {
                return Err(
                    DomainError::new("reason", "a reason is only taken when reopening").into(),
                );
            }
            Ok(match requested {
                Some(FileStatus::Closed) => Transition::Close,
                _ => Transition::Keep,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_record_takes_only_a_reopening_with_reason() {
        let closed = FileStatus::Closed;
        assert!(matches!(
            decide("file", closed, None, None, true),
            Err(Refusal::Conflict(_))
        ));
        assert!(matches!(
            decide("file", closed, Some(FileStatus::Closed), None, false),
            Err(Refusal::Conflict(_))
        ));
        match decide("case", closed, Some(FileStatus::Open), Some("  "), false) {
            Err(Refusal::Invalid(e)) => assert_eq!(e.field, "reason"),
            other => panic!("expected a missing reason, got {other:?}"),
        }
        assert!(matches!(
            decide(
                "file",
                closed,
                Some(FileStatus::Open),
                Some("Nachtrag"),
                true
            ),
            Err(Refusal::Conflict(_))
        ));
        assert_eq!(
            decide(
                "file",
                closed,
                Some(FileStatus::Open),
                Some(" Nachtrag "),
                false
            ),
            Ok(Transition::Reopen {
                reason: "Nachtrag".into()
            })
        );
    }

    #[test]
    fn open_record_changes_and_closes_but_takes_no_reason() {
        let open = FileStatus::Open;
        assert_eq!(decide("file", open, None, None, true), Ok(Transition::Keep));
        assert_eq!(
            decide("file", open, Some(FileStatus::Open), None, true),
            Ok(Transition::Keep)
        );
        assert_eq!(
            decide("file", open, Some(FileStatus::Closed), None, true),
            Ok(Transition::Close)
        );
        assert!(matches!(
            decide("file", open, Some(FileStatus::Closed), Some("x"), false),
            Err(Refusal::Invalid(_))
        ));
        // Reopening what is open (a double submit) is a conflict, not bad input.
        assert!(matches!(
            decide("case", open, Some(FileStatus::Open), Some("x"), false),
            Err(Refusal::Conflict(_))
        ));
    }
}
