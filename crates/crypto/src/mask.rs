//! Display masking of personal data: what a clerk's screen or a receipt shows instead of the
//! full value. Works on characters (Unicode scalar values), never on bytes, keeps the length,
//! and replaces what is hidden by `*`; a value too short to show part of is all stars.

/// Keeps the first `head` and last `tail` characters when the value has at least `min`
/// characters, stars everything else; below `min`, stars everything.
fn keep(value: &str, head: usize, tail: usize, min: usize) -> String {
    let n = value.chars().count();
    if n < min || n < head + tail {
        return "*".repeat(n);
    }
    value
        .chars()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { c } else { '*' })
        .collect()
}

/// 居民身份证号码: the first 4 and last 4 characters for 9 or more characters,
/// `"430102199001011234"` → `"4301**********1234"`; 15-digit numbers alike.
pub fn mask_id_number(value: &str) -> String {
    keep(value, 4, 4, 9)
}

/// Mobile phone number: the first 3 and last 4 for 8 or more characters,
/// `"13812345678"` → `"138****5678"`.
pub fn mask_phone(value: &str) -> String {
    keep(value, 3, 4, 8)
}

/// A person's name: `"张三"` → `"张*"`, `"李小明"` → `"李*明"`, `"欧阳娜娜"` → `"欧**娜"`; one
/// character → `"*"`.
pub fn mask_name(value: &str) -> String {
    match value.chars().count() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => keep(value, 1, 0, 2),
        _ => keep(value, 1, 1, 3),
    }
}

/// 统一社会信用代码: the first 6 (registration authority, organisation type, region) and the last
/// 4 for 11 or more characters, `"91430100MA4L1234XY"` → `"914301********34XY"`.
pub fn mask_credit_code(value: &str) -> String {
    keep(value, 6, 4, 11)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        assert_eq!(mask_id_number("430102199001011234"), "4301**********1234");
        assert_eq!(mask_id_number("43010219900101X"), "4301*******101X");
        assert_eq!(mask_id_number("12345678"), "********");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("1381234"), "*******");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧**娜");
        assert_eq!(mask_name("李小明"), "李*明");
        assert_eq!(mask_name("王"), "*");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_credit_code("91430100MA4L1234XY"), "914301********34XY");
        assert_eq!(mask_credit_code("9143010"), "*******");
    }
}
