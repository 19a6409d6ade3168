//! [`DemoLibrary`]: a deterministic, in-memory population and legal-person library.
//!
//! It stands in for the real libraries in development, tests and the demo province. Every
//! library holds the fixed demo people and enterprises ([`fixed_residents`],
//! [`fixed_enterprises`]) that the demo accounts use, plus as many generated records as asked
//! for: residents with common Chinese names and valid 居民身份证号码 (GB 11643: county code,
//! birth date 1940-2008, a sequence whose parity is the gender, MOD 11-2 check character), and
//! enterprises with valid 统一社会信用代码 (GB 32100: authority 9 市场监管, category 1 企业 or
//! 2 个体工商户, the county code, a GB 11714 organisation code with its own check character),
//! legal representatives drawn from the residents, mostly 存续 with a few 吊销/注销.
//!
//! The same regions, counts and seed give the same library on every machine: the random
//! numbers come from a small SplitMix64 generator written here, not from a crate whose
//! algorithm may change between versions.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Days, NaiveDate};
use yiwang_domain::codes::{CreditCode, IdCardNumber};

use crate::{EnterpriseRecord, EnterpriseStatus, Gender, PersonCheck, PersonRecord};

/// 王小明, a citizen of 长沙市岳麓区 (430104).
pub const WANG_XIAOMING_ID: &str = "430104199005120135";
/// 李华, a citizen of 长沙市芙蓉区 (430102).
pub const LI_HUA_ID: &str = "430102199508200249";
/// 张伟, 法定代表人 of [`XIANGJIANG_TECH_CREDIT_CODE`] (430104).
pub const ZHANG_WEI_ID: &str = "430104197803150313";
/// 刘芳, 经办人 (agent) of [`XIANGJIANG_TECH_CREDIT_CODE`] (430104).
pub const LIU_FANG_ID: &str = "430104198811020468";
/// 陈静, a citizen of 湘潭市雨湖区 (430302), 经营者 of [`CHEN_JI_NOODLES_CREDIT_CODE`].
pub const CHEN_JING_ID: &str = "430302199207090681";
/// 湖南湘江智能科技有限公司, 长沙市岳麓区, legal representative 张伟.
pub const XIANGJIANG_TECH_CREDIT_CODE: &str = "91430104MA4L7R2K16";
/// 湘潭市雨湖区陈记米粉店, a 个体工商户 run by 陈静.
pub const CHEN_JI_NOODLES_CREDIT_CODE: &str = "92430302MA4P3N6D01";

/// Counties used when [`DemoLibrary::generate`] is given no usable region: (code, full name).
pub const DEFAULT_REGIONS: &[(&str, &str)] = &[
    ("430102", "长沙市芙蓉区"),
    ("430103", "长沙市天心区"),
    ("430104", "长沙市岳麓区"),
    ("430105", "长沙市开福区"),
    ("430111", "长沙市雨花区"),
    ("430202", "株洲市荷塘区"),
    ("430203", "株洲市芦淞区"),
    ("430302", "湘潭市雨湖区"),
    ("430304", "湘潭市岳塘区"),
];

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn person(
    id: &str,
    name: &str,
    gender: Gender,
    birth: NaiveDate,
    region: &str,
    address: &str,
) -> PersonRecord {
    PersonRecord {
        id_number: id.into(),
        name: name.into(),
        gender,
        birth_date: birth,
        region: region.into(),
        address: address.into(),
    }
}

