//! Partial-order reduction loses nothing: on many small generated worlds, under both
//! delivery models, the reduced search (`explore::dpor`) reaches exactly the outcomes —
//! what every process observed, and every failure — that the search with no reduction
//! reaches, and finds a failure wherever that one does.
//!
//! A world has three to four processes, each running a short random script over
//! everything that makes steps depend on each other: sends (by pid and by name),
//! selective and plain receives, receives with a timeout and `after 0`, `send_after`,
//! links, monitors, exit signals (kill, a custom reason, normal), trapping exits, names,
//! table inserts and lookups on one named table, `is_alive`, and an assertion that fails
//! on one particular observation. Some worlds also offer one kill fault. Each process
//! writes only its own entry of the observation map (the contract of the reduction: state
//! shared outside `Cx` is per process).
//!
//! Each compared world is also searched within 1, 2 and 3 deviations
//! (`dpor::bounded`), against every tape within the bound.

use fsim::explore::{dpor, exhaustive};
use fsim::sim::*;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

#[derive(Clone, Copy, Debug)]
enum Op {
    Send(usize, u8),
    SendNamed(u8),
    Recv,
    RecvTag(u8),
    RecvTimeout(u64),
    SendAfter(usize, u8, u64),
    Link(usize),
    Monitor(usize),
    Exit(usize, u8),
    Trap,
    Register,
    Whereis,
    Insert(u8, u8),
    Lookup(u8),
    IsAlive(usize),
    /// Fails the run (a panic) if the last observation was this message tag.
    AssertNot(u8),
    /// Spawns a child that sends this tag to its parent (linked when true).
    Spawn(u8, bool),
}

type Obs = Rc<RefCell<BTreeMap<usize, String>>>;

#[derive(Clone, Debug)]
struct World {
    delivery: Delivery,
    scripts: Vec<Vec<Op>>,
    fault: bool,
}

fn gen_world(rng: &mut ChaCha8Rng, delivery: Delivery) -> World {
    let mut r = |n: u32| (rng.next_u32() % n) as usize;
    let n = 3 + r(2);
    let mut scripts = Vec::new();
    for me in 0..n {
        let len = 1 + r(if delivery == Delivery::Local { 3 } else { 2 });
        let mut s = Vec::new();
        for _ in 0..len {
            let other = (me + 1 + r(n as u32 - 1)) % n;
            let tag = r(3) as u8;
            let op = match r(16) {
                0 | 1 => Op::Send(other, tag),
                2 => Op::SendNamed(tag),
                3 => Op::Recv,
                4 => Op::RecvTag(tag),
                5 => Op::RecvTimeout([0, 5][r(2)] as u64),
                6 => Op::SendAfter(other, tag, [1, 5][r(2)] as u64),
                7 => Op::Link(other),
                8 => Op::Monitor(other),
                9 => Op::Exit(other, r(3) as u8),
                10 => Op::Trap,
                11 => Op::Register,
                12 => Op::Whereis,
                13 => Op::Insert(r(2) as u8, tag),
                14 => Op::Lookup(r(2) as u8),
                _ => match r(3) {
                    0 => Op::IsAlive(other),
                    1 => Op::AssertNot(tag),
                    _ => Op::Spawn(tag, r(2) == 0),
                },
            };
            s.push(op);
        }
        scripts.push(s);
    }
    let fault = r(4) == 0;
    World {
        delivery,
        scripts,
        fault,
    }
}

fn show(e: &Envelope) -> String {
    if let Some(m) = e.peek::<u8>() {
        format!("m{m}<{}", e.from.0)
    } else if let Some((_, pid, reason)) = e.down() {
        format!("down{}:{reason}", pid.0)
    } else if let Some(reason) = e.exit_reason() {
        format!("exit{}:{reason}", e.from.0)
    } else {
        format!("{e:?}")
    }
}

