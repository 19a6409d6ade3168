//! A deterministic generator of realistic-looking service items for benchmarks and tests (here
//! and in other crates of the platform). Enabled by the `synthetic` cargo feature.
//!
//! Items are combined from real item names of Chinese government catalogues (subject + action +
//! optional qualifier), real departments and the real region codes of Hunan (province, its 14
//! prefectures and a selection of their counties). As in real catalogues, the same item name
//! recurs at many implementing bodies, each a separate item with its own 实施编码. Department
//! credit codes carry valid GB 11714 and GB 32100 check characters.

use crate::ItemDoc;

/// SplitMix64: small, fast and good enough for test data; no dependency needed.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    /// True with probability `p` (0.0..=1.0).
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

/// Region code, name, parent code ("" for the province).
pub const REGIONS: &[(&str, &str, &str)] = &[
    ("430000", "湖南省", ""),
    ("430100", "长沙市", "430000"),
    ("430102", "芙蓉区", "430100"),
    ("430103", "天心区", "430100"),
    ("430104", "岳麓区", "430100"),
    ("430105", "开福区", "430100"),
    ("430111", "雨花区", "430100"),
    ("430112", "望城区", "430100"),
    ("430121", "长沙县", "430100"),
    ("430181", "浏阳市", "430100"),
    ("430182", "宁乡市", "430100"),
    ("430200", "株洲市", "430000"),
    ("430202", "荷塘区", "430200"),
    ("430203", "芦淞区", "430200"),
    ("430204", "石峰区", "430200"),
    ("430211", "天元区", "430200"),
    ("430223", "攸县", "430200"),
    ("430281", "醴陵市", "430200"),
    ("430300", "湘潭市", "430000"),
    ("430302", "雨湖区", "430300"),
    ("430304", "岳塘区", "430300"),
    ("430321", "湘潭县", "430300"),
    ("430381", "湘乡市", "430300"),
    ("430382", "韶山市", "430300"),
    ("430400", "衡阳市", "430000"),
    ("430405", "珠晖区", "430400"),
    ("430406", "雁峰区", "430400"),
    ("430407", "石鼓区", "430400"),
    ("430421", "衡阳县", "430400"),
    ("430481", "耒阳市", "430400"),
    ("430500", "邵阳市", "430000"),
    ("430502", "双清区", "430500"),
    ("430503", "大祥区", "430500"),
    ("430581", "武冈市", "430500"),
    ("430600", "岳阳市", "430000"),
    ("430602", "岳阳楼区", "430600"),
    ("430621", "岳阳县", "430600"),
    ("430681", "汨罗市", "430600"),
    ("430700", "常德市", "430000"),
    ("430702", "武陵区", "430700"),
    ("430703", "鼎城区", "430700"),
    ("430781", "津市市", "430700"),
    ("430800", "张家界市", "430000"),
    ("430802", "永定区", "430800"),
    ("430811", "武陵源区", "430800"),
    ("430900", "益阳市", "430000"),
    ("430902", "资阳区", "430900"),
    ("430903", "赫山区", "430900"),
    ("431000", "郴州市", "430000"),
    ("431002", "北湖区", "431000"),
    ("431003", "苏仙区", "431000"),
    ("431100", "永州市", "430000"),
    ("431102", "零陵区", "431100"),
    ("431103", "冷水滩区", "431100"),
    ("431200", "怀化市", "430000"),
    ("431202", "鹤城区", "431200"),
    ("431300", "娄底市", "430000"),
    ("431302", "娄星区", "431300"),
    ("431381", "冷水江市", "431300"),
    ("433100", "湘西土家族苗族自治州", "430000"),
    ("433101", "吉首市", "433100"),
];

/// Theme keys used by the generator.
pub const THEMES: &[&str] = &[
    "birth", "schooling", "employment", "marriage", "housing", "social-insurance", "medical",
    "pension", "disability", "assistance", "transport", "household", "business-setup",
    "business-operation", "construction", "environment", "tax", "culture-tourism", "agriculture",
    "safety", "qualification", "death",
];

struct Template {
    subject: &'static str,
    actions: &'static [&'static str],
    aliases: &'static [&'static str],
    item_type: &'static str,
    objects: &'static [&'static str],
    themes: &'static [&'static str],
    materials: &'static [&'static str],
    result: &'static str,
    popularity: u32,
}

struct Dept {
    name: &'static str,
    law: &'static str,
    province_only: bool,
    templates: &'static [Template],
}

const PERSON: &[&str] = &["1"];
const LEGAL: &[&str] = &["2", "5"];
const LEGAL_ALL: &[&str] = &["2", "3", "4", "5"];
const ANYONE: &[&str] = &["1", "2", "3", "4", "5"];
const ORGS: &[&str] = &["3", "4", "6"];

const REGISTRATION: &[&str] = &["设立登记", "变更登记", "注销登记", "备案"];
const LICENCE: &[&str] = &["核发", "变更", "延续", "注销", "补办"];
const APPLY: &[&str] = &["申请", "审核确认", "待遇申领"];

