//! Tape robustness: any bytes decode to a tape or a clear error, never a panic; both
//! encodings round-trip; replaying a tape with impossible choices falls back and counts.

use fsim::sim::*;
use fsim::workload;
use proptest::prelude::*;
use std::cell::RefCell;
use std::rc::Rc;

fn reason() -> impl Strategy<Value = ExitReason> {
    prop_oneof![
        Just(ExitReason::Normal),
        Just(ExitReason::Shutdown),
        "[a-z ]{0,8}".prop_map(ExitReason::ShutdownWith),
        Just(ExitReason::Kill),
        Just(ExitReason::Killed),
        Just(ExitReason::NoProc),
        Just(ExitReason::Timeout),
        "[a-z_]{0,8}".prop_map(|s| ExitReason::CallFailed(Box::new(ExitReason::Custom(s)))),
        "[a-z_]{0,12}".prop_map(ExitReason::Custom),
    ]
}

fn choice() -> impl Strategy<Value = Choice> {
    prop_oneof![
        Just(Choice::Default),
        (0u32..1000).prop_map(|p| Choice::Pick(Action::Run(Pid(p)))),
        (0u32..1000, 0u32..1000).prop_map(|(t, f)| Choice::Pick(Action::Deliver {
            to: Pid(t),
            from: Pid(f)
        })),
        (0u32..1000, reason()).prop_map(|(p, reason)| Choice::Fault(Fault::Kill {
            pid: Pid(p),
            reason
        })),
        (0u32..1000).prop_map(|p| Choice::Fault(Fault::CrashAfterEffect { pid: Pid(p) })),
        Just(Choice::Fault(Fault::FailNextInit)),
        Just(Choice::Jump),
        any::<u32>().prop_map(Choice::Draw),
    ]
}

