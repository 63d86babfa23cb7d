//! Journal before you create: the one way a run creates anything on the account.
//!
//! The intent to create a thing is written to the journal before the account is asked
//! for it, and how it went is recorded on the entry: the account's id once it has one,
//! the failure when it refused. Teardown and `certify cleanup` work from those entries,
//! so anything the run (or a plugin's cloud action) creates goes through [`RunJournal`].

use std::future::Future;

use certify_ledger::{EntryId, JournalError, Kind};

use super::deploy::SharedJournal;

/// The journal of one run, for the things the run creates.
#[derive(Clone)]
pub struct RunJournal {
    journal: SharedJournal,
    run_id: String,
}

/// A thing the journal knows the run means to create (or has created).
#[must_use = "record how the creation went on the intent"]
pub struct Intent {
    journal: SharedJournal,
    entry: EntryId,
}

impl RunJournal {
    /// The journal of the run `run_id`.
    pub fn new(journal: SharedJournal, run_id: &str) -> RunJournal {
        RunJournal {
            journal,
            run_id: run_id.to_string(),
        }
    }

    /// The run.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Writes the intent to create `name` of `kind`, before the account is asked.
    pub fn intend(
        &self,
        kind: Kind,
        name: &str,
        details: &serde_json::Value,
    ) -> Result<Intent, JournalError> {
        let entry =
            self.journal
                .lock()
                .expect("journal lock")
                .intend(&self.run_id, kind, name, details)?;
        Ok(Intent {
            journal: self.journal.clone(),
            entry,
        })
    }

    /// Journals the intent to create `name` of `kind`, then asks the account with
    /// `create`; a refusal is recorded on the entry (which stays for teardown to
    /// look for) and handed back. The caller records the account's id on the intent.
    pub async fn create<T, E, F>(
        &self,
        kind: Kind,
        name: &str,
        details: &serde_json::Value,
        create: F,
    ) -> Result<Result<(Intent, T), E>, JournalError>
    where
        E: std::fmt::Display,
        F: Future<Output = Result<T, E>>,
    {
        let intent = self.intend(kind, name, details)?;
        Ok(match create.await {
            Ok(made) => Ok((intent, made)),
            Err(e) => {
                intent.failed(&e.to_string());
                Err(e)
            }
        })
    }
}

impl Intent {
    /// Records the account's id for the thing: it exists, and teardown deletes it.
    pub fn created(&self, remote_id: &str) -> Result<(), JournalError> {
        self.journal
            .lock()
            .expect("journal lock")
            .created(self.entry, remote_id)
    }

    /// Records that creating it failed; the entry stays for teardown to look for.
    /// Best effort: the run goes on with what it knows.
    pub fn failed(&self, why: &str) {
        let _ = self
            .journal
            .lock()
            .expect("journal lock")
            .failed(self.entry, why);
    }

    /// Records that what it started is over and nothing of it is left (an action that
    /// ran to its end). Best effort.
    pub fn done(&self) {
        let _ = self
            .journal
            .lock()
            .expect("journal lock")
            .deleted(self.entry);
    }
}
