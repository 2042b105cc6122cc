//! The state file beside a cluster: its port and the generated passwords.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use rand::RngCore;

use crate::ClusterError;

/// What a cluster needs to remember between runs. Passwords are hex, so they need no escaping
/// in SQL literals or URLs.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct State {
    pub(crate) port: u16,
    pub(crate) superuser_password: String,
    pub(crate) owner_password: String,
    pub(crate) app_password: String,
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl State {
    pub(crate) fn generate(port: u16) -> State {
        State {
            port,
            superuser_password: random_hex(),
            owner_password: random_hex(),
            app_password: random_hex(),
        }
    }

    /// Reads the state file; `None` if it does not exist.
    pub(crate) fn load(path: &Path) -> Result<Option<State>, ClusterError> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ClusterError::Io(format!("reading {}", path.display()), e)),
        };
        Self::parse(&text)
            .map(Some)
            .map_err(|reason| ClusterError::InvalidState {
                path: path.to_path_buf(),
                reason,
            })
    }

    /// Writes the state file with mode 0600, atomically so a crash leaves the old or the new one.
    pub(crate) fn save(&self, path: &Path) -> Result<(), ClusterError> {
        let tmp = path.with_extension("state-new");
        let err = |e| ClusterError::Io(format!("writing {}", path.display()), e);
        let _ = fs::remove_file(&tmp);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(err)?;
        file.write_all(self.render().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(err)?;
        fs::rename(&tmp, path).map_err(err)
    }

    fn render(&self) -> String {
        format!(
            "# akta-pgcluster: port and passwords of the cluster beside this file\n\
             port={}\nsuperuser_password={}\nowner_password={}\napp_password={}\n",
            self.port, self.superuser_password, self.owner_password, self.app_password
        )
    }

    fn parse(text: &str) -> Result<State, String> {
        let mut port = None;
        let mut superuser_password = None;
        let mut owner_password = None;
        let mut app_password = None;
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| format!("line {line:?} is not key=value"))?;
            let value = value.trim().to_owned();
            match key.trim() {
                "port" => {
                    port = Some(
                        value
                            .parse::<u16>()
                            .map_err(|_| format!("port {value:?} is not a port number"))?,
                    )
                }
                "superuser_password" => superuser_password = Some(value),
                "owner_password" => owner_password = Some(value),
                "app_password" => app_password = Some(value),
                // Unknown keys come from a newer version; ignoring them keeps downgrades working.
                _ => {}
            }
        }
        let missing = |what: &str| format!("{what} is missing");
        Ok(State {
            port: port.ok_or_else(|| missing("port"))?,
            superuser_password: superuser_password.ok_or_else(|| missing("superuser_password"))?,
            owner_password: owner_password.ok_or_else(|| missing("owner_password"))?,
            app_password: app_password.ok_or_else(|| missing("app_password"))?,
        })
    }
}

/// 32 random bytes as 64 hex characters.
fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_survives_a_round_trip_through_its_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("postgres.state");
        assert_eq!(State::load(&path).expect("load"), None);
        let state = State::generate(54321);
        state.save(&path).expect("save");
        assert_eq!(State::load(&path).expect("load"), Some(state.clone()));
        let mode = fs::metadata(&path).expect("metadata").permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
        assert!(!format!("{state:?}").contains(&state.app_password));
    }

    #[test]
    fn incomplete_state_is_rejected() {
        assert!(State::parse("port=1\nsuperuser_password=x\n").is_err());
        assert!(State::parse("port=x\n").is_err());
    }
}