/// The demo people the demo accounts use; present in every [`DemoLibrary`].
pub fn fixed_residents() -> Vec<PersonRecord> {
    vec![
        person(
            WANG_XIAOMING_ID,
            "王小明",
            Gender::Male,
            date(1990, 5, 12),
            "430104",
            "长沙市岳麓区麓山南路932号5栋2单元301室",
        ),
        person(
            LI_HUA_ID,
            "李华",
            Gender::Female,
            date(1995, 8, 20),
            "430102",
            "长沙市芙蓉区五一大道389号12栋1单元802室",
        ),
        person(
            ZHANG_WEI_ID,
            "张伟",
            Gender::Male,
            date(1978, 3, 15),
            "430104",
            "长沙市岳麓区枫林三路166号3栋1单元1501室",
        ),
        person(
            LIU_FANG_ID,
            "刘芳",
            Gender::Female,
            date(1988, 11, 2),
            "430104",
            "长沙市岳麓区桐梓坡路58号7栋2单元603室",
        ),
        person(
            CHEN_JING_ID,
            "陈静",
            Gender::Female,
            date(1992, 7, 9),
            "430302",
            "湘潭市雨湖区建设北路16号2栋3单元402室",
        ),
    ]
}

/// The demo enterprises the demo accounts use; present in every [`DemoLibrary`].
pub fn fixed_enterprises() -> Vec<EnterpriseRecord> {
    vec![
        EnterpriseRecord {
            credit_code: XIANGJIANG_TECH_CREDIT_CODE.into(),
            name: "湖南湘江智能科技有限公司".into(),
            legal_rep_name: "张伟".into(),
            legal_rep_id_number: ZHANG_WEI_ID.into(),
            region: "430104".into(),
            kind: "有限责任公司".into(),
            status: EnterpriseStatus::Active,
            established: date(2016, 6, 18),
            address: "长沙市岳麓区麓谷大道627号麓谷企业广场A1栋1203室".into(),
        },
        EnterpriseRecord {
            credit_code: CHEN_JI_NOODLES_CREDIT_CODE.into(),
            name: "湘潭市雨湖区陈记米粉店".into(),
            legal_rep_name: "陈静".into(),
            legal_rep_id_number: CHEN_JING_ID.into(),
            region: "430302".into(),
            kind: "个体工商户".into(),
            status: EnterpriseStatus::Active,
            established: date(2019, 3, 8),
            address: "湘潭市雨湖区雨湖路45号".into(),
        },
    ]
}

/// An in-memory population and legal-person library with lookup by ID number and credit code.
#[derive(Debug, Clone, Default)]
pub struct DemoLibrary {
    residents: Vec<PersonRecord>,
    enterprises: Vec<EnterpriseRecord>,
    by_id: HashMap<String, usize>,
    by_code: HashMap<String, usize>,
}

impl DemoLibrary {
    /// Only the fixed demo people and enterprises.
    pub fn fixed() -> DemoLibrary {
        let mut library = DemoLibrary::default();
        for r in fixed_residents() {
            library.push_resident(r);
        }
        for e in fixed_enterprises() {
            library.push_enterprise(e);
        }
        library
    }

    /// The fixed records plus `residents` generated residents and `enterprises` generated
    /// enterprises in the given counties (`(6-digit code, full name such as 长沙市岳麓区)`;
    /// entries whose code is not six digits are skipped, and [`DEFAULT_REGIONS`] is used when
    /// none is left). Deterministic in all its arguments.
    pub fn generate(
        regions: &[(String, String)],
        residents: usize,
        enterprises: usize,
        seed: u64,
    ) -> DemoLibrary {
        let mut usable: Vec<(&str, &str)> = regions
            .iter()
            .map(|(code, name)| (code.trim(), name.trim()))
            .filter(|(code, _)| {
                code.len() == 6
                    && code.bytes().all(|b| b.is_ascii_digit())
                    && !code.starts_with('0')
            })
            .collect();
        if usable.is_empty() {
            usable = DEFAULT_REGIONS.to_vec();
        }
        let mut library = DemoLibrary::fixed();
        library.residents.reserve(residents);
        library.enterprises.reserve(enterprises);
        let mut rng = SplitMix64(seed);
        for _ in 0..residents {
            if let Some(r) = new_resident(&mut rng, &usable, &library.by_id) {
                library.push_resident(r);
            }
        }
        let mut names: HashSet<String> =
            library.enterprises.iter().map(|e| e.name.clone()).collect();
        for _ in 0..enterprises {
            if let Some(e) = new_enterprise(&mut rng, &usable, &library, &names) {
                names.insert(e.name.clone());
                library.push_enterprise(e);
            }
        }
        library
    }

