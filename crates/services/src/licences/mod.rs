//! 电子证照 (GB/T 36901-36906): the licence catalogue (证照目录), issuing a licence when a case
//! is approved, the licence library (电子证照库), public verification and the holder's licences.
//!
//! A licence is a signed document: its data (canonical JSON, the exact bytes signed) is signed
//! with the issuing organisation's active seal (SM2 with SM3, [`seals`]) and stored sealed under
//! the personal-data ring, with the DER signature beside it. Verification reads the row, opens
//! the data, checks the signature with the seal's table-driven verifier and reports the
//! licence's state: a licence is never "valid" unless its signature verifies under a seal that
//! was not revoked before it was issued, its status is `valid` and it has not expired.
//!
//! Issuing is an outbox consumer (`licences.issue` of `case.approved`): idempotent, one batch
//! (the licence row, the seal's use, the holder's message, the event marked done).

pub mod expiry;
pub mod import;
pub mod seals;

mod catalogue;
mod holder;
mod issue;
mod verification;

use std::collections::HashMap;
use std::sync::Mutex;

use yiwang_store::BatchError;

use crate::{Platform, ServiceError};

pub use catalogue::{
    LicenceType, TypeField, define_type, define_type_as, licence_type, licence_types, load_demo,
};
pub use holder::{
    HeldLicence, LibraryQuery, LibraryRow, LicenceShare, LicenceUse, document_for_holder,
    fetch_for_staff, held_by, pdf_for_holder, search_library, share_with_case, shares,
    uses_for_holder, withdraw_share,
};
pub(crate) use holder::{fill_from_library, from_library, push_from_library};
pub(crate) use issue::issues_licences;
pub use issue::{NewVersion, issue_for_event, new_version, set_status};
pub use verification::{
    DOCUMENT_FORMAT, LicenceDocument, Outcome, PublicLicence, Verification, verify, verify_document,
};

/// The consumer name of licence issuing in `outbox_done`.
pub(crate) const ISSUE: &str = "licences.issue";

/// What the licence system keeps in memory.
#[derive(Debug, Default)]
pub struct Caches {
    /// Seal verifiers with their tables.
    pub verifiers: seals::VerifierCache,
    /// Signatures already verified: (licence id, signature) → the data they sign is authentic.
    pub(crate) verified: Mutex<HashMap<(String, String), bool>>,
}

pub(crate) fn batch_error(e: BatchError) -> ServiceError {
    match e {
        BatchError::Conflict => changed(),
        BatchError::Store(e) => e.into(),
    }
}

pub(crate) fn changed() -> ServiceError {
    ServiceError::Conflict(
        "数据已被他人修改，请刷新后重试 / changed by someone else: reload and try again".into(),
    )
}

/// Today on the working-day calendar's clock (its UTC offset): licences are dated as the
/// issuer's calendar says, like the notices.
fn local_today(p: &Platform) -> chrono::NaiveDate {
    p.now().with_timezone(&p.calendar().offset()).date_naive()
}

/// The field label licence data is sealed under (the personal-data ring).
const DATA_FIELD: &str = "licence.data";

/// The signed data of a licence row, opened.
fn open_data(p: &Platform, sealed: &str) -> Result<String, ServiceError> {
    p.keys
        .pii
        .decrypt(DATA_FIELD, sealed)
        .map_err(|e| ServiceError::internal(format!("licence data: {e}")))
}

/// The public verification page of a licence (what its QR code opens).
fn verify_url(p: &Platform, id: &str) -> String {
    format!("{}/licences/verify?id={id}", p.oidc.issuer())
}

/// A licence's fields as (label, value), in its type's order (each field's `order`; data
/// signed before fields carried it keeps the order of its keys).
fn ordered_fields(fields: &serde_json::Map<String, serde_json::Value>) -> Vec<(String, String)> {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let mut out: Vec<(u64, String, String)> = fields
        .values()
        .enumerate()
        .map(|(i, f)| {
            let order = f["order"].as_u64().unwrap_or(u64::try_from(i).unwrap_or(0));
            (order, text(&f["label"]), text(&f["value"]))
        })
        .collect();
    out.sort_by_key(|(order, ..)| *order);
    out.into_iter().map(|(_, l, v)| (l, v)).collect()
}
