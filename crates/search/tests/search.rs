//! Behaviour tests of `yiwang-search`: relevance rules, filters, facets, paging and index updates,
//! checked against brute-force answers computed from the documents themselves.
// Helpers outside `#[test]` functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap, HashSet};

use proptest::prelude::*;
use yiwang_search::{
    FacetCount, Facets, Filters, ItemDoc, MAX_LIMIT, SearchError, SearchIndex, SearchQuery,
    synthetic,
};

fn item(code: &str, name: &str) -> ItemDoc {
    ItemDoc {
        code: code.to_owned(),
        name: name.to_owned(),
        department: "11430100MB0000000X".to_owned(),
        department_name: "长沙市市场监督管理局".to_owned(),
        region: "430100".to_owned(),
        region_path: vec!["430000".to_owned(), "430100".to_owned()],
        level: "3".to_owned(),
        item_type: "01".to_owned(),
        service_objects: vec!["2".to_owned()],
        scope: "0".to_owned(),
        online: true,
        popularity: 10,
        ..ItemDoc::default()
    }
}

fn text(q: &str) -> SearchQuery {
    SearchQuery {
        text: q.to_owned(),
        limit: 20,
        ..SearchQuery::default()
    }
}

fn codes(index: &SearchIndex, q: &SearchQuery) -> Vec<String> {
    index
        .search(q)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.code)
        .collect()
}

fn index_with(docs: Vec<ItemDoc>) -> SearchIndex {
    let index = SearchIndex::in_memory().unwrap();
    index.replace_all(docs).unwrap();
    index
}

/// A synthetic catalogue plus the hand-written items the relevance tests look for.
fn catalogue() -> (SearchIndex, Vec<ItemDoc>) {
    let mut docs = synthetic::generate(3000, 11);
    // The synthetic catalogue never names an item 营业执照遗失补领, so T01 is the only exact match.
    let mut a = item("T01", "营业执照遗失补领");
    a.popularity = 1;
    let mut b = item("T02", "个体工商户营业执照遗失补领");
    b.popularity = 5000;
    let mut c = item("T03", "营业执照遗失补领（分支机构）");
    c.popularity = 4000;
    let mut d = item("T04", "社会保障卡申领");
    d.aliases = vec!["社保卡申领".to_owned(), "社保卡办理".to_owned()];
    d.service_objects = vec!["1".to_owned()];
    d.popularity = 1;
    let mut e = item("T05", "城乡居民基本养老保险待遇申领");
    e.service_objects = vec!["1".to_owned()];
    let mut f = item("T06", "ICP备案（经营性）");
    f.popularity = 0;
    let mut g = item("T07", "营业执照吊销后清算登记");
    g.body = "企业被吊销营业执照的，应当先行清算。".to_owned();
    g.popularity = 1;
    let mut h = item("T08", "食品经营许可证核发");
    h.body = "营业执照被吊销的，食品经营许可证同时失效。".to_owned();
    h.popularity = 9000;
    docs.extend([a, b, c, d, e, f, g, h]);
    (index_with(docs.clone()), docs)
}

#[test]
fn exact_name_comes_first_whatever_the_popularity_and_spacing() {
    let (index, _) = catalogue();
    assert_eq!(
        codes(&index, &text("营业执照遗失补领"))
            .first()
            .map(String::as_str),
        Some("T01")
    );
    assert_eq!(
        codes(&index, &text(" 营业执照　遗失 补领 "))
            .first()
            .map(String::as_str),
        Some("T01")
    );
    assert_eq!(
        codes(&index, &text("ｉｃｐ备案（经营性）"))
            .first()
            .map(String::as_str),
        Some("T06")
    );
    // The exact match is followed by the other items named with the same words.
    let top = codes(&index, &text("营业执照遗失补领"));
    let mut next: Vec<&str> = top.iter().skip(1).take(2).map(String::as_str).collect();
    next.sort_unstable();
    assert_eq!(next, vec!["T02", "T03"], "{top:?}");
}