fn build(w: &World, sim: &mut Sim, obs: Obs) {
    let n = w.scripts.len();
    let pids: Vec<Pid> = (0..n).map(|i| Pid(i as u32)).collect();
    for (me, script) in w.scripts.iter().enumerate() {
        let script = script.clone();
        let obs = obs.clone();
        let ps = pids.clone();
        let got = sim.spawn(&format!("p{me}"), move |cx| async move {
            let note = |s: String| {
                let mut o = obs.borrow_mut();
                let e = o.entry(me).or_default();
                e.push_str(&s);
                e.push(' ');
            };
            note(String::new());
            // Process 0 owns the table everyone uses.
            let table = if me == 0 {
                cx.table_new_named::<u8, u8>("t").await
            } else {
                None
            };
            let mut last: Option<u8> = None;
            for op in script {
                match op {
                    Op::Send(to, m) => cx.send(ps[to], m).await,
                    Op::SendNamed(m) => {
                        let ok = cx.send_named("name", m).await.is_ok();
                        note(format!("named:{ok}"));
                    }
                    Op::Recv | Op::RecvTag(_) | Op::RecvTimeout(_) => {
                        let e = match op {
                            Op::Recv => Some(cx.recv().await),
                            Op::RecvTag(t) => Some(
                                cx.recv_match(Matcher::when(move |e| e.peek::<u8>() == Some(&t)))
                                    .await,
                            ),
                            Op::RecvTimeout(ms) => cx.recv_timeout(Matcher::Any, ms).await,
                            _ => unreachable!(),
                        };
                        last = e.as_ref().and_then(|e| e.peek::<u8>().copied());
                        note(e.as_ref().map_or("timeout".into(), show));
                    }
                    Op::SendAfter(to, m, ms) => {
                        cx.send_after(ps[to], m, ms);
                    }
                    Op::Link(to) => {
                        let ok = cx.link(ps[to]).await.is_ok();
                        note(format!("link:{ok}"));
                    }
                    Op::Monitor(to) => {
                        cx.monitor(ps[to]).await;
                    }
                    Op::Exit(to, how) => {
                        let reason = match how {
                            0 => ExitReason::Kill,
                            1 => ExitReason::custom("boom"),
                            _ => ExitReason::Normal,
                        };
                        cx.exit_signal(ps[to], reason).await;
                    }
                    Op::Trap => {
                        cx.trap_exit(true);
                    }
                    Op::Register => {
                        let ok = cx.register("name").await.is_ok();
                        note(format!("reg:{ok}"));
                    }
                    Op::Whereis => {
                        let at = cx.whereis("name").await;
                        note(format!("where:{:?}", at.map(|p| p.0)));
                    }
                    Op::Insert(k, _) | Op::Lookup(k) if me != 0 || table.is_some() => {
                        let t = match table {
                            Some(t) => Some(t),
                            None => cx.table_by_name::<u8, u8>("t").await,
                        };
                        let Some(t) = t else {
                            note("notable".into());
                            continue;
                        };
                        if let Op::Insert(_, v) = op {
                            let ok = cx.table_insert(t, k, v).await.is_ok();
                            note(format!("ins:{ok}"));
                        } else {
                            let got = cx.table_get(t, &k).await;
                            note(format!("get:{got:?}"));
                        }
                    }
                    Op::Insert(..) | Op::Lookup(_) => {}
                    Op::IsAlive(to) => {
                        let alive = cx.is_alive(ps[to]).await;
                        note(format!("alive:{alive}"));
                    }
                    Op::AssertNot(t) => {
                        assert_ne!(last, Some(t), "observed the forbidden message");
                    }
                    Op::Spawn(m, linked) => {
                        let parent = cx.me();
                        let opts = if linked {
                            SpawnOpts::default().linked()
                        } else {
                            SpawnOpts::default()
                        };
                        let child = cx
                            .spawn_opts(opts, move |c| async move {
                                c.send(parent, m).await;
                            })
                            .await;
                        note(format!("spawned:{}", child.0));
                    }
                }
            }
            note("end".into());
        });
        assert_eq!(got, pids[me]);
    }
}

fn config(w: &World) -> Config {
    Config {
        delivery: w.delivery,
        faults: if w.fault {
            FaultMenu {
                budget: 1,
                kill_reasons: vec![ExitReason::Kill],
                targets: Targets::Labels(vec!["p1".into()]),
                ..FaultMenu::default()
            }
        } else {
            FaultMenu::none()
        },
        ..Config::default()
    }
}

/// One run: its report and outcome (observations, then how it ended).
fn run(w: &World, chooser: &mut dyn Chooser) -> (RunReport, String) {
    let obs: Obs = Rc::default();
    let mut sim = Sim::new(config(w));
    build(w, &mut sim, obs.clone());
    let r = sim.run(chooser);
    let seen = obs
        .borrow()
        .iter()
        .map(|(k, v)| format!("{k}:{v}"))
        .collect::<Vec<_>>()
        .join("| ");
    let end = match &r.outcome {
        Outcome::Violation(v) => format!("violation {}", v.invariant),
        Outcome::BoundHit(b) => format!("bound {b}"),
        other => format!("{other:?}"),
    };
    (r, format!("{seen} => {end}"))
}

