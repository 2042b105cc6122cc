//! The Kubernetes manifests under `infra/kubernetes/` are valid for the API server they aim
//! at: every file passes `kubernetes-validate --strict` (PyPI; it ships the schemas, and
//! `infra/scripts/test.sh` installs it). Custom resources (the CloudNativePG example) are
//! reported as unknown kinds and pass; everything built in is checked field by field.

use std::path::{Path, PathBuf};
use std::process::Command;

fn manifests(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("infra/kubernetes").flatten() {
        let path = entry.path();
        if path.is_dir() {
            manifests(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

#[test]
fn the_kubernetes_manifests_pass_strict_validation() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/kubernetes");
    let mut files = Vec::new();
    manifests(&dir, &mut files);
    files.sort();
    assert!(files.len() >= 9, "manifests missing: {files:?}");
    let Ok(version) = Command::new("kubernetes-validate")
        .arg("--version")
        .output()
    else {
        eprintln!(
            "SKIPPED: kubernetes-validate (PyPI) is not installed; infra/scripts/test.sh installs it"
        );
        return;
    };
    assert!(version.status.success());
    let out = Command::new("kubernetes-validate")
        .arg("--strict")
        .args(&files)
        .output()
        .expect("run kubernetes-validate");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "invalid manifests:\n{report}");
    assert!(!report.contains("ERROR"), "{report}");
    for name in [
        "akta-api.yaml",
        "akta-worker.yaml",
        "ingress.yaml",
        "hpa.yaml",
        "pdb.yaml",
    ] {
        assert!(report.contains(name), "{name} was not validated:\n{report}");
    }
}