    fn push_resident(&mut self, r: PersonRecord) {
        if !self.by_id.contains_key(&r.id_number) {
            self.by_id.insert(r.id_number.clone(), self.residents.len());
            self.residents.push(r);
        }
    }

    fn push_enterprise(&mut self, e: EnterpriseRecord) {
        if !self.by_code.contains_key(&e.credit_code) {
            self.by_code
                .insert(e.credit_code.clone(), self.enterprises.len());
            self.enterprises.push(e);
        }
    }

    /// All residents, the fixed ones first.
    pub fn residents(&self) -> &[PersonRecord] {
        &self.residents
    }

    /// All enterprises, the fixed ones first.
    pub fn enterprises(&self) -> &[EnterpriseRecord] {
        &self.enterprises
    }

    /// The resident with this ID number (trimmed, `x` matches `X`).
    pub fn person(&self, id_number: &str) -> Option<&PersonRecord> {
        let key = id_number.trim().to_ascii_uppercase();
        self.by_id.get(&key).and_then(|&i| self.residents.get(i))
    }

    /// The enterprise with this credit code (trimmed, any case).
    pub fn enterprise(&self, credit_code: &str) -> Option<&EnterpriseRecord> {
        let key = credit_code.trim().to_ascii_uppercase();
        self.by_code
            .get(&key)
            .and_then(|&i| self.enterprises.get(i))
    }

    /// Real-name verification against this library (the name is compared trimmed).
    pub fn verify_person(&self, id_number: &str, name: &str) -> PersonCheck {
        match self.person(id_number) {
            None => PersonCheck::NotFound,
            Some(p) if p.name == name.trim() => PersonCheck::Match,
            Some(_) => PersonCheck::NameMismatch,
        }
    }

    /// An estimate of the heap memory the library holds (records, strings and both maps), for
    /// capacity checks.
    pub fn heap_size_estimate(&self) -> usize {
        let person_strings: usize = self
            .residents
            .iter()
            .map(|p| {
                p.id_number.capacity()
                    + p.name.capacity()
                    + p.region.capacity()
                    + p.address.capacity()
            })
            .sum();
        let enterprise_strings: usize = self
            .enterprises
            .iter()
            .map(|e| {
                e.credit_code.capacity()
                    + e.name.capacity()
                    + e.legal_rep_name.capacity()
                    + e.legal_rep_id_number.capacity()
                    + e.region.capacity()
                    + e.kind.capacity()
                    + e.address.capacity()
            })
            .sum();
        let map_entry = std::mem::size_of::<(String, usize)>() + 1;
        let maps: usize = self.by_id.capacity() * map_entry
            + self.by_code.capacity() * map_entry
            + self.by_id.keys().map(String::capacity).sum::<usize>()
            + self.by_code.keys().map(String::capacity).sum::<usize>();
        self.residents.capacity() * std::mem::size_of::<PersonRecord>()
            + self.enterprises.capacity() * std::mem::size_of::<EnterpriseRecord>()
            + person_strings
            + enterprise_strings
            + maps
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): tiny, fast and fixed forever.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        // The modulo bias is far below anything a demo can show.
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }

    /// A number in `0..n`, small ones more likely (the smaller of two draws): common surnames
    /// and popular characters come first in their lists.
    fn skewed(&mut self, n: usize) -> usize {
        self.below(n).min(self.below(n))
    }

    /// True with probability `percent`/100.
    fn percent(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// Any one of `items` (`""` when there is none).
    fn pick(&mut self, items: &[&'static str]) -> &'static str {
        items
            .get(self.below(items.len()))
            .copied()
            .unwrap_or_default()
    }
}

/// Common surnames, most common first.
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏",
    "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "段", "雷", "侯", "龙",
    "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "严", "覃", "戴", "莫", "孔", "向",
    "汤", "易", "文", "欧阳",
];

/// Characters common in men's given names.
const MALE_CHARS: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞",
    "鑫", "波", "宇", "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "阳", "建", "国",
    "志", "文", "晨", "博", "毅", "峰", "亮", "成", "海", "东", "新", "洋", "振", "子", "轩", "睿",
];

