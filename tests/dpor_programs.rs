//! The programs of `fsim bench --dpor` (Concuerror's DPOR test suite written again for
//! fsim, `src/cli/bench_dpor.rs`, compiled in here) are faithful: each one's exhaustive
//! search completes, and the outcomes its runs show are those the Erlang program can
//! produce (read off the `.erl` source and Concuerror's results file), less the few fsim
//! cannot reach, each named below with the reason.
//!
//! The search with partial-order reduction (`explore::dpor`) completes on every program
//! and must reach the same outcomes as the search without. Five programs are too large
//! to search completely without reduction (three depend_*, readers with six readers, the
//! 100-proxy chain). For those a capped exhaustive search and random schedules together
//! must show exactly the Erlang outcomes, and the capped search must indeed be
//! incomplete.

// bench_dpor.rs names fsim as `crate::sim` and `crate::explore`.
use fsim::{explore, sim};

#[allow(dead_code)] // the table printing is for `fsim bench --dpor`
#[path = "../src/cli/bench_dpor.rs"]
mod bench_dpor;

use bench_dpor::{Program, measure, measure_reduced, programs, run_once};
use std::collections::BTreeSet;

/// How a program is searched here.
enum Search {
    /// Exhaustively, to the end (at most this many runs).
    Complete(u64),
    /// Capped exhaustive search (this many runs, and it must not complete), this many
    /// random schedules, and for each process the schedule that holds back the signals to
    /// it (see [`HoldBack`]).
    Capped(u64, u64),
}