struct Compared {
    plain_runs: u64,
    reduced_runs: u64,
    /// For bounds 1, 2, 3: whether the reduced search held within the bound.
    held: [bool; 3],
}

/// The outcomes of the runs of `search` within `bound` deviations (faults counted),
/// given a run function that records them.
fn outcomes(
    w: &World,
    bound: u32,
    search: impl FnOnce(&mut dyn FnMut(&mut dyn Chooser) -> RunReport),
) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    search(&mut |c| {
        let (r, o) = run(w, c);
        if r.deviations + r.faults <= bound {
            seen.insert(o);
        }
        r
    });
    seen
}

/// The bounded search (`dpor::bounded`) reaches exactly the outcomes of every tape
/// within `bound`; returns whether the reduction held there.
fn compare_bounded(w: &World, bound: u32, cap: u64) -> bool {
    let b = exhaustive::Bound {
        deviations: bound,
        max_runs: cap,
    };
    let mut complete = false;
    let plain = outcomes(w, bound, |run| {
        complete = exhaustive::search(run, |_| false, b).complete;
    });
    assert!(complete, "within the unbounded search's cap");
    let mut held = false;
    let reduced = outcomes(w, bound, |run| {
        let r = dpor::bounded(run, |_| false, b);
        assert!(r.search.complete, "bounded search incomplete on {w:#?}");
        held = r.reduced;
    });
    let missed: Vec<_> = plain.difference(&reduced).collect();
    let extra: Vec<_> = reduced.difference(&plain).collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "bounded search ({bound} deviations, reduction held: {held}) differs on {w:#?}\n\
         missed: {missed:#?}\nextra: {extra:#?}"
    );
    held
}

/// Both searches over one world; `None` when the unreduced one does not complete.
fn compare(w: &World, cap: u64) -> Option<Compared> {
    let mut plain = BTreeSet::new();
    let full = exhaustive::search(
        |c| {
            let (r, o) = run(w, c);
            plain.insert(o);
            r
        },
        |_| false,
        exhaustive::Bound {
            deviations: u32::MAX,
            max_runs: cap,
        },
    );
    if !full.complete {
        return None;
    }
    let mut reduced = BTreeSet::new();
    let red = dpor::search(
        |c| {
            let (r, o) = run(w, c);
            reduced.insert(o);
            r
        },
        |_| false,
        cap,
    );
    assert!(red.search.complete, "reduced search incomplete on {w:#?}");
    let missed: Vec<_> = plain.difference(&reduced).collect();
    let extra: Vec<_> = reduced.difference(&plain).collect();
    assert!(
        missed.is_empty() && extra.is_empty(),
        "reduced search differs on {w:#?}\nmissed: {missed:#?}\nextra: {extra:#?}"
    );
    // Failures: the first found by each search when stopping at one.
    let fails = |r: &RunReport| r.outcome.is_failure();
    let plain_found = exhaustive::search(
        |c| run(w, c).0,
        fails,
        exhaustive::Bound {
            deviations: u32::MAX,
            max_runs: cap,
        },
    )
    .found
    .is_some();
    let reduced_found = dpor::search(|c| run(w, c).0, fails, cap).search.found;
    assert_eq!(plain_found, reduced_found.is_some(), "on {w:#?}");
    if let Some((tape, _)) = reduced_found {
        let (again, _) = run(w, &mut ReplayChooser::new(tape));
        assert!(
            again.outcome.is_failure(),
            "the reduced search's tape replays"
        );
    }
    Some(Compared {
        plain_runs: full.runs,
        reduced_runs: red.search.runs,
        held: [1, 2, 3].map(|b| compare_bounded(w, b, cap)),
    })
}