/// Characters common in women's given names.
const FEMALE_CHARS: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "玲", "婷", "雪", "慧", "燕", "红", "琳",
    "颖", "倩", "洁", "萍", "莉", "璐", "欣", "怡", "佳", "梅", "琴", "云", "月", "晶", "妍", "蓉",
    "涵", "萱", "悦", "雯", "诗", "梦", "瑶", "彤", "紫", "馨", "思", "婉", "春", "兰", "凤", "菲",
];

const STREETS: &[&str] = &[
    "人民路",
    "解放路",
    "建设路",
    "韶山路",
    "五一大道",
    "芙蓉路",
    "中山路",
    "湘江路",
    "书院路",
    "劳动路",
    "枫林路",
    "麓山路",
    "银盆岭路",
    "雨花路",
    "新民路",
    "胜利路",
    "和平路",
    "东风路",
    "车站路",
    "桂花路",
    "红旗路",
    "迎宾路",
    "白沙路",
    "朝阳路",
    "长征路",
    "建湘路",
    "学院路",
];

const BRANDS: &[&str] = &[
    "湘味", "麓山", "星城", "潇湘", "芙蓉", "岳麓", "湘江", "洞庭", "橘洲", "楚天", "韶峰", "银杉",
    "金霞", "天心", "梅溪", "桃花", "湘湖", "三湘", "四水", "南岳", "衡山", "雁城", "湘中", "湘楚",
    "楚韵", "华湘", "宏图", "恒通", "嘉禾", "锦程", "瑞丰", "德润", "明远", "永盛", "新航", "启航",
    "万家", "和谐", "诚信", "众合",
];

const BRAND_SUFFIXES: &[&str] = &[
    "鑫", "盛", "达", "源", "泰", "华", "兴", "德", "瑞", "丰", "隆",
];

const INDUSTRIES: &[&str] = &[
    "餐饮",
    "科技",
    "商贸",
    "建筑工程",
    "文化传媒",
    "物流",
    "农业开发",
    "教育咨询",
    "信息技术",
    "医药",
    "装饰工程",
    "电子商务",
    "食品",
    "环保科技",
    "旅游开发",
    "房地产开发",
    "机械设备",
    "汽车服务",
    "家政服务",
    "广告",
    "园林绿化",
    "软件开发",
    "新材料",
    "健康管理",
    "供应链管理",
];

const TRADES: &[&str] = &[
    "小吃店",
    "便利店",
    "理发店",
    "五金店",
    "副食店",
    "米粉店",
    "水果店",
    "服装店",
    "家电维修部",
    "茶馆",
    "烧烤店",
    "粉面馆",
    "药店",
    "文具店",
    "农资店",
    "快餐店",
    "干洗店",
    "手机维修店",
    "日杂店",
    "烟酒商行",
];

/// Characters of the credit-code alphabet (GB 32100: no I, O, S, V, Z).
const CODE_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

fn add_days(from: NaiveDate, days: usize) -> NaiveDate {
    from.checked_add_days(Days::new(days as u64))
        .unwrap_or(from)
}

fn random_date(rng: &mut SplitMix64, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = usize::try_from((to - from).num_days().max(0)).unwrap_or(0);
    add_days(from, rng.below(span + 1))
}

fn street_address(rng: &mut SplitMix64, region_name: &str) -> String {
    let street = rng.pick(STREETS);
    let number = 1 + rng.below(980);
    format!("{region_name}{street}{number}号")
}

