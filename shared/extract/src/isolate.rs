//! Extraction in a child process with a wall-clock limit, a memory limit and a CPU limit, so a
//! hostile file cannot take the server down with it.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{extract, rlimit, ExtractError, Extracted, Limits};

/// The argument the host binary's hidden subcommand is called with.
pub const WORKER_ARG: &str = "extract-worker";

/// Extra wall-clock time granted to the child beyond `time_limit` (start-up, JSON, its own
/// cooperative timeout reporting).
const GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize, Deserialize)]
struct Request {
    path: PathBuf,
    media_type: String,
    file_name: String,
    limits: Limits,
    /// Test-only misbehaviour of the worker; never set from user input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    misbehave: Option<String>,
}

/// Extracts `input` in a child process `<exe> extract-worker`, which must call
/// [`worker_main`]. The child is killed when it exceeds `limits.time_limit`; crashes and
/// garbage output become errors, never panics here.
pub fn extract_isolated(
    exe: &Path,
    input: &Path,
    media_type: &str,
    file_name: &str,
    limits: &Limits,
) -> Result<Extracted, ExtractError> {
    run(exe, input, media_type, file_name, limits, None)
}

/// One input of [`extract_isolated_many`]: the file, its media type and its name.
pub struct Input<'a> {
    pub path: &'a Path,
    pub media_type: &'a str,
    pub file_name: &'a str,
}

