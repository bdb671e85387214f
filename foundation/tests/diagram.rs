//! Sequence diagrams: what they contain, what they single out as needed by the violation,
//! where they draw it, and (in a real browser, when Chromium is there) that the HTML
//! renders to the same picture.

mod common;
use common::scenarios;
use fsim::explore::corpus::{self, Entry};
use fsim::report::story::{Mark, MarkKind};
use fsim::report::{Diagram, Row};
use fsim::scenario::Scenario;
use fsim::sim::trace::{Effect, StepKind};
use fsim::sim::{Outcome, Pid, RunReport};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// Every saved repro: its name (the folder under `seeds/`) and path.
fn seeds() -> Vec<(String, PathBuf)> {
    let all: Vec<(String, PathBuf)> = corpus::entries(&root().join("seeds"))
        .into_iter()
        .map(|p| {
            let name = p
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string();
            (name, p)
        })
        .collect();
    assert!(all.len() >= 10, "{} saved repros", all.len());
    all
}

fn shrunk_run(name: &str) -> (Scenario, RunReport) {
    let (s, r, _) = marked_run(name);
    (s, r)
}

/// A saved repro replayed with its full trace and its marks (the faults and deviations
/// the shrinker kept), asserted to be the recorded run.
fn marked_run(name: &str) -> (Scenario, RunReport, Vec<Mark>) {
    let p = seeds()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no seed {name}"))
        .1;
    let e = Entry::load(&p).unwrap();
    let s = scenarios()
        .into_iter()
        .find(|s| s.name == e.scenario)
        .unwrap();
    let recorded = e.verify(&s).unwrap();
    let (r, marks) = s.run_tape_marked(&e.tape);
    assert_eq!(
        r.trace_hash, recorded.trace_hash,
        "{name}: the marked replay"
    );
    assert!(r.trace.is_some());
    (s, r, marks)
}

fn count(d: &Diagram, f: impl Fn(&Row) -> bool) -> usize {
    d.rows.iter().filter(|(_, _, r)| f(r)).count()
}

fn hot(d: &Diagram) -> usize {
    d.rows.iter().filter(|(_, hot, _)| *hot).count()
}

/// The Mermaid arrows, by kind: `->>`, `-x`, `-->>`, `--x` (the part of each message
/// line before the colon).
fn arrows(m: &str) -> [usize; 4] {
    let mut n = [0; 4];
    for line in m.lines().map(str::trim) {
        let Some((head, _)) = line.split_once(':') else {
            continue;
        };
        if !head.starts_with('P') || head.contains(' ') {
            continue;
        }
        let i = if head.contains("-->>") {
            2
        } else if head.contains("--x") {
            3
        } else if head.contains("->>") {
            0
        } else if head.contains("-x") {
            1
        } else {
            continue;
        };
        n[i] += 1;
    }
    n
}