#[test]
fn exact_alias_comes_first() {
    let (index, _) = catalogue();
    assert_eq!(
        codes(&index, &text("社保卡办理"))
            .first()
            .map(String::as_str),
        Some("T04")
    );
    assert_eq!(
        codes(&index, &text("社保卡申领"))
            .first()
            .map(String::as_str),
        Some("T04")
    );
}

#[test]
fn two_character_queries_find_longer_words() {
    let (index, _) = catalogue();
    let all = |q: &str| {
        codes(
            &index,
            &SearchQuery {
                text: q.to_owned(),
                limit: MAX_LIMIT,
                ..SearchQuery::default()
            },
        )
    };
    assert!(all("养老").contains(&"T05".to_owned()));
    assert!(all("社保").contains(&"T04".to_owned()));
    assert!(all("执照").contains(&"T01".to_owned()));
    assert!(all("补领").contains(&"T01".to_owned()));
    assert!(all("遗失").contains(&"T01".to_owned()));
}

#[test]
fn any_two_character_substring_of_a_name_finds_the_item() {
    let docs = synthetic::generate(400, 5);
    let index = index_with(docs.clone());
    for doc in docs.iter().step_by(7) {
        let chars: Vec<char> = doc.name.chars().collect();
        for w in chars.windows(2).step_by(3) {
            if !w.iter().all(|c| c.is_alphanumeric()) {
                continue;
            }
            let q: String = w.iter().collect();
            let found = codes(
                &index,
                &SearchQuery {
                    text: q.clone(),
                    limit: MAX_LIMIT,
                    ..SearchQuery::default()
                },
            );
            assert!(
                found.contains(&doc.code),
                "{q:?} did not find {:?}",
                doc.name
            );
        }
    }
}

#[test]
fn items_matching_all_words_rank_above_items_matching_some() {
    let (index, _) = catalogue();
    let top = codes(&index, &text("营业执照 吊销"));
    assert_eq!(top.first().map(String::as_str), Some("T07"), "{top:?}");
    // A missing word does not empty the result.
    assert!(!codes(&index, &text("营业执照 不存在的词汇")).is_empty());
}

#[test]
fn ties_go_to_popularity_then_shorter_name() {
    let mut a = item("A", "居住证申领");
    a.popularity = 1;
    let mut b = item("B", "居住证申领");
    b.popularity = 2;
    let index = index_with(vec![a, b]);
    assert_eq!(codes(&index, &text("居住证申领")), vec!["B", "A"]);
    // Same score (the query is an alias of both) and popularity: the shorter name first.
    let mut long = item("L", "社会保障卡申领（补换）");
    long.aliases = vec!["社保卡".into()];
    let mut short = item("S", "社会保障卡申领");
    short.aliases = vec!["社保卡".into()];
    let index = index_with(vec![long, short]);
    assert_eq!(codes(&index, &text("社保卡")), vec!["S", "L"]);
}

