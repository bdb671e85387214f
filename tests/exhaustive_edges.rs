//! Edges of bounded exhaustive search.

use fsim::check::{When, invariant};
use fsim::explore::exhaustive::{Bound, search};
use fsim::sim::*;

/// A process that blocks forever; the run ends with only a fault on offer (killing it).
/// The invariant fails if it was killed: the search must try the fault at that last
/// decision, which has no tape entry (taking no fault ends the run).
fn last_decision_offers_only_faults(chooser: &mut dyn Chooser) -> RunReport {
    let mut sim = Sim::new(Config {
        faults: FaultMenu {
            budget: 1,
            kill_reasons: vec![ExitReason::Kill],
            targets: Targets::Labels(vec!["victim".into()]),
            ..FaultMenu::default()
        },
        ..Config::default()
    });
    let p = sim.spawn("blocked", |cx| async move {
        // A fault target only from here on: the one decision offering the kill is the
        // last one, where nothing else can happen.
        cx.set_label("victim");
        let _ = cx.recv_match(Matcher::Nothing).await;
    });
    sim.invariant(invariant("blocked_lives", When::End, move |w| {
        if w.is_alive(p) {
            Ok(())
        } else {
            Err("the blocked process was killed".into())
        }
    }));
    sim.run(chooser)
}

#[test]
fn a_fault_at_the_final_decision_is_tried() {
    let s = search(
        last_decision_offers_only_faults,
        |r| r.outcome.is_failure(),
        Bound {
            deviations: 1,
            max_runs: 100,
        },
    );
    let (tape, report) = s
        .found
        .expect("the kill at the end is within one deviation");
    assert_eq!(report.faults, 1);
    let again = last_decision_offers_only_faults(&mut ReplayChooser::new(tape));
    assert!(again.outcome.is_failure(), "the found tape replays");
}

#[derive(Debug)]
struct Token;

/// The world of issue 15 (between nodes): R0, R1, R2 block; Q links to each, sends to S
/// and blocks; S receives, sends `exit(Q, kill)`, then sends to P; P receives and records
/// who is alive. Violation: P sees R0, R1 and Q dead while R2 lives. A tape with exactly
/// two deviations reaches it (deliver S's kill to Q early, then S's token to P before Q's
/// exit reaches R2); with the sleep sets the search had, a search bounded at two
/// deviations reported "complete, no violation" (Coons, Musuvathi, McKinley, OOPSLA 2013).
fn kill_spreads_through_links(chooser: &mut dyn Chooser) -> RunReport {
    let mut sim = Sim::new(Config {
        delivery: Delivery::Distributed,
        ..Config::default()
    });
    let rs: Vec<Pid> = (0..3)
        .map(|i| {
            sim.spawn(&format!("r{i}"), |cx| async move {
                let _ = cx.recv_match(Matcher::Nothing).await;
            })
        })
        .collect();
    let p = sim.next_pid();
    let seen = std::rc::Rc::new(std::cell::RefCell::new(None::<Vec<bool>>));
    let s_pid = Pid(p.0 + 1);
    let q_pid = Pid(p.0 + 2);
    let obs = seen.clone();
    let watched = [rs[0], rs[1], rs[2], q_pid];
    sim.spawn("p", move |cx| async move {
        cx.recv_type::<Token>().await;
        let w = cx.world();
        *obs.borrow_mut() = Some(watched.iter().map(|x| w.is_alive(*x)).collect());
    });
    sim.spawn("s", move |cx| async move {
        cx.recv_type::<Token>().await;
        cx.exit_signal(q_pid, ExitReason::Kill).await;
        cx.send(p, Token).await;
    });
    let links = rs.clone();
    sim.spawn("q", move |cx| async move {
        for r in &links {
            let _ = cx.link(*r).await;
        }
        cx.send(s_pid, Token).await;
        let _ = cx.recv_match(Matcher::Nothing).await;
    });
    sim.invariant(invariant(
        "p_sees_a_consistent_death",
        When::End,
        move |_| match seen.borrow().as_deref() {
            Some([false, false, true, false]) => Err("R0, R1 and Q dead, R2 alive".into()),
            _ => Ok(()),
        },
    ));
    sim.run(chooser)
}

#[test]
fn a_kill_spreading_through_links_is_found_within_two_deviations() {
    let s = search(
        kill_spreads_through_links,
        |r| r.outcome.is_failure(),
        Bound {
            deviations: 2,
            max_runs: 100_000,
        },
    );
    let (tape, report) = s.found.unwrap_or_else(|| {
        panic!(
            "not found within 2 deviations: {} runs, complete {}",
            s.runs, s.complete
        )
    });
    assert!(report.deviations <= 2, "{}", report.deviations);
    let again = kill_spreads_through_links(&mut ReplayChooser::new(tape));
    assert!(again.outcome.is_failure(), "the found tape replays");
}

/// The reduced search (no bound) finds the same violation, replayably, with fewer runs
/// than the search without reduction needs to find it.
#[test]
fn the_reduced_search_finds_the_kill_spreading_through_links() {
    let fails = |r: &RunReport| r.outcome.is_failure();
    let reduced = fsim::explore::dpor::search(kill_spreads_through_links, fails, 100_000);
    let (tape, _) = reduced
        .search
        .found
        .unwrap_or_else(|| panic!("not found: {} runs", reduced.search.runs));
    let again = kill_spreads_through_links(&mut ReplayChooser::new(tape));
    assert!(again.outcome.is_failure(), "the found tape replays");
    // Without reduction, every class is explored again and again: the search with no
    // bound and no reduction needs more runs to complete than the reduced one needs.
    let plain = search(
        kill_spreads_through_links,
        |_| false,
        Bound {
            deviations: u32::MAX,
            max_runs: 100_000,
        },
    );
    let all = fsim::explore::dpor::search(kill_spreads_through_links, |_| false, 100_000);
    assert!(all.search.complete, "{} runs", all.search.runs);
    assert!(
        all.search.runs * 10 < plain.runs,
        "reduced {} runs, plain {}",
        all.search.runs,
        plain.runs
    );
}

/// The reduced search also tries a fault where only faults are offered.
#[test]
fn the_reduced_search_tries_a_fault_at_the_final_decision() {
    let reduced = fsim::explore::dpor::search(
        last_decision_offers_only_faults,
        |r| r.outcome.is_failure(),
        100,
    );
    let (_, report) = reduced.search.found.expect("the kill at the end is tried");
    assert_eq!(report.faults, 1);
}