#[test]
fn the_diagram_holds_every_delivery_exit_spawn_and_the_fault() {
    let (s, r) = shrunk_run("volatile_subscriptions");
    let d = Diagram::of(&s.name, &r);
    let events = r.trace.as_ref().unwrap();
    // Signals that reached their receiver: deliveries between nodes, signals handled at
    // once on one node. A call answered in the run is one row: its request and its
    // reply; every other signal a row of its own.
    let arrivals: Vec<_> = events.iter().flat_map(fsim::report::arrivals).collect();
    let dropped = arrivals.iter().filter(|a| a.3).count();
    let answered = fsim::report::calls(events).len();
    assert!(arrivals.len() > 10, "{} signals", arrivals.len());
    assert!(answered >= 3, "{answered} calls answered");
    let spawns = events
        .iter()
        .flat_map(|e| &e.effects)
        .filter(|fx| matches!(fx, Effect::Spawn { .. }))
        .count();
    let exits = events
        .iter()
        .flat_map(|e| &e.effects)
        .filter(|fx| matches!(fx, Effect::Exit { .. }))
        .count();
    let faults = events
        .iter()
        .filter(|e| matches!(e.kind, StepKind::Fault { .. }))
        .count();
    let signals = arrivals.len() - 2 * answered;
    assert_eq!(count(&d, |r| matches!(r, Row::Deliver { .. })), signals);
    assert_eq!(count(&d, |r| matches!(r, Row::Call { .. })), answered);
    assert_eq!(count(&d, |r| matches!(r, Row::Spawn { .. })), spawns);
    assert_eq!(count(&d, |r| matches!(r, Row::Exit { .. })), exits);
    assert_eq!(count(&d, |r| matches!(r, Row::Fault { .. })), faults);
    assert_eq!(faults, 1);
    assert_eq!(
        d.rows.len(),
        signals + answered + spawns + exits + faults,
        "no other rows (no timers in this run)"
    );
    assert!(
        count(&d, |r| matches!(r, Row::Spawn { restart: true, .. })) >= 1,
        "the ConfigServer's restart is marked"
    );
    let fault = d.rows.iter().find_map(|(_, _, r)| match r {
        Row::Fault { pid, .. } => Some(*pid),
        _ => None,
    });
    assert!(
        fault.flatten().is_some(),
        "the fault is drawn on its victim's lifeline"
    );
    let (step, msg) = d.violation.clone().expect("the run ends in a violation");
    assert_eq!(
        step,
        r.steps - 1,
        "at the last step, as the trace numbers it"
    );
    assert!(msg.contains("subscription_durability"));
    assert!(hot(&d) > 0 && hot(&d) < d.rows.len());

    let svg = d.svg();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("class=\"lane\"").count(), d.lanes.len());
    assert_eq!(svg.matches("class=\"signal\"").count(), signals);
    assert_eq!(svg.matches("class=\"exchange\"").count(), answered);
    assert_eq!(svg.matches("class=\"call\"").count(), answered);
    assert_eq!(svg.matches("class=\"reply\"").count(), answered);
    assert_eq!(svg.matches("class=\"row needed\"").count(), hot(&d));
    assert_eq!(
        svg.matches("class=\"row other\"").count(),
        d.rows.len() - hot(&d)
    );
    assert_eq!(svg.matches("class=\"violation\"").count(), 1);
    assert!(!svg.contains("<script"), "no scripts");
    assert_eq!(
        svg.matches("http://").count(),
        1,
        "no resource but the SVG namespace"
    );
    let html = d.html();
    assert!(
        html.starts_with("<!doctype html>") && !html.contains("<script") && !html.contains("src=")
    );
    assert!(html.contains("faded: not needed by the violation"));

    let m = d.mermaid();
    assert!(m.starts_with("sequenceDiagram\n"));
    assert_eq!(m.matches("participant ").count(), d.lanes.len());
    // A signal one arrow; a call its request (->>) and, on the next line, its reply
    // (-->>); a spawn a dashed arrow.
    let [sent, lost, back, back_lost] = arrows(&m);
    let dropped_replies = d
        .rows
        .iter()
        .filter(|(_, _, r)| matches!(r, Row::Call { dropped: true, .. }))
        .count();
    assert_eq!(sent, signals - (dropped - dropped_replies) + answered);
    assert_eq!(lost, dropped - dropped_replies);
    assert_eq!(back, spawns + answered - dropped_replies);
    assert_eq!(back_lost, dropped_replies);
    // A call and its reply read as one exchange: both values, on one row.
    let exchange = d.rows.iter().find_map(|(_, _, r)| match r {
        Row::Call { request, reply, .. } => Some((r.text(), request.clone(), reply.clone())),
        _ => None,
    });
    let (text, request, reply) = exchange.expect("a call row");
    assert_eq!(text, format!("call {request} → {reply}"));
    assert!(m.contains("FAULT kill") && m.contains("VIOLATION"));
}