/// A few items written like a real catalogue (names, aliases, guide text), for everyday queries.
fn everyday_catalogue() -> SearchIndex {
    let mut docs = Vec::new();
    let mut add = |code: &str, name: &str, aliases: &[&str], body: &str, popularity: u32| {
        let mut d = item(code, name);
        d.aliases = aliases.iter().map(|a| (*a).to_owned()).collect();
        d.body = body.to_owned();
        d.popularity = popularity;
        docs.push(d);
    };
    add(
        "ID-NEW",
        "居民身份证首次申领",
        &["第一次办身份证", "首次办理身份证"],
        "申请人持户口簿到派出所申请。",
        50,
    );
    add(
        "ID-RENEW",
        "居民身份证换领",
        &["身份证到期换证", "身份证过期换领"],
        "居民身份证有效期满的，应当换领。",
        60,
    );
    add(
        "ID-LOST",
        "居民身份证补领",
        &["身份证补办", "身份证丢失补办"],
        "居民身份证丢失的，申请补领。",
        70,
    );
    add(
        "HK-IN",
        "户口迁入登记",
        &["户口迁移", "迁户口", "户口迁入"],
        "户口迁入需提交准予迁入证明。",
        90,
    );
    add(
        "HK-DEATH",
        "死亡人员户口注销",
        &["死亡销户", "人死后销户"],
        "公民死亡后，由家属申报注销户口。",
        10,
    );
    add(
        "BUS",
        "道路旅客运输经营许可",
        &["客运经营许可", "旅游包车许可"],
        "从事道路旅客运输经营的，应当取得许可。",
        20,
    );
    add(
        "QUAL",
        "建筑业企业资质核准",
        &["建筑资质", "施工资质", "建筑业企业资质证书"],
        "建筑业企业资质申请材料。",
        80,
    );
    add(
        "QY",
        "企业设立登记",
        &["营业执照", "公司注册", "企业开办"],
        "开办企业的，申请设立登记，领取营业执照。",
        95,
    );
    add(
        "GT",
        "个体工商户设立登记",
        &["个体户营业执照", "个体工商户注册", "办营业执照"],
        "有经营能力的公民从事个体经营的，申请个体工商户登记，领取营业执照。",
        40,
    );
    add(
        "DB",
        "最低生活保障审核确认",
        &["低保", "申请低保", "城乡低保"],
        "共同生活的家庭成员人均收入低于当地最低生活保障标准的，可以申请。",
        30,
    );
    add(
        "LS",
        "临时救助申请审批",
        &["临时救助", "困难临时补助"],
        "因意外事件导致基本生活暂时出现严重困难的家庭，可以申请临时救助；低保家庭家里生活必需支出突然增加、出现困难的，也可申请。调查核实困难情况并公示。",
        30,
    );
    for i in 0..30 {
        add(
            &format!("N{i}"),
            &format!("其他事项{i}号申请"),
            &[],
            "申请人应当提交申请材料。",
            1,
        );
    }
    index_with(docs)
}

#[test]
fn everyday_phrases_find_their_item() {
    let index = everyday_catalogue();
    let first = |q: &str| codes(&index, &text(q)).into_iter().next();
    // Question words (怎么, 了) do not keep the item from matching every query word.
    assert_eq!(first("身份证过期了怎么换").as_deref(), Some("ID-RENEW"));
    assert_eq!(first("身份证丢失怎么办").as_deref(), Some("ID-LOST"));
    // A word no document holds (孩子) is ignored rather than held against every item.
    assert_eq!(first("孩子第一次办身份证").as_deref(), Some("ID-NEW"));
    // The dictionary's compound 死亡注销 counts through its parts 死亡 + 注销.
    assert_eq!(first("死亡注销户口").as_deref(), Some("HK-DEATH"));
    // Two query words in an alias beat one word repeated across a name and three aliases.
    assert_eq!(first("旅游包车资质").as_deref(), Some("BUS"));
    // A sentence that holds an item's alias (申请低保) finds that item.
    assert_eq!(first("家里困难怎么申请低保").as_deref(), Some("DB"));
    // An everyday word becomes the guides' term (小店 → 个体户), and the longest alias the
    // sentence holds (办营业执照) beats a shorter one (营业执照).
    assert_eq!(first("开个小店怎么办营业执照").as_deref(), Some("GT"));
    assert_eq!(first("开公司办营业执照").as_deref(), Some("QY"));
}

#[test]
fn searches_run_while_the_index_is_written() {
    let index = std::sync::Arc::new(index_with(synthetic::generate(500, 2)));
    let writer = {
        let index = std::sync::Arc::clone(&index);
        std::thread::spawn(move || {
            for i in 0..20 {
                index
                    .upsert(item(&format!("W{i}"), &format!("并发写入测试事项{i}")))
                    .unwrap();
            }
        })
    };
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let index = std::sync::Arc::clone(&index);
            std::thread::spawn(move || {
                for _ in 0..50 {
                    let r = index
                        .search(&SearchQuery {
                            text: "营业执照".into(),
                            limit: 10,
                            facets: true,
                            ..SearchQuery::default()
                        })
                        .unwrap();
                    assert!(r.total > 0);
                }
            })
        })
        .collect();
    writer.join().unwrap();
    for r in readers {
        r.join().unwrap();
    }
    assert_eq!(index.num_docs(), 520);
    assert_eq!(
        codes(&index, &text("并发写入测试事项19"))
            .first()
            .map(String::as_str),
        Some("W19")
    );
}

