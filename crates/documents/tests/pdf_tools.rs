//! Every notice kind rendered to a real PDF file and read back by independent tools from
//! Debian's packages — no mocks: `pdftotext` (poppler-utils) must extract the Chinese title, the
//! case number, the applicant, the materials and the reasons as text; `pdftoppm` renders the page
//! at 150 dpi and `zbarimg` (zbar-tools) must decode the QR code to the query URL; `pdfinfo`
//! counts the pages of a long material list. A missing tool fails the test with the package to
//! install (scripts/install-deps.sh installs them), it never skips.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{APPLICANT, CASE_NUMBER, QUERY_URL};
use yiwang_documents::{
    DecisionOutcome, DeliveryMethod, Notice, NoticeKind, Renderer, chinese_date,
};

/// One renderer (one font load) for all tests, shared across the test threads.
fn renderer() -> &'static Renderer {
    static RENDERER: OnceLock<Renderer> = OnceLock::new();
    RENDERER.get_or_init(|| {
        Renderer::new(None).unwrap_or_else(|e| {
            panic!("{e} (Debian package fonts-noto-cjk; scripts/install-deps.sh installs it)")
        })
    })
}

/// A fresh folder for one test's files.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "yiwang-documents-test-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs a tool; a missing tool fails with the Debian package that has it.
fn run(tool: &str, package: &str, args: &[&str]) -> String {
    let output = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            panic!(
                "`{tool}` is not installed: install the Debian package {package} \
                 (apt-get install -y {package}; scripts/install-deps.sh does it)"
            )
        }
        panic!("cannot run {tool}: {e}")
    });
    assert!(
        output.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Renders `notice` into `dir/name.pdf`.
fn render_to(dir: &Path, name: &str, notice: &Notice) -> PathBuf {
    let pdf = renderer().render(notice).unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let path = dir.join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    path
}

/// The text of the PDF as pdftotext extracts it.
fn pdf_text(pdf: &Path) -> String {
    run(
        "pdftotext",
        "poppler-utils",
        &["-enc", "UTF-8", path_str(pdf), "-"],
    )
}

fn without_whitespace(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Asserts that each expected string is in the extracted text. Table cells and paragraphs wrap,
/// so line breaks and spaces are ignored on both sides.
fn assert_extractable(text: &str, expected: &[&str]) {
    let flat = without_whitespace(text);
    for e in expected {
        assert!(
            flat.contains(&without_whitespace(e)),
            "pdftotext output lacks {e:?}:\n{text}"
        );
    }
}

fn page_count(pdf: &Path) -> usize {
    let info = run("pdfinfo", "poppler-utils", &[path_str(pdf)]);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .map(|n| n.trim().parse().unwrap())
        .unwrap_or_else(|| panic!("no page count in pdfinfo output:\n{info}"))
}

/// Decodes the QR code on `page` (1-based) of the PDF: the page is rasterised at 150 dpi.
fn decode_qr(pdf: &Path, page: usize) -> String {
    let prefix = pdf.with_extension("");
    let page = page.to_string();
    run(
        "pdftoppm",
        "poppler-utils",
        &[
            "-r",
            "150",
            "-png",
            "-f",
            &page,
            "-l",
            &page,
            "-singlefile",
            path_str(pdf),
            path_str(&prefix),
        ],
    );
    let png = prefix.with_extension("png");
    let out = run(
        "zbarimg",
        "zbar-tools",
        &["--quiet", "--raw", path_str(&png)],
    );
    out.trim_end_matches('\n').to_owned()
}

/// What every notice prints, whatever its kind.
fn common_texts(notice: &Notice) -> Vec<String> {
    let h = &notice.header;
    vec![
        notice.title().to_owned(),
        h.department.clone(),
        h.document_number.clone(),
        h.case_number.clone(),
        h.item_name.clone(),
        h.applicant.clone(),
        chinese_date(h.issued_on),
        h.query_url.clone(),
    ]
}

/// Renders the notice, checks the common texts and `more`, and the QR code on the last page.
fn check(name: &str, notice: &Notice, more: &[String]) -> String {
    let dir = temp_dir(name);
    let pdf = render_to(&dir, name, notice);
    let text = pdf_text(&pdf);
    let mut expected = common_texts(notice);
    expected.extend(more.iter().cloned());
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    assert_extractable(&text, &expected);
    let pages = page_count(&pdf);
    assert_eq!(decode_qr(&pdf, pages), QUERY_URL, "QR code of {name}");
    let _ = std::fs::remove_dir_all(&dir);
    text
}

#[test]
fn acceptance_notice_text_and_qr_code() {
    let notice = common::acceptance();
    let NoticeKind::Acceptance(a) = &notice.kind else {
        unreachable!()
    };
    let mut more: Vec<String> = a.materials.iter().map(|m| m.name.clone()).collect();
    more.push("2026年12月11日前作出决定".into()); // promised completion
    more.push("于2026年11月25日提交".into());
    more.push("决定予以受理".into());
    let text = check("acceptance", &notice, &more);
    // The exact strings, not only without whitespace: title, case number and applicant are each
    // on one line.
    assert!(text.contains("受理通知书"), "{text}");
    assert!(text.contains(CASE_NUMBER), "{text}");
    assert!(text.contains(APPLICANT), "{text}");
    assert!(text.contains("第 1 页 共 1 页"), "{text}");
}

#[test]
fn refusal_notice_lists_every_reason() {
    let notice = common::refusal();
    let NoticeKind::Refusal(r) = &notice.kind else {
        unreachable!()
    };
    let mut more = r.reasons.clone();
    more.push("决定不予受理".into());
    more.push("请向长沙市市场监督管理局提出申请".into());
    more.push("六十日内向长沙市岳麓区人民政府申请行政复议".into());
    more.push("六个月内向长沙市岳麓区人民法院提起行政诉讼".into());
    check("refusal", &notice, &more);
}

#[test]
fn correction_notice_lists_every_material_and_the_deadline() {
    let notice = common::correction();
    let NoticeKind::Correction(c) = &notice.kind else {
        unreachable!()
    };
    let mut more = vec![
        "一次性告知".to_owned(),
        format!("请于{}前", chinese_date(c.deadline)),
    ];
    for item in &c.items {
        more.push(item.material.clone());
        more.push(item.requirement.clone());
        more.push(item.problem.label().to_owned());
    }
    check("correction", &notice, &more);
}

#[test]
fn approval_decision_prints_the_result_and_its_number() {
    let notice = common::approval();
    let NoticeKind::Decision(d) = &notice.kind else {
        unreachable!()
    };
    let DecisionOutcome::Approved {
        result_name,
        result_number,
    } = &d.outcome
    else {
        unreachable!()
    };
    let more = vec![
        "准予许可决定书".to_owned(),
        "决定准予行政许可".into(),
        d.opinion.clone(),
        format!("许可结果：{result_name}"),
        format!("证照编号：{result_number}"),
    ];
    check("approval", &notice, &more);
}

#[test]
fn refusal_decision_prints_the_reasons_and_remedies() {
    let notice = common::denial();
    let NoticeKind::Decision(d) = &notice.kind else {
        unreachable!()
    };
    let DecisionOutcome::Refused { reasons } = &d.outcome else {
        unreachable!()
    };
    let mut more = reasons.clone();
    more.push("不予许可决定书".into());
    more.push("决定不予行政许可".into());
    more.push(d.opinion.clone());
    more.push("申请行政复议".into());
    check("denial", &notice, &more);
}

#[test]
fn delivery_receipts_by_window_and_by_post() {
    for (name, notice) in [
        ("receipt_window", common::receipt_window()),
        ("receipt_post", common::receipt_post()),
    ] {
        let NoticeKind::DeliveryReceipt(r) = &notice.kind else {
            unreachable!()
        };
        let mut more = vec![chinese_date(r.delivered_on), r.served_by.clone()];
        for d in &r.documents {
            more.push(format!("{}（{}）", d.title, d.number));
        }
        match &r.method {
            DeliveryMethod::Window { place } => {
                more.push("窗口送达".into());
                more.push(place.clone());
                more.push("受送达人签收".into());
            }
            DeliveryMethod::Post {
                carrier,
                tracking_number,
                address,
            } => {
                more.push("邮寄送达".into());
                more.push(carrier.clone());
                more.push(tracking_number.clone());
                more.push(address.clone());
            }
        }
        check(name, &notice, &more);
    }
}

#[test]
fn a_long_material_list_continues_on_numbered_pages() {
    let notice = common::long_acceptance(40);
    let dir = temp_dir("long");
    let pdf = render_to(&dir, "long", &notice);
    let pages = page_count(&pdf);
    assert!(pages >= 2, "40 materials on {pages} page(s)");
    let text = pdf_text(&pdf);
    assert!(text.contains("第 2 页"), "{text}");
    assert!(
        text.contains(&format!("第 {pages} 页 共 {pages} 页")),
        "{text}"
    );
    // Every material exactly once, in order.
    let flat = without_whitespace(&text);
    let mut from = 0;
    for i in 1..=40 {
        let needle = format!("第{i}项申请材料：经营场所平面布局图及相关证明文件");
        let at = flat[from..]
            .find(&needle)
            .unwrap_or_else(|| panic!("material {i} missing or out of order:\n{text}"));
        from += at + needle.len();
        assert_eq!(
            flat.matches(&needle).count(),
            1,
            "material {i} printed twice"
        );
    }
    // The table header row is repeated at the top of each continuation page.
    let headers = text.matches("材料名称").count();
    assert!(
        headers >= 2,
        "header row printed {headers} time(s):\n{text}"
    );
    // Continuation pages carry the case number in their running header.
    let page_texts: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert_eq!(page_texts.len(), pages);
    for (n, page) in page_texts.iter().enumerate().skip(1) {
        assert!(page.contains("受理通知书（续）"), "page {}: {page}", n + 1);
        assert!(page.contains(CASE_NUMBER), "page {}: {page}", n + 1);
    }
    // The signature and QR code close the last page, with text above them.
    let last = page_texts[pages - 1];
    assert!(last.contains("长沙市岳麓区市场监督管理局"), "{last}");
    assert!(last.contains("第40项申请材料"), "{last}");
    assert_eq!(decode_qr(&pdf, pages), QUERY_URL);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_serif_face_works_too() {
    let path = Path::new("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc");
    let renderer = Renderer::new(Some(path)).unwrap_or_else(|e| {
        panic!("{e} (Debian package fonts-noto-cjk; scripts/install-deps.sh installs it)")
    });
    assert_eq!(renderer.font_family(), "Noto Serif CJK SC");
    let dir = temp_dir("serif");
    let pdf = dir.join("serif.pdf");
    std::fs::write(&pdf, renderer.render(&common::correction()).unwrap()).unwrap();
    assert_extractable(&pdf_text(&pdf), &["补正材料通知书", CASE_NUMBER, APPLICANT]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A licence page: every field extractable as text, the seal's text among it, the QR code
/// decoding to the verification URL, one PDF/A page; a page without a holder is refused.
#[test]
fn licence_page_text_seal_and_qr_code() {
    use yiwang_documents::LicencePage;
    let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let id = "1.2.156.3005.2.11430104MB1C79810Q001.11430104MB1C79810Q.8K2M4N6P8R0T2V4X6Z8B.001.7";
    let url = format!("https://zwfw.example.gov.cn/licences/verify?id={id}");
    let page = LicencePage {
        title: "食品经营许可证".into(),
        identifier: id.into(),
        number: "JY14301040012345".into(),
        holder: "长沙某某餐饮有限公司".into(),
        holder_code: ("统一社会信用代码".into(), "91430104MA4L7R2K16".into()),
        fields: vec![
            (
                "经营场所".into(),
                "长沙市岳麓区麓山南路某号一楼（一次写不下的长地址要换行显示，不能越出页面）".into(),
            ),
            ("主体业态".into(), "餐饮服务经营者（中型餐馆）".into()),
        ],
        issuer: "长沙市岳麓区市场监督管理局".into(),
        issued_on: d(2026, 11, 28),
        valid_from: d(2026, 11, 28),
        valid_to: Some(d(2031, 11, 27)),
        seal_text: "长沙市岳麓区市场监督管理局".into(),
        seal_label: "电子证照专用章".into(),
        verify_url: url.clone(),
    };
    let dir = temp_dir("licence");
    let pdf = dir.join("licence.pdf");
    std::fs::write(&pdf, renderer().render_licence(&page).unwrap()).unwrap();
    let text = pdf_text(&pdf);
    assert_extractable(
        &text,
        &[
            "食品经营许可证",
            "JY14301040012345",
            "长沙某某餐饮有限公司",
            "91430104MA4L7R2K16",
            "麓山南路某号",
            "不能越出页面",
            "餐饮服务经营者（中型餐馆）",
            "2031年11月27日",
            "颁证单位：长沙市岳麓区市场监督管理局",
            "2026年11月28日",
            "电子证照专用章",
            "扫码验证真伪与状态",
        ],
    );
    assert_eq!(page_count(&pdf), 1);
    assert_eq!(decode_qr(&pdf, 1), url);
    let _ = std::fs::remove_dir_all(&dir);

    let mut bad = page.clone();
    bad.holder = " ".into();
    assert!(renderer().render_licence(&bad).is_err());
}

/// 水印副本: a two-page notice and pictures of it (PNG and JPEG, made by `pdftoppm`) come back
/// as PDFs whose every page carries the national guide's watermark text, as `pdftotext` reads
/// it, with the original's own text still there and the page count kept; what is not a PDF or
/// picture, or an OFD file, is refused.
#[test]
fn watermarked_copies_keep_their_pages_and_carry_the_text() {
    use yiwang_documents::{CopyKind, watermark_text};
    let dir = temp_dir("watermark");
    let notice = common::long_acceptance(40);
    let original = render_to(&dir, "original", &notice);
    let pages = page_count(&original);
    assert!(pages >= 2, "the notice should have several pages");
    let text = watermark_text("长沙市岳麓区市场监督管理局", "2027年11月27日");

    let copy = renderer()
        .watermark(CopyKind::Pdf, &std::fs::read(&original).unwrap(), &text)
        .unwrap();
    let copy_path = dir.join("copy.pdf");
    std::fs::write(&copy_path, &copy).unwrap();
    assert_eq!(page_count(&copy_path), pages);
    let extracted = pdf_text(&copy_path);
    assert_extractable(&extracted, &[&text, CASE_NUMBER, APPLICANT]);
    // Every page carries it.
    for page in 1..=pages {
        let p = page.to_string();
        let page_text = run(
            "pdftotext",
            "poppler-utils",
            &[
                "-enc",
                "UTF-8",
                "-f",
                &p,
                "-l",
                &p,
                path_str(&copy_path),
                "-",
            ],
        );
        assert_extractable(&page_text, &["仅供办理政务服务事项时使用"]);
    }

    for (flag, kind, ext) in [
        ("-png", CopyKind::Png, "png"),
        ("-jpeg", CopyKind::Jpeg, "jpg"),
    ] {
        let prefix = dir.join(format!("picture-{ext}"));
        run(
            "pdftoppm",
            "poppler-utils",
            &[
                "-r",
                "40",
                flag,
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                path_str(&original),
                path_str(&prefix),
            ],
        );
        let picture = std::fs::read(prefix.with_extension(ext)).unwrap();
        let copy = renderer().watermark(kind, &picture, &text).unwrap();
        let path = dir.join(format!("picture-{ext}.pdf"));
        std::fs::write(&path, &copy).unwrap();
        assert_eq!(page_count(&path), 1);
        assert_extractable(&pdf_text(&path), &[&text]);
        // The picture is not text: the original's words are not extractable from it.
        assert!(!without_whitespace(&pdf_text(&path)).contains(CASE_NUMBER));
    }

    assert!(
        renderer()
            .watermark(CopyKind::Pdf, b"not a pdf", &text)
            .is_err()
    );
    assert!(
        renderer()
            .watermark(CopyKind::Png, b"\x89PNG broken", &text)
            .is_err()
    );
    assert!(
        renderer()
            .watermark(CopyKind::Jpeg, &[0xff, 0xd8, 0xff], &text)
            .is_err()
    );
    assert_eq!(CopyKind::from_media_type("application/ofd"), None);
    assert_eq!(CopyKind::from_media_type("image/png"), Some(CopyKind::Png));
}