/// Extracts several files in one child process, one after the other (saves a process start
/// per file for small documents). The child's limits are those of one file times their
/// number. If the child fails as a whole (crash, timeout, garbage), the caller cannot tell
/// which file caused it: it gets `Err` and extracts them one by one, so a hostile file still
/// fails only its own job.
pub fn extract_isolated_many(
    exe: &Path,
    inputs: &[Input<'_>],
    limits: &Limits,
) -> Result<Vec<Result<Extracted, ExtractError>>, ExtractError> {
    let requests: Vec<Request> = inputs
        .iter()
        .map(|i| Request {
            path: std::path::absolute(i.path).unwrap_or_else(|_| i.path.to_path_buf()),
            media_type: i.media_type.to_owned(),
            file_name: i.file_name.to_owned(),
            limits: limits.clone(),
            misbehave: None,
        })
        .collect();
    let n = u32::try_from(inputs.len().max(1)).unwrap_or(u32::MAX);
    let child_limits = Limits {
        time_limit: limits.time_limit.saturating_mul(n),
        max_decompressed_bytes: limits.max_decompressed_bytes.saturating_mul(u64::from(n)),
        ..limits.clone()
    };
    let request = serde_json::to_vec(&requests)
        .map_err(|e| ExtractError::Other(format!("cannot encode worker request: {e}")))?;
    let (status, stdout, stderr) = spawn_worker(exe, &request, &child_limits)?;
    if status.success() {
        if let Ok(results) = serde_json::from_slice::<Vec<Result<Extracted, ExtractError>>>(&stdout)
        {
            if results.len() == inputs.len() {
                return Ok(results);
            }
        }
    }
    match interpret(status, &stdout, &stderr, &child_limits) {
        Err(e) => Err(e),
        Ok(_) => Err(ExtractError::Other(
            "extraction process returned an invalid response".into(),
        )),
    }
}

/// Test hook: runs the worker with a deliberate misbehaviour (`sleep`, `spin`, `abort`,
/// `garbage`, `allocate`, `panic`).
#[doc(hidden)]
pub fn extract_isolated_misbehaving(
    exe: &Path,
    input: &Path,
    limits: &Limits,
    misbehave: &str,
) -> Result<Extracted, ExtractError> {
    run(exe, input, "", "", limits, Some(misbehave.to_owned()))
}

fn run(
    exe: &Path,
    input: &Path,
    media_type: &str,
    file_name: &str,
    limits: &Limits,
    misbehave: Option<String>,
) -> Result<Extracted, ExtractError> {
    let request = Request {
        // The worker may run in another directory; an absolute path avoids surprises.
        path: std::path::absolute(input).unwrap_or_else(|_| input.to_path_buf()),
        media_type: media_type.to_owned(),
        file_name: file_name.to_owned(),
        limits: limits.clone(),
        misbehave,
    };
    let request = serde_json::to_vec(&request)
        .map_err(|e| ExtractError::Other(format!("cannot encode worker request: {e}")))?;
    let (status, stdout, stderr) = spawn_worker(exe, &request, limits)?;
    interpret(status, &stdout, &stderr, limits)
}

/// Starts `<exe> extract-worker` under `limits`, writes `request` to it and collects its
/// exit status, stdout and stderr; kills its process group at the deadline.
fn spawn_worker(
    exe: &Path,
    request: &[u8],
    limits: &Limits,
) -> Result<(std::process::ExitStatus, Vec<u8>, String), ExtractError> {
    let mut cmd = Command::new(exe);
    cmd.arg(WORKER_ARG)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Own process group, so a timeout also kills grandchildren such as tesseract.
        .process_group(0);
    let cpu_seconds = limits.time_limit.as_secs().saturating_add(1);
    rlimit::limit_child(&mut cmd, limits.max_memory_bytes, cpu_seconds);
    rlimit::die_with_parent(&mut cmd);
    let mut child = cmd
        .spawn()
        .map_err(|e| ExtractError::Other(format!("cannot start extraction worker: {e}")))?;
    let pid = child.id();
    if let Some(mut stdin) = child.stdin.take() {
        // A worker that dies early closes its stdin; its exit status tells the story.
        let _ = stdin.write_all(request);
    }
    // The result can be as large as the decompression budget, plus JSON escaping.
    let out_cap = limits
        .max_decompressed_bytes
        .saturating_mul(2)
        .saturating_add(1 << 20);
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.take(out_cap).read_to_end(&mut buf);
        }
        buf
    });
    let err = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.take(64 * 1024).read_to_end(&mut buf);
            // Drain the rest so the child never blocks on a full pipe.
            let _ = std::io::copy(s, &mut std::io::sink());
        }
        buf
    });
    // A thread waits for the child, so its end is seen at once (no polling); the deadline
    // kills its whole process group, which ends that wait too.
    let (ended, waited) = std::sync::mpsc::channel();
    let waiter = thread::spawn(move || {
        let status = child.wait();
        let _ = ended.send(());
        status
    });
    let limit = limits.time_limit + GRACE;
    if waited.recv_timeout(limit).is_err() {
        rlimit::kill_group(pid);
        let _ = waiter.join();
        return Err(ExtractError::Timeout(format!(
            "extraction did not finish within {} s and was stopped",
            limits.time_limit.as_secs()
        )));
    }
    let status = match waiter.join() {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => {
            rlimit::kill_group(pid);
            return Err(ExtractError::Other(format!("waiting for worker: {e}")));
        }
        Err(_) => {
            rlimit::kill_group(pid);
            return Err(ExtractError::Other("waiting for worker failed".into()));
        }
    };
    // Leftover grandchildren (if any) must not outlive the job.
    rlimit::kill_group(pid);
    let stdout = out.join().unwrap_or_default();
    let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
    Ok((status, stdout, stderr))
}

fn interpret(
    status: std::process::ExitStatus,
    stdout: &[u8],
    stderr: &str,
    limits: &Limits,
) -> Result<Extracted, ExtractError> {
    if let Ok(result) = serde_json::from_slice::<Result<Extracted, ExtractError>>(stdout) {
        if status.success() {
            return result;
        }
    }
    let last_line = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    if stderr.contains("memory allocation of") {
        return Err(ExtractError::TooLarge(format!(
            "extraction exceeded the memory limit of {} bytes",
            limits.max_memory_bytes
        )));
    }
    if let Some(signal) = status.signal() {
        return Err(match signal {
            libc::SIGXCPU | libc::SIGKILL => ExtractError::Timeout(format!(
                "extraction exceeded its CPU time limit (signal {signal})"
            )),
            _ => ExtractError::Corrupt(format!(
                "extraction process crashed with signal {signal} (malformed input or memory limit) {last_line}"
            )
            .trim_end()
            .to_owned()),
        });
    }
    if !status.success() {
        return Err(ExtractError::Other(format!(
            "extraction process failed ({status}): {last_line}"
        )));
    }
    Err(ExtractError::Other(
        "extraction process returned an invalid response".into(),
    ))
}