fn new_resident(
    rng: &mut SplitMix64,
    regions: &[(&str, &str)],
    taken: &HashMap<String, usize>,
) -> Option<PersonRecord> {
    let (code, region_name) = *regions.get(rng.below(regions.len()))?;
    let gender = if rng.percent(50) {
        Gender::Male
    } else {
        Gender::Female
    };
    let parity = u16::from(gender == Gender::Male);
    let mut id = None;
    for _ in 0..32 {
        let birth = random_date(rng, date(1940, 1, 1), date(2008, 12, 31));
        let sequence = u16::try_from(rng.below(500)).unwrap_or(0) * 2 + parity;
        if let Ok(candidate) = IdCardNumber::generate(code, birth, sequence)
            && !taken.contains_key(candidate.as_str())
        {
            id = Some(candidate);
            break;
        }
    }
    let id = id?;
    let surname = SURNAMES
        .get(rng.skewed(SURNAMES.len()))
        .copied()
        .unwrap_or("王");
    let chars = if gender == Gender::Male {
        MALE_CHARS
    } else {
        FEMALE_CHARS
    };
    let mut name = surname.to_string();
    let given_len = if rng.percent(30) { 1 } else { 2 };
    for _ in 0..given_len {
        name.push_str(chars.get(rng.skewed(chars.len())).copied().unwrap_or("明"));
    }
    let address = format!(
        "{}{}栋{}单元{}{:02}室",
        street_address(rng, region_name),
        1 + rng.below(30),
        1 + rng.below(4),
        1 + rng.below(25),
        1 + rng.below(4),
    );
    Some(PersonRecord {
        id_number: id.to_string(),
        name,
        gender,
        birth_date: id.birth_date(),
        region: code.to_string(),
        address,
    })
}

