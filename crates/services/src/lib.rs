//! The use-cases of the Yiwang platform, below HTTP and above storage.
//!
//! [`Platform`] holds what every use-case needs: the database, the search index, the clock and
//! small in-memory views (master data, summaries of published items) that make the portal fast.
//! Each module is one of the seed design's systems:
//!
//! - [`catalogue`]: 政务服务事项管理 — implementation items, versions, review, Excel exchange.
//! - [`masterdata`]: regions (GB/T 2260), organisations, life-event themes.
//! - [`identity`]: 统一身份认证 — staff with roles in several organisations, citizen and enterprise
//!   accounts with real-name levels, sessions, throttling, the hash-chained audit log.
//! - [`workflow`]: 审批流程 — BPMN process versions bound to items, instances, the approvers'
//!   inbox, durable timers and step limits, the working-day calendar.
//! - [`cases`]: 办件 (运行管理) — online application and one-window acceptance, corrections,
//!   approval on the workflow engine, decision and delivery, SM3-chained process records.
//! - [`questions`]: 我要问 — citizens' questions about an item, answered by its organisation
//!   within working days, published on the guide as 常见问题.
//! - [`demo`]: the demo province.
//!
//! **Invariant:** every state change is one database transaction that also writes its history
//! record and its outbox event; in-memory views and the search index are refreshed only after
//! the commit, from what was committed.

pub mod cases;
pub mod catalogue;
pub mod clock;
pub mod demo;
pub mod error;
pub mod identity;
pub mod licences;
pub mod masterdata;
pub mod questions;
pub mod supervision;
pub mod workflow;

use std::sync::Arc;

use yiwang_search::SearchIndex;
use yiwang_store::Db;

pub use clock::{Clock, FixedClock, SimulatedClock, SystemClock};
pub use error::{FieldError, ServiceError};

/// Everything a use-case needs, shared by all requests.
pub struct Platform {
    /// The database.
    pub db: Db,
    /// The full-text index of published items.
    pub search: Arc<SearchIndex>,
    /// The injected clock.
    pub clock: Arc<dyn Clock>,
    /// Regions, organisations and themes, loaded at start and after imports.
    pub master: masterdata::MasterCache,
    /// Summaries of published items, for search results and cache keys.
    pub summaries: catalogue::SummaryCache,
    /// The identity system's keys (personal-data encryption, blind indexes).
    pub keys: identity::Keys,
    /// The outside systems (population and legal-person libraries, SMS and e-mail).
    pub outside: identity::Outside,
    /// The OpenID Connect provider's issuer, signing key and verified-secret caches.
    pub oidc: identity::oidc::OidcState,
    /// Compiled process versions.
    pub workflow: workflow::runtime::Cache,
    /// The working-day calendar.
    pub calendar_cache: workflow::calendar::CalendarCache,
    /// The published 常见问题 of each item.
    pub faq: questions::FaqCache,
    /// Seal verifiers and verified licence signatures.
    pub licences: licences::Caches,
    /// The supervision rules consumer's memory of events handled.
    pub supervision: supervision::Consumer,
}

impl Platform {
    /// Opens the platform on a migrated database with throwaway keys (tests and tools whose
    /// personal data need not outlive the process): see [`Platform::open_with`].
    pub async fn open(db: Db, clock: Arc<dyn Clock>) -> Result<Arc<Platform>, ServiceError> {
        Platform::open_with(
            db,
            clock,
            identity::Keys::ephemeral()?,
            identity::Outside::for_tests()?,
        )
        .await
    }

    /// Opens the platform on a migrated database with the configured keys: loads master data
    /// and builds the index.
    pub async fn open_with(
        db: Db,
        clock: Arc<dyn Clock>,
        keys: identity::Keys,
        outside: identity::Outside,
    ) -> Result<Arc<Platform>, ServiceError> {
        let search =
            Arc::new(SearchIndex::in_memory().map_err(|e| ServiceError::internal(e.to_string()))?);
        let platform = Arc::new(Platform {
            db,
            search,
            clock,
            master: masterdata::MasterCache::default(),
            summaries: catalogue::SummaryCache::default(),
            keys,
            outside,
            oidc: identity::oidc::OidcState::default(),
            workflow: workflow::runtime::Cache::default(),
            calendar_cache: workflow::calendar::CalendarCache::default(),
            faq: questions::FaqCache::default(),
            licences: licences::Caches::default(),
            supervision: supervision::Consumer::default(),
        });
        platform.reload().await?;
        Ok(platform)
    }

    /// Reloads master data, summaries, the search index, the calendar and the published 常见问题
    /// from the database.
    pub async fn reload(&self) -> Result<(), ServiceError> {
        masterdata::reload(self).await?;
        catalogue::rebuild_index(self).await?;
        workflow::calendar::reload(self).await?;
        self.faq.reload(self).await?;
        Ok(())
    }

    /// The working-day calendar now in force.
    pub fn calendar(&self) -> Arc<yiwang_calendar::Calendar> {
        self.calendar_cache.get()
    }

    /// The current time.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The simulated clock, when the server runs on one (`--simulated-clock`).
    pub fn simulated_clock(&self) -> Option<&SimulatedClock> {
        self.clock.simulated()
    }
}