#[test]
fn explain_describes_the_score() {
    let index = everyday_catalogue();
    let e = index
        .explain(&text("身份证换领"), "ID-RENEW")
        .unwrap()
        .unwrap();
    assert!(e.contains("value"), "{e}");
    assert!(
        index
            .explain(&text("身份证换领"), "no-such-code")
            .unwrap()
            .is_none()
    );
}

fn matches(d: &ItemDoc, f: &Filters) -> bool {
    let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
    let has = |want: &Option<String>, have: &[String]| {
        want.as_deref().is_none_or(|w| have.iter().any(|h| h == w))
    };
    let region_ok = match &f.region {
        None => true,
        Some(r) if f.region_subtree => d.region_path.contains(r) || d.region == *r,
        Some(r) => d.region == *r,
    };
    let person_ok = match f.person {
        None => true,
        Some(true) => d.service_objects.iter().any(|s| s == "1"),
        Some(false) => d
            .service_objects
            .iter()
            .any(|s| ["2", "3", "4", "5", "6"].contains(&s.as_str())),
    };
    region_ok
        && person_ok
        && eq(&f.department, &d.department)
        && eq(&f.item_type, &d.item_type)
        && has(&f.service_object, &d.service_objects)
        && has(&f.theme, &d.themes)
        && f.online.is_none_or(|o| o == d.online)
        && eq(&f.scope, &d.scope)
}

fn brute_facets<'a>(docs: impl Iterator<Item = &'a ItemDoc>) -> Facets {
    let mut m: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); 8];
    for d in docs {
        let mut add = |i: usize, v: &str| {
            if !v.is_empty() {
                *m[i].entry(v.to_owned()).or_default() += 1;
            }
        };
        add(0, &d.region);
        add(1, &d.department);
        add(2, &d.item_type);
        for s in d.service_objects.iter().collect::<HashSet<_>>() {
            add(3, s);
        }
        for t in d.themes.iter().collect::<HashSet<_>>() {
            add(4, t);
        }
        add(5, if d.online { "true" } else { "false" });
        add(6, &d.scope);
        add(7, &d.level);
    }
    let mut lists = m.into_iter().map(|m| {
        let mut v: Vec<FacetCount> = m
            .into_iter()
            .map(|(value, count)| FacetCount { value, count })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        v
    });
    let mut next = || lists.next().unwrap();
    Facets {
        region: next(),
        department: next(),
        item_type: next(),
        service_object: next(),
        theme: next(),
        online: next(),
        scope: next(),
        level: next(),
    }
}