macro_rules! t {
    ($subject:expr, $actions:expr, $aliases:expr, $ty:expr, $objects:expr, $themes:expr,
     $materials:expr, $result:expr, $pop:expr) => {
        Template {
            subject: $subject,
            actions: $actions,
            aliases: $aliases,
            item_type: $ty,
            objects: $objects,
            themes: $themes,
            materials: $materials,
            result: $result,
            popularity: $pop,
        }
    };
}

const DEPTS: &[Dept] = &[
    Dept {
        name: "市场监督管理局",
        law: "《中华人民共和国市场主体登记管理条例》第二十一条、《中华人民共和国食品安全法》第三十五条",
        province_only: false,
        templates: &[
            t!("营业执照", REGISTRATION, &["执照"], "01", LEGAL, &["business-setup"],
               &["公司登记（备案）申请书", "公司章程", "股东主体资格证明", "住所使用证明", "法定代表人任职文件"], "营业执照", 900),
            t!("个体工商户营业执照", &["设立登记", "变更登记", "注销登记"], &["个体执照"], "01", &["1", "5"], &["business-setup"],
               &["个体工商户登记申请书", "经营者身份证明", "经营场所证明"], "营业执照", 700),
            t!("食品经营许可证", LICENCE, &["食品经营许可"], "01", LEGAL, &["business-operation"],
               &["食品经营许可申请书", "营业执照", "食品安全管理制度", "经营场所平面图", "食品安全管理人员名单"], "食品经营许可证", 600),
            t!("食品生产许可证", LICENCE, &["食品生产许可"], "01", LEGAL, &["business-operation"],
               &["食品生产许可申请书", "生产设备布局图", "食品生产工艺流程图", "食品安全管理制度"], "食品生产许可证", 300),
            t!("食品小作坊登记证", &["核发", "变更", "延续"], &["小作坊登记"], "01", &["1", "2", "5"], &["business-operation"],
               &["食品小作坊登记申请书", "从业人员健康证明"], "食品小作坊登记证", 120),
            t!("药品零售企业经营许可", &["核发", "变更", "换发"], &["药店许可", "药品经营许可证"], "01", LEGAL, &["medical", "business-operation"],
               &["药品经营许可证申请表", "执业药师资格证书", "营业场所证明"], "药品经营许可证", 200),
            t!("第二类医疗器械经营备案", &[""], &["二类医疗器械备案"], "10", LEGAL, &["medical", "business-operation"],
               &["第二类医疗器械经营备案表", "营业执照", "经营场所证明"], "备案凭证", 150),
            t!("特种设备使用登记", &["", "变更", "注销"], &["电梯使用登记", "锅炉使用登记"], "05", LEGAL_ALL, &["safety"],
               &["特种设备使用登记表", "特种设备产品合格证", "监督检验证明"], "特种设备使用登记证", 180),
            t!("特种设备作业人员资格认定", &["", "复审"], &["特种设备作业证"], "05", PERSON, &["qualification", "safety"],
               &["特种设备作业人员资格申请表", "身份证明", "学历证明", "体检报告"], "特种设备作业人员证", 160),
        ],
    },
    Dept {
        name: "人力资源和社会保障局",
        law: "《中华人民共和国社会保险法》第十条、《国务院关于建立统一的城乡居民基本养老保险制度的意见》",
        province_only: false,
        templates: &[
            t!("城乡居民基本养老保险", &["参保登记", "待遇申领", "关系转移接续", "注销登记"], &["城乡居民养老保险", "居民养老保险"], "20", PERSON, &["pension", "social-insurance"],
               &["居民身份证", "户口簿", "城乡居民基本养老保险参保登记表"], "参保登记结果", 950),
            t!("企业职工基本养老保险", &["参保登记", "待遇申领", "关系转移接续", "个人账户一次性待遇申领"], &["职工养老保险"], "20", ANYONE, &["pension", "social-insurance"],
               &["居民身份证", "参保人员信息登记表", "劳动合同"], "待遇核定结果", 880),
            t!("社会保障卡", &["申领", "补领", "换领", "挂失", "启用"], &["社保卡"], "20", PERSON, &["social-insurance"],
               &["居民身份证", "近期免冠证件照片"], "社会保障卡", 1000),
            t!("失业保险金", &["申领"], &["失业金"], "04", PERSON, &["employment", "social-insurance"],
               &["居民身份证", "解除或终止劳动关系证明", "失业登记证明"], "失业保险金核定结果", 500),
            t!("就业创业证", &["申领", "补领"], &["失业证", "就业失业登记证"], "20", PERSON, &["employment"],
               &["居民身份证", "近期免冠证件照片"], "就业创业证", 450),
            t!("工伤认定", &["", "申请"], &["工伤申报"], "07", ANYONE, &["social-insurance"],
               &["工伤认定申请表", "劳动关系证明", "医疗诊断证明书"], "工伤认定决定书", 350),
            t!("劳务派遣经营许可", &["", "变更", "延续", "注销"], &["劳务派遣许可证"], "01", LEGAL, &["employment", "business-operation"],
               &["劳务派遣经营许可申请书", "营业执照", "注册资本验资证明", "经营场所证明"], "劳务派遣经营许可证", 110),
            t!("技能人才评价证书", &["查询", "补发"], &["职业技能等级证书"], "20", PERSON, &["qualification"],
               &["居民身份证"], "职业技能等级证书", 130),
        ],
    },
    Dept {
        name: "医疗保障局",
        law: "《中华人民共和国社会保险法》第二十九条、《医疗保障基金使用监督管理条例》",
        province_only: false,
        templates: &[
            t!("异地就医备案", &["", "取消"], &["医保异地备案", "异地就医登记"], "20", PERSON, &["medical"],
               &["居民身份证", "医保电子凭证", "异地就医登记备案表"], "备案结果", 800),
            t!("基本医疗保险参保登记", &["", "变更", "关系转移接续"], &["医保参保", "医保登记"], "20", ANYONE, &["medical", "social-insurance"],
               &["居民身份证", "参保登记表"], "参保登记结果", 700),
            t!("生育津贴", &["申领", "支付"], &["生育保险待遇"], "04", PERSON, &["birth", "social-insurance"],
               &["居民身份证", "医学出生证明", "生育医疗费用票据"], "生育津贴核定结果", 600),
            t!("门诊慢特病病种待遇认定", &[""], &["慢特病认定", "慢性病认定"], "07", PERSON, &["medical"],
               &["居民身份证", "病历资料", "检查报告"], "认定结果", 400),
            t!("医疗费用手工报销", &[""], &["医保报销", "医疗费报销"], "04", PERSON, &["medical"],
               &["居民身份证", "医疗费用票据", "费用明细清单", "出院小结"], "报销结果", 650),
        ],
    },
    Dept {
        name: "公安局",
        law: "《中华人民共和国居民身份证法》第八条、《中华人民共和国户口登记条例》",
        province_only: false,
        templates: &[
            t!("居民身份证", &["首次申领", "换领", "补领", "临时身份证申领"], &["身份证"], "05", PERSON, &["household"],
               &["居民户口簿", "近期免冠证件照片"], "居民身份证", 980),
            t!("户口迁移", &["", "（迁入）", "（迁出）"], &["户口迁入", "落户", "迁户口"], "05", PERSON, &["household"],
               &["居民户口簿", "居民身份证", "准予迁入证明"], "户口迁移证", 760),
            t!("出生登记", &[""], &["新生儿落户", "上户口"], "05", PERSON, &["birth", "household"],
               &["出生医学证明", "父母居民户口簿", "父母结婚证"], "居民户口簿", 720),
            t!("居住证", &["申领", "签注", "换领"], &["暂住证"], "05", PERSON, &["household"],
               &["居民身份证", "居住登记证明", "合法稳定住所证明"], "居住证", 690),
            t!("无犯罪记录证明", &["开具"], &["无犯罪证明"], "20", PERSON, &["employment"],
               &["居民身份证", "申请表"], "无犯罪记录证明", 540),
            t!("烟花爆竹燃放许可", &[""], &["烟花燃放许可"], "01", LEGAL_ALL, &["safety"],
               &["烟花爆竹燃放申请表", "燃放作业单位资质证明", "燃放作业方案"], "燃放许可证", 60),
        ],
    },
    Dept {
        name: "自然资源和规划局",
        law: "《不动产登记暂行条例》第三条、《中华人民共和国土地管理法》第十二条",
        province_only: false,
        templates: &[
            t!("不动产登记", &["（首次登记）", "（转移登记）", "（变更登记）", "（抵押登记）", "（注销登记）", "（预告登记）", "（更正登记）"], &["房产证办理", "房产过户"], "05", ANYONE, &["housing"],
               &["不动产登记申请书", "申请人身份证明", "不动产权属证书", "登记原因证明文件"], "不动产权证书", 940),
            t!("国有建设用地使用权及房屋所有权", &["首次登记", "转移登记", "变更登记"], &["房屋所有权登记"], "05", ANYONE, &["housing"],
               &["不动产登记申请书", "身份证明", "房屋竣工验收资料"], "不动产权证书", 620),
            t!("建设用地规划许可证", &["核发", "变更", "延续"], &["用地规划许可"], "01", LEGAL_ALL, &["construction"],
               &["建设用地规划许可申请表", "项目批准文件", "国有土地使用权出让合同"], "建设用地规划许可证", 210),
            t!("建设工程规划许可证", &["核发", "变更", "延续"], &["工程规划许可"], "01", LEGAL_ALL, &["construction"],
               &["建设工程规划许可申请表", "建设工程设计方案", "土地权属证明"], "建设工程规划许可证", 230),
            t!("农村村民宅基地", &["审批", "使用权登记"], &["宅基地审批", "农村建房审批"], "01", PERSON, &["housing", "agriculture"],
               &["农村宅基地和建房（规划许可）申请表", "户口簿", "村民小组会议记录"], "乡村建设规划许可证", 380),
            t!("采矿许可证", &["新立", "延续", "变更", "注销"], &["采矿权登记"], "01", LEGAL, &["business-operation"],
               &["采矿权申请登记书", "矿产资源开发利用方案", "矿区范围图"], "采矿许可证", 40),
        ],
    },
    Dept {
        name: "住房和城乡建设局",
        law: "《中华人民共和国建筑法》第七条、《建筑工程施工许可管理办法》第二条",
        province_only: false,
        templates: &[
            t!("建筑工程施工许可证", &["核发", "变更", "延期"], &["施工许可", "施工许可证办理"], "01", LEGAL_ALL, &["construction"],
               &["建筑工程施工许可证申请表", "建设工程规划许可证", "施工合同", "施工图审查合格书"], "建筑工程施工许可证", 420),
            t!("商品房预售许可", &["", "变更"], &["预售证", "商品房预售许可证"], "01", LEGAL, &["housing", "construction"],
               &["商品房预售许可申请表", "建设工程规划许可证", "施工进度证明"], "商品房预售许可证", 260),
            t!("建设工程消防验收", &["", "备案"], &["消防验收"], "01", LEGAL_ALL, &["construction", "safety"],
               &["消防验收申请表", "工程竣工验收报告", "消防设施检测报告"], "消防验收意见书", 300),
            t!("建筑业企业资质", &["核准", "延续", "变更"], &["建筑资质"], "01", LEGAL, &["construction", "qualification"],
               &["建筑业企业资质申请表", "营业执照", "技术负责人证明材料"], "建筑业企业资质证书", 180),
            t!("公共租赁住房", &["申请", "资格复核"], &["公租房申请", "保障房申请"], "20", PERSON, &["housing", "assistance"],
               &["公共租赁住房申请表", "居民身份证", "收入证明", "住房情况证明"], "资格审核结果", 480),
        ],
    },
    Dept {
        name: "住房公积金管理中心",
        law: "《住房公积金管理条例》第二十四条",
        province_only: false,
        templates: &[
            t!("住房公积金", &["提取", "缴存登记", "个人账户转移", "贷款申请", "贷款提前还款", "缴存基数调整"], &["公积金"], "20", ANYONE, &["housing"],
               &["居民身份证", "住房公积金提取申请表", "购房合同或租房证明"], "办理结果", 990),
        ],
    },
    Dept {
        name: "交通运输局",
        law: "《中华人民共和国道路运输条例》第八条、《网络预约出租汽车经营服务管理暂行办法》",
        province_only: false,
        templates: &[
            t!("道路运输经营许可证", &["核发", "变更", "延续", "注销"], &["道路运输许可"], "01", LEGAL, &["transport", "business-operation"],
               &["道路运输经营申请表", "营业执照", "车辆技术等级评定证明", "驾驶人员从业资格证"], "道路运输经营许可证", 260),
            t!("网络预约出租汽车运输证", &["核发", "变更", "注销"], &["网约车运输证", "网约车车辆证"], "01", ANYONE, &["transport"],
               &["网约车运输证申请表", "机动车行驶证", "车辆保险单"], "网络预约出租汽车运输证", 380),
            t!("网络预约出租汽车驾驶员证", &["核发", "补发", "注销"], &["网约车驾驶员证", "网约车司机证"], "01", PERSON, &["transport", "qualification"],
               &["网约车驾驶员证申请表", "机动车驾驶证", "无犯罪记录证明"], "网络预约出租汽车驾驶员证", 410),
            t!("道路运输从业人员从业资格", &["考试", "换证", "补证"], &["从业资格证"], "05", PERSON, &["transport", "qualification"],
               &["从业资格申请表", "机动车驾驶证", "近期免冠照片"], "道路运输从业资格证", 300),
            t!("公路超限运输", &["许可"], &["超限运输许可", "大件运输许可"], "01", LEGAL, &["transport"],
               &["超限运输申请表", "车辆行驶证", "货物说明"], "超限运输车辆通行证", 90),
        ],
    },
    Dept {
        name: "生态环境局",
        law: "《中华人民共和国环境影响评价法》第二十二条、《排污许可管理条例》第三条",
        province_only: false,
        templates: &[
            t!("建设项目环境影响报告书审批", &[""], &["环评审批", "环评报告书审批"], "01", LEGAL_ALL, &["environment", "construction"],
               &["环境影响报告书", "建设项目环评审批申请表"], "环评批复", 260),
            t!("建设项目环境影响报告表审批", &[""], &["环评审批", "环评报告表审批"], "01", LEGAL_ALL, &["environment", "construction"],
               &["环境影响报告表", "建设项目环评审批申请表"], "环评批复", 300),
            t!("排污许可证", &["核发", "变更", "延续", "注销"], &["排污许可"], "01", LEGAL, &["environment"],
               &["排污许可证申请表", "自行监测方案", "守法承诺书"], "排污许可证", 240),
            t!("危险废物经营许可证", &["核发", "变更", "延续"], &["危废经营许可"], "01", LEGAL, &["environment"],
               &["危险废物经营许可申请书", "污染防治设施说明", "技术人员证明"], "危险废物经营许可证", 70),
        ],
    },
    Dept {
        name: "水利局",
        law: "《中华人民共和国水法》第四十八条、《取水许可和水资源费征收管理条例》",
        province_only: false,
        templates: &[
            t!("取水许可", &["", "变更", "延续"], &["取水许可证"], "01", LEGAL_ALL, &["environment"],
               &["取水许可申请书", "建设项目水资源论证报告", "取水工程设计文件"], "取水许可证", 100),
            t!("生产建设项目水土保持方案审批", &[""], &["水保方案审批"], "01", LEGAL_ALL, &["environment", "construction"],
               &["水土保持方案报告书", "审批申请文件"], "水土保持方案批复", 90),
            t!("河道管理范围内建设项目工程建设方案审批", &[""], &["涉河建设项目审批"], "01", LEGAL_ALL, &["construction"],
               &["建设项目申请书", "防洪评价报告"], "批复文件", 50),
        ],
    },
    Dept {
        name: "民政局",
        law: "《社会救助暂行办法》第九条、《婚姻登记条例》第四条",
        province_only: false,
        templates: &[
            t!("最低生活保障", APPLY, &["低保", "低保申请"], "04", PERSON, &["assistance"],
               &["最低生活保障申请书", "居民身份证", "户口簿", "家庭收入及财产状况说明"], "低保审核确认结果", 700),
            t!("特困人员救助供养", APPLY, &["特困供养", "五保"], "04", PERSON, &["assistance"],
               &["特困人员救助供养申请书", "居民身份证", "户口簿"], "特困人员认定结果", 350),
            t!("临时救助", &["申请", "审批"], &["临时困难救助"], "04", PERSON, &["assistance"],
               &["临时救助申请书", "居民身份证", "困难情况证明"], "救助决定", 400),
            t!("内地居民婚姻登记", &["（结婚登记）", "（离婚登记）", "（补领婚姻登记证）"], &["结婚登记", "离婚登记", "领结婚证"], "05", PERSON, &["marriage"],
               &["居民身份证", "户口簿", "近期半身免冠合影照片"], "结婚证", 850),
            t!("困难残疾人生活补贴和重度残疾人护理补贴", &["申请", "资格认定"], &["残疾人两项补贴"], "04", PERSON, &["disability", "assistance"],
               &["残疾人证", "居民身份证", "补贴申请审批表"], "补贴核定结果", 330),
            t!("社会团体", &["成立登记", "变更登记", "注销登记"], &["社团登记"], "05", ORGS, &["business-setup"],
               &["社会团体登记申请书", "章程草案", "验资报告", "住所使用权证明"], "社会团体法人登记证书", 90),
            t!("高龄津贴", &["申领"], &["高龄补贴", "老年人补贴"], "04", PERSON, &["pension", "assistance"],
               &["居民身份证", "户口簿", "银行账户信息"], "津贴发放结果", 420),
        ],
    },
    Dept {
        name: "卫生健康委员会",
        law: "《中华人民共和国医师法》第十三条、《医疗机构管理条例》第九条",
        province_only: false,
        templates: &[
            t!("医师执业注册", &["", "变更", "注销", "多机构备案"], &["医师注册"], "01", PERSON, &["qualification", "medical"],
               &["医师执业注册申请审核表", "医师资格证书", "健康体检证明"], "医师执业证书", 310),
            t!("护士执业注册", &["首次注册", "变更注册", "延续注册"], &["护士注册"], "01", PERSON, &["qualification", "medical"],
               &["护士执业注册申请审核表", "护士执业资格考试成绩合格证明", "健康体检证明"], "护士执业证书", 300),
            t!("医疗机构执业登记", &["", "变更", "校验", "注销"], &["诊所执业登记", "医疗机构执业许可"], "01", LEGAL_ALL, &["medical", "business-operation"],
               &["医疗机构执业登记申请书", "设置医疗机构批准书", "房屋产权证明"], "医疗机构执业许可证", 200),
            t!("出生医学证明", &["首次签发", "补发", "换发"], &["出生证"], "20", PERSON, &["birth"],
               &["父母居民身份证", "分娩记录"], "出生医学证明", 640),
            t!("公共场所卫生许可", &["", "变更", "延续"], &["卫生许可证"], "01", LEGAL, &["business-operation"],
               &["公共场所卫生许可申请表", "营业执照", "卫生检测报告"], "公共场所卫生许可证", 260),
        ],
    },
    Dept {
        name: "教育局",
        law: "《中华人民共和国民办教育促进法》第十二条、《教师资格条例》",
        province_only: false,
        templates: &[
            t!("民办学校办学许可", &["设立", "变更", "终止"], &["办学许可证", "民办学校设立审批"], "01", ORGS, &["schooling"],
               &["申办报告", "举办者资格证明", "校长及教师资格证明", "办学场所证明"], "民办学校办学许可证", 120),
            t!("教师资格认定", &[""], &["教资认定"], "05", PERSON, &["qualification", "schooling"],
               &["教师资格认定申请表", "学历证书", "普通话水平测试等级证书", "体检表"], "教师资格证书", 520),
            t!("义务教育阶段学生转学", &[""], &["转学申请"], "20", PERSON, &["schooling"],
               &["转学申请表", "户口簿", "学籍信息"], "转学办理结果", 430),
        ],
    },
    Dept {
        name: "文化旅游广电局",
        law: "《旅行社条例》第六条、《娱乐场所管理条例》第九条",
        province_only: false,
        templates: &[
            t!("旅行社设立许可", &[""], &["旅行社经营许可", "开旅行社"], "01", LEGAL, &["culture-tourism", "business-setup"],
               &["旅行社设立申请书", "营业执照", "经营场所证明", "质量保证金存缴证明"], "旅行社业务经营许可证", 90),
            t!("娱乐场所经营活动审批", &["", "变更"], &["歌舞厅许可", "KTV许可"], "01", LEGAL, &["culture-tourism", "business-operation"],
               &["娱乐场所经营申请书", "营业执照", "消防验收意见"], "娱乐经营许可证", 80),
            t!("营业性演出审批", &[""], &["演出审批"], "01", LEGAL_ALL, &["culture-tourism"],
               &["营业性演出申请表", "演出合同", "演员身份证明"], "批准文件", 100),
        ],
    },
    Dept {
        name: "应急管理局",
        law: "《危险化学品安全管理条例》第三十三条、《烟花爆竹安全管理条例》第十九条",
        province_only: false,
        templates: &[
            t!("危险化学品经营许可证", &["核发", "变更", "延续"], &["危化品经营许可"], "01", LEGAL, &["safety", "business-operation"],
               &["危险化学品经营许可证申请表", "营业执照", "安全管理制度", "安全评价报告"], "危险化学品经营许可证", 120),
            t!("烟花爆竹经营（零售）许可证", &["核发", "延续", "变更"], &["烟花爆竹零售许可", "卖烟花许可"], "01", &["1", "2", "5"], &["safety", "business-operation"],
               &["烟花爆竹经营（零售）许可申请书", "零售场所证明", "安全管理人员培训合格证明"], "烟花爆竹经营（零售）许可证", 150),
            t!("特种作业操作证", &["申领", "复审", "补发"], &["电工证", "焊工证"], "05", PERSON, &["qualification", "safety"],
               &["特种作业操作证申请表", "学历证明", "体检证明"], "特种作业操作证", 330),
        ],
    },
    Dept {
        name: "林业局",
        law: "《中华人民共和国森林法》第五十六条",
        province_only: false,
        templates: &[
            t!("林木采伐许可证", &["核发"], &["砍树审批", "采伐证"], "01", ANYONE, &["agriculture", "environment"],
               &["林木采伐申请书", "林木权属证明", "伐区调查设计"], "林木采伐许可证", 140),
            t!("使用林地审核同意书", &[""], &["占用林地审批"], "01", LEGAL_ALL, &["construction", "environment"],
               &["使用林地申请表", "项目批准文件", "使用林地可行性报告"], "使用林地审核同意书", 60),
        ],
    },
    Dept {
        name: "农业农村局",
        law: "《中华人民共和国动物防疫法》第二十四条、《农药管理条例》第二十四条",
        province_only: false,
        templates: &[
            t!("动物防疫条件合格证", &["核发", "变更", "补发"], &["防疫合格证"], "01", &["1", "2", "5"], &["agriculture"],
               &["动物防疫条件审查申请表", "场所平面图", "动物防疫制度"], "动物防疫条件合格证", 100),
            t!("农药经营许可证", &["核发", "变更", "延续"], &["农药许可"], "01", &["1", "2", "5"], &["agriculture", "business-operation"],
               &["农药经营许可申请表", "营业执照", "经营场所证明"], "农药经营许可证", 90),
            t!("农作物种子生产经营许可证", &["核发", "变更", "延续"], &["种子许可证"], "01", LEGAL, &["agriculture"],
               &["种子生产经营许可申请表", "营业执照", "种子检验设施证明"], "种子生产经营许可证", 70),
        ],
    },
    Dept {
        name: "残疾人联合会",
        law: "《中华人民共和国残疾人保障法》第三十九条、《中华人民共和国残疾人证管理办法》",
        province_only: false,
        templates: &[
            t!("残疾人证", &["新办", "换领", "迁移", "补办", "注销"], &["残疾证"], "20", PERSON, &["disability"],
               &["居民身份证", "户口簿", "近期免冠照片", "残疾评定材料"], "中华人民共和国残疾人证", 560),
        ],
    },
    Dept {
        name: "税务局",
        law: "《中华人民共和国税收征收管理法》第十五条",
        province_only: false,
        templates: &[
            t!("发票", &["领用", "代开", "验旧"], &["领发票", "代开发票"], "20", ANYONE, &["tax"],
               &["经办人身份证明", "发票领用簿"], "发票", 780),
            t!("个人所得税", &["综合所得年度汇算", "完税证明开具"], &["个税汇算", "个税"], "20", PERSON, &["tax"],
               &["居民身份证", "收入证明"], "办理结果", 820),
            t!("纳税人", &["信息报告", "税务注销"], &["税务登记"], "20", LEGAL, &["tax", "business-setup"],
               &["营业执照", "法定代表人身份证明"], "税务事项通知书", 500),
        ],
    },
    Dept {
        name: "商务局",
        law: "《中华人民共和国对外贸易法》第九条、《单用途商业预付卡管理办法（试行）》",
        province_only: false,
        templates: &[
            t!("对外贸易经营者备案登记", &["", "变更"], &["外贸备案", "进出口权备案"], "10", LEGAL, &["business-operation"],
               &["对外贸易经营者备案登记表", "营业执照"], "备案登记表", 160),
            t!("二手车交易市场经营者备案", &[""], &["二手车备案"], "10", LEGAL, &["business-operation", "transport"],
               &["备案表", "营业执照", "经营场所证明"], "备案回执", 50),
            t!("酒类商品零售经营", &["备案"], &["卖酒备案", "酒类零售许可"], "10", &["1", "2", "5"], &["business-operation"],
               &["酒类零售备案表", "营业执照"], "备案回执", 110),
        ],
    },
    Dept {
        name: "发展和改革委员会",
        law: "《企业投资项目核准和备案管理条例》第三条、《固定资产投资项目节能审查办法》",
        province_only: true,
        templates: &[
            t!("企业投资项目", &["核准", "备案", "变更"], &["投资项目备案", "项目核准"], "01", LEGAL, &["construction", "business-operation"],
               &["项目申请报告", "城乡规划选址意见", "用地预审意见"], "核准文件", 190),
            t!("固定资产投资项目节能审查", &[""], &["节能审查"], "01", LEGAL_ALL, &["construction"],
               &["节能报告", "项目审查申请"], "节能审查意见", 80),
        ],
    },
];

