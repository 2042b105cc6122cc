//! A person's desk: favourites, recently opened Akten, and Vertretung. Only people have a
//! desk; an API token has none (404, as for anything it cannot have).

use akta_db::repo::desk::{Deputy, DeskFile};
use akta_domain::Principal;
use uuid::Uuid;

use crate::{Core, CoreError};

fn person(who: &Principal) -> Result<Uuid, CoreError> {
    match who {
        Principal::User { user_id, .. } => Ok(*user_id),
        _ => Err(CoreError::NotFound),
    }
}

/// Favourites, recently opened Akten and Vertretungen for the start page.
pub struct Desk {
    pub recent: Vec<DeskFile>,
    pub favourites: Vec<DeskFile>,
    pub deputies: Vec<Deputy>,
}

impl Core {
    pub async fn desk(&self, who: &Principal) -> Result<Desk, CoreError> {
        let me = person(who)?;
        self.as_caller(who, async |tx| {
            Ok::<_, akta_db::DbError>(Desk {
                recent: tx.recent_files(me, 10).await?,
                favourites: tx.favourite_files(me).await?,
                deputies: tx.deputies_of(me).await?,
            })
        })
        .await
    }

    /// Marks (`on`) or unmarks an Akte as a favourite of the caller.
    pub async fn set_favourite(
        &self,
        who: &Principal,
        file: Uuid,
        on: bool,
    ) -> Result<(), CoreError> {
        let me = person(who)?;
        self.as_caller(who, async |tx| tx.set_favourite(me, file, on).await)
            .await
    }

    pub async fn is_favourite(&self, who: &Principal, file: Uuid) -> Result<bool, CoreError> {
        let Ok(me) = person(who) else {
            return Ok(false);
        };
        self.as_caller(who, async |tx| tx.is_favourite(me, file).await)
            .await
    }

    /// The caller names a colleague to stand in for them from `from_day` to `until_day`;
    /// the colleague then also sees their Posteingang and Wiedervorlagen.
    pub async fn name_deputy(
        &self,
        who: &Principal,
        deputy: Uuid,
        from_day: time::Date,
        until_day: time::Date,
    ) -> Result<Deputy, CoreError> {
        let me = person(who)?;
        if from_day > until_day {
            return Err(CoreError::validation(
                "until",
                "the Vertretung must not end before it begins",
            ));
        }
        if deputy == me {
            return Err(CoreError::validation(
                "deputy_id",
                "nobody stands in for themselves",
            ));
        }
        self.as_caller(who, async |tx| {
            tx.name_deputy(me, deputy, from_day, until_day).await
        })
        .await
    }

    pub async fn end_deputy(&self, who: &Principal, id: Uuid) -> Result<(), CoreError> {
        let me = person(who)?;
        self.as_caller(who, async |tx| tx.end_deputy(me, id).await)
            .await
    }

    /// The Vertretungen the caller named or stands in for.
    pub async fn deputies(&self, who: &Principal) -> Result<Vec<Deputy>, CoreError> {
        let me = person(who)?;
        self.as_caller(who, async |tx| tx.deputies_of(me).await)
            .await
    }
}