/// Entry point of the worker process: reads a JSON request on stdin, writes
/// `{"Ok": Extracted}` or `{"Err": ExtractError}` on stdout; or, for a JSON array of
/// requests, an array of results. Returns the exit code.
pub fn worker_main() -> i32 {
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().take(1 << 20).read_to_end(&mut input) {
        eprintln!("extract-worker: cannot read request: {e}");
        return 2;
    }
    if input.first() == Some(&b'[') {
        let Some(requests) = parse_request::<Vec<Request>>(&input) else {
            return 2;
        };
        let results: Vec<Result<Extracted, ExtractError>> =
            requests.iter().map(extract_request).collect();
        return write_result(&results);
    }
    let Some(request) = parse_request::<Request>(&input) else {
        return 2;
    };
    if let Some(m) = &request.misbehave {
        misbehave(m);
    }
    write_result(&extract_request(&request))
}

fn parse_request<T: serde::de::DeserializeOwned>(input: &[u8]) -> Option<T> {
    serde_json::from_slice(input)
        .map_err(|e| eprintln!("extract-worker: invalid request: {e}"))
        .ok()
}

/// One file's extraction; a panic of an extractor is that file's error.
fn extract_request(request: &Request) -> Result<Extracted, ExtractError> {
    read_input(request).and_then(|bytes| {
        catch_unwind(AssertUnwindSafe(|| {
            extract(
                &bytes,
                &request.media_type,
                &request.file_name,
                &request.limits,
            )
        }))
        .unwrap_or_else(|_| {
            Err(ExtractError::Corrupt(
                "the extractor failed on this file".into(),
            ))
        })
    })
}

/// Writes the answer on stdout; the exit code.
fn write_result<T: Serialize>(result: &T) -> i32 {
    let mut stdout = std::io::stdout().lock();
    match serde_json::to_writer(&mut stdout, result) {
        Ok(()) => {
            let _ = stdout.flush();
            0
        }
        Err(e) => {
            eprintln!("extract-worker: cannot write result: {e}");
            3
        }
    }
}

fn read_input(request: &Request) -> Result<Vec<u8>, ExtractError> {
    let file = std::fs::File::open(&request.path)
        .map_err(|e| ExtractError::Other(format!("cannot open input: {e}")))?;
    let max = request.limits.max_input_bytes;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| ExtractError::Other(format!("cannot read input: {e}")))?;
    if bytes.len() as u64 > max {
        return Err(ExtractError::TooLarge(format!(
            "input exceeds the limit of {max} bytes"
        )));
    }
    Ok(bytes)
}

fn misbehave(how: &str) {
    match how {
        "sleep" => loop {
            thread::sleep(Duration::from_secs(60));
        },
        "spin" => {
            let mut x: u64 = 0;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        "abort" => std::process::abort(),
        "garbage" => {
            print!("this is not JSON");
            std::process::exit(0);
        }
        "allocate" => {
            let mut hog: Vec<Vec<u8>> = Vec::new();
            loop {
                hog.push(vec![1u8; 64 << 20]);
                std::hint::black_box(&hog);
            }
        }
        "panic" => panic!("deliberate worker panic"),
        "fds" => {
            // Reports the open descriptors, so a test can see that none were inherited.
            let fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
                .map(|d| {
                    d.filter_map(Result::ok)
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            let result: Result<Extracted, ExtractError> =
                Ok(Extracted::new(fds.join(" "), crate::Method::Plain));
            print!("{}", serde_json::to_string(&result).unwrap_or_default());
            std::process::exit(0);
        }
        _ => {}
    }
}
