//! The wording of each notice: turns a [`Notice`] into the flow of titles, fields, paragraphs and
//! tables the layout measures, and the frame (running header, signature, QR code).
//!
//! The fixed sentences follow the usual templates of administrative licensing documents and cite
//! the articles of the 行政许可法 they rest on: 第三十二条第一款第（四）项 (correction, told at
//! once), 第（五）项 (acceptance), 第三十八条 (decisions; a refusal states its reasons and the
//! remedies), 第四十五条 (time not counted in the time limit); remedies follow the time limits of
//! the 行政复议法 (60 days) and the 行政诉讼法 (6 months).

use crate::layout::{
    BODY_SIZE, Column, DEPARTMENT_SIZE, Flow, Frame, SMALL_SIZE, TITLE_SIZE, Table,
};
use crate::notice::{
    Acceptance, Correction, Decision, DecisionOutcome, DeliveryMethod, DeliveryReceipt, Notice,
    NoticeKind, Refusal, Remedies, chinese_date,
};

/// The flow and frame of `notice`.
pub(crate) fn compose(notice: &Notice) -> (Vec<Flow>, Frame) {
    let h = &notice.header;
    let title = notice.title();
    let mut flow = vec![
        Flow::Centered {
            text: h.department.clone(),
            size: DEPARTMENT_SIZE,
            bold: false,
        },
        Flow::Centered {
            text: spaced_title(title),
            size: TITLE_SIZE,
            bold: true,
        },
        Flow::Centered {
            text: h.document_number.clone(),
            size: BODY_SIZE,
            bold: false,
        },
        Flow::Rule,
        field("办件编号：", &h.case_number),
        field("事项名称：", &h.item_name),
        field("申 请 人：", &h.applicant),
        Flow::Space(10.0),
    ];
    match &notice.kind {
        NoticeKind::Acceptance(a) => acceptance(notice, a, &mut flow),
        NoticeKind::Refusal(r) => refusal(notice, r, &mut flow),
        NoticeKind::Correction(c) => correction(notice, c, &mut flow),
        NoticeKind::Decision(d) => decision(notice, d, &mut flow),
        NoticeKind::DeliveryReceipt(r) => delivery_receipt(notice, r, &mut flow),
    }
    flow.push(Flow::Space(8.0));
    flow.push(Flow::Labelled {
        label: "查询方式：".into(),
        text: format!(
            "扫描左下方二维码，或访问 {} 输入办件编号查询办理进度。",
            h.query_url
        ),
        size: SMALL_SIZE,
        indent: 0.0,
    });
    let frame = Frame {
        running_header: (
            format!("{title}（续）"),
            format!("办件编号：{}", h.case_number),
        ),
        signature: vec![h.department.clone(), chinese_date(h.issued_on)],
        qr: (h.query_url.clone(), "扫码查询办理进度".into()),
        title: format!("{title} {}", h.document_number),
    };
    (flow, frame)
}

/// Short titles are letter-spaced as on printed forms (送 达 回 证); longer ones are not.
fn spaced_title(title: &str) -> String {
    if title.chars().count() <= 4 {
        title
            .chars()
            .map(String::from)
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        title.to_owned()
    }
}

fn field(label: &str, value: &str) -> Flow {
    Flow::Labelled {
        label: label.into(),
        text: value.into(),
        size: BODY_SIZE,
        indent: 0.0,
    }
}

fn salutation(notice: &Notice) -> Flow {
    Flow::Paragraph {
        text: format!("{}：", notice.header.applicant),
        size: BODY_SIZE,
        indent: 0.0,
        keep_with_next: true,
    }
}

fn paragraph(text: String) -> Flow {
    Flow::Paragraph {
        text,
        size: BODY_SIZE,
        indent: 2.0,
        keep_with_next: false,
    }
}

