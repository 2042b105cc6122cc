//! The isolated runner: results cross the process boundary, and a hanging, crashing or
//! memory-hungry worker is stopped and reported without harming the caller.

mod fixtures;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use akta_extract::{extract_isolated, extract_isolated_misbehaving, ExtractError, Limits, Method};
use fixtures::*;

const EXE: &str = env!("CARGO_BIN_EXE_akta-extract-worker");

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write input");
    path
}

fn short() -> Limits {
    Limits {
        time_limit: Duration::from_secs(1),
        ..Limits::default()
    }
}

#[test]
fn extracts_through_the_worker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write(dir.path(), "antrag.docx", &docx());
    let e = extract_isolated(
        Path::new(EXE),
        &input,
        "",
        "antrag.docx",
        &Limits::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.method, Method::Ooxml);
    assert!(e.text.contains(SENTENCE), "{:?}", e.text);

    let input = write(dir.path(), "mail.eml", EML.as_bytes());
    let e = extract_isolated(
        Path::new(EXE),
        &input,
        "message/rfc822",
        "mail.eml",
        &Limits::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(e.parts.len(), 1);
}

#[test]
fn errors_cross_the_process_boundary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write(dir.path(), "x.pdf", &noise(2048, 3));
    let e = extract_isolated(
        Path::new(EXE),
        &input,
        "application/pdf",
        "x.pdf",
        &Limits::default(),
    );
    assert!(matches!(e, Err(ExtractError::Corrupt(_))), "{e:?}");
    let missing = dir.path().join("missing.txt");
    let e = extract_isolated(
        Path::new(EXE),
        &missing,
        "",
        "missing.txt",
        &Limits::default(),
    );
    assert!(matches!(e, Err(ExtractError::Other(_))), "{e:?}");
}

#[test]
fn hanging_worker_is_killed_at_the_time_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write(dir.path(), "a.txt", b"x");
    for how in ["sleep", "spin"] {
        let start = Instant::now();
        let e = extract_isolated_misbehaving(Path::new(EXE), &input, &short(), how);
        assert!(matches!(e, Err(ExtractError::Timeout(_))), "{how}: {e:?}");
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{how}: {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn crashing_worker_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write(dir.path(), "a.txt", b"x");
    let e = extract_isolated_misbehaving(Path::new(EXE), &input, &short(), "abort");
    assert!(
        matches!(e, Err(ExtractError::Corrupt(ref r)) if r.contains("signal")),
        "{e:?}"
    );
    let e = extract_isolated_misbehaving(Path::new(EXE), &input, &short(), "garbage");
    assert!(matches!(e, Err(ExtractError::Other(_))), "{e:?}");
    let e = extract_isolated_misbehaving(Path::new(EXE), &input, &short(), "panic");
    assert!(matches!(e, Err(ExtractError::Other(_))), "{e:?}");
    // The runner is still fine afterwards.
    let e = extract_isolated(Path::new(EXE), &input, "text/plain", "a.txt", &short());
    assert_eq!(e.map(|e| e.text), Ok("x".to_owned()));
}

#[test]
fn memory_limit_stops_a_hungry_worker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write(dir.path(), "a.txt", b"x");
    let limits = Limits {
        max_memory_bytes: 256 << 20,
        time_limit: Duration::from_secs(20),
        ..Limits::default()
    };
    let e = extract_isolated_misbehaving(Path::new(EXE), &input, &limits, "allocate");
    assert!(
        matches!(e, Err(ExtractError::TooLarge(ref r)) if r.contains("memory")),
        "{e:?}"
    );
}

#[test]
fn missing_worker_binary_is_an_error() {
    let e = extract_isolated(
        Path::new("/nonexistent/akta"),
        Path::new("/x"),
        "",
        "",
        &short(),
    );
    assert!(matches!(e, Err(ExtractError::Other(_))), "{e:?}");
}

#[test]
fn worker_inherits_only_stdio() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write(dir.path(), "a.txt", b"x");
    let e = extract_isolated_misbehaving(Path::new(EXE), &input, &short(), "fds")
        .unwrap_or_else(|e| panic!("{e}"));
    // 0-2 plus the descriptor of the /proc/self/fd listing itself.
    let fds: Vec<u32> = e.text.split(' ').filter_map(|f| f.parse().ok()).collect();
    assert!(
        fds.len() <= 4 && fds.iter().filter(|&&f| f > 2).count() <= 1,
        "{fds:?}"
    );
}