#[test]
fn startup_order_highlights_the_kill_it_needs_and_less_than_half_the_rest() {
    let (s, r, marks) = marked_run("startup_order");
    assert!(
        marks
            .iter()
            .any(|m| matches!(m.kind, MarkKind::Fault(fsim::sim::Fault::Kill { .. }))),
        "the shrinker kept the kill: {marks:?}"
    );
    for d in [
        Diagram::of_marked(&s.name, &r, &marks),
        Diagram::of(&s.name, &r),
    ] {
        let (kill, victim) = d
            .rows
            .iter()
            .find_map(|(step, hot, row)| match row {
                Row::Fault { pid, text } => {
                    assert!(*hot, "the kill is needed: {text}");
                    Some((*step, (*pid)?))
                }
                _ => None,
            })
            .expect("the kill is drawn, on its victim's lifeline");
        assert_eq!(r.label(victim), Some("config_server"));
        // The victim's death, and the exit signals it sent to its links, with it.
        let with_it: Vec<_> = d.rows.iter().filter(|(s, _, _)| *s == kill).collect();
        assert!(with_it.len() >= 4, "{with_it:?}");
        for (_, hot, row) in with_it {
            assert!(*hot, "{row:?}");
            match row {
                Row::Fault { .. } => {}
                Row::Exit { pid, .. } => assert_eq!(*pid, victim),
                Row::Deliver { from, text, .. } => {
                    assert_eq!(*from, victim);
                    assert!(text.starts_with("exit(killed)"), "{text}");
                }
                _ => panic!("{row:?}"),
            }
        }
        assert!(
            2 * hot(&d) < d.rows.len(),
            "{} of {} rows needed",
            hot(&d),
            d.rows.len()
        );
        // In Mermaid: the kill is in a shaded block, the violation over event_store.
        let m = d.mermaid();
        let fault_line = m.lines().position(|l| l.contains("FAULT kill")).unwrap();
        let lines: Vec<&str> = m.lines().collect();
        let opened = lines[..fault_line]
            .iter()
            .rev()
            .find(|l| l.trim().starts_with("rect") || l.trim() == "end");
        assert!(
            opened.is_some_and(|l| l.trim().starts_with("rect")),
            "the kill is shaded:\n{m}"
        );
        let store = r.labels.iter().find(|(_, l)| l == "event_store").unwrap().0;
        assert_eq!(d.violation_lane, Some(store));
        assert!(
            m.contains(&format!(
                "Note over P{}: {} VIOLATION",
                store.0,
                r.steps - 1
            )),
            "{m}"
        );
    }
}

/// The lane the violation belongs on, by the rule, computed here from the report: the
/// first process the message names by pid or by label (the newest with that label);
/// for a panic without one, the last process that ran; else the last step's process.
fn expected_lane(r: &RunReport) -> Pid {
    let Outcome::Violation(v) = &r.outcome else {
        panic!("a violation")
    };
    let events = r.trace.as_ref().unwrap();
    let text = &v.message;
    let mut mentions: Vec<(usize, Pid)> = Vec::new();
    if let Some(i) = text.find("<0.") {
        let n: u32 = text[i + 3..].split('.').next().unwrap().parse().unwrap();
        mentions.push((i, Pid(n)));
    }
    let word = |c: char| c.is_alphanumeric() || "_.:-".contains(c);
    for (pid, label) in &r.labels {
        let newest = r
            .labels
            .iter()
            .filter(|(_, l)| l == label)
            .map(|(p, _)| *p)
            .max()
            .unwrap();
        if *pid != newest {
            continue;
        }
        for (i, _) in text.match_indices(label.as_str()) {
            let before = text[..i].chars().next_back();
            let after = text[i + label.len()..].chars().next();
            if !before.is_some_and(word) && !after.is_some_and(word) {
                mentions.push((i, *pid));
                break;
            }
        }
    }
    mentions.sort();
    if let Some((_, p)) = mentions.first() {
        return *p;
    }
    let last = events.last().unwrap();
    if v.invariant == fsim::check::PANIC {
        return events
            .iter()
            .rev()
            .find_map(|e| match e.kind {
                StepKind::Run { pid } => Some(pid),
                _ => None,
            })
            .unwrap();
    }
    match &last.kind {
        StepKind::Run { pid } => *pid,
        StepKind::Deliver { to, .. } => *to,
        k => panic!("the last step has no process: {k:?}"),
    }
}

