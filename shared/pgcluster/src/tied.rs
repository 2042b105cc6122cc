//! Child processes that die with this process, and the few libc calls that need `unsafe`.
//!
//! Linux delivers `PR_SET_PDEATHSIG` when the *thread* that forked the child exits, not the
//! process. Test harnesses run each test on a short-lived thread, so children are forked from
//! one dedicated thread that never exits; callers hand it their `Command` over a channel.

// `pre_exec` and the raw libc calls are unsafe by signature; the closure below only makes
// async-signal-safe calls (prctl, getppid), which is what pre_exec requires.
#![allow(unsafe_code)]

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

/// The signal a tied child receives when this process exits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeathSignal {
    /// SIGTERM: graceful shutdown for most servers (Garage).
    Terminate,
    /// SIGINT: PostgreSQL's "fast" shutdown (disconnect clients, checkpoint, exit).
    Interrupt,
    /// SIGQUIT: PostgreSQL's "immediate" shutdown.
    Quit,
    /// SIGKILL: no chance to clean up.
    Kill,
}

impl DeathSignal {
    fn number(self) -> libc::c_int {
        match self {
            DeathSignal::Terminate => libc::SIGTERM,
            DeathSignal::Interrupt => libc::SIGINT,
            DeathSignal::Quit => libc::SIGQUIT,
            DeathSignal::Kill => libc::SIGKILL,
        }
    }
}

type Request = (Command, DeathSignal, mpsc::Sender<io::Result<Child>>);

/// Spawns `cmd` so that it receives `signal` when this process exits, however it exits
/// (including SIGKILL). The child is forked from a dedicated, never-ending thread, so the calling
/// thread may end without affecting the child. Dropping the returned `Child` does not stop it.
pub fn spawn_tied_child(cmd: Command, signal: DeathSignal) -> io::Result<Child> {
    let (reply_tx, reply_rx) = mpsc::channel();
    spawner()
        .lock()
        .map_err(|_| io::Error::other("child spawner lock poisoned"))?
        .send((cmd, signal, reply_tx))
        .map_err(|_| io::Error::other("child spawner thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("child spawner thread did not answer"))?
}

fn spawner() -> &'static Mutex<mpsc::Sender<Request>> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Request>();
        // If the thread cannot be created, every request fails with "thread is gone" instead.
        let _ = std::thread::Builder::new()
            .name("akta-tied-children".into())
            .spawn(move || {
                // The sender lives in a static, so recv only fails if that is torn down.
                while let Ok((mut cmd, signal, reply)) = rx.recv() {
                    let _ = reply.send(spawn_with_pdeathsig(&mut cmd, signal));
                }
                // This thread must outlive every child it forked.
                loop {
                    std::thread::park();
                }
            });
        Mutex::new(tx)
    })
}

fn spawn_with_pdeathsig(cmd: &mut Command, signal: DeathSignal) -> io::Result<Child> {
    let signo = signal.number();
    let parent = std::process::id();
    // SAFETY: the closure runs between fork and exec and only calls prctl and getppid, both
    // async-signal-safe. std applies uid/gid before pre_exec hooks, and a credential change
    // would clear the death signal, so setting it here is the last word.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, signo as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl; then no signal would come.
            if libc::getppid() as u32 != parent {
                return Err(io::Error::other("parent exited while spawning"));
            }
            Ok(())
        });
    }
    cmd.spawn()
}

/// The effective user id of this process.
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tied_child_outlives_the_spawning_thread() {
        let child = std::thread::spawn(|| {
            let mut cmd = Command::new("sleep");
            cmd.arg("30");
            spawn_tied_child(cmd, DeathSignal::Kill)
        })
        .join()
        .expect("thread panicked")
        .expect("spawn sleep");
        let mut child = child;
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(child.try_wait().expect("try_wait").is_none());
        child.kill().expect("kill");
        child.wait().expect("wait");
    }
}
