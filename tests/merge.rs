//! `fsim merge`: all shards of one split, each once, or an error.

use fsim::explore::Summary;

fn part(shard: &str, runs: u64) -> Summary {
    Summary {
        scenario: "s".into(),
        scenario_hash: "00".into(),
        strategy: "random".into(),
        seeds: [0, 100],
        shards: vec![shard.into()],
        runs,
        found: 0,
        steps: runs,
        first_found: None,
        first_unexpected: None,
        interrupted: false,
    }
}

#[test]
fn complete_shards_merge() {
    let m = Summary::merge(&[part("0/2", 50), part("1/2", 50)]).unwrap();
    assert_eq!((m.len(), m[0].runs), (1, 100));
}

#[test]
fn incomplete_overlapping_duplicate_and_wrapping_shards_are_refused() {
    let e = Summary::merge(&[part("0/4", 25), part("1/4", 25)]).unwrap_err();
    assert!(e.contains("incomplete"), "{e}");
    let e = Summary::merge(&[part("1/3", 33), part("0/2", 50)]).unwrap_err();
    assert!(e.contains("overlap"), "{e}");
    let e = Summary::merge(&[part("0/2", 50), part("0/2", 50)]).unwrap_err();
    assert!(e.contains("twice"), "{e}");
    let e = Summary::merge(&[part("0/2", u64::MAX), part("1/2", 2)]).unwrap_err();
    assert!(e.contains("overflows"), "{e}");
    let e = Summary::merge(&[part("5/2", 1)]).unwrap_err();
    assert!(e.contains("K < N"), "{e}");
}