#[test]
fn every_seed_highlights_its_faults_and_less_than_everything_one_row_per_call() {
    let mut off_the_first_lane = Vec::new();
    let mut without_pid = Vec::new();
    for (name, _) in seeds() {
        let (s, r, marks) = marked_run(&name);
        let events = r.trace.as_ref().unwrap();
        let d = Diagram::of_marked(&s.name, &r, &marks);
        let faults = count(&d, |r| matches!(r, Row::Fault { .. }));
        assert_eq!(
            faults,
            events
                .iter()
                .filter(|e| matches!(e.kind, StepKind::Fault { .. }))
                .count()
        );
        for (step, hot, row) in &d.rows {
            if let Row::Fault { text, .. } = row {
                assert!(*hot, "{name}: the fault at step {step} ({text}) is needed");
            }
        }
        // What the shrinker kept (faults and deviations) is needed, and the last step.
        let lane = d.violation_lane.expect("a lane for the violation");
        let state = fsim::report::diagram::violation_processes(&r);
        let needed = fsim::report::diagram::needed(events, &marks, &state);
        for m in &marks {
            assert!(needed[m.step as usize], "{name}: the mark {m:?} is needed");
        }
        assert!(needed.last() == Some(&true), "{name}: the violating step");
        let h = hot(&d);
        assert!(
            h > 0 && h < d.rows.len(),
            "{name}: {h} of {} rows needed",
            d.rows.len()
        );
        // One row per call answered in the run: the row at its reply's step says both.
        let calls = fsim::report::calls(events);
        let exchanges: Vec<_> = d
            .rows
            .iter()
            .filter(|(_, _, r)| r.text().contains(" → "))
            .collect();
        assert_eq!(exchanges.len(), calls.len(), "{name}");
        for (step, _, row) in &exchanges {
            let Row::Call {
                caller,
                server,
                request,
                reply,
                request_step,
                ..
            } = row
            else {
                panic!("{name}: {row:?}")
            };
            let c = &calls[step];
            assert_eq!(
                (c.caller, c.server, &c.request, &c.reply),
                (*caller, *server, request, reply),
                "{name}: step {step}"
            );
            assert!(request_step < step);
        }
        // No other row shows a request answered in the run or its reply by itself.
        let lone_replies = d
            .rows
            .iter()
            .filter(
                |(_, _, r)| matches!(r, Row::Deliver { text, .. } if text.starts_with("reply ")),
            )
            .count();
        let all_replies = events
            .iter()
            .flat_map(fsim::report::arrivals)
            .filter(|a| fsim::sim::trace::signal_text(a.2).starts_with("reply "))
            .count();
        assert_eq!(lone_replies, all_replies - calls.len(), "{name}");
        // The violation: on the lane the rule picks, in the SVG and in Mermaid.
        assert_eq!(lane, expected_lane(&r), "{name}");
        let m = d.mermaid();
        let note = format!("Note over P{}: {} VIOLATION", lane.0, r.steps - 1);
        assert_eq!(m.matches(&note).count(), 1, "{name}:\n{m}");
        assert_eq!(m.matches("VIOLATION").count(), 1, "{name}");
        // Shaded blocks open and close, and hold the needed rows.
        assert_eq!(
            m.lines().filter(|l| l.trim().starts_with("rect ")).count(),
            m.lines().filter(|l| l.trim() == "end").count(),
            "{name}"
        );
        let svg = d.svg();
        let at = d.lanes.iter().position(|(p, _)| *p == lane).unwrap();
        assert!(
            svg.contains(&format!(
                "<g class=\"violation\"><title>{}</title><circle cx=\"{}\"",
                d.lanes[at].1.replace('<', "&lt;").replace('>', "&gt;"),
                90 + 150 * at
            )),
            "{name}: the violation is drawn on lane {at}"
        );
        if at > 0 {
            off_the_first_lane.push(name.clone());
        }
        let Outcome::Violation(v) = &r.outcome else {
            unreachable!()
        };
        if !v.message.contains("<0.") {
            without_pid.push((name.clone(), lane));
        }
    }
    // The violation is not simply drawn on the first lifeline: event_store's (startup
    // order), writer_b's (named by label alone), the last step's process (no process
    // named).
    assert!(off_the_first_lane.len() >= 8, "{off_the_first_lane:?}");
    for seed in ["startup_order", "shared_state", "unsupervised_retry"] {
        assert!(off_the_first_lane.contains(&seed.to_string()), "{seed}");
    }
    assert!(
        without_pid.iter().any(|(n, _)| n == "shared_state"),
        "{without_pid:?}"
    );
}