/// What the Erlang program can show, and of that what fsim cannot reach.
struct Expect {
    name: &'static str,
    search: Search,
    erlang: Vec<String>,
    /// Outcomes of `erlang` fsim cannot reach (the reasons are at each program).
    fsim_lacks: Vec<&'static str>,
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Every `a; b` with `a` from `first` and `b` from `second` (two processes whose
/// observations are independent: any pair can happen).
fn product(first: &[&str], second: &[&str]) -> Vec<String> {
    first
        .iter()
        .flat_map(|a| second.iter().map(move |b| format!("{a}; {b}")))
        .collect()
}

const COMPLETE: Search = Search::Complete(200_000);

fn expectations() -> Vec<Expect> {
    let e = |name, search, erlang, fsim_lacks| Expect {
        name,
        search,
        erlang,
        fsim_lacks,
    };
    // The precise_demonitor tests run under one node's delivery (Concuerror's
    // instant_delivery true). There a process P spawned does not run before P's next
    // effect (fsim's measured BEAM behaviour, WAKE_EFFECTS), and P's next effect is the
    // `receive ... after 0` that would find the DOWN: `got_monitor` needs P1 to run and
    // exit before that look, which Concuerror explores and fsim does not.
    let got_monitor = "P: got_monitor";
    vec![
        // B takes `special` first (then a, c), or times out and then takes the next two
        // in mailbox order: a before c, or c (from C) before a. Concuerror: no errors.
        e(
            "messages_1",
            COMPLETE,
            strs(&[
                "B: special first, then a, c",
                "B: special late, then a, c",
                "B: special late, then c, a",
            ]),
            vec![],
        ),
        // As messages_1, but `R = a` fails when c comes first: Concuerror's one error,
        // {badmatch,a}.
        e(
            "messages_2",
            COMPLETE,
            strs(&[
                "B: special first, then a, c",
                "B: special late, then a, c",
                "B: special late, then crashed {badmatch,a}",
            ]),
            vec![],
        ),
        // Selective receives: a first, whatever the order of arrival; the one left is b
        // (c in test3). Concuerror: no errors.
        e(
            "receive_order:test1",
            COMPLETE,
            strs(&["Q: a, then b"]),
            vec![],
        ),
        e(
            "receive_order:test2",
            COMPLETE,
            strs(&["Q: a, then b"]),
            vec![],
        ),
        e(
            "receive_order:test3",
            COMPLETE,
            strs(&["Q: a, b, then c"]),
            vec![],
        ),
        // The customer's send finds the bank (money to the bank, which tells God; the
        // robber then fails the robbery, or crashes in unregister once the bank has
        // exited and its name is gone), no one (badarg, caught) or the robber (who takes
        // the money and tells God, or has already timed out). Concuerror's 6
        // interleavings: 5 errors (the robber's badarg and four deadlocks) over these.
        e(
            "register_again_2",
            COMPLETE,
            strs(&[
                "Bank: blocked; Customer: badarg (caught); God: blocked; Robber: robbery_failed",
                "Bank: blocked; Customer: sent money; God: blocked; Robber: robbery_failed",
                "Bank: blocked; Customer: sent money; God: got robber_got_money; Robber: got money",
                "Bank: got money; Customer: sent money; God: got bank_got_money; Robber: crashed badarg (unregister)",
                "Bank: got money; Customer: sent money; God: got bank_got_money; Robber: robbery_failed",
            ]),
            vec![],
        ),
        // P throws whichever of a and b it finds first: Concuerror's 6 errors are
        // {nocatch,a} and {nocatch,b}.
        e(
            "same_messages_2",
            COMPLETE,
            strs(&["P: threw a", "P: threw b"]),
            vec![],
        ),
        e(
            "same_messages_3",
            COMPLETE,
            strs(&["P: exited a", "P: exited b"]),
            vec![],
        ),
        // P finds foo (inserted before its lookup), or does not and crashes; then the
        // inserter's insert comes after the lookup and before P's exit deletes the table
        // (Concuerror's interleaving 2: insert between `exits abnormally` and
        // `ets:delete(table) (while exiting)`), or after it (badarg, interleaving 1).
        // fsim lacks the middle one: a process's exit, and its table's deletion, happen
        // in the same step as its last effect (here the lookup), so nothing runs between
        // the lookup and the deletion.
        e(
            "same_messages_4",
            COMPLETE,
            strs(&[
                "Inserter: crashed badarg (insert); Other: sent unlock; P: crashed {badmatch,false}",
                "Inserter: sent unlock; Other: sent unlock; P: crashed {badmatch,false}",
                "Inserter: sent unlock; Other: sent unlock; P: found foo",
            ]),
            vec!["Inserter: sent unlock; Other: sent unlock; P: crashed {badmatch,false}"],
        ),
        // Every message P takes is one it waits for; crash_if_mail never finds one extra:
        // all 36 of Concuerror's interleavings end blocked at `receive deadlock`.
        e(
            "after_test",
            COMPLETE,
            strs(&["P: blocked in receive deadlock"]),
            vec![],
        ),
        // Two readers, each reading one value after another: any combination of what
        // each can see can happen (the 12 and 30 of Concuerror's interleavings).
        e(
            "depend_1",
            Search::Capped(20_000, 10_000),
            product(
                &[
                    "R1: x=0",
                    "R1: x=1 y=0",
                    "R1: x=1 y=1 z=0",
                    "R1: x=1 y=1 z=1",
                ],
                &["R2: y=0", "R2: y=1 z=0", "R2: y=1 z=1"],
            ),
            vec![],
        ),
        e(
            "depend_3",
            Search::Capped(20_000, 80_000),
            product(
                &[
                    "R1: x=0",
                    "R1: x=1 y=0",
                    "R1: x=1 y=1 z=0",
                    "R1: x=1 y=1 z=1",
                    "R1: x=1 y=2 z=0",
                    "R1: x=1 y=2 z=1",
                ],
                &[
                    "R2: y=0",
                    "R2: y=1 z=0",
                    "R2: y=1 z=1",
                    "R2: y=2 z=0",
                    "R2: y=2 z=1",
                ],
            ),
            vec![],
        ),
        e(
            "depend_5",
            Search::Capped(20_000, 30_000),
            product(
                &[
                    "R1: x=0",
                    "R1: x=1 y=0",
                    "R1: x=1 y=1 z=0",
                    "R1: x=1 y=1 z=1",
                    "R1: x=1 y=2 z=0",
                    "R1: x=1 y=2 z=1",
                ],
                &["R2: x=0", "R2: x=1"],
            ),
            vec![],
        ),
        // Each reader sees x before or after the write (Concuerror's 4 interleavings).
        e(
            "readers_rrw",
            COMPLETE,
            product(
                &["R1: y=0 x=0", "R1: y=0 x=1"],
                &["R2: y=0 x=0; W: y=0", "R2: y=0 x=1; W: y=0"],
            ),
            vec![],
        ),
        e(
            "readers_rwr",
            COMPLETE,
            product(
                &["R1: y=0 x=0", "R1: y=0 x=1"],
                &["R2: y=0 x=0; W: y=0", "R2: y=0 x=1; W: y=0"],
            ),
            vec![],
        ),
        // P2 writes y then reads x; P3 reads x then y. P3 seeing x = 1 but y = 0 means
        // P2 wrote y after P3's x read, so after the write of x: P2 sees x = 1. Five
        // outcomes, Concuerror's 5 interleavings.
        e(
            "etsi_2",
            COMPLETE,
            strs(&[
                "P2: x=0; P3: x=0",
                "P2: x=0; P3: x=1 y=1",
                "P2: x=1; P3: x=0",
                "P2: x=1; P3: x=1 y=0",
                "P2: x=1; P3: x=1 y=1",
            ]),
            vec![],
        ),
        // P4 reads z = 1 only if P3 read y = 0. Concuerror's 5 traces also tell apart the
        // order of the two writes of x, which no process observes: 4 outcomes.
        e(
            "POPL_optimal_example",
            COMPLETE,
            strs(&[
                "P3: y=0; P4: z=0",
                "P3: y=0; P4: z=1 y=0",
                "P3: y=0; P4: z=1 y=1",
                "P3: y=1; P4: z=0",
            ]),
            vec![],
        ),
        // As same_messages_4, the DOWN of the killed process in place of `unlock`: K1's
        // insert between P's lookup and P's table deletion (Concuerror's interleaving 4)
        // is what fsim lacks, for the same reason.
        e(
            "many_kill_2",
            COMPLETE,
            strs(&[
                "K1: crashed badarg (insert); K2: sent exit; P: crashed {badmatch,false}",
                "K1: sent exit; K2: sent exit; P: crashed {badmatch,false}",
                "K1: sent exit; K2: sent exit; P: found foo",
            ]),
            vec!["K1: sent exit; K2: sent exit; P: crashed {badmatch,false}"],
        ),
        // The three schedulings the test's comments name.
        e(
            "precise_demonitor:demonitor_empty",
            COMPLETE,
            strs(&[
                got_monitor,
                "P: monitor_already_delivered",
                "P: monitor_ignored_upon_delivery",
            ]),
            vec![got_monitor],
        ),
        e(
            "precise_demonitor:demonitor_flush",
            COMPLETE,
            strs(&[got_monitor, "P: monitor_removed_or_ignored_or_flushed"]),
            vec![got_monitor],
        ),
        // Four schedulings. The fourth, `monitor_ignored_upon_delivery`, is demonitor
        // returning false (the monitor had fired) with no DOWN in the mailbox yet:
        // Concuerror lets P1's exit and its sending of the DOWN be two events with P's
        // demonitor between them. In fsim under one node's delivery the DOWN is in P's
        // mailbox the moment P1 exits, so false always comes with the DOWN there (and
        // between nodes a DOWN still on its way leaves the monitor on: true).
        e(
            "precise_demonitor:demonitor_info",
            COMPLETE,
            strs(&[
                got_monitor,
                "P: monitor_already_delivered",
                "P: monitor_ignored_upon_delivery",
                "P: monitor_removed_before_exit",
            ]),
            vec![got_monitor, "P: monitor_ignored_upon_delivery"],
        ),
        e(
            "precise_demonitor:demonitor_flush_info",
            COMPLETE,
            strs(&[
                got_monitor,
                "P: monitor_flushed",
                "P: monitor_removed_or_ignored",
            ]),
            vec![got_monitor],
        ),
        // Selective receives: always P1's pid, then P2's. Concuerror: no errors.
        e(
            "no_observers",
            COMPLETE,
            strs(&["P: got P1, then P2"]),
            vec![],
        ),
        // Each of the six readers sees x before or after the write: 64 outcomes, the 64
        // of Concuerror's optimal DPOR.
        e(
            "readers",
            Search::Capped(10_000, 30_000),
            (0..64u32)
                .map(|bits| {
                    (0..6)
                        .map(|i| {
                            let x = if bits & (1 << i) != 0 { "42" } else { "[]" };
                            format!("R{}: {}=[] x={x}", i + 1, i + 1)
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .collect(),
            vec![],
        ),
        // Between nodes `world` may overtake `hello` through the 100 proxies: Concuerror's
        // 2 interleavings.
        e(
            "proxy",
            Search::Capped(3_000, 0),
            strs(&["C: {hello,world}", "C: {world,hello}"]),
            vec![],
        ),
    ]
}

/// Pids tried by [`HoldBack`] (the largest program, proxy, has 102 processes).
const PROCESSES_MAX: u32 = 110;

/// A schedule that delivers nothing to one process while anything else can happen, and
/// otherwise takes the first action offered: the signals to that process arrive as late
/// as they can. (Between nodes this lets `world` overtake `hello` through proxy's 100
/// forwarders, which neither a capped depth-first search nor random schedules reach.)
struct HoldBack(sim::Pid);

impl sim::Chooser for HoldBack {
    fn choose(&mut self, d: &sim::Decision<'_>) -> sim::Choice {
        d.actions
            .iter()
            .find(|a| !matches!(a, sim::Action::Deliver { to, .. } if *to == self.0))
            .map_or(sim::Choice::Default, |a| sim::Choice::Pick(*a))
    }
}

fn program(name: &str) -> Program {
    programs()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no program {name}"))
}

#[test]
fn every_program_is_checked() {
    let checked: BTreeSet<&str> = expectations().iter().map(|e| e.name).collect();
    let programs = programs();
    let listed: BTreeSet<&str> = programs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(checked, listed);
}

#[test]
fn each_program_shows_what_the_erlang_program_can() {
    let mut failures = Vec::new();
    for e in expectations() {
        let p = program(e.name);
        let seen: BTreeSet<String> = match e.search {
            Search::Complete(cap) => {
                let m = measure(&p, cap);
                if !m.complete {
                    failures.push(format!("{}: incomplete after {} runs", e.name, m.runs));
                }
                m.outcomes
            }
            Search::Capped(cap, seeds) => {
                let m = measure(&p, cap);
                if m.complete {
                    failures.push(format!(
                        "{}: complete after {} runs: search it completely",
                        e.name, m.runs
                    ));
                }
                let mut seen = m.outcomes;
                for seed in 0..seeds {
                    let mut chooser = sim::RandomChooser::new(seed).with_rates(0, 0);
                    seen.insert(run_once(&p, &mut chooser).1);
                }
                for pid in 0..PROCESSES_MAX {
                    seen.insert(run_once(&p, &mut HoldBack(sim::Pid(pid))).1);
                }
                seen
            }
        };
        // The reduced search completes on every program, and reaches the same outcomes.
        let reduced = measure_reduced(&p, 200_000);
        if !reduced.complete {
            failures.push(format!("{}: reduced search incomplete", e.name));
        }
        if reduced.outcomes != seen {
            failures.push(format!(
                "{}: the reduced search's outcomes differ:\n  only reduced: {:?}\n  only \
                 without: {:?}",
                e.name,
                reduced.outcomes.difference(&seen).collect::<Vec<_>>(),
                seen.difference(&reduced.outcomes).collect::<Vec<_>>()
            ));
        }
        let erlang: BTreeSet<String> = e.erlang.iter().cloned().collect();
        for lack in &e.fsim_lacks {
            assert!(
                erlang.contains(*lack),
                "{}: {lack} is not an Erlang outcome",
                e.name
            );
        }
        let want: BTreeSet<String> = erlang
            .into_iter()
            .filter(|o| !e.fsim_lacks.contains(&o.as_str()))
            .collect();
        if seen != want {
            failures.push(format!(
                "{}:\n  not expected: {:?}\n  not reached: {:?}",
                e.name,
                seen.difference(&want).collect::<Vec<_>>(),
                want.difference(&seen).collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The bench's counts are measured, and the same on every run; a cap below a complete
/// search's count leaves it incomplete (what the bench prints as `>N (incomplete)`).
#[test]
fn counts_are_deterministic_and_capped() {
    let p = program("etsi_2");
    let a = measure(&p, 200_000);
    let b = measure(&p, 200_000);
    assert!(a.complete && a.runs > p.m, "{} runs", a.runs);
    assert_eq!((a.runs, &a.outcomes), (b.runs, &b.outcomes));
    let capped = measure(&p, a.runs - 1);
    assert!(!capped.complete);
    assert_eq!(capped.runs, a.runs - 1);
    let r = measure_reduced(&p, 200_000);
    assert!(r.complete && r.runs < a.runs, "{} runs reduced", r.runs);
    assert_eq!(r.runs, measure_reduced(&p, 200_000).runs);
    assert!(!measure_reduced(&p, r.runs - 1).complete);
}
