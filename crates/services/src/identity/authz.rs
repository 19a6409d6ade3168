//! 授权: the one module that decides who may do what. Use-cases ask it before they act;
//! handlers never decide (they show what the use-case answered). The web test
//! `crates/web/tests/authz.rs` checks these rules across every endpoint for every kind of user.
//!
//! A staff session acts in one organisation ([`Staff::org`], [`Staff::region`]) with the roles
//! held there ([`Staff::roles`]). The rules:
//!
//! | what | who |
//! |---|---|
//! | manage an organisation's items | 事项管理员 of that organisation |
//! | review items | 事项审核员 of a region containing the item's region |
//! | read an item in management | its managers, its reviewers, 系统管理员 |
//! | an item never published, to anyone else | does not exist (404: a refusal would confirm it) |
//! | manage staff accounts and roles | 系统管理员: everyone, any role anywhere; 部门管理员: accounts whose home organisation is the one the session acts in, non-administrative roles in it only ([`StaffScope`]) |
//! | read and verify the audit log; register client systems | 系统管理员 |
//! | raise a citizen to L3 | 窗口人员 |
//! | answer or close citizens' questions about an organisation's items (我要问) | 事项管理员 and 审批人员 of that organisation; to other staff with one of those roles a question of another organisation does not exist (404) |
//! | publish an answer on the item's guide as 常见问题, or take it down | 事项管理员 of that organisation (the guide is theirs) |
//! | a citizen's own questions | that citizen only; anyone else's does not exist (404) |
//! | act for an enterprise | its legal representative; an agent within a live grant's scope (`enterprises::may_act_for`) |
//! | a citizen's own data, sessions, grants | that citizen only; someone else's grant or enterprise does not exist (404) |
//! | an organisation's seals (电子印章); the status and new versions of the licences it issued | 系统管理员; 部门管理员 of that organisation |
//! | the licence catalogue (证照目录) | 系统管理员 |
//! | search the licence library (电子证照库) | 系统管理员: all; 监察人员: issued within their region; other staff: issued by their organisation |
//! | a licence's data for a department | staff who handle the holder's case ([`crate::cases::for_staff`]); on a legal basis, 监察人员 and 系统管理员 |
//!
//! Holders of administrative roles (部门管理员, 系统管理员) must pass TOTP before their session
//! may act at all (`staff::Session::complete`, enforced by the web edge's session extractor).

use yiwang_domain::codes::RegionCode;

use super::staff::{Role, Staff};
use crate::ServiceError;

/// Whether region `outer` contains region `inner` (or is it).
pub fn region_contains(outer: &str, inner: &str) -> bool {
    match (RegionCode::parse(outer), RegionCode::parse(inner)) {
        (Ok(o), Ok(i)) => o.contains(&i),
        _ => false,
    }
}

/// Whether the staff member manages the items of `org`.
pub fn may_manage_items(actor: &Staff, org: &str) -> bool {
    actor.has(Role::ItemManager) && actor.org == org
}

/// Whether the staff member reviews items in `region`.
pub fn may_review_items(actor: &Staff, region: &str) -> bool {
    actor.has(Role::ItemReviewer) && region_contains(&actor.region, region)
}

/// Whether the staff member may read, in management, an item of `org` in `region`.
pub fn may_read_item(actor: &Staff, org: &str, region: &str) -> bool {
    may_manage_items(actor, org) || may_review_items(actor, region) || actor.has(Role::SystemAdmin)
}

/// What a use-case wants to do with an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemAccess {
    /// Read it (pages, history, diff, export).
    Read,
    /// Change it (edit, submit, change, suspend, cancel…).
    Manage,
    /// Decide on a submitted version.
    Review,
}

/// Decides an item access: `Ok`, `Forbidden` naming the rule, or `NotFound` for an item never
/// published to anyone who may not read it.
pub fn item_access(
    actor: &Staff,
    access: ItemAccess,
    code: &str,
    org: &str,
    region: &str,
    ever_published: bool,
) -> Result<(), ServiceError> {
    if !ever_published && !may_read_item(actor, org, region) {
        return Err(ServiceError::NotFound {
            what: "事项",
            key: code.to_owned(),
        });
    }
    match access {
        ItemAccess::Read if may_read_item(actor, org, region) => Ok(()),
        ItemAccess::Read => Err(ServiceError::Forbidden(
            "只能查看本单位或本辖区的事项".into(),
        )),
        ItemAccess::Manage => {
            actor.require(Role::ItemManager)?;
            if actor.org == org {
                Ok(())
            } else {
                Err(ServiceError::Forbidden("只能管理本单位的事项".into()))
            }
        }
        ItemAccess::Review => {
            actor.require(Role::ItemReviewer)?;
            if region_contains(&actor.region, region) {
                Ok(())
            } else {
                Err(ServiceError::Forbidden("只能审核本辖区的事项".into()))
            }
        }
    }
}