/// Qualifiers some items carry (情形): the same item for a narrower situation or channel.
const QUALIFIERS: &[&str] = &[
    "（告知承诺制）", "（跨省通办）", "（全省通办）", "（一件事一次办）", "（首次申请）",
    "（委托代办）", "（容缺受理）", "（网上办理）", "（个人）", "（单位）", "（港澳台居民）",
    "（外籍人员）", "（现役军人）", "（分支机构）", "（农民专业合作社）",
];

const CHANNELS: &[&str] = &[
    "湖南政务服务网", "“湘易办”移动端", "政务服务中心综合窗口", "便民服务中心", "自助终端",
];

const NOTES: &[&str] = &[
    "申请人应对所提交材料的真实性负责",
    "材料不全的，一次性告知需补正的全部内容",
    "可选择邮寄送达或窗口领取办理结果",
    "符合条件的可实行告知承诺制，当场办结",
    "办理过程中可通过“好差评”系统对服务进行评价",
    "涉及现场勘查、专家评审的时间不计入办理时限",
    "已实现电子证照共享的材料免于提交",
];

/// GB 11714 check character of an 8-character organisation code body.
fn org_check(body: &[u8; 8]) -> char {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .iter()
        .zip(W)
        .map(|(&c, w)| (char::from(c).to_digit(36).unwrap_or(0)) * w)
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10).unwrap_or('0'),
    }
}

