//! End-to-end tests: each test starts a real Akta (random port, fresh database) over the
//! process-wide throwaway PostgreSQL and Garage, and talks to it over HTTP.

mod abgabe;
mod aktenauszug;
mod arbeitstag;
mod audit;
mod aussonderung;
mod bad_input;
mod blob_contract;
mod common;
mod documents;
mod encryption;
mod events;
mod extraction;
mod files;
mod flow;
mod geschaeftsgang;
mod headers;
mod hostile_text;
mod inbox;
mod isolation;
mod limits;
mod matrix;
mod oidc;
mod pagination;
mod plan_exchange;
mod retention;
mod rls;
mod roles;
mod rules;
mod scopes;
mod search;
mod sessions;
mod support;
mod uploads;
mod web;
mod wiedervorlagen;