fn sweep(delivery: Delivery, seed: u64, worlds: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut compared, mut plain, mut reduced) = (0, 0u64, 0u64);
    let mut held = [0usize; 3];
    let mut missed = 0;
    for _ in 0..worlds {
        let w = gen_world(&mut rng, delivery);
        // A difference panics with the world; the sweep counts it and goes on.
        let Ok(c) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| compare(&w, 20_000)))
        else {
            missed += 1;
            compared += 1;
            continue;
        };
        if let Some(c) = c {
            compared += 1;
            plain += c.plain_runs;
            reduced += c.reduced_runs;
            for (h, b) in held.iter_mut().zip(c.held) {
                *h += b as usize;
            }
        }
    }
    println!(
        "{}: {compared} of {worlds} worlds compared, {missed} differ; runs without reduction \
         {plain}, with {reduced}; bounded 1/2/3: the reduction held within the bound in \
         {}/{}/{} of them",
        delivery.name(),
        held[0],
        held[1],
        held[2]
    );
    assert_eq!(
        missed, 0,
        "the reduced search differs on {missed} worlds (printed above)"
    );
    // Most worlds are small enough to enumerate without reduction: the comparison is
    // not vacuous.
    assert!(
        compared * 2 >= worlds,
        "only {compared} of {worlds} compared"
    );
    assert!(reduced < plain, "the reduction reduced nothing");
}