#[test]
fn filters_and_region_subtree() {
    let docs = synthetic::generate(3000, 3);
    let index = index_with(docs.clone());
    let cases = [
        Filters {
            region: Some("430100".into()),
            ..Filters::default()
        },
        Filters {
            region: Some("430100".into()),
            region_subtree: true,
            ..Filters::default()
        },
        Filters {
            region: Some("430000".into()),
            region_subtree: true,
            ..Filters::default()
        },
        Filters {
            region: Some("430104".into()),
            online: Some(true),
            ..Filters::default()
        },
        Filters {
            person: Some(true),
            item_type: Some("20".into()),
            ..Filters::default()
        },
        Filters {
            person: Some(false),
            theme: Some("construction".into()),
            ..Filters::default()
        },
        Filters {
            service_object: Some("5".into()),
            scope: Some("2".into()),
            ..Filters::default()
        },
        Filters {
            department: Some(docs[0].department.clone()),
            ..Filters::default()
        },
    ];
    for f in cases {
        let expected: Vec<&ItemDoc> = docs.iter().filter(|d| matches(d, &f)).collect();
        let q = SearchQuery {
            filters: f.clone(),
            limit: MAX_LIMIT,
            facets: true,
            ..SearchQuery::default()
        };
        let r = index.search(&q).unwrap();
        assert_eq!(r.total, expected.len(), "{f:?}");
        assert!(r.total > 0, "test filter matches nothing: {f:?}");
        let by_code: HashMap<&str, &ItemDoc> = docs.iter().map(|d| (d.code.as_str(), d)).collect();
        for h in &r.hits {
            assert!(
                matches(by_code[h.code.as_str()], &f),
                "{} does not match {f:?}",
                h.code
            );
        }
        assert_eq!(
            r.facets.unwrap(),
            brute_facets(expected.into_iter()),
            "{f:?}"
        );
    }
    // Subtree of a prefecture includes its counties, the exact filter does not.
    let exact = index
        .search(&SearchQuery {
            filters: Filters {
                region: Some("430100".into()),
                ..Filters::default()
            },
            ..SearchQuery::default()
        })
        .unwrap()
        .total;
    let subtree = index
        .search(&SearchQuery {
            filters: Filters {
                region: Some("430100".into()),
                region_subtree: true,
                ..Filters::default()
            },
            ..SearchQuery::default()
        })
        .unwrap()
        .total;
    assert!(subtree > exact);
}

#[test]
fn facets_of_a_text_query_count_every_match() {
    let (index, docs) = catalogue();
    for q in ["营业执照", "养老", "不动产登记", "社保卡 补领"] {
        let r = index
            .search(&SearchQuery {
                text: q.into(),
                limit: MAX_LIMIT,
                facets: true,
                ..SearchQuery::default()
            })
            .unwrap();
        assert!(r.total > 0 && r.total <= MAX_LIMIT, "{q}: {}", r.total);
        assert_eq!(r.hits.len(), r.total);
        let hit: HashSet<&str> = r.hits.iter().map(|h| h.code.as_str()).collect();
        let expected = brute_facets(docs.iter().filter(|d| hit.contains(d.code.as_str())));
        assert_eq!(r.facets.unwrap(), expected, "{q}");
    }
}

#[test]
fn upsert_replaces_and_is_visible_at_once() {
    let (index, docs) = catalogue();
    let n = index.num_docs();
    assert_eq!(n, docs.len() as u64);
    let mut changed = docs[0].clone();
    changed.name = "完全不同的测试事项名称".to_owned();
    index.upsert(changed.clone()).unwrap();
    assert_eq!(index.num_docs(), n);
    assert_eq!(
        codes(&index, &text("完全不同的测试事项名称")).first(),
        Some(&changed.code)
    );
    let all = index
        .search(&SearchQuery {
            limit: MAX_LIMIT,
            ..SearchQuery::default()
        })
        .unwrap();
    assert_eq!(all.total as u64, n);
    // A new item is added.
    let new = item("NEW-1", "新增事项测试");
    index.upsert(new).unwrap();
    assert_eq!(index.num_docs(), n + 1);
    assert_eq!(
        codes(&index, &text("新增事项测试"))
            .first()
            .map(String::as_str),
        Some("NEW-1")
    );
    // Upserting the same item twice leaves one copy.
    index.upsert(item("NEW-1", "新增事项测试")).unwrap();
    assert_eq!(index.num_docs(), n + 1);
    let found = codes(&index, &text("新增事项测试"));
    assert_eq!(
        found.iter().filter(|c| *c == "NEW-1").count(),
        1,
        "{found:?}"
    );
}

#[test]
fn remove_deletes() {
    let (index, docs) = catalogue();
    let n = index.num_docs();
    index.remove("T04").unwrap();
    assert_eq!(index.num_docs(), n - 1);
    assert!(!codes(&index, &text("社会保障卡申领")).contains(&"T04".to_owned()));
    index.remove("no-such-code").unwrap();
    assert_eq!(index.num_docs(), n - 1);
    assert_eq!(docs.len() as u64, n);
}

