//! End-to-end tests: the real `tipline` binary, real databases (SQLite always; PostgreSQL when
//! `TIPLINE_TEST_POSTGRES_URL` is set — `TIPLINE_TEST_REQUIRE_ALL=1` makes its absence a failure).

mod access;
mod browser;
mod browser_helpers;
mod cases_search;
mod casework;
mod chain;
mod crash;
mod deadlines;
mod helpers;
mod import_export;
mod intake_http;
mod keys;
mod leak;
mod mail_in;
mod mail_out;
mod pages_cases;
mod pages_desk;
mod pages_lead;
mod scope;
mod stats;
