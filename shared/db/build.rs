//! The migrations are embedded at compile time (`sqlx::migrate!`): a changed or added file
//! must rebuild this crate.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