/// Which staff accounts and roles the actor manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffScope {
    /// Every account, every role, every organisation (系统管理员).
    All,
    /// Accounts whose home organisation is this one; non-administrative roles in it only
    /// (部门管理员).
    Org(String),
}

impl StaffScope {
    /// The actor's scope, or `Forbidden` for anyone who manages no staff.
    pub fn of(actor: &Staff) -> Result<StaffScope, ServiceError> {
        if actor.has(Role::SystemAdmin) {
            Ok(StaffScope::All)
        } else if actor.has(Role::DeptAdmin) {
            Ok(StaffScope::Org(actor.org.clone()))
        } else {
            Err(ServiceError::Forbidden(
                "需要“系统管理员”或“部门管理员”角色".into(),
            ))
        }
    }

    /// Whether a staff member with this home organisation is in scope.
    pub fn manages_home(&self, home_org: &str) -> bool {
        match self {
            StaffScope::All => true,
            StaffScope::Org(o) => o == home_org,
        }
    }

    /// Whether the actor may grant (or revoke) `role` in `org`.
    pub fn may_grant(&self, role: Role, org: &str) -> bool {
        match self {
            StaffScope::All => true,
            StaffScope::Org(o) => o == org && !role.is_administrative(),
        }
    }
}

/// Whether the staff member administers `org`'s seals and the licences it issued: a system
/// administrator, or a department administrator acting in `org`.
pub fn may_administer_org(actor: &Staff, org: &str) -> bool {
    actor.has(Role::SystemAdmin) || (actor.org == org && actor.has(Role::DeptAdmin))
}

/// Whether the staff member may fetch a licence's data on a stated legal basis.
pub fn may_fetch_on_legal_basis(actor: &Staff) -> bool {
    actor.has(Role::Supervisor) || actor.has(Role::SystemAdmin)
}

/// Which licences of the library a staff member may search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LibraryScope {
    /// Every licence (系统管理员).
    All,
    /// Licences whose region code starts with this prefix (监察人员 of that region).
    RegionPrefix(String),
    /// Licences issued by this organisation.
    Issuer(String),
}

impl LibraryScope {
    /// The scope of the staff member's session.
    pub fn of(actor: &Staff) -> LibraryScope {
        if actor.has(Role::SystemAdmin) {
            LibraryScope::All
        } else if actor.has(Role::Supervisor) {
            // 430000 → 43, 430100 → 4301, 430104 → 430104.
            LibraryScope::RegionPrefix(actor.region.trim_end_matches("00").to_owned())
        } else {
            LibraryScope::Issuer(actor.org.clone())
        }
    }
}

/// Fails unless the staff member is a system administrator (audit log, client systems).
pub fn require_system_admin(actor: &Staff) -> Result<(), ServiceError> {
    actor.require(Role::SystemAdmin)
}

/// Whether the staff member answers citizens' questions about the items of `org` (我要问).
pub fn may_answer_questions(actor: &Staff, org: &str) -> bool {
    actor.org == org && (actor.has(Role::ItemManager) || actor.has(Role::Approver))
}

/// Whether the staff member publishes answers on the guides of `org`'s items as 常见问题.
pub fn may_publish_faq(actor: &Staff, org: &str) -> bool {
    may_manage_items(actor, org)
}

/// What a use-case wants to do with a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionAccess {
    /// Read it, answer it or close it.
    Answer,
    /// Publish it as 常见问题 or take it down.
    Publish,
}

/// Decides a question access for a question about an item of `org`: `Forbidden` for staff
/// who answer no questions at all (or, to publish, manage no items), `NotFound` for a
/// question of another organisation (no probing of ids), else `Ok`.
pub fn question_access(
    actor: &Staff,
    access: QuestionAccess,
    id: &str,
    org: &str,
) -> Result<(), ServiceError> {
    if !actor.has(Role::ItemManager) && !actor.has(Role::Approver) {
        return Err(ServiceError::Forbidden(
            "需要“事项管理员”或“审批人员”角色 / item managers and approvers only".into(),
        ));
    }
    if !may_answer_questions(actor, org) {
        return Err(ServiceError::NotFound {
            what: "提问",
            key: id.to_owned(),
        });
    }
    match access {
        QuestionAccess::Answer => Ok(()),
        QuestionAccess::Publish if may_publish_faq(actor, org) => Ok(()),
        QuestionAccess::Publish => Err(ServiceError::Forbidden(
            "只有本单位的事项管理员可以发布常见问题 / only the organisation's item managers publish FAQ"
                .into(),
        )),
    }
}
