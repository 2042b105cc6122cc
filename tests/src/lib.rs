//! End-to-end tests of Akta live in `tests/e2e/`; this library is intentionally empty.
