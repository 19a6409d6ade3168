//! Who a task is offered to: candidate roles in candidate organisations, resolved from rules
//! relative to the case (its implementing department, that department's parent, a department
//! by key in the case's region, or a named organisation), from the BPMN file or an item binding.

use yiwang_workflow::model::Assignment;

use super::TaskRule;
use crate::identity::staff::Role;
use crate::masterdata::MasterData;

/// A candidate-organisation rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgRule {
    /// `case.department`: the organisation implementing the case's item.
    CaseDepartment,
    /// `case.department.parent`: the same department one region up (e.g. city → province).
    Parent,
    /// `dept:KEY`: the organisation of department KEY in the case's region, else the nearest
    /// region above that has one (并联审批 across departments).
    Department(String),
    /// An organisation by its 18-character 统一社会信用代码.
    Named(String),
}

/// A rule that does not parse: (Chinese, English).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError(pub String, pub String);

impl OrgRule {
    /// Parse a rule as written in `yiwang:candidateOrgs` or a binding.
    pub fn parse(s: &str) -> Result<OrgRule, RuleError> {
        let s = s.trim();
        match s {
            "case.department" => return Ok(OrgRule::CaseDepartment),
            "case.department.parent" => return Ok(OrgRule::Parent),
            _ => {}
        }
        if let Some(k) = s
            .strip_prefix("dept:")
            .map(str::trim)
            .filter(|k| !k.is_empty())
        {
            return Ok(OrgRule::Department(k.to_owned()));
        }
        if s.len() == 18 && s.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok(OrgRule::Named(s.to_owned()));
        }
        Err(RuleError(
            format!(
                "候选部门规则 {s:?} 无法识别（可用 case.department、case.department.parent、dept:部门代号 或 18 位统一社会信用代码）"
            ),
            format!(
                "candidate organisation rule {s:?} is not known (use case.department, case.department.parent, dept:KEY or an 18-character credit code)"
            ),
        ))
    }

    /// The organisation this rule names for a case implemented by `case_org`.
    pub fn resolve(&self, m: &MasterData, case_org: &str) -> Option<String> {
        let org = m.organisation(case_org)?;
        let in_region_or_above = |dept: &str, mut region: Option<String>| {
            while let Some(r) = region {
                if let Some(o) = m
                    .organisations
                    .values()
                    .filter(|o| o.region == r && o.department.as_deref() == Some(dept))
                    .min_by(|a, b| a.credit_code.cmp(&b.credit_code))
                {
                    return Some(o.credit_code.clone());
                }
                region = m.region(&r).and_then(|x| x.parent.clone());
            }
            None
        };
        match self {
            OrgRule::CaseDepartment => Some(org.credit_code.clone()),
            OrgRule::Parent => {
                let dept = org.department.as_deref()?;
                let parent = m.region(&org.region)?.parent.clone();
                in_region_or_above(dept, parent)
            }
            OrgRule::Department(k) => in_region_or_above(k, Some(org.region.clone())),
            OrgRule::Named(code) => m.organisation(code).map(|o| o.credit_code.clone()),
        }
    }
}

/// To whom one task is offered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offer {
    /// (organisation, role) pairs.
    pub pairs: Vec<(String, String)>,
    /// Named candidate users (usernames).
    pub users: Vec<String>,
    /// A named assignee (username), who holds the task at once.
    pub assignee: Option<String>,
    /// The organisation the task belongs to (the first resolved).
    pub org: String,
}

/// Resolve a task's offer from its BPMN assignment and the binding's override.
pub fn offer(
    m: &MasterData,
    case_org: &str,
    declared: &Assignment,
    rule: Option<&TaskRule>,
) -> Offer {
    let roles: Vec<String> = match rule.filter(|r| !r.roles.is_empty()) {
        Some(r) => r.roles.clone(),
        None if !declared.candidate_groups.is_empty() => declared.candidate_groups.clone(),
        None if declared.assignee.is_none() && declared.candidate_users.is_empty() => {
            vec![Role::Approver.as_str().to_owned()]
        }
        None => Vec::new(),
    };
    let org_rules: Vec<String> = match rule.filter(|r| !r.orgs.is_empty()) {
        Some(r) => r.orgs.clone(),
        None => declared.candidate_orgs.clone(),
    };
    let mut orgs: Vec<String> = org_rules
        .iter()
        .filter_map(|r| OrgRule::parse(r).ok())
        .filter_map(|r| r.resolve(m, case_org))
        .collect();
    if orgs.is_empty() {
        orgs.push(case_org.to_owned());
    }
    orgs.dedup();
    let mut pairs = Vec::new();
    for o in &orgs {
        for r in &roles {
            pairs.push((o.clone(), r.clone()));
        }
    }
    // An assignee written as an expression (`${initiator}`) is not a username: offer by role.
    let assignee = declared
        .assignee
        .clone()
        .filter(|a| !a.contains("${") && !a.contains("#{"));
    Offer {
        pairs,
        users: declared.candidate_users.clone(),
        assignee,
        org: orgs.first().cloned().unwrap_or_else(|| case_org.to_owned()),
    }
}
