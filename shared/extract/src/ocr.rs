//! OCR with the `tesseract` CLI (German + English), and `pdftoppm` to rasterise scanned PDFs.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::{Ctx, ExtractError};

const LANGS: &str = "deu+eng";

/// Runs a command with a wall-clock limit; returns stdout on success.
fn run(cmd: &mut Command, timeout: Duration, what: &str) -> Result<Vec<u8>, ExtractError> {
    // Ends with the extraction worker, which ends with the server.
    crate::rlimit::die_with_parent(cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ExtractError::OcrUnavailable(format!("cannot start {what}: {e}")))?;
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    // Readers in threads so a chatty child cannot block on a full pipe.
    let out = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let err = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.take(64 * 1024).read_to_end(&mut buf);
        }
        buf
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ExtractError::Timeout(format!(
                    "{what} took longer than {} s",
                    timeout.as_secs()
                )));
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(ExtractError::Other(format!("waiting for {what}: {e}"))),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        return Err(ExtractError::Corrupt(format!(
            "{what} failed ({status}): {}",
            String::from_utf8_lossy(&stderr).trim()
        )));
    }
    Ok(stdout)
}

fn timeout(ctx: &Ctx<'_>) -> Duration {
    ctx.limits.ocr_timeout.min(ctx.remaining())
}

/// Whether tesseract with German language data can be used; the error says why not.
pub fn tesseract_status() -> Result<(), String> {
    let out = Command::new("tesseract")
        .arg("--list-langs")
        .stdin(Stdio::null())
        .output()
        .map_err(|_| "tesseract is not installed".to_owned())?;
    // Older versions print the list on stderr.
    let list = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !list.lines().any(|l| l.trim() == "deu") {
        return Err("tesseract has no German language data (tesseract-ocr-deu)".into());
    }
    Ok(())
}

fn tesseract(ctx: &Ctx<'_>, image: &Path) -> Result<String, ExtractError> {
    let out = run(
        Command::new("tesseract")
            .arg(image)
            .arg("stdout")
            .args(["-l", LANGS]),
        timeout(ctx),
        "tesseract",
    )?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn temp_dir() -> Result<tempfile::TempDir, ExtractError> {
    tempfile::tempdir().map_err(|e| ExtractError::Other(format!("cannot create temp dir: {e}")))
}

pub(crate) fn ocr_image(ctx: &Ctx<'_>, bytes: &[u8]) -> Result<String, ExtractError> {
    tesseract_status().map_err(ExtractError::OcrUnavailable)?;
    let dir = temp_dir()?;
    let path = dir.path().join("image");
    std::fs::write(&path, bytes).map_err(|e| ExtractError::Other(format!("temp file: {e}")))?;
    Ok(crate::text::tidy(&tesseract(ctx, &path)?))
}

pub(crate) fn ocr_pdf(ctx: &Ctx<'_>, bytes: &[u8]) -> Result<String, ExtractError> {
    tesseract_status().map_err(ExtractError::OcrUnavailable)?;
    let dir = temp_dir()?;
    let pdf = dir.path().join("in.pdf");
    std::fs::write(&pdf, bytes).map_err(|e| ExtractError::Other(format!("temp file: {e}")))?;
    let prefix = dir.path().join("page");
    let last_page = ctx.limits.max_entries.clamp(1, 1000).to_string();
    run(
        Command::new("pdftoppm")
            .args(["-r", "300", "-gray", "-png", "-l", &last_page])
            .arg(&pdf)
            .arg(&prefix),
        timeout(ctx),
        "pdftoppm",
    )
    .map_err(|e| match e {
        ExtractError::OcrUnavailable(_) => ExtractError::OcrUnavailable(
            "scanned PDF needs pdftoppm (poppler-utils) to be rasterised".into(),
        ),
        other => other,
    })?;
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .map_err(|e| ExtractError::Other(format!("temp dir: {e}")))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    // pdftoppm pads page numbers to equal width, so name order is page order.
    pages.sort();
    let mut out = String::new();
    for page in pages {
        ctx.check_time()?;
        out.push_str(&tesseract(ctx, &page)?);
        out.push('\n');
    }
    Ok(crate::text::tidy(&out))
}