#[test]
fn empty_query_lists_everything_by_popularity_then_name_with_paging() {
    let docs = synthetic::generate(500, 9);
    let index = index_with(docs.clone());
    // A write after the bulk load puts a second segment in play.
    index.upsert(item("ZZZ", "最后加入的事项")).unwrap();
    let mut expected: Vec<(u32, String, String)> = docs
        .iter()
        .map(|d| (d.popularity, d.name.clone(), d.code.clone()))
        .collect();
    expected.push((10, "最后加入的事项".into(), "ZZZ".into()));
    expected.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.cmp(&b.1))
            .then_with(|| a.2.cmp(&b.2))
    });
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let r = index
            .search(&SearchQuery {
                offset,
                limit: 37,
                ..SearchQuery::default()
            })
            .unwrap();
        assert_eq!(r.total, expected.len());
        if r.hits.is_empty() {
            break;
        }
        seen.extend(r.hits.into_iter().map(|h| h.code));
        offset += 37;
    }
    let expected_codes: Vec<String> = expected.into_iter().map(|e| e.2).collect();
    assert_eq!(seen, expected_codes);
}

#[test]
fn bad_requests_are_user_errors() {
    let index = index_with(vec![item("A", "居住证申领")]);
    let e = index
        .search(&SearchQuery {
            limit: MAX_LIMIT + 1,
            ..SearchQuery::default()
        })
        .unwrap_err();
    assert!(matches!(e, SearchError::InvalidQuery(_)) && e.is_user_error());
    let e = index
        .search(&SearchQuery {
            offset: 20_000,
            limit: 10,
            ..SearchQuery::default()
        })
        .unwrap_err();
    assert!(e.is_user_error());
    let e = index.search(&text(&"很".repeat(500))).unwrap_err();
    assert!(e.is_user_error());
    let e = index
        .search(&SearchQuery {
            filters: Filters {
                region: Some(String::new()),
                ..Filters::default()
            },
            ..SearchQuery::default()
        })
        .unwrap_err();
    assert!(e.is_user_error());
    let e = index.upsert(item("", "无编码")).unwrap_err();
    assert!(matches!(e, SearchError::InvalidDocument(_)));
    // Punctuation only is no error, just no match.
    assert_eq!(index.search(&text("？！")).unwrap().total, 0);
}

#[test]
fn replace_all_replaces_everything() {
    let index = index_with(vec![item("A", "居住证申领"), item("B", "居住证签注")]);
    index
        .replace_all(vec![item("C", "户口迁移"), item("C", "户口迁移（迁入）")])
        .unwrap();
    assert_eq!(index.num_docs(), 1);
    assert!(codes(&index, &text("居住证")).is_empty());
    assert_eq!(codes(&index, &text("户口迁移（迁入）")), vec!["C"]);
}