fn new_enterprise(
    rng: &mut SplitMix64,
    regions: &[(&str, &str)],
    library: &DemoLibrary,
    names: &HashSet<String>,
) -> Option<EnterpriseRecord> {
    let (code, region_name) = *regions.get(rng.below(regions.len()))?;
    let individual = rng.percent(30);
    // A legal representative who was 18 or older by 2025.
    let mut rep = None;
    for _ in 0..16 {
        let candidate = library.residents.get(rng.below(library.residents.len()))?;
        if candidate.birth_date.year() <= 2007 {
            rep = Some(candidate);
            break;
        }
    }
    let rep = rep.or_else(|| library.person(ZHANG_WEI_ID))?;
    let adult = rep
        .birth_date
        .with_year(rep.birth_date.year() + 18)
        .unwrap_or_else(|| date(rep.birth_date.year() + 18, 3, 1));
    let established = random_date(rng, adult.max(date(1995, 1, 1)), date(2025, 6, 30));

    let mut credit_code = None;
    for _ in 0..32 {
        let mut body = String::from("MA4");
        for _ in 0..5 {
            body.push(char::from(
                CODE_CHARS
                    .get(rng.below(CODE_CHARS.len()))
                    .copied()
                    .unwrap_or(b'0'),
            ));
        }
        let category = if individual { '2' } else { '1' };
        if let Ok(candidate) = CreditCode::generate('9', category, code, &body)
            && !library.by_code.contains_key(candidate.as_str())
        {
            credit_code = Some(candidate);
            break;
        }
    }
    let credit_code = credit_code?;

    let (mut name, kind) = (
        String::new(),
        if individual {
            "个体工商户"
        } else if rng.percent(7) {
            "股份有限公司"
        } else {
            "有限责任公司"
        },
    );
    for attempt in 0..16 {
        name = if individual {
            let owner = if attempt < 8 {
                format!("{}记", rep.name.chars().next().unwrap_or('王'))
            } else {
                rep.name.clone()
            };
            format!("{region_name}{owner}{}", rng.pick(TRADES))
        } else {
            let mut brand = rng.pick(BRANDS).to_string();
            if rng.percent(50) {
                brand.push_str(rng.pick(BRAND_SUFFIXES));
            }
            let industry = rng.pick(INDUSTRIES);
            if kind == "股份有限公司" {
                format!("湖南{brand}{industry}股份有限公司")
            } else {
                format!("{region_name}{brand}{industry}有限公司")
            }
        };
        if !names.contains(&name) {
            break;
        }
    }
    let status = match rng.below(100) {
        0..90 => EnterpriseStatus::Active,
        90..96 => EnterpriseStatus::Revoked,
        _ => EnterpriseStatus::Cancelled,
    };
    let mut address = street_address(rng, region_name);
    if !individual {
        address.push_str(&format!(
            "{}栋{}{:02}室",
            1 + rng.below(12),
            1 + rng.below(20),
            1 + rng.below(12)
        ));
    }
    Some(EnterpriseRecord {
        credit_code: credit_code.to_string(),
        name,
        legal_rep_name: rep.name.clone(),
        legal_rep_id_number: rep.id_number.clone(),
        region: code.to_string(),
        kind: kind.to_string(),
        status,
        established,
        address,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn regions() -> Vec<(String, String)> {
        DEFAULT_REGIONS
            .iter()
            .map(|(c, n)| (c.to_string(), n.to_string()))
            .collect()
    }

    fn check_person(p: &PersonRecord) {
        let id = IdCardNumber::parse(&p.id_number).unwrap();
        assert_eq!(id.as_str(), p.id_number);
        assert_eq!(id.birth_date(), p.birth_date, "{}", p.id_number);
        assert_eq!(id.is_male(), p.gender == Gender::Male, "{}", p.id_number);
        assert_eq!(id.area_code(), p.region);
        assert!((1940..=2008).contains(&p.birth_date.year()));
        let chars = p.name.chars().count();
        assert!((2..=4).contains(&chars), "{}", p.name);
        assert!(!p.address.is_empty());
    }

    fn check_enterprise(library: &DemoLibrary, e: &EnterpriseRecord) {
        let code = CreditCode::parse(&e.credit_code).unwrap();
        assert_eq!(code.as_str(), e.credit_code);
        assert_eq!(code.registration_authority(), '9');
        let category = if e.kind == "个体工商户" {
            '2'
        } else {
            '1'
        };
        assert_eq!(code.org_category(), category, "{}", e.name);
        assert_eq!(code.region_code(), e.region);
        let rep = library.person(&e.legal_rep_id_number).unwrap();
        assert_eq!(rep.name, e.legal_rep_name);
        assert!(
            e.established.year() >= rep.birth_date.year() + 18,
            "{}",
            e.name
        );
        assert!(
            e.name.ends_with("公司") || e.kind == "个体工商户",
            "{}",
            e.name
        );
    }

    #[test]
    fn fixed_records_are_valid_and_present() {
        let library = DemoLibrary::fixed();
        assert_eq!(library.residents().len(), 5);
        assert_eq!(library.enterprises().len(), 2);
        for p in library.residents() {
            check_person(p);
        }
        for e in library.enterprises() {
            check_enterprise(&library, e);
        }
        assert_eq!(
            library.verify_person(WANG_XIAOMING_ID, "王小明"),
            PersonCheck::Match
        );
        assert_eq!(
            library.verify_person(WANG_XIAOMING_ID, " 王小明 "),
            PersonCheck::Match
        );
        assert_eq!(
            library.verify_person(WANG_XIAOMING_ID, "王晓明"),
            PersonCheck::NameMismatch
        );
        assert_eq!(
            library.verify_person("11010519491231002X", "王小明"),
            PersonCheck::NotFound
        );
        let tech = library
            .enterprise(&XIANGJIANG_TECH_CREDIT_CODE.to_lowercase())
            .unwrap();
        assert_eq!(tech.name, "湖南湘江智能科技有限公司");
        assert_eq!(tech.legal_rep_id_number, ZHANG_WEI_ID);
        assert_eq!(tech.region, "430104");
        let shop = library.enterprise(CHEN_JI_NOODLES_CREDIT_CODE).unwrap();
        assert_eq!(shop.kind, "个体工商户");
        assert_eq!(library.person(LI_HUA_ID).unwrap().region, "430102");
        assert_eq!(library.person(CHEN_JING_ID).unwrap().region, "430302");
        assert_eq!(library.person(LIU_FANG_ID).unwrap().name, "刘芳");
    }

    #[test]
    fn every_generated_code_parses_and_agrees_with_its_record() {
        let library = DemoLibrary::generate(&regions(), 3_000, 1_200, 42);
        assert_eq!(library.residents().len(), 3_005);
        assert_eq!(library.enterprises().len(), 1_202);
        for p in library.residents() {
            check_person(p);
        }
        for e in library.enterprises() {
            check_enterprise(&library, e);
        }
        // The fixed records come first and lookups find every record.
        assert_eq!(library.residents()[0].id_number, WANG_XIAOMING_ID);
        for p in library.residents() {
            assert_eq!(library.person(&p.id_number), Some(p));
        }
        for e in library.enterprises() {
            assert_eq!(library.enterprise(&e.credit_code), Some(e));
        }
        // Mostly 存续, some 吊销 and 注销; both kinds of business; both genders.
        let active = library
            .enterprises()
            .iter()
            .filter(|e| e.status == EnterpriseStatus::Active)
            .count();
        assert!(active > 1_000 && active < 1_150, "{active}");
        assert!(
            library
                .enterprises()
                .iter()
                .any(|e| e.status == EnterpriseStatus::Revoked)
        );
        assert!(
            library
                .enterprises()
                .iter()
                .any(|e| e.status == EnterpriseStatus::Cancelled)
        );
        let individual = library
            .enterprises()
            .iter()
            .filter(|e| e.kind == "个体工商户")
            .count();
        assert!(individual > 250 && individual < 500, "{individual}");
        let men = library
            .residents()
            .iter()
            .filter(|p| p.gender == Gender::Male)
            .count();
        assert!(men > 1_300 && men < 1_700, "{men}");
        // Names are unique among companies.
        let names: HashSet<&str> = library
            .enterprises()
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert!(names.len() > 1_190, "{}", names.len());
    }

    #[test]
    fn generation_is_deterministic_and_seeded() {
        let a = DemoLibrary::generate(&regions(), 200, 50, 7);
        let b = DemoLibrary::generate(&regions(), 200, 50, 7);
        let c = DemoLibrary::generate(&regions(), 200, 50, 8);
        assert_eq!(a.residents(), b.residents());
        assert_eq!(a.enterprises(), b.enterprises());
        assert_ne!(a.residents(), c.residents());
    }

    #[test]
    fn bad_regions_fall_back_and_never_panic() {
        let bad = vec![
            ("43".to_string(), "x".to_string()),
            ("ABCDEF".to_string(), "y".to_string()),
            ("000000".to_string(), "z".to_string()),
        ];
        let library = DemoLibrary::generate(&bad, 50, 20, 1);
        assert_eq!(library.residents().len(), 55);
        for p in library.residents() {
            assert!(DEFAULT_REGIONS.iter().any(|(c, _)| *c == p.region));
        }
        let empty = DemoLibrary::generate(&[], 0, 0, 0);
        assert_eq!(empty.residents().len(), 5);
        assert!(empty.person("").is_none());
        assert!(empty.enterprise("不是代码").is_none());
    }

    #[test]
    fn five_thousand_residents_and_two_thousand_enterprises_fit_in_a_few_megabytes() {
        let library = DemoLibrary::generate(&regions(), 5_000, 2_000, 2024);
        let bytes = library.heap_size_estimate();
        assert!(bytes < 4 * 1024 * 1024, "{bytes} bytes");
    }
}