/// A paragraph that introduces a list or table and stays on a page with its first entry.
fn lead_in(text: String) -> Flow {
    Flow::Paragraph {
        text,
        size: BODY_SIZE,
        indent: 2.0,
        keep_with_next: true,
    }
}

fn numbered(items: &[String], flow: &mut Vec<Flow>) {
    let items = items.iter().filter(|s| !s.trim().is_empty());
    for (i, item) in items.enumerate() {
        flow.push(Flow::Labelled {
            label: format!("{}．", i + 1),
            text: item.clone(),
            size: BODY_SIZE,
            indent: 2.0,
        });
    }
}

fn remedies(remedies: Option<&Remedies>, document: &str, flow: &mut Vec<Flow>) {
    if let Some(r) = remedies {
        flow.push(paragraph(format!(
            "如不服本{document}，可以自收到本{document}之日起六十日内向{}申请行政复议，\
             或者自收到本{document}之日起六个月内向{}提起行政诉讼。",
            r.review_body, r.court
        )));
    }
}

fn acceptance(notice: &Notice, a: &Acceptance, flow: &mut Vec<Flow>) {
    let h = &notice.header;
    let applied = a
        .applied_on
        .map(|d| format!("于{}", chinese_date(d)))
        .unwrap_or_default();
    flow.push(salutation(notice));
    flow.push(paragraph(format!(
        "你（单位）{applied}提交的{}申请，经审查，申请材料齐全、符合法定形式。根据《中华人民共和国\
         行政许可法》第三十二条第一款第（五）项的规定，决定予以受理。",
        h.item_name
    )));
    if let Some(promised) = h.promised_completion {
        flow.push(paragraph(format!(
            "本机关将于{}前作出决定。依法需要听证、招标、拍卖、检验、检测、检疫、鉴定和专家评审的，\
             所需时间不计算在办理期限内。",
            chinese_date(promised)
        )));
    }
    if !a.materials.is_empty() {
        flow.push(lead_in("已收取的申请材料如下：".into()));
        flow.push(Flow::Table(Table {
            columns: vec![
                Column::new("序号", 0.8, true),
                Column::new("材料名称", 5.2, false),
                Column::new("份数", 0.9, true),
                Column::new("备注", 2.1, true),
            ],
            header: true,
            rows: a
                .materials
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    vec![
                        (i + 1).to_string(),
                        m.name.clone(),
                        m.copies.to_string(),
                        m.remark.clone(),
                    ]
                })
                .collect(),
        }));
    }
}

fn refusal(notice: &Notice, r: &Refusal, flow: &mut Vec<Flow>) {
    flow.push(salutation(notice));
    flow.push(lead_in(format!(
        "你（单位）提交的{}申请，经审查，决定不予受理。理由如下：",
        notice.header.item_name
    )));
    numbered(&r.reasons, flow);
    if let Some(body) = r.refer_to.as_deref().filter(|s| !s.trim().is_empty()) {
        flow.push(paragraph(format!(
            "该申请事项依法不属于本机关职权范围，请向{body}提出申请。"
        )));
    }
    remedies(r.remedies.as_ref(), "通知书", flow);
}

fn correction(notice: &Notice, c: &Correction, flow: &mut Vec<Flow>) {
    flow.push(salutation(notice));
    flow.push(lead_in(format!(
        "你（单位）提交的{}申请，申请材料不齐全或者不符合法定形式。根据《中华人民共和国行政许可法》\
         第三十二条第一款第（四）项的规定，现一次性告知需要补正的全部内容如下：",
        notice.header.item_name
    )));
    flow.push(Flow::Table(Table {
        columns: vec![
            Column::new("序号", 0.8, true),
            Column::new("材料名称", 3.2, false),
            Column::new("情形", 1.0, true),
            Column::new("存在问题及补正要求", 4.6, false),
        ],
        header: true,
        rows: c
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                vec![
                    (i + 1).to_string(),
                    item.material.clone(),
                    item.problem.label().to_owned(),
                    item.requirement.clone(),
                ]
            })
            .collect(),
    }));
    flow.push(Flow::Space(6.0));
    flow.push(paragraph(format!(
        "请于{}前一次性补正上述全部材料。补正材料齐全、符合法定形式的，本机关将予以受理；\
         逾期未补正且无正当理由的，视为撤回申请。",
        chinese_date(c.deadline)
    )));
}