#[test]
fn a_violation_named_by_label_lands_on_that_process() {
    let (s, r, marks) = marked_run("shared_state");
    let d = Diagram::of_marked(&s.name, &r, &marks);
    let writer_b = r
        .labels
        .iter()
        .find(|(_, l)| l == "test:writer_b")
        .unwrap()
        .0;
    assert_eq!(d.violation_lane, Some(writer_b));
    // The deviations the shrinker kept led the EventStore (which the message names) to
    // store an event writer_b then saw: that call is needed, writer_b's sight of it too.
    let store = r.labels.iter().find(|(_, l)| l == "event_store").unwrap().0;
    let needed_call = |to: Pid, what: &str| {
        d.rows.iter().any(|(_, hot, r)| {
            *hot && matches!(r, Row::Call { server, request, .. } if *server == to && request.starts_with(what))
        })
    };
    assert!(needed_call(store, "Store"), "{}", d.mermaid());
    assert!(needed_call(store, "Stats"), "{}", d.mermaid());
    assert!(2 * hot(&d) < d.rows.len());
}

/// Renders the HTML in headless Chromium and reads back the DOM it built. Needs
/// `chromium` (Debian); `.ci/run` installs it and runs this with `--ignored`.
#[test]
#[ignore = "needs chromium; .ci/run runs it"]
fn the_html_renders_in_a_real_browser() {
    let (s, r) = shrunk_run("one_for_one_deps");
    let d = Diagram::of(&s.name, &r);
    let dir = std::env::temp_dir().join(format!("fsim-diagram-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("run.html");
    std::fs::write(&page, d.html()).unwrap();
    let url = format!("file://{}", page.display());
    let chromium = |args: &[&str]| {
        std::process::Command::new("chromium")
            .args(["--headless", "--no-sandbox", "--disable-gpu"])
            .args(args)
            .arg(&url)
            .output()
            .expect("chromium runs")
    };
    let dom = String::from_utf8_lossy(&chromium(&["--dump-dom"]).stdout).to_string();
    assert!(
        dom.contains("<svg"),
        "the browser built the SVG: {}",
        &dom[..dom.len().min(400)]
    );
    let deliveries = count(&d, |r| matches!(r, Row::Deliver { .. }));
    let calls = count(&d, |r| matches!(r, Row::Call { .. }));
    assert_eq!(dom.matches("class=\"signal\"").count(), deliveries);
    assert_eq!(dom.matches("class=\"exchange\"").count(), calls);
    assert!(dom.contains("id=\"verdict\"") && dom.contains("dependents_consistent"));
    let shot = dir.join("run.png");
    let out = chromium(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1600,1200",
    ]);
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (1600, 1200));
    assert!(
        png.len() > 20_000,
        "a blank page compresses to a few KB; this is {} bytes",
        png.len()
    );
    std::fs::remove_dir_all(&dir).ok();
}
