//! The regression corpus: every entry in `seeds/` replays as recorded, every flawed
//! scenario has one, and a replay that diverges names the first event that differs.

mod common;
use common::scenarios;
use fsim::explore::corpus::{self, Entry, Expected};
use fsim::scenario::{Expect, Scenario};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
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

/// The corpus entry of `startup_order` and its scenario.
fn startup_order_entry() -> (Entry, Scenario) {
    let p = corpus::entries(&root().join("seeds"))
        .into_iter()
        .find(|p| p.to_string_lossy().contains("startup_order"))
        .expect("an entry for startup_order");
    let e = Entry::load(&p).unwrap();
    let s = scenarios()
        .into_iter()
        .find(|s| s.name == e.scenario)
        .unwrap();
    (e, s)
}

#[test]
fn a_diverging_replay_names_the_first_different_event() {
    let (mut e, s) = startup_order_entry();
    let fault = e
        .tape
        .choices
        .iter()
        .position(|c| matches!(c, fsim::sim::Choice::Fault(_)))
        .expect("the repro has a fault");
    e.tape.choices.remove(fault);
    let why = e.verify(&s).unwrap_err();
    assert!(why.contains("first difference at event"), "{why}");
    assert!(
        why.contains("recorded:") && why.contains("FAULT kill"),
        "{why}"
    );
}

/// A recorded hash edited by hand: every recorded event reads the same, and the error
/// says so instead of pointing at a "first difference" past the end.
#[test]
fn an_edited_hash_is_told_apart_from_a_diverging_run() {
    let (mut e, s) = startup_order_entry();
    e.trace_hash = "0000000000000001".into();
    let why = e.verify(&s).unwrap_err();
    assert!(
        why.contains(&format!(
            "every one of its {} recorded events",
            e.trace.len()
        )),
        "{why}"
    );
    assert!(!why.contains("first difference"), "{why}");
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
    assert!(err.contains("field `scenario`: invalid type"), "{err}");
    // The position is said once, first.
    assert!(!err.contains("at line"), "{err}");
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

#[test]
fn tampered_metadata_and_unknown_fields_are_refused() {
    let all = scenarios();
    let p = corpus::entries(&root().join("seeds"))
        .into_iter()
        .find(|p| p.to_string_lossy().contains("volatile_subscriptions"))
        .unwrap();
    let good = Entry::load(&p).unwrap();
    let s = all.iter().find(|s| s.name == good.scenario).unwrap();
    assert!(good.verify(s).is_ok());
    let steps = Entry {
        steps: good.steps + 1,
        ..good.clone()
    };
    assert!(steps.verify(s).unwrap_err().contains("steps"));
    let seed = Entry {
        seed: 1 << 40,
        ..good.clone()
    };
    assert!(seed.verify(s).unwrap_err().contains("does not violate"));
    let system = Entry {
        configuration: "none (fixed design)".into(),
        ..good.clone()
    };
    assert!(
        system
            .verify(s)
            .unwrap_err()
            .contains("recorded for system")
    );

    let dir = std::env::temp_dir().join(format!("fsim-corpus-tamper-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("extra.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    json["flaws"] = serde_json::json!(["volatile_subscriptions"]);
    std::fs::write(&f, json.to_string()).unwrap();
    assert!(
        Entry::load(&f)
            .unwrap_err()
            .contains("unknown field `flaws`")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_crlf_checkout_is_the_same_scenario() {
    let path = root().join("sim-scenarios/startup_order.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let systems = fsim_foundation::systems();
    let lf = Scenario::parse("a.toml", &text, &systems).unwrap();
    let crlf = Scenario::parse("a.toml", &text.replace('\n', "\r\n"), &systems).unwrap();
    assert_eq!(lf.content_hash, crlf.content_hash);
}

#[test]
fn shrink_save_replaces_the_stale_entry_and_check_exits_2_on_a_truncated_one() {
    let fsim = |args: &[&str], at: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_fsim"))
            .current_dir(at)
            .args(args)
            .output()
            .unwrap()
    };
    let at = std::env::temp_dir().join(format!("fsim-corpus-stale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&at);
    std::fs::create_dir_all(at.join("sim-scenarios")).unwrap();
    let file = at.join("sim-scenarios/startup_order.toml");
    std::fs::copy(root().join("sim-scenarios/startup_order.toml"), &file).unwrap();
    let shrink = |at: &Path| {
        fsim(
            &["shrink", "sim-scenarios/startup_order.toml", "--save"],
            at,
        )
    };
    assert_eq!(shrink(&at).status.code(), Some(0));
    let entries = || corpus::entries(&at.join("seeds"));
    assert_eq!(entries().len(), 1);
    // The scenario is edited: its entry is stale, `check` fails, and following its
    // advice leaves one entry that replays.
    let edited = std::fs::read_to_string(&file).unwrap() + "\n# edited\n";
    std::fs::write(&file, edited).unwrap();
    let check = |at: &Path| fsim(&["check", "--seeds", "10", "--determinism-seeds", "2"], at);
    assert_eq!(check(&at).status.code(), Some(1));
    assert_eq!(shrink(&at).status.code(), Some(0));
    assert_eq!(entries().len(), 1, "the stale entry was replaced");
    assert_eq!(check(&at).status.code(), Some(0));
    // A truncated entry is bad input.
    let e = entries().remove(0);
    let text = std::fs::read_to_string(&e).unwrap();
    std::fs::write(&e, &text[..text.len() / 2]).unwrap();
    let out = check(&at);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&at).ok();
}