#[test]
fn on_disk_index_survives_reopening() {
    let dir = std::env::temp_dir().join(format!("yiwang-search-test-{}", std::process::id()));
    {
        let index = SearchIndex::open_or_create(&dir).unwrap();
        index.replace_all(synthetic::generate(200, 1)).unwrap();
        index.upsert(item("DISK-1", "磁盘索引测试事项")).unwrap();
    }
    {
        let index = SearchIndex::open_or_create(&dir).unwrap();
        assert_eq!(index.num_docs(), 201);
        assert_eq!(
            codes(&index, &text("磁盘索引测试事项"))
                .first()
                .map(String::as_str),
            Some("DISK-1")
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn search_index_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<SearchIndex>();
}

fn arb_doc() -> impl Strategy<Value = ItemDoc> {
    let region = prop::sample::select(vec![
        ("430000", vec!["430000"]),
        ("430100", vec!["430000", "430100"]),
        ("430104", vec!["430000", "430100", "430104"]),
        ("430121", vec!["430000", "430100", "430121"]),
        ("430300", vec!["430000", "430300"]),
        ("430302", vec!["430000", "430300", "430302"]),
    ]);
    let objects = prop::collection::btree_set(
        prop::sample::select(vec!["1", "2", "3", "4", "5", "6"]),
        1..3,
    );
    let themes =
        prop::collection::btree_set(prop::sample::select(vec!["birth", "housing", "tax"]), 0..3);
    (
        region,
        prop::sample::select(vec!["D1", "D2", "D3"]),
        prop::sample::select(vec!["01", "05", "20"]),
        objects,
        themes,
        any::<bool>(),
        prop::sample::select(vec!["0", "1", "2"]),
        0u32..5,
        prop::sample::select(vec![
            "营业执照变更",
            "社会保障卡申领",
            "居住证签注",
            "不动产登记",
        ]),
    )
        .prop_map(
            |(region, dept, ty, objects, themes, online, scope, popularity, name)| ItemDoc {
                code: String::new(),
                name: name.to_owned(),
                department: dept.to_owned(),
                department_name: format!("部门{dept}"),
                region: region.0.to_owned(),
                region_path: region.1.iter().map(|s| (*s).to_owned()).collect(),
                level: "3".to_owned(),
                item_type: ty.to_owned(),
                service_objects: objects.into_iter().map(str::to_owned).collect(),
                themes: themes.into_iter().map(str::to_owned).collect(),
                online,
                scope: scope.to_owned(),
                popularity,
                ..ItemDoc::default()
            },
        )
}

fn arb_filters() -> impl Strategy<Value = Filters> {
    (
        prop::option::of(prop::sample::select(vec![
            "430000", "430100", "430104", "430300",
        ])),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec!["D1", "D2"])),
        prop::option::of(prop::sample::select(vec!["01", "20"])),
        prop::option::of(prop::sample::select(vec!["1", "2", "6"])),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::sample::select(vec!["birth", "tax"])),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::sample::select(vec!["0", "2"])),
    )
        .prop_map(
            |(region, subtree, dept, ty, so, person, theme, online, scope)| Filters {
                region: region.map(str::to_owned),
                region_subtree: subtree,
                department: dept.map(str::to_owned),
                item_type: ty.map(str::to_owned),
                service_object: so.map(str::to_owned),
                person,
                theme: theme.map(str::to_owned),
                online,
                scope: scope.map(str::to_owned),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    #[test]
    fn empty_query_total_and_paging_match_brute_force(
        mut docs in prop::collection::vec(arb_doc(), 0..60),
        filters in arb_filters(),
        page in 1usize..9,
        split in any::<bool>(),
    ) {
        for (i, d) in docs.iter_mut().enumerate() {
            d.code = format!("C{i:03}");
        }
        let index = SearchIndex::in_memory().unwrap();
        if split && docs.len() > 1 {
            // Several segments: a bulk load, then single upserts.
            let (a, b) = docs.split_at(docs.len() / 2);
            index.replace_all(a.to_vec()).unwrap();
            for d in b.iter().take(5) {
                index.upsert(d.clone()).unwrap();
            }
            for d in b.iter().skip(5) {
                index.upsert(d.clone()).unwrap();
            }
        } else {
            index.replace_all(docs.clone()).unwrap();
        }
        let expected: HashSet<String> =
            docs.iter().filter(|d| matches(d, &filters)).map(|d| d.code.clone()).collect();
        let mut seen: Vec<String> = Vec::new();
        let mut offset = 0;
        loop {
            let r = index.search(&SearchQuery {
                filters: filters.clone(), offset, limit: page, facets: true, ..SearchQuery::default()
            }).unwrap();
            prop_assert_eq!(r.total, expected.len());
            if r.hits.is_empty() { break; }
            seen.extend(r.hits.into_iter().map(|h| h.code));
            offset += page;
        }
        let unique: HashSet<String> = seen.iter().cloned().collect();
        prop_assert_eq!(unique.len(), seen.len(), "a code was repeated across pages");
        prop_assert_eq!(unique, expected);
    }
}
