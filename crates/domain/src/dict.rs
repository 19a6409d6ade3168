//! Code tables of GB/T 39046-2020 (政务服务事项基本目录及实施清单 编码要求) used by items and cases.
//!
//! Each table is an enum with its national code (`code()`), its Chinese label (`label_zh()`) and
//! an English label (`label_en()`), parsed from the code with `from_code`.

use serde::{Deserialize, Serialize};

/// Declares a code table: enum variants with their national code and labels.
macro_rules! code_table {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal, $zh:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $(#[doc = $zh] $variant,)+ }

        impl $name {
            /// Every value of the table, in code order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The national code of the value.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The Chinese label of the value, as the standard writes it.
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh,)+ }
            }

            /// An English label of the value.
            pub fn label_en(self) -> &'static str {
                match self { $($name::$variant => $en,)+ }
            }

            /// Parses a national code; `None` when the code is not in the table.
            pub fn from_code(code: &str) -> Option<Self> {
                match code.trim() { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label_zh())
            }
        }
    };
}

code_table! {
    /// 事项类型 (A.1).
    ItemType {
        Licensing = "01", "行政许可", "administrative licensing";
        Penalty = "02", "行政处罚", "administrative penalty";
        Enforcement = "03", "行政强制", "administrative enforcement";
        Levy = "04", "行政征收", "administrative levy";
        Benefit = "05", "行政给付", "administrative benefit";
        Inspection = "06", "行政检查", "administrative inspection";
        Confirmation = "07", "行政确认", "administrative confirmation";
        Reward = "08", "行政奖励", "administrative reward";
        Adjudication = "09", "行政裁决", "administrative adjudication";
        OtherPower = "10", "其他行政权力", "other administrative power";
        PublicService = "20", "公共服务", "public service";
    }
}

code_table! {
    /// 行使层级 (A.2).
    ExerciseLevel {
        National = "1", "国家级", "national";
        Provincial = "2", "省级", "provincial";
        Municipal = "3", "市级", "municipal";
        County = "4", "县级", "county";
        Township = "5", "乡镇（街道）级", "township";
        Village = "6", "村（社区）级", "village";
        Tiered = "7", "分级管理", "tiered";
    }
}

code_table! {
    /// 服务对象 (A.4).
    ServiceObject {
        NaturalPerson = "1", "自然人", "natural person";
        Enterprise = "2", "企业法人", "enterprise";
        PublicInstitution = "3", "事业法人", "public institution";
        SocialOrganisation = "4", "社会组织法人", "social organisation";
        GovernmentBody = "5", "行政机关", "government body";
        OtherOrganisation = "6", "其他组织", "other organisation";
    }
}

impl ServiceObject {
    /// Whether the object is a person (个人) rather than a legal person or organisation (法人).
    pub fn is_person(self) -> bool {
        matches!(self, ServiceObject::NaturalPerson)
    }
}

code_table! {
    /// 办理形式 (A.5).
    HandlingForm {
        Window = "1", "窗口办理", "at a window";
        Online = "2", "网上办理（电脑端）", "online (web)";
        Mobile = "3", "移动端办理", "mobile";
        Post = "4", "快递申请", "by post";
        Other = "9", "其他", "other";
    }
}

code_table! {
    /// 办件类型 (A.6).
    CaseType {
        Immediate = "1", "即办件", "immediate";
        Promised = "2", "承诺件", "promised time limit";
        Other = "9", "其他", "other";
    }
}

code_table! {
    /// 网上办理深度 (online depth: 1 online consultation … 4 fully online).
    OnlineDepth {
        Information = "1", "一级（网上咨询）", "level 1: information";
        Appointment = "2", "二级（网上预约/预审）", "level 2: appointment and pre-check";
        Submission = "3", "三级（网上申报、一次到现场）", "level 3: online submission, one visit";
        FullyOnline = "4", "四级（全程网办）", "level 4: fully online";
    }
}

code_table! {
    /// 通办范围 (where the item can be handled regardless of residence).
    CrossRegionScope {
        None = "0", "不通办", "not cross-region";
        CrossCounty = "1", "跨县通办", "any county in the prefecture";
        CrossCity = "2", "跨市通办", "any prefecture in the province";
        Province = "3", "全省通办", "anywhere in the province";
        CrossProvince = "4", "跨省通办", "across provinces";
    }
}

code_table! {
    /// 材料形式 (paper, electronic, or both).
    MaterialForm {
        Paper = "1", "纸质", "paper";
        Electronic = "2", "电子", "electronic";
        Both = "3", "纸质或电子", "paper or electronic";
    }
}

code_table! {
    /// 满意度 (A.8); 4 and 5 are 差评.
    Satisfaction {
        VerySatisfied = "1", "非常满意", "very satisfied";
        Satisfied = "2", "满意", "satisfied";
        Basic = "3", "基本满意", "fairly satisfied";
        Dissatisfied = "4", "不满意", "dissatisfied";
        VeryDissatisfied = "5", "非常不满意", "very dissatisfied";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for t in ItemType::ALL {
            assert_eq!(ItemType::from_code(t.code()), Some(*t));
        }
        for t in ExerciseLevel::ALL {
            assert_eq!(ExerciseLevel::from_code(t.code()), Some(*t));
        }
        assert_eq!(ItemType::from_code("11"), None);
        assert_eq!(ItemType::Licensing.label_zh(), "行政许可");
    }
}