/// A longer sweep for hunting: `DPOR_WORLDS=3000 DPOR_MODEL=local DPOR_SEED=100 cargo
/// test --release --test dpor_reduction -- --ignored many_worlds`.
#[test]
#[ignore]
fn many_worlds() {
    let n: usize = std::env::var("DPOR_WORLDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let model = std::env::var("DPOR_MODEL").unwrap_or_default();
    let seed: u64 = std::env::var("DPOR_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    if model != "distributed" {
        sweep(Delivery::Local, seed, n);
    }
    if model != "local" {
        sweep(Delivery::Distributed, seed + 100, n);
    }
}

#[test]
fn one_node_reduced_search_reaches_every_outcome() {
    sweep(Delivery::Local, 1, 300);
}

#[test]
fn between_nodes_reduced_search_reaches_every_outcome() {
    sweep(Delivery::Distributed, 2, 300);
}

/// Worlds the reduced search once missed, each found by a sweep, each with what it
/// taught:
/// - a kill hides what the killed step would have met (P0 looks up a name, sends to it
///   and exits, deleting its table; P1 looks the table up and inserts; P2 kills P1 and
///   registers the name): P1's insert failing because P0 died between P1's lookup and
///   its insert needs P0's exit tried where P1's insert is asleep;
/// - a receive that timed out and then saw a message arrive takes it because it came
///   first: the arrival depends on the step;
/// - a timer waking a process decides whether it may preempt the turn that follows;
/// - a timer cancelled by a death was enabled before it (a pending step of the timer
///   queue);
/// - the timer queue's next event is whichever timer is first, so a jump is ordered
///   against setting timers by dependence, not by causality;
/// - a wait is not a stutter on one node (P0 sends to P1; P1 takes one message, checks
///   it, sends; P2 sets a timer to P1): a process that waits ends its turn, and the
///   message that wakes it then leaves it behind the turn that runs, where arriving
///   first would have let it run on. Its wait reads its mailbox;
/// - a turn broken by a step that commutes with everything (P0 sends by name; P1
///   registers, takes one message, sends; P2 sends by name, looks the name up): P1,
///   woken during P2's turn, is held back; it gets in before P2's lookup only where
///   another process's step (P0's first, which touches nothing of theirs) comes inside
///   the turn and ends it. So the turn is in a race with the last step before it of
///   every other process, not only of those waiting then;
/// - a failing step ends the run (two worlds where a process panics on the message it
///   took): every step another process would take after it never happens, so which of
///   them came first is an outcome; the failing step is in a race with each;
/// - a kill that, reversed, meets alive the process it found dead (P1 links to P0 and
///   ends; P2 kills P1): before P1 ends, the kill takes P1 and, through the link, P0,
///   which never runs. P0's first step was asleep there, yet covers nothing: in that
///   order it never happens.
#[test]
fn worlds_the_reduction_once_missed() {
    use Op::*;
    let worlds = [
        (
            Delivery::Local,
            vec![
                vec![Exit(2, 1), Send(1, 1)],
                vec![Lookup(1)],
                vec![Trap, RecvTimeout(5), Exit(1, 2)],
            ],
            true,
        ),
        (
            Delivery::Local,
            vec![
                vec![Whereis, SendNamed(0)],
                vec![Insert(1, 2)],
                vec![Exit(1, 0), Register],
            ],
            false,
        ),
        (
            Delivery::Local,
            vec![
                vec![Monitor(1), Link(2), Send(2, 0)],
                vec![RecvTag(2)],
                vec![Trap, RecvTimeout(5), Recv],
            ],
            false,
        ),
        (
            Delivery::Local,
            vec![
                vec![Link(1)],
                vec![Register, Exit(2, 1), Whereis],
                vec![Lookup(1), RecvTimeout(5)],
            ],
            false,
        ),
        (
            Delivery::Local,
            vec![
                vec![Send(1, 0), RecvTimeout(0)],
                vec![Recv, AssertNot(1), Send(0, 2)],
                vec![Insert(1, 2), Trap, SendAfter(1, 1, 5)],
            ],
            false,
        ),
        (
            Delivery::Local,
            vec![
                vec![RecvTag(0), Exit(2, 0)],
                vec![Link(0), Trap, RecvTimeout(0)],
                vec![Exit(1, 0)],
            ],
            false,
        ),
        (
            Delivery::Local,
            vec![
                vec![SendNamed(0)],
                vec![Register, RecvTag(0), Send(0, 2)],
                vec![SendNamed(0), Whereis],
            ],
            false,
        ),
        (
            Delivery::Local,
            vec![
                vec![Recv, AssertNot(0)],
                vec![RecvTag(2)],
                vec![Register],
                vec![Send(0, 0), Register],
            ],
            false,
        ),
        (
            Delivery::Local,
            vec![
                vec![Recv, AssertNot(2), Spawn(1, false)],
                vec![Monitor(2), Trap],
                vec![Send(0, 2), SendAfter(0, 1, 1), Lookup(1)],
            ],
            false,
        ),
        (
            Delivery::Distributed,
            vec![
                vec![Exit(2, 1), Recv, AssertNot(0)],
                vec![IsAlive(0), SendAfter(2, 1, 5), Trap],
                vec![Insert(1, 2), RecvTimeout(0)],
            ],
            true,
        ),
        (
            Delivery::Distributed,
            vec![
                vec![Recv, RecvTag(0)],
                vec![Trap, RecvTimeout(5)],
                vec![SendAfter(1, 2, 1), Lookup(1), Send(0, 2)],
            ],
            false,
        ),
    ];
    for (delivery, scripts, fault) in worlds {
        let w = World {
            delivery,
            scripts,
            fault,
        };
        compare(&w, 100_000).expect("small enough to search without reduction");
    }
}

/// A turn broken by a process that had not yet waited (one node's delivery): P0 waits
/// 5 ms, then sends to P1 and to P2; P1 waits for P0's message and sets a 1 ms timer to
/// P2; P2 registers and takes one message. P2 takes P1's timer message before P0's only
/// where P2 had not yet registered when P0's turn began: P2 then preempts P0 between its
/// two sends, which ends P0's turn and lets P1 in. The reduction once missed it: P2's
/// steps commute with everything, yet they decide who may preempt whom.
#[test]
fn turn_broken_by_a_process_not_yet_waiting() {
    let w = World {
        delivery: Delivery::Local,
        scripts: vec![
            vec![Op::RecvTimeout(5), Op::Send(1, 2), Op::Send(2, 0)],
            vec![Op::RecvTag(2), Op::SendAfter(2, 1, 1)],
            vec![Op::Register, Op::Recv, Op::AssertNot(2)],
        ],
        fault: false,
    };
    compare(&w, 100_000).expect("small enough to search without reduction");
}

/// A turn broken by a process's first step (one node's delivery): P0 creates the table,
/// inserts, sets a 5 ms timer and ends; P1 waits for P2's timer message, then inserts;
/// P2 registers, sets a 5 ms timer to P1, then looks a key up. P1 inserting before P0
/// ends while P2's lookup comes after it needs P1's first step (it only waits) to come
/// after P2's turn began: P1 is then runnable when the turn begins and may preempt it
/// once its message is there, where a P1 already waiting would be held back. The
/// reduction once missed it: P1's first step commutes with every step of P2's, and slept
/// through P2's turn. A process that stops being runnable now wakes the sleepers whose
/// turns read who was runnable.
#[test]
fn turn_broken_by_a_first_step() {
    use Op::*;
    let w = World {
        delivery: Delivery::Local,
        scripts: vec![
            vec![Trap, Insert(1, 2), SendAfter(2, 2, 5)],
            vec![RecvTag(1), Insert(0, 2), Exit(2, 1)],
            vec![Register, SendAfter(1, 1, 5), Lookup(0)],
        ],
        fault: false,
    };
    compare(&w, 100_000).expect("small enough to search without reduction");
}
