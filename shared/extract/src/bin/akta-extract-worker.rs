//! Stand-alone extraction worker, used by the tests (the `akta` binary gets a hidden
//! subcommand for the same purpose).

fn main() {
    let arg = std::env::args().nth(1);
    if arg.as_deref() != Some(akta_extract::WORKER_ARG) {
        eprintln!("usage: akta-extract-worker {}", akta_extract::WORKER_ARG);
        std::process::exit(2);
    }
    std::process::exit(akta_extract::worker_main());
}
