//! Identity terms the other models refer to: the real-name level (实名等级) an applicant has
//! and an item requires.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A real-name level, stored and exchanged as the number 1, 2 or 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum RealNameLevel {
    /// 基础实名: the ID number is well-formed and the phone confirmed.
    #[default]
    L1 = 1,
    /// 人口库核验: name and ID number match the population library.
    L2 = 2,
    /// 窗口核验: verified in person at a window.
    L3 = 3,
}

impl RealNameLevel {
    /// Every level, lowest first.
    pub const ALL: [RealNameLevel; 3] = [RealNameLevel::L1, RealNameLevel::L2, RealNameLevel::L3];

    /// From its number; anything but 2 or 3 is L1.
    pub fn from_i64(n: i64) -> RealNameLevel {
        match n {
            3 => RealNameLevel::L3,
            2 => RealNameLevel::L2,
            _ => RealNameLevel::L1,
        }
    }

    /// From its number, if it is 1, 2 or 3.
    pub fn parse(n: i64) -> Option<RealNameLevel> {
        (1..=3).contains(&n).then(|| RealNameLevel::from_i64(n))
    }

    /// Its number.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            RealNameLevel::L1 => "L1 基础实名（格式校验）",
            RealNameLevel::L2 => "L2 人口库核验",
            RealNameLevel::L3 => "L3 窗口现场核验",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            RealNameLevel::L1 => "L1 basic (format checked)",
            RealNameLevel::L2 => "L2 verified against the population register",
            RealNameLevel::L3 => "L3 verified in person",
        }
    }

    /// How to reach this level, in Chinese.
    pub fn how_zh(self) -> &'static str {
        match self {
            RealNameLevel::L1 => "注册并验证手机号即可。",
            RealNameLevel::L2 => "在“我的账号”中发起人口库核验：姓名和身份证号码须与户籍登记一致。",
            RealNameLevel::L3 => "携带居民身份证到任一政务服务大厅窗口，由工作人员现场核验。",
        }
    }

    /// How to reach this level, in English.
    pub fn how_en(self) -> &'static str {
        match self {
            RealNameLevel::L1 => "Register and confirm your mobile number.",
            RealNameLevel::L2 => {
                "Under My account, ask for the population-register check: your name and ID number must match the register."
            }
            RealNameLevel::L3 => {
                "Bring your ID card to any service hall window to be verified in person."
            }
        }
    }
}

impl Serialize for RealNameLevel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.number())
    }
}

impl<'de> Deserialize<'de> for RealNameLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        RealNameLevel::parse(n).ok_or_else(|| {
            serde::de::Error::custom(format!("real-name level {n} is not 1, 2 or 3"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_order() {
        for l in RealNameLevel::ALL {
            assert_eq!(RealNameLevel::parse(i64::from(l.number())), Some(l));
            let json = serde_json::to_string(&l).unwrap();
            assert_eq!(serde_json::from_str::<RealNameLevel>(&json).unwrap(), l);
        }
        assert!(RealNameLevel::L1 < RealNameLevel::L3);
        assert!(serde_json::from_str::<RealNameLevel>("4").is_err());
        assert_eq!(RealNameLevel::parse(0), None);
    }
}
