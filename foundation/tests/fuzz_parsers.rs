//! The scenario and tape parsers never panic, whatever they are fed; an error always names
//! the file. CI runs a few thousand inputs; a fuzz run sets `FSIM_FUZZ_CASES` (e.g.
//! 1000000): `FSIM_FUZZ_CASES=1000000 cargo test --release --test fuzz_parsers`.

use fsim::scenario::Scenario;
use fsim::sim::Tape;
use proptest::prelude::*;

const SEED_FILE: &str = include_str!("../../sim-scenarios/foundation_soak_fixed.toml");

fn cases() -> u32 {
    std::env::var("FSIM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000)
}

/// A valid file with a slice replaced by arbitrary text: most inputs are nearly valid,
/// which reaches deeper than random bytes.
fn mutated() -> impl Strategy<Value = String> {
    (0..SEED_FILE.len(), 0usize..40, ".{0,40}").prop_map(|(at, len, with)| {
        let mut s = SEED_FILE.to_string();
        let mut at = at;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + len).min(s.len());
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.replace_range(at..end, &with);
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn scenario_parser_never_panics_on_mutated_files(text in mutated()) {
        if let Err(e) = Scenario::parse("fuzz.toml", &text, &fsim_foundation::systems()) {
            prop_assert_eq!(e.file.as_str(), "fuzz.toml");
            prop_assert!(e.to_string().starts_with("fuzz.toml:"));
        }
    }

    #[test]
    fn scenario_parser_never_panics_on_arbitrary_text(text in "\\PC{0,300}") {
        let _ = Scenario::parse("fuzz.toml", &text, &fsim_foundation::systems());
    }

    #[test]
    fn tape_text_never_panics(lines in prop::collection::vec("\\PC{0,24}", 0..8)) {
        let _ = Tape::from_lines(&lines);
    }

    #[test]
    fn tape_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut b = b"FSTP\x01".to_vec();
        b.extend(bytes);
        let _ = Tape::from_bytes(&b);
    }
}