fn tape() -> impl Strategy<Value = Tape> {
    prop::collection::vec(choice(), 0..200).prop_map(|choices| Tape { choices })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = Tape::from_bytes(&bytes);
    }

    #[test]
    fn bytes_after_a_valid_header_never_panic(body in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut bytes = b"FSTP\x01".to_vec();
        bytes.extend(body);
        let _ = Tape::from_bytes(&bytes);
    }

    #[test]
    fn binary_encoding_round_trips(t in tape()) {
        prop_assert_eq!(Tape::from_bytes(&t.to_bytes()).unwrap(), t);
    }

    #[test]
    fn text_encoding_round_trips(t in tape()) {
        let json = serde_json::to_string(&t).unwrap();
        let back: Tape = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, t);
    }

    #[test]
    fn every_truncation_is_an_error(t in tape()) {
        let bytes = t.to_bytes();
        for cut in 0..bytes.len() {
            prop_assert!(Tape::from_bytes(&bytes[..cut]).is_err(), "prefix of {} bytes decoded", cut);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// Arbitrary tapes (most choices naming actions that do not exist at that point) replay
    /// without panicking; what ran is recorded and replays to the same hash.
    #[test]
    fn replaying_arbitrary_tapes_falls_back_and_is_reproducible(t in tape()) {
        let config = workload::mixed_config();
        let first = run_tape(&config, &t, workload::mixed);
        let tape_bound_hit = matches!(first.outcome, Outcome::BoundHit(Bound::Tape { .. }));
        prop_assert!(!tape_bound_hit);
        let again = run_tape(&config, &first.tape, workload::mixed);
        prop_assert_eq!(again.trace_hash, first.trace_hash);
        prop_assert_eq!(again.fallbacks, 0);
    }
}

#[test]
fn unknown_version_and_bad_magic_are_named() {
    assert_eq!(
        Tape::from_bytes(b"FSTP\x09\x00"),
        Err(TapeError::UnsupportedVersion(9))
    );
    assert_eq!(Tape::from_bytes(b"JUNK\x01\x00"), Err(TapeError::BadMagic));
    assert_eq!(Tape::from_bytes(b""), Err(TapeError::BadMagic));
    assert!(matches!(
        Tape::from_bytes(b"FSTP\x01\x01\x63"),
        Err(TapeError::BadTag { tag: 0x63, .. })
    ));
    assert!(matches!(
        Tape::from_bytes(b"FSTP\x01\x00\x00"),
        Err(TapeError::Trailing(1))
    ));
}

#[test]
fn a_tape_naming_absent_actions_falls_back_to_the_default_and_counts() {
    let config = workload::mixed_config();
    let bogus = Tape {
        choices: vec![
            Choice::Pick(Action::Run(Pid(999))),
            Choice::Fault(Fault::CrashAfterEffect { pid: Pid(999) }),
        ],
    };
    let with_bogus = run_tape(&config, &bogus, workload::mixed);
    let with_defaults = run_tape(&config, &Tape::new(), workload::mixed);
    assert_eq!(with_bogus.fallbacks, 2);
    assert_eq!(with_defaults.fallbacks, 0);
    assert_eq!(
        with_bogus.trace_hash, with_defaults.trace_hash,
        "a fallback is exactly the default"
    );
}

#[test]
fn an_exhausted_tape_yields_defaults() {
    let config = workload::mixed_config();
    let full = run_seed(&config, 3, workload::mixed);
    let mut cut = full.tape.clone();
    cut.choices.truncate(full.tape.len() / 2);
    let r = run_tape(&config, &cut, workload::mixed);
    assert_eq!(r.fallbacks, 0);
    assert_eq!(&r.tape.choices[..cut.len()], &cut.choices[..]);
    assert!(
        r.tape.choices[cut.len()..]
            .iter()
            .all(|c| matches!(c, Choice::Pick(_) | Choice::Jump))
    );
}

#[test]
fn bad_text_entries_are_named() {
    let err = Tape::from_lines(&["run 1", "teleport 3"]).unwrap_err();
    assert!(err.to_string().contains("entry 1"), "{err}");
    assert!(Tape::from_lines(&["kill 2 exploded"]).is_err());
    assert!(Tape::from_lines(&["deliver 1-2"]).is_err());
}

/// A world whose one process draws three values below 5 and records them.
fn drawing(sim: &mut Sim, seen: Rc<RefCell<Vec<u32>>>) {
    sim.spawn("drawer", move |cx| async move {
        for _ in 0..3 {
            let v = cx.draw(5).await;
            seen.borrow_mut().push(v);
        }
        assert_eq!(cx.draw(1).await, 0, "one option: nothing to draw");
    });
}

#[test]
fn draws_are_choices_on_the_tape_and_replay() {
    let config = Config::default();
    for seed in 0..50 {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let r = run_seed(&config, seed, |sim| drawing(sim, seen.clone()));
        let draws: Vec<u32> = r
            .tape
            .choices
            .iter()
            .filter_map(|c| match c {
                Choice::Draw(v) => Some(*v),
                _ => None,
            })
            .collect();
        assert_eq!(
            draws,
            *seen.borrow(),
            "seed {seed}: the tape holds what was drawn"
        );
        assert!(draws.iter().all(|v| *v < 5));
        let again = Rc::new(RefCell::new(Vec::new()));
        let replay = run_tape(&config, &r.tape, |sim| drawing(sim, again.clone()));
        assert_eq!(replay.trace_hash, r.trace_hash);
        assert_eq!(*again.borrow(), *seen.borrow());
        let text = Tape::from_lines(&r.tape.to_lines()).unwrap();
        assert_eq!(Tape::from_bytes(&text.to_bytes()).unwrap(), r.tape);
    }
}

#[test]
fn an_out_of_range_draw_falls_back_to_zero_and_is_counted() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let tape = Tape {
        choices: vec![
            Choice::Draw(3),
            Choice::Draw(9),
            Choice::Pick(Action::Run(Pid(7))),
        ],
    };
    let r = run_tape(&Config::default(), &tape, |sim| drawing(sim, seen.clone()));
    assert_eq!(&seen.borrow()[..2], &[3, 0]);
    assert_eq!(r.fallbacks, 2, "the 9 and the pick where a draw was asked");
    assert_eq!(
        r.tape.choices[..3],
        [Choice::Draw(3), Choice::Draw(0), Choice::Draw(0)]
    );
}

#[test]
fn hostile_reasons_and_strategies_are_refused_not_crashed_on() {
    // 200,000 nested `call:`s: an error, not a stack overflow.
    let deep = format!("{}kill", "call:".repeat(200_000));
    let e = fsim::sim::tape::parse_reason(&deep).unwrap_err();
    assert!(e.contains("nested deeper"), "{e}");
    let ok = format!("{}kill", "call:".repeat(fsim::sim::tape::REASON_DEPTH_MAX));
    assert!(fsim::sim::tape::parse_reason(&ok).is_ok());
    // A tape line of 50 MB is reported by its start only.
    let huge = format!("kill <0.1.0> custom:{}", "x".repeat(50 << 20));
    let e = Tape::from_lines(&[huge]).unwrap_err().to_string();
    assert!(e.len() < 1_000, "{} bytes of error", e.len());
    // PCT's depth and a huge fault budget are bounded.
    assert!("pct:4294967295".parse::<fsim::explore::Strategy>().is_err());
    let shape = fsim::explore::strategy::Shape {
        fault_budget: u32::MAX,
        ..fsim::explore::strategy::Shape::new(50, 0)
    };
    let mut c = fsim::explore::Strategy::Pct { depth: 100 }.chooser(1, shape);
    let d = fsim::sim::Decision {
        step: 0,
        index: 0,
        now_ms: 0,
        actions: &[],
        faults: &[],
        can_jump: false,
        draw: 0,
    };
    let _ = c.choose(&d); // built without allocating gigabytes
}
