//! Yiwang's connections to outside systems used by unified identity (统一身份认证).
//!
//! - [`population`] — the population library (人口库): is this ID number registered under this
//!   name, and who is it?
//! - [`legal_person`] — the legal-person library (法人库): the registered enterprise behind a
//!   统一社会信用代码, with its legal representative and status.
//! - [`demo`] — a deterministic built-in [`DemoLibrary`] that stands in for both libraries in
//!   development, tests and the demo province, with fixed people and enterprises for the demo
//!   accounts.
//! - [`http`] — [`HttpLibrary`], the same questions asked of a real library over HTTP (the
//!   protocol is in this crate's `README.md`).
//! - [`objects`] — the object store for files (a local directory, or an S3-compatible bucket
//!   through [`s3`] with our own Signature Version 4 signer; SM3 checked on every read).
//! - [`notify`] — SMS and e-mail from built-in Chinese templates through pluggable providers
//!   (a developer's JSON-lines file, SMTP, an HTTP SMS gateway).
//!
//! Every failure is one [`ConnectorError`], which tells "the other system is unavailable",
//! "it answered something unusable" and "it refused" from "this is not configured" and "the
//! caller's input is wrong". Nothing here touches the database or knows the web framework.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod demo;
mod error;
pub mod http;
pub mod legal_person;
pub mod notify;
pub mod objects;
pub mod population;
pub mod s3;

pub use demo::{DemoLibrary, fixed_enterprises, fixed_residents};
pub use error::ConnectorError;
pub use http::HttpLibrary;
pub use legal_person::{EnterpriseRecord, EnterpriseStatus, LegalPersonLibrary};
pub use notify::{Channel, Notifier, NotifierConfig, ProviderConfig, Recipient};
pub use objects::ObjectStore;
pub use population::{Gender, PersonCheck, PersonRecord, PopulationLibrary};
