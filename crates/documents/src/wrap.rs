//! Line breaking of Chinese text: greedy, at character boundaries, measured with the font's
//! advances, with the usual rules of Chinese typesetting (避头尾): closing punctuation such as
//! ，。、；：？！）》 never starts a line and opening punctuation such as （《“ never ends one — the
//! character before is carried to the next line instead. Runs of ASCII letters and digits (case
//! numbers, URLs, licence numbers) break only where they must: when one run alone is wider than
//! the line.

/// Characters that must not start a line.
const NO_LINE_START: &str = "，。、；：？！）》」』】〕〉”’…‥·%‰℃,.;:?!)]}>";
/// Characters that must not end a line.
const NO_LINE_END: &str = "（《「『【〔〈“‘([{<";

/// One wrapped line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WrappedLine {
    /// The text of the line, without the spaces it was broken at.
    pub text: String,
    /// Its width in points.
    pub width: f32,
    /// Whether it is the first line of a paragraph (and so measured against the first width).
    pub first: bool,
}

/// Breaks `text` into lines no wider than `first_width` (first line of each paragraph) and
/// `rest_width` (the others). `advance` gives the width of one character; a newline forces a break. A character
/// wider than the line still gets a line of its own (nothing is ever dropped).
pub(crate) fn wrap(
    text: &str,
    first_width: f32,
    rest_width: f32,
    advance: impl Fn(char) -> f32,
) -> Vec<WrappedLine> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let chars: Vec<char> = paragraph
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let widths: Vec<f32> = chars.iter().map(|&c| advance(c)).collect();
        let mut start = 0;
        loop {
            // Spaces a line was broken at are not carried to the start of the next one.
            if start > 0 {
                while start < chars.len() && chars[start] == ' ' {
                    start += 1;
                }
            }
            if start >= chars.len() {
                if start == 0 {
                    lines.push(WrappedLine {
                        text: String::new(),
                        width: 0.0,
                        first: true,
                    });
                }
                break;
            }
            let avail = if start == 0 { first_width } else { rest_width };
            let end = line_end(&chars, &widths, start, avail, rest_width);
            let mut stop = end;
            while stop > start + 1 && chars[stop - 1] == ' ' {
                stop -= 1;
            }
            lines.push(WrappedLine {
                text: chars[start..stop].iter().collect(),
                width: widths[start..stop].iter().sum(),
                first: start == 0,
            });
            start = end;
        }
    }
    lines
}

/// Where the line starting at `start` ends (exclusive); the next line is `next_avail` wide.
fn line_end(chars: &[char], widths: &[f32], start: usize, avail: f32, next_avail: f32) -> usize {
    let mut width = 0.0;
    let mut end = start;
    while end < chars.len() && (end == start || width + widths[end] <= avail + 0.01) {
        width += widths[end];
        end += 1;
    }
    if end == chars.len() {
        return end;
    }
    // `end` does not fit: break at the last allowed position after `start`...
    let Some(b) = (start + 1..=end)
        .rev()
        .find(|&b| may_break_before(chars, b))
    else {
        return end;
    };
    // ...unless what would move down is a run too long for the next line anyway (a long URL):
    // then fill this line and cut the run where it must be cut.
    let mut run = b;
    while run < chars.len() && is_word(chars[run]) {
        run += 1;
    }
    if run > b && widths[b..run].iter().sum::<f32>() > next_avail + 0.01 {
        end
    } else {
        b
    }
}

/// Whether a line may end just before `chars[i]`.
fn may_break_before(chars: &[char], i: usize) -> bool {
    let (prev, next) = (chars[i - 1], chars[i]);
    if next == ' ' || prev == ' ' {
        return true;
    }
    if NO_LINE_START.contains(next) || NO_LINE_END.contains(prev) {
        return false;
    }
    // Inside a run of ASCII letters, digits and URL punctuation.
    !(is_word(prev) && is_word(next))
}

fn is_word(c: char) -> bool {
    c.is_ascii_graphic()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CJK one em, ASCII half an em, at size 1.
    fn adv(c: char) -> f32 {
        if c.is_ascii() { 0.5 } else { 1.0 }
    }

    fn texts(lines: &[WrappedLine]) -> Vec<&str> {
        lines.iter().map(|l| l.text.as_str()).collect()
    }

    #[test]
    fn breaks_chinese_at_any_character() {
        let lines = wrap("一二三四五六七", 3.0, 3.0, adv);
        assert_eq!(texts(&lines), ["一二三", "四五六", "七"]);
        assert_eq!(lines[0].width, 3.0);
    }

    #[test]
    fn closing_punctuation_never_starts_a_line() {
        // "三" fits on the first line but "，" would then start the second: carry "三" along.
        let lines = wrap("一二三，四五", 3.0, 3.0, adv);
        assert_eq!(texts(&lines), ["一二", "三，四", "五"]);
        for l in &lines {
            let first = l.text.chars().next().unwrap();
            assert!(!NO_LINE_START.contains(first), "{lines:?}");
        }
    }

    #[test]
    fn opening_punctuation_never_ends_a_line() {
        let lines = wrap("一二《三》", 3.0, 3.0, adv);
        assert_eq!(texts(&lines), ["一二", "《三》"]);
    }

    #[test]
    fn ascii_runs_stay_together_unless_too_long() {
        let lines = wrap("访问abcd", 3.0, 3.0, adv);
        assert_eq!(texts(&lines), ["访问", "abcd"]);
        let lines = wrap("abcdefghij", 2.0, 2.0, adv);
        assert_eq!(texts(&lines), ["abcd", "efgh", "ij"]);
        // A run longer than a line starts where it is rather than on a line of its own.
        let lines = wrap("访问abcdefghij", 3.0, 3.0, adv);
        assert_eq!(texts(&lines), ["访问ab", "cdefgh", "ij"]);
    }

    #[test]
    fn first_line_can_be_narrower_and_newlines_break() {
        let lines = wrap("一二三四五\n六七八", 2.0, 3.0, adv);
        assert_eq!(texts(&lines), ["一二", "三四五", "六七", "八"]);
        assert!(lines[2].first && !lines[3].first);
    }

    #[test]
    fn spaces_at_breaks_are_dropped_and_empty_text_is_one_line() {
        let lines = wrap("ab cd", 1.5, 1.5, adv);
        assert_eq!(texts(&lines), ["ab", "cd"]);
        assert_eq!(texts(&wrap("", 3.0, 3.0, adv)), [""]);
    }
}
