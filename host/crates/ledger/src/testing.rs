//! For tests that need a PostgreSQL server, here and in the CLI tests: where it is, the
//! rule for when there is none, and a schema of a test's own.
//!
//! The server comes from [`URL_ENV`] (`tests/postgres.sh` sets one up and prints it).
//! Without it a PostgreSQL test says so on stderr and passes as a no-op, so `cargo test`
//! works on a machine without PostgreSQL — unless [`REQUIRE_ENV`] is `1`, as in CI, where
//! a missing server fails the test instead of silently skipping it.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::db::DbError;

/// The variable holding the test server's URL.
pub const URL_ENV: &str = "CERTIFY_TEST_POSTGRES_URL";
/// Set to `1` to fail PostgreSQL tests, rather than skip them, when [`URL_ENV`] is unset.
pub const REQUIRE_ENV: &str = "CERTIFY_REQUIRE_POSTGRES";

/// The test server's URL, or `None` after a notice that `test` is skipped.
///
/// # Panics
///
/// When there is no URL and [`REQUIRE_ENV`] is `1`.
pub fn postgres_url(test: &str) -> Option<String> {
    url_from(
        test,
        std::env::var(URL_ENV).ok(),
        std::env::var(REQUIRE_ENV).ok(),
    )
}

fn url_from(test: &str, url: Option<String>, require: Option<String>) -> Option<String> {
    match url.filter(|u| !u.trim().is_empty()) {
        Some(url) => Some(url),
        None if require.as_deref() == Some("1") => panic!(
            "{test} needs PostgreSQL: {REQUIRE_ENV}=1 but {URL_ENV} is not set; run \
             `eval \"$(tests/postgres.sh)\"` first"
        ),
        None => {
            eprintln!(
                "note: {test} skipped its PostgreSQL part: {URL_ENV} is not set (run \
                 `eval \"$(tests/postgres.sh)\"` to set one up; {REQUIRE_ENV}=1 makes this \
                 a failure)"
            );
            None
        }
    }
}

/// A schema of one test's own on the test server, dropped with it, so tests can run in
/// parallel (in one process or many) without seeing each other's rows.
#[derive(Debug)]
pub struct Schema {
    admin_url: String,
    name: String,
    url: String,
}

impl Schema {
    /// Creates a fresh, empty schema named after `label`.
    pub fn create(admin_url: &str, label: &str) -> Result<Schema, DbError> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let label: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(30)
            .collect();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "t_{label}_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        crate::postgres::execute_batch(admin_url, &format!("CREATE SCHEMA \"{name}\""))?;
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-c%20search_path%3D{name}");
        Ok(Schema {
            admin_url: admin_url.to_owned(),
            name,
            url,
        })
    }

    /// The URL that connects into the schema (as `--ledger` takes it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = crate::postgres::execute_batch(
            &self.admin_url,
            &format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_url_a_test_is_skipped_unless_postgres_is_required() {
        assert_eq!(url_from("t", None, None), None);
        assert_eq!(url_from("t", Some(" ".into()), Some("0".into())), None);
        assert_eq!(
            url_from("t", Some("postgres://x".into()), Some("1".into())),
            Some("postgres://x".into())
        );
        let required = std::panic::catch_unwind(|| url_from("t", None, Some("1".into())));
        let message = *required.unwrap_err().downcast::<String>().unwrap();
        assert!(message.contains("CERTIFY_TEST_POSTGRES_URL"), "{message}");
    }
}