#[test]
fn ocr_runs_inside_the_limited_worker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let png = match (
        akta_extract::tesseract_status(),
        render_png(&pdf_with_text(&[SENTENCE])),
    ) {
        (Ok(()), Some(png)) => png,
        // Without tesseract the state must be reported, not an empty text.
        _ => b"\x89PNG\r\n\x1a\n0000".to_vec(),
    };
    let input = write(dir.path(), "scan.png", &png);
    let result = extract_isolated(
        Path::new(EXE),
        &input,
        "image/png",
        "scan.png",
        &Limits::default(),
    );
    match akta_extract::tesseract_status() {
        Ok(()) => {
            let e = result.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(e.method, Method::Ocr);
            assert!(e.text.contains("beantragt"), "{:?}", e.text);
        }
        Err(_) => assert!(
            matches!(result, Err(ExtractError::OcrUnavailable(_))),
            "{result:?}"
        ),
    }
}

/// Not a test of its own: the "server" of `the_worker_dies_with_its_parent`, started as a
/// separate process running only this function. It starts a worker that never finishes.
#[test]
#[ignore = "helper process of the_worker_dies_with_its_parent"]
fn parent_of_a_sleeping_worker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write(dir.path(), "x.txt", b"text");
    let limits = Limits {
        time_limit: Duration::from_secs(120),
        ..Limits::default()
    };
    let _ = extract_isolated_misbehaving(Path::new(EXE), &input, &limits, "sleep");
}

/// The parent process id and state letter of `pid` from `/proc/<pid>/stat`.
fn proc_stat(pid: u32) -> Option<(u32, char)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid …": comm may hold spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((ppid, state))
}

fn children_of(parent: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| proc_stat(*pid).is_some_and(|(ppid, _)| ppid == parent))
        .collect()
}

#[test]
fn the_worker_dies_with_its_parent() {
    let mut parent = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "parent_of_a_sleeping_worker",
            "--ignored",
            "--test-threads=1",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the parent");
    let deadline = Instant::now() + Duration::from_secs(20);
    let worker = loop {
        if let Some(pid) = children_of(parent.id()).first() {
            break *pid;
        }
        assert!(
            Instant::now() < deadline,
            "the parent never started a worker"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // kill -9: the parent gets no chance to clean up after itself.
    parent.kill().expect("kill the parent");
    parent.wait().expect("reap the parent");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // Gone, or a zombie waiting for whoever inherited it: either way no longer running.
        match proc_stat(worker) {
            None | Some((_, 'Z' | 'X')) => break,
            Some(_) => {
                assert!(
                    Instant::now() < deadline,
                    "worker {worker} kept running after its parent was killed"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Several files in one child: each gets its own result, a broken one fails alone.
#[test]
fn a_batch_answers_each_file_for_itself() {
    let dir = tempfile::tempdir().expect("tempdir");
    let docx_path = write(dir.path(), "antrag.docx", &docx());
    let broken = write(dir.path(), "kaputt.pdf", &noise(4096, 3));
    let eml = write(dir.path(), "mail.eml", EML.as_bytes());
    let inputs = [
        akta_extract::Input {
            path: &docx_path,
            media_type: "",
            file_name: "antrag.docx",
        },
        akta_extract::Input {
            path: &broken,
            media_type: "application/pdf",
            file_name: "kaputt.pdf",
        },
        akta_extract::Input {
            path: &eml,
            media_type: "message/rfc822",
            file_name: "mail.eml",
        },
    ];
    let results = akta_extract::extract_isolated_many(Path::new(EXE), &inputs, &Limits::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(results.len(), 3);
    let first = results[0].as_ref().expect("docx extracted");
    assert!(first.text.contains(SENTENCE), "{:?}", first.text);
    assert!(
        matches!(results[1], Err(ExtractError::Corrupt(_))),
        "{:?}",
        results[1]
    );
    assert_eq!(
        results[2].as_ref().expect("mail extracted").method,
        Method::Email
    );
}
