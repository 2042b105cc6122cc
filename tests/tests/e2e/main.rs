//! End-to-end tests: each test starts a real Akta (random port, fresh database) over the
//! process-wide throwaway PostgreSQL and Garage, and talks to it over HTTP.
