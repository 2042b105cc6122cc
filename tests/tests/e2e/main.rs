//! End-to-end tests: each test starts a real Akta (random port, fresh database) over the
//! process-wide throwaway PostgreSQL and Garage, and talks to it over HTTP.

mod audit;
mod bad_input;
mod blob_contract;
mod common;
mod documents;
mod files;
mod flow;
mod isolation;
mod pagination;
mod rls;
mod roles;
mod sessions;
mod uploads;