/// GB 32100 check character of the first 17 characters of a unified social credit code.
fn credit_check(first17: &str) -> char {
    const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [usize; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
    let sum: usize = first17
        .bytes()
        .zip(W)
        .map(|(c, w)| CHARS.iter().position(|&x| x == c).unwrap_or(0) * w)
        .sum();
    let v = (31 - sum % 31) % 31;
    CHARS.get(v).map_or('0', |&c| char::from(c))
}

/// The unified social credit code of department `dept` in region `region` (a 机关 code, 11…).
pub fn department_code(region: &str, dept: usize) -> String {
    let region_num: u32 = region.parse().unwrap_or(0);
    let serial = format!("{:06}", (region_num % 10_000) * 100 + (dept as u32 % 100));
    let mut body = [b'0'; 8];
    for (slot, b) in body.iter_mut().skip(2).zip(serial.bytes()) {
        *slot = b;
    }
    let org: String = body.iter().map(|&b| char::from(b)).chain([org_check(&body)]).collect();
    let first17 = format!("11{region}{org}");
    format!("{first17}{}", credit_check(&first17))
}

fn region_name(code: &str) -> &'static str {
    REGIONS.iter().find(|r| r.0 == code).map_or("", |r| r.1)
}

fn region_path(code: &str) -> Vec<String> {
    let mut path = Vec::new();
    let mut cur = code;
    while let Some(r) = REGIONS.iter().find(|r| r.0 == cur) {
        path.push(r.0.to_owned());
        if r.2.is_empty() {
            break;
        }
        cur = r.2;
    }
    path.reverse();
    path
}

