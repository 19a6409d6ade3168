//! Sample notices of one case, one of each kind, shared by the tests and the examples.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::NaiveDate;
use yiwang_documents::{
    Acceptance, Correction, CorrectionItem, Decision, DecisionOutcome, DeliveredDocument,
    DeliveryMethod, DeliveryReceipt, MaterialProblem, Notice, NoticeHeader, NoticeKind,
    ReceivedMaterial, Refusal, Remedies,
};

/// A 43-character case number (办件编号).
pub const CASE_NUMBER: &str = "11430104MB1C79810Q4430111900100012026112700";
pub const QUERY_URL: &str =
    "https://zwfw.hunan.example.gov.cn/q?case=11430104MB1C79810Q4430111900100012026112700";
pub const APPLICANT: &str = "长沙岳麓某某餐饮管理有限公司（法定代表人：张*明）";

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn header(document_number: &str) -> NoticeHeader {
    NoticeHeader {
        department: "长沙市岳麓区市场监督管理局".into(),
        document_number: document_number.into(),
        case_number: CASE_NUMBER.into(),
        item_name: "食品经营许可（新办）".into(),
        applicant: APPLICANT.into(),
        issued_on: day(2026, 11, 27),
        promised_completion: Some(day(2026, 12, 11)),
        query_url: QUERY_URL.into(),
    }
}

pub fn remedies() -> Remedies {
    Remedies {
        review_body: "长沙市岳麓区人民政府".into(),
        court: "长沙市岳麓区人民法院".into(),
    }
}

pub fn material(name: &str, copies: u32, remark: &str) -> ReceivedMaterial {
    ReceivedMaterial {
        name: name.into(),
        copies,
        remark: remark.into(),
    }
}

pub fn acceptance() -> Notice {
    Notice {
        kind: NoticeKind::Acceptance(Acceptance {
            applied_on: Some(day(2026, 11, 25)),
            materials: vec![
                material("食品经营许可申请书", 1, "原件"),
                material("营业执照", 1, "复印件（核验原件）"),
                material("法定代表人身份证明", 1, "复印件"),
                material(
                    "与食品经营相适应的主要设备设施布局、操作流程等文件",
                    1,
                    "原件",
                ),
                material(
                    "食品安全自查、从业人员健康管理、进货查验记录、食品安全事故处置等保证食品安全的规章制度",
                    1,
                    "原件",
                ),
            ],
        }),
        header: header("岳市监受字〔2026〕第0012号"),
    }
}

/// An acceptance notice with `n` materials: long enough for several pages when `n` is large.
pub fn long_acceptance(n: usize) -> Notice {
    let materials = (1..=n)
        .map(|i| {
            material(
                &format!("第{i}项申请材料：经营场所平面布局图及相关证明文件"),
                1,
                "原件",
            )
        })
        .collect();
    Notice {
        kind: NoticeKind::Acceptance(Acceptance {
            applied_on: None,
            materials,
        }),
        header: header("岳市监受字〔2026〕第0013号"),
    }
}

pub fn refusal() -> Notice {
    Notice {
        kind: NoticeKind::Refusal(Refusal {
            reasons: vec![
                "申请人申请的经营项目为特殊医学用途配方食品销售，依法应当向设区的市级市场监督管理部门申请".into(),
                "申请人的经营场所位于居民住宅楼内，不符合食品经营场所选址要求".into(),
            ],
            refer_to: Some("长沙市市场监督管理局".into()),
            remedies: Some(remedies()),
        }),
        header: header("岳市监不受字〔2026〕第0003号"),
    }
}

pub fn correction() -> Notice {
    Notice {
        kind: NoticeKind::Correction(Correction {
            items: vec![
                CorrectionItem {
                    material: "食品安全管理人员培训考核合格证明".into(),
                    problem: MaterialProblem::Missing,
                    requirement: "未提交。请提交食品安全管理人员经培训考核合格的证明材料。".into(),
                },
                CorrectionItem {
                    material: "经营场所平面布局图".into(),
                    problem: MaterialProblem::Incorrect,
                    requirement: "未标明粗加工、烹饪、餐用具清洗消毒等功能区域及面积，请按比例重新绘制并由申请人签字盖章。".into(),
                },
            ],
            deadline: day(2026, 12, 4),
        }),
        header: header("岳市监补字〔2026〕第0007号"),
    }
}

pub fn approval() -> Notice {
    Notice {
        kind: NoticeKind::Decision(Decision {
            outcome: DecisionOutcome::Approved {
                result_name: "食品经营许可证".into(),
                result_number: "JY24301040012345".into(),
            },
            opinion: "经书面审查和现场核查，申请人的经营场所、设备设施、管理制度及人员符合食品经营许可条件。".into(),
            remedies: None,
        }),
        header: header("岳市监许准字〔2026〕第0021号"),
    }
}

pub fn denial() -> Notice {
    Notice {
        kind: NoticeKind::Decision(Decision {
            outcome: DecisionOutcome::Refused {
                reasons: vec![
                    "现场核查发现经营场所距离旱厕不足25米，不符合《食品经营许可审查通则》关于选址的要求".into(),
                    "未配备与经营项目相适应的冷藏冷冻设施".into(),
                ],
            },
            opinion: "经现场核查，申请人的经营条件不符合食品经营许可条件。".into(),
            remedies: Some(remedies()),
        }),
        header: header("岳市监许不字〔2026〕第0002号"),
    }
}

pub fn receipt_window() -> Notice {
    Notice {
        kind: NoticeKind::DeliveryReceipt(DeliveryReceipt {
            documents: vec![DeliveredDocument {
                title: "准予许可决定书".into(),
                number: "岳市监许准字〔2026〕第0021号".into(),
            }],
            method: DeliveryMethod::Window {
                place: "岳麓区政务服务中心一楼3号窗口".into(),
            },
            delivered_on: day(2026, 11, 28),
            served_by: "李*华".into(),
            remark: String::new(),
        }),
        header: header("岳市监送字〔2026〕第0031号"),
    }
}

pub fn receipt_post() -> Notice {
    Notice {
        kind: NoticeKind::DeliveryReceipt(DeliveryReceipt {
            documents: vec![
                DeliveredDocument {
                    title: "准予许可决定书".into(),
                    number: "岳市监许准字〔2026〕第0021号".into(),
                },
                DeliveredDocument {
                    title: "食品经营许可证（正本、副本）".into(),
                    number: "JY24301040012345".into(),
                },
            ],
            method: DeliveryMethod::Post {
                carrier: "中国邮政EMS".into(),
                tracking_number: "1187654321098".into(),
                address: "湖南省长沙市岳麓区麓山南路***号".into(),
            },
            delivered_on: day(2026, 11, 28),
            served_by: "李*华".into(),
            remark: "申请人选择邮寄送达。".into(),
        }),
        header: header("岳市监送字〔2026〕第0032号"),
    }
}

/// Every sample with a file name.
pub fn all() -> Vec<(&'static str, Notice)> {
    vec![
        ("acceptance", acceptance()),
        ("refusal", refusal()),
        ("correction", correction()),
        ("approval", approval()),
        ("denial", denial()),
        ("receipt_window", receipt_window()),
        ("receipt_post", receipt_post()),
    ]
}
