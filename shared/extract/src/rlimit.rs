//! The few libc calls the isolated runner needs. `unsafe` is denied workspace-wide; it is
//! allowed only here, for calls that have no safe std equivalent.
#![allow(unsafe_code)]

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Makes the child limit itself before `exec`: address space, CPU seconds, and no file
/// descriptors besides stdio.
pub(crate) fn limit_child(cmd: &mut Command, max_memory_bytes: u64, cpu_seconds: u64) {
    // SAFETY: the closure runs in the forked child before exec and only makes
    // async-signal-safe system calls (setrlimit, syscall/fcntl) on plain values; it neither
    // allocates nor takes locks.
    unsafe {
        cmd.pre_exec(move || {
            let mem = libc::rlimit {
                rlim_cur: max_memory_bytes as libc::rlim_t,
                rlim_max: max_memory_bytes as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &mem) != 0 {
                return Err(io::Error::last_os_error());
            }
            // Soft limit sends SIGXCPU, the hard limit a second later SIGKILL.
            let cpu = libc::rlimit {
                rlim_cur: cpu_seconds as libc::rlim_t,
                rlim_max: cpu_seconds.saturating_add(1) as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_CPU, &cpu) != 0 {
                return Err(io::Error::last_os_error());
            }
            // Mark every inherited descriptor above stdio close-on-exec rather than closing
            // it: std's own exec-error pipe must stay open until exec.
            const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
            let r = libc::syscall(
                libc::SYS_close_range,
                3 as libc::c_uint,
                libc::c_uint::MAX,
                CLOSE_RANGE_CLOEXEC,
            );
            if r != 0 {
                // Kernels before 5.11: walk the usual descriptor range.
                for fd in 3..4096 {
                    let flags = libc::fcntl(fd, libc::F_GETFD);
                    if flags >= 0 {
                        libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
                    }
                }
            }
            Ok(())
        });
    }
}

/// Makes the child get SIGKILL when the thread that started it ends, which includes its
/// parent process being killed: a server killed with `kill -9` leaves no extraction (and no
/// OCR) running behind it.
pub(crate) fn die_with_parent(cmd: &mut Command) {
    let parent = libc::pid_t::try_from(std::process::id()).unwrap_or(0);
    // SAFETY: runs in the forked child before exec; prctl and getppid are async-signal-safe
    // and the error is built without allocating.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl: then nobody waits for us.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// Kills a whole process group (the worker and anything it started, such as tesseract).
pub(crate) fn kill_group(pgid: u32) {
    if let Ok(pgid) = libc::pid_t::try_from(pgid) {
        // SAFETY: kill has no memory-safety preconditions; a stale id only yields ESRCH.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}