fn decision(notice: &Notice, d: &Decision, flow: &mut Vec<Flow>) {
    let item = &notice.header.item_name;
    flow.push(salutation(notice));
    match &d.outcome {
        DecisionOutcome::Approved {
            result_name,
            result_number,
        } => {
            flow.push(paragraph(format!(
                "你（单位）提交的{item}申请，经审查，符合法定条件、标准。根据《中华人民共和国\
                 行政许可法》第三十八条第一款的规定，决定准予行政许可。"
            )));
            flow.push(opinion(&d.opinion));
            flow.push(labelled_body("许可结果：", result_name));
            flow.push(labelled_body("证照编号：", result_number));
        }
        DecisionOutcome::Refused { reasons } => {
            flow.push(paragraph(format!(
                "你（单位）提交的{item}申请，经审查，不符合法定条件、标准。根据《中华人民共和国\
                 行政许可法》第三十八条第二款的规定，决定不予行政许可。"
            )));
            flow.push(opinion(&d.opinion));
            flow.push(lead_in("不予许可的理由如下：".into()));
            numbered(reasons, flow);
        }
    }
    remedies(d.remedies.as_ref(), "决定", flow);
}

fn opinion(text: &str) -> Flow {
    labelled_body("审查意见：", text)
}

fn labelled_body(label: &str, text: &str) -> Flow {
    Flow::Labelled {
        label: label.into(),
        text: text.into(),
        size: BODY_SIZE,
        indent: 2.0,
    }
}

fn delivery_receipt(notice: &Notice, r: &DeliveryReceipt, flow: &mut Vec<Flow>) {
    let documents = r
        .documents
        .iter()
        .map(|d| {
            if d.number.trim().is_empty() {
                d.title.clone()
            } else {
                format!("{}（{}）", d.title, d.number)
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut rows = vec![
        vec!["送达文书".to_owned(), documents],
        vec!["受送达人".to_owned(), notice.header.applicant.clone()],
    ];
    let date = chinese_date(r.delivered_on);
    match &r.method {
        DeliveryMethod::Window { place } => {
            rows.push(vec!["送达方式".into(), "窗口送达".into()]);
            rows.push(vec!["送达地点".into(), place.clone()]);
            rows.push(vec!["送达日期".into(), date]);
            rows.push(vec!["送达人".into(), r.served_by.clone()]);
            rows.push(vec![
                "受送达人签收".into(),
                "\n签名：                              年      月      日\n".into(),
            ]);
        }
        DeliveryMethod::Post {
            carrier,
            tracking_number,
            address,
        } => {
            rows.push(vec!["送达方式".into(), "邮寄送达".into()]);
            rows.push(vec!["邮寄地址".into(), address.clone()]);
            rows.push(vec!["承运单位".into(), carrier.clone()]);
            rows.push(vec!["运单号".into(), tracking_number.clone()]);
            rows.push(vec!["交寄日期".into(), date]);
            rows.push(vec!["送达人".into(), r.served_by.clone()]);
            rows.push(vec![
                "签收情况".into(),
                format!("以{carrier}运单{tracking_number}的签收记录为准。"),
            ]);
        }
    }
    if !r.remark.trim().is_empty() {
        rows.push(vec!["备注".into(), r.remark.clone()]);
    }
    flow.push(Flow::Table(Table {
        columns: vec![
            Column::new("项目", 1.6, true),
            Column::new("内容", 6.4, false),
        ],
        header: false,
        rows,
    }));
}
