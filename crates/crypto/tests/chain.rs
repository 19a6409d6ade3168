//! The audit hash chain: any change to a record, a deletion or a reordering is found at the
//! right entry.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use yiwang_crypto::chain::{self, GENESIS};

/// Builds `(hash, record)` entries for the records.
fn build(records: &[Vec<u8>]) -> Vec<(String, Vec<u8>)> {
    let mut prev = GENESIS.to_owned();
    records
        .iter()
        .map(|r| {
            let h = chain::link(&prev, r);
            prev = h.clone();
            (h, r.clone())
        })
        .collect()
}

fn check(entries: &[(String, Vec<u8>)]) -> Result<(), chain::ChainBreak> {
    chain::verify(entries.iter().map(|(h, r)| (h.as_str(), r.as_slice())))
}

fn records() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..12)
}

proptest! {
    #[test]
    fn intact_chain_verifies(recs in records()) {
        let entries = build(&recs);
        prop_assert!(check(&entries).is_ok());
        prop_assert_eq!(
            chain::head(recs.iter().map(Vec::as_slice)),
            entries.last().unwrap().0.clone()
        );
    }

    #[test]
    fn any_byte_change_is_found_at_its_entry(
        recs in records(),
        which in any::<prop::sample::Index>(),
        pos in any::<prop::sample::Index>(),
        delta in 1u8..=255,
    ) {
        let mut entries = build(&recs);
        let i = which.index(entries.len());
        let rec = &mut entries[i].1;
        if rec.is_empty() {
            rec.push(delta);
        } else {
            let p = pos.index(rec.len());
            rec[p] = rec[p].wrapping_add(delta);
        }
        let err = check(&entries).unwrap_err();
        prop_assert_eq!(err.index, i);
        prop_assert_eq!(err.found, entries[i].0.clone());
    }

    #[test]
    fn a_deleted_entry_is_found_where_it_was(recs in records(), which in any::<prop::sample::Index>()) {
        prop_assume!(recs.len() >= 2);
        let mut entries = build(&recs);
        // Deleting the last entry leaves a valid shorter chain: that is what checkpoints of
        // the head are for (see `chain::head`).
        let i = which.index(entries.len() - 1);
        entries.remove(i);
        prop_assert_eq!(check(&entries).unwrap_err().index, i);
    }

    #[test]
    fn a_reordering_is_found_at_the_first_moved_entry(
        recs in records(),
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
    ) {
        let mut entries = build(&recs);
        let (i, j) = (a.index(entries.len()), b.index(entries.len()));
        prop_assume!(i != j && entries[i] != entries[j]);
        entries.swap(i, j);
        prop_assert_eq!(check(&entries).unwrap_err().index, i.min(j));
    }

    #[test]
    fn a_changed_stored_hash_is_found(recs in records(), which in any::<prop::sample::Index>()) {
        let mut entries = build(&recs);
        let i = which.index(entries.len());
        entries[i].0 = chain::link("tampered", &entries[i].1);
        prop_assert_eq!(check(&entries).unwrap_err().index, i);
    }
}

#[test]
fn segments_verify_from_a_checkpoint() {
    let recs: Vec<Vec<u8>> = (0..5).map(|i| format!("record {i}").into_bytes()).collect();
    let entries = build(&recs);
    let tail = &entries[2..];
    let head = chain::verify_from(
        &entries[1].0,
        tail.iter().map(|(h, r)| (h.as_str(), r.as_slice())),
    )
    .unwrap();
    assert_eq!(head, entries[4].0);
    let err = chain::verify_from(
        GENESIS,
        tail.iter().map(|(h, r)| (h.as_str(), r.as_slice())),
    )
    .unwrap_err();
    assert_eq!(err.index, 0);
    assert!(err.to_string().contains("entry 0"));
}