fn level_of(code: &str) -> &'static str {
    if code.ends_with("0000") {
        "2"
    } else if code.ends_with("00") {
        "3"
    } else {
        "4"
    }
}

/// Generates `n` items, deterministically from `seed`. Codes are unique.
pub fn generate(n: usize, seed: u64) -> Vec<ItemDoc> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(one(&mut rng, i));
    }
    out
}

fn one(rng: &mut Rng, i: usize) -> ItemDoc {
    // Counties hold most items, as in real catalogues; the province and prefectures fewer.
    let region = loop {
        let code = rng.pick(REGIONS).map_or("430000", |r| r.0);
        let keep = match level_of(code) {
            "2" => 0.6,
            "3" => 0.8,
            _ => 1.0,
        };
        if rng.chance(keep) {
            break code;
        }
    };
    let level = level_of(region);
    let (dept_idx, dept) = loop {
        let d = rng.below(DEPTS.len());
        if let Some(dept) = DEPTS.get(d) {
            if !dept.province_only || level != "4" {
                break (d, dept);
            }
        }
    };
    let Some(tpl) = rng.pick(dept.templates) else {
        return ItemDoc { code: format!("{i:031}"), ..ItemDoc::default() };
    };
    let action = rng.pick(tpl.actions).copied().unwrap_or("");
    let mut name = format!("{}{}", tpl.subject, action);
    if rng.chance(0.35) {
        if let Some(q) = rng.pick(QUALIFIERS) {
            name.push_str(q);
        }
    }
    let mut aliases: Vec<String> = Vec::new();
    for a in tpl.aliases {
        if rng.chance(0.7) {
            let alias = if action.starts_with('（') || action.is_empty() || a.chars().count() > 4 {
                (*a).to_owned()
            } else {
                format!("{a}{action}")
            };
            if !aliases.contains(&alias) {
                aliases.push(alias);
            }
        }
    }
    let region_label = region_name(region);
    let dept_label = if level == "2" {
        // Provincial counterparts of most bureaus are departments (厅).
        let stays = ["市场监督管理局", "医疗保障局", "林业局", "税务局", "住房公积金管理中心"];
        if stays.contains(&dept.name) {
            format!("湖南省{}", dept.name)
        } else {
            format!("湖南省{}", dept.name.replace('局', "厅"))
        }
    } else {
        format!("{region_label}{}", dept.name)
    };
    let mut materials: Vec<String> = Vec::new();
    for m in tpl.materials {
        if materials.is_empty() || rng.chance(0.75) {
            materials.push((*m).to_owned());
        }
    }
    if tpl.objects.iter().any(|o| *o != "1") && rng.chance(0.5) {
        materials.push("授权委托书".to_owned());
    }
    let channel = rng.pick(CHANNELS).copied().unwrap_or("");
    let note = rng.pick(NOTES).copied().unwrap_or("");
    let days = 1 + rng.below(20);
    let body = format!(
        "【受理条件】申请人符合{law}规定条件，申请{name}的，材料齐全、符合法定形式。\
         【办理流程】申请人通过{channel}提交申请，{dept_label}受理后进行审查，{days}个工作日内作出决定。\
         【办理结果】{result}。【注意事项】{note}；{region_label}范围内办理本事项不收费。",
        law = dept.law.split('、').next().unwrap_or(dept.law),
        result = tpl.result,
    );
    let mut themes: Vec<String> = tpl.themes.iter().map(|t| (*t).to_owned()).collect();
    if rng.chance(0.1) {
        if let Some(t) = rng.pick(THEMES) {
            if !themes.iter().any(|x| x == t) {
                themes.push((*t).to_owned());
            }
        }
    }
    let mut objects: Vec<String> = tpl.objects.iter().map(|o| (*o).to_owned()).collect();
    if objects.len() > 1 && rng.chance(0.3) {
        objects.truncate(1 + rng.below(objects.len()));
    }
    let scope = match rng.below(100) {
        0..40 => "0",
        40..60 => "1",
        60..80 => "2",
        80..95 => "3",
        _ => "4",
    };
    let level_factor = match level {
        "2" => 1.0,
        "3" => 0.6,
        _ => 0.3,
    };
    let noise = 0.5 + rng.below(1000) as f64 / 1000.0;
    let popularity = (f64::from(tpl.popularity) * level_factor * noise) as u32 + rng.below(10) as u32;
    let department = department_code(region, dept_idx);
    ItemDoc {
        code: format!("{department}{:02}{:011}", tpl.item_type, i),
        name,
        aliases,
        body,
        materials,
        legal_basis: dept.law.to_owned(),
        department,
        department_name: dept_label,
        region: region.to_owned(),
        region_path: region_path(region),
        level: level.to_owned(),
        item_type: tpl.item_type.to_owned(),
        service_objects: objects,
        themes,
        online: rng.chance(0.8),
        scope: scope.to_owned(),
        popularity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_unique_and_well_formed() {
        let a = generate(2000, 7);
        assert_eq!(a, generate(2000, 7));
        let codes: std::collections::HashSet<_> = a.iter().map(|d| &d.code).collect();
        assert_eq!(codes.len(), a.len());
        for d in &a {
            assert_eq!(d.code.chars().count(), 31, "{}", d.code);
            assert_eq!(d.department.len(), 18);
            assert_eq!(d.region_path.last(), Some(&d.region));
            assert_eq!(d.region_path.first().map(String::as_str), Some("430000"));
        }
    }

    #[test]
    fn credit_code_check_characters() {
        // A published example code: 91350100M000100Y43 (GB 32100 check '3').
        assert_eq!(credit_check("91350100M000100Y4"), '3');
        assert_eq!(org_check(b"M000100Y"), '4');
    }
}
