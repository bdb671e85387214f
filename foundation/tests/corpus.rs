//! The regression corpus: every entry in `seeds/` replays as recorded, every flawed
//! scenario has one, and a replay that diverges names the first event that differs.

use fsim::explore::corpus::{self, Entry, Expected};
use fsim::scenario::{self, Expect, Scenario};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn scenarios() -> Vec<Scenario> {
    scenario::load_dir(&root().join("sim-scenarios"), &fsim_foundation::systems()).unwrap()
}

#[test]
fn every_entry_replays_as_recorded_and_every_flaw_has_one() {
    let all = scenarios();
    let paths = corpus::entries(&root().join("seeds"));
    for p in &paths {
        let e = Entry::load(p).unwrap();
        let s = all
            .iter()
            .find(|s| s.name == e.scenario)
            .expect("its scenario exists");
        let r = e
            .verify(s)
            .unwrap_or_else(|why| panic!("{}: {why}", p.display()));
        assert_eq!(r.steps, e.steps);
        assert_eq!(
            p,
            &e.path(&root().join("seeds")),
            "the file is named by its trace hash"
        );
    }
    for s in all
        .iter()
        .filter(|s| matches!(s.expect, Expect::Violation(_)))
    {
        let Expect::Violation(inv) = &s.expect else {
            unreachable!()
        };
        let has = paths.iter().any(|p| {
            let e = Entry::load(p).unwrap();
            e.scenario == s.name
                && e.expected
                    == Expected::Violation {
                        invariant: inv.clone(),
                    }
        });
        assert!(has, "no corpus entry for {}", s.name);
    }
}

#[test]
fn a_diverging_replay_names_the_first_different_event() {
    let all = scenarios();
    let p = corpus::entries(&root().join("seeds"))
        .into_iter()
        .find(|p| p.to_string_lossy().contains("startup_order"))
        .expect("an entry for startup_order");
    let mut e = Entry::load(&p).unwrap();
    let s = all.iter().find(|s| s.name == e.scenario).unwrap();
    let fault = e
        .tape
        .choices
        .iter()
        .position(|c| matches!(c, fsim::sim::Choice::Fault(_)))
        .expect("the repro has a fault");
    e.tape.choices.remove(fault);
    let why = e.verify(s).unwrap_err();
    assert!(why.contains("first difference at event"), "{why}");
    assert!(
        why.contains("recorded:") && why.contains("FAULT kill"),
        "{why}"
    );
}

#[test]
fn a_changed_scenario_or_a_bad_file_is_reported() {
    let all = scenarios();
    let p = corpus::entries(&root().join("seeds"))
        .into_iter()
        .next()
        .unwrap();
    let mut e = Entry::load(&p).unwrap();
    let s = all.iter().find(|s| s.name == e.scenario).unwrap();
    e.scenario_hash = "0000000000000000".into();
    assert!(
        e.verify(s)
            .unwrap_err()
            .contains("changed since this entry was recorded")
    );

    let dir = std::env::temp_dir().join(format!("fsim-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\n  \"format_version\": 1,\n  \"scenario\": 3\n}\n").unwrap();
    let err = Entry::load(&bad).unwrap_err();
    assert!(err.starts_with(&format!("{}:3:", bad.display())), "{err}");
    std::fs::write(
        &bad,
        serde_json::to_string(&Entry {
            format_version: 9,
            ..Entry::load(&p).unwrap()
        })
        .unwrap(),
    )
    .unwrap();
    assert!(Entry::load(&bad).unwrap_err().contains("format_version 9"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn recording_and_saving_round_trips() {
    let s = scenarios()
        .into_iter()
        .find(|s| s.name == "unbounded_growth")
        .unwrap();
    let r = s.run_seed(0);
    let e = Entry::record(&s, "random", 0, &r.tape);
    assert_eq!(
        e.expected,
        Expected::Violation {
            invariant: "bounded_resources".into()
        }
    );
    let dir = std::env::temp_dir().join(format!("fsim-corpus-save-{}", std::process::id()));
    let path = e.save(&dir).unwrap();
    assert_eq!(Entry::load(&path).unwrap(), e);
    assert!(e.verify(&s).is_ok());
    std::fs::remove_dir_all(&dir).ok();
}
