//! The report model: what was run, on which inputs, with which verdict. It is the
//! `certify-report/1` format itself (`certify_review::model`), one struct for the
//! writer, `certify report verify` and the summary page; reporters read it and nothing
//! here formats.

pub use certify_review::model::{Attachment, Case, Counts, Report, Suite, Verdict, seconds};
