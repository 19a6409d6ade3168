//! The audit log's hash chain with SM3.
//!
//! Entry `i` stores `hash_i = hex(SM3(hash_{i-1} ‖ 0x00 ‖ record_i))`, where `hash_{i-1}` is the
//! previous entry's stored hash as 64 lower-case hex ASCII characters and `hash_{-1}` is
//! [`GENESIS`]. Changing, deleting or reordering any entry breaks the chain at that entry.
//! Cutting entries off the end does not: keep the latest hash somewhere else too (a periodic
//! checkpoint) and compare it with [`head`] of what is stored.

use sm3::{Digest, Sm3};

/// The "previous hash" of the first entry: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an entry with `record` after an entry whose hash is `prev_hash`:
/// `hex(SM3(prev_hash_ascii ‖ 0x00 ‖ record))`, lower-case.
pub fn link(prev_hash: &str, record: &[u8]) -> String {
    let mut h = Sm3::new();
    h.update(prev_hash.as_bytes());
    h.update([0u8]);
    h.update(record);
    hex::encode(h.finalize())
}

/// Where a chain breaks: the first entry (0-based) whose stored hash is not the one computed
/// from the entry before it and its record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain breaks at entry {index}: expected {expected}, found {found}")]
pub struct ChainBreak {
    /// 0-based position of the first bad entry among those checked.
    pub index: usize,
    /// The hash computed from the previous entry and this record.
    pub expected: String,
    /// The hash stored with this entry.
    pub found: String,
}

/// Checks a whole chain from [`GENESIS`]: `(stored hash, record)` pairs in order.
pub fn verify<'a>(
    records: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<(), ChainBreak> {
    verify_from(GENESIS, records).map(|_| ())
}

/// Checks a segment of a chain that follows an entry whose hash is `prev_hash` (a checkpoint),
/// returning the hash of the segment's last entry (`prev_hash` when it is empty). Indexes in a
/// [`ChainBreak`] count from the segment's start.
pub fn verify_from<'a>(
    prev_hash: &str,
    records: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> Result<String, ChainBreak> {
    let mut prev = prev_hash.to_owned();
    for (index, (stored, record)) in records.into_iter().enumerate() {
        let expected = link(&prev, record);
        if expected != stored {
            return Err(ChainBreak {
                index,
                expected,
                found: stored.to_owned(),
            });
        }
        prev = expected;
    }
    Ok(prev)
}

/// The hash of the chain's last entry, recomputed from the records alone ([`GENESIS`] for none).
pub fn head<'a>(records: impl IntoIterator<Item = &'a [u8]>) -> String {
    records
        .into_iter()
        .fold(GENESIS.to_owned(), |prev, r| link(&prev, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_is_sm3_of_prev_nul_record() {
        // SM3("abc") from GB/T 32905 checks the hash itself; the link formula is spelled out.
        assert_eq!(
            hex::encode(Sm3::digest(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        let mut input = GENESIS.as_bytes().to_vec();
        input.push(0);
        input.extend_from_slice(b"first");
        assert_eq!(link(GENESIS, b"first"), hex::encode(Sm3::digest(&input)));
        assert_eq!(GENESIS.len(), 64);
    }

    #[test]
    fn verify_finds_the_first_break() {
        let recs: [&[u8]; 3] = [b"a", b"b", b"c"];
        let h0 = link(GENESIS, recs[0]);
        let h1 = link(&h0, recs[1]);
        let h2 = link(&h1, recs[2]);
        assert_eq!(head(recs), h2);
        assert!(verify([(h0.as_str(), recs[0]), (&h1, recs[1]), (&h2, recs[2])]).is_ok());
        let err = verify([(h0.as_str(), recs[0]), (&h1, b"B"), (&h2, recs[2])]).unwrap_err();
        assert_eq!(err.index, 1);
        assert_eq!(err.found, h1);
        assert_eq!(verify_from(&h0, [(h1.as_str(), recs[1])]).unwrap(), h1);
        assert!(verify(std::iter::empty()).is_ok());
    }
}
