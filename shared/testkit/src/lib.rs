//! Test harness for Akta: a throwaway PostgreSQL cluster and Garage server per test process,
//! a real Akta per test on a random port, and a small HTTP client for the tests.

mod app;
pub mod garage;
pub mod postgres;

pub use app::{
    Backend, Client, CoreSettings, JobSettings, Reply, Role, TestApp, TestNode, TestOptions,
    TestTenant,
};
