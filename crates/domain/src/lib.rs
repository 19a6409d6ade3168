//! The domain layer of Yiwang: plain types and pure rules, in the national standards' own terms.
//!
//! Nothing here does I/O, spawns tasks or knows a framework. Codes are *parsed* into types
//! ("parse, don't validate"): once a [`codes::CreditCode`] exists it is a valid 统一社会信用代码,
//! so the layers above never re-check a string.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod case;
pub mod codes;
pub mod contact;
pub mod dict;
pub mod diff;
pub mod form;
pub mod identity;
pub mod item;
pub mod quality;
pub mod upload;
