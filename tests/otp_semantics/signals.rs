//! OTP_MODEL.md part A–C, rules 1–17: signals and ordering; links, exit signals and
//! `trap_exit`; monitors. Every test's name starts with the rule it checks.
//!
//! Rules that must hold in every schedule are checked on each of many seeds. Rules about
//! ordering and races are checked across many seeds twice over: every seed must show an
//! allowed outcome, *and* the outcomes that make the race real must show up in some seed
//! (a model that were too strict would fail those).
//!
//! Assertions inside a simulated process would only crash that process, so processes
//! record what they see in the [`Log`] and the tests assert on the log and on the world
//! after the run.

use crate::common::*;
use fsim::check::{When, invariant};
use fsim::otp::gen_server::{self, CallReply, GenServer, Next, StartOpts};
use fsim::otp::supervisor::{self, ChildSpec, Restart, Strategy, SupSpec};
use fsim::sim::trace::SignalKind;
use fsim::sim::*;
use std::cell::Cell;
use std::collections::BTreeSet;
use std::rc::Rc;

/// Seeds for rules that must hold in every schedule.
const ALL_SEEDS: u64 = 200;
/// Seeds for rules about races and ordering.
const RACE_SEEDS: u64 = 1_000;
/// Polling rounds before a process gives up waiting for a condition.
const POLL_MAX: u32 = 20_000;

// ---- helpers ----------------------------------------------------------------------------

/// A finished run, kept so the test can inspect the world afterwards.
struct Ran {
    sim: Sim,
    report: RunReport,
    log: Log,
}

impl Ran {
    fn world(&self) -> std::cell::Ref<'_, World> {
        self.sim.world()
    }
    fn lines(&self) -> Vec<String> {
        self.log.lines()
    }
    /// The deliveries of the full trace (the run must have `record_trace`).
    fn deliveries(&self) -> Vec<(Pid, Pid, SignalKind, bool)> {
        self.report
            .trace
            .as_ref()
            .expect("run with record_trace")
            .iter()
            .flat_map(fsim::report::arrivals)
            .map(|(from, to, signal, dropped)| (from, to, signal.clone(), dropped))
            .collect()
    }
}

/// Runs a world with `config` and `chooser`; the run must not fail and no process may
/// have given up waiting.
fn run_cfg(
    seed: u64,
    config: Config,
    chooser: RandomChooser,
    setup: impl FnOnce(&mut Sim, Log),
) -> Ran {
    let (sim, report, log, ()) =
        run_checked(seed, config, chooser, |sim, log| setup(sim, log.clone()));
    let stuck = log.starting_with("stuck:");
    assert!(stuck.is_empty(), "seed {seed}: {stuck:?}");
    Ran { sim, report, log }
}

/// Runs a world under `delivery`, keeping the full trace when `traced`, with the seeded
/// random chooser.
fn run_in(seed: u64, delivery: Delivery, traced: bool, setup: impl FnOnce(&mut Sim, Log)) -> Ran {
    let config = Config {
        delivery,
        record_trace: traced,
        ..Config::default()
    };
    run_cfg(seed, config, RandomChooser::new(seed), setup)
}

/// Runs a world with the default config and the seeded random chooser.
fn run(seed: u64, setup: impl FnOnce(&mut Sim, Log)) -> Ran {
    run_in(seed, Delivery::Local, false, setup)
}

/// Like [`run`], between nodes ([`Delivery::Distributed`]): signals travel on per-pair
/// channels and their delivery is a step, so what the spec allows in flight is reachable.
fn run_distributed(seed: u64, setup: impl FnOnce(&mut Sim, Log)) -> Ran {
    run_in(seed, Delivery::Distributed, false, setup)
}

/// Like [`run_distributed`], keeping the full trace.
fn run_traced_distributed(seed: u64, setup: impl FnOnce(&mut Sim, Log)) -> Ran {
    run_in(seed, Delivery::Distributed, true, setup)
}

/// Like [`run`], keeping the full trace.
fn run_traced(seed: u64, setup: impl FnOnce(&mut Sim, Log)) -> Ran {
    run_in(seed, Delivery::Local, true, setup)
}

/// Faults that kill processes labelled `label` with `reason`, at most once per run.
fn kill_faults(label: &str, reason: ExitReason) -> Config {
    Config {
        faults: FaultMenu {
            budget: 1,
            kill_reasons: vec![reason],
            targets: Targets::Labels(vec![label.to_string()]),
            ..FaultMenu::default()
        },
        ..Config::default()
    }
}

/// Yields until `cond` holds, without receiving anything. Logs `stuck: ...` (which fails
/// the run) if it never does.
async fn wait_until(cx: &Cx, log: &Log, what: &str, cond: impl Fn(&World) -> bool) {
    for _ in 0..POLL_MAX {
        if cond(&cx.world()) {
            return;
        }
        cx.yield_now().await;
    }
    log.push(format!("stuck: {what}"));
}

/// No signal in flight between `a` and `b`, either way.
fn quiet(w: &World, a: Pid, b: Pid) -> bool {
    w.in_flight(a, b) == 0 && w.in_flight(b, a) == 0
}

/// Takes every message already in the mailbox, in mailbox order, without waiting.
async fn drain(cx: &Cx) -> Vec<Envelope> {
    let mut out = Vec::new();
    while let Some(e) = cx.recv_timeout(Matcher::Any, 0).await {
        out.push(e);
    }
    out
}

/// A message as text, without pids: `msg "x"`, `EXIT reason`, `DOWN reason`.
fn describe(e: &Envelope) -> String {
    match &e.body {
        Body::Data { payload, .. } => format!("msg {payload:?}"),
        Body::Exit { reason } => format!("EXIT {reason:?}"),
        Body::Down { reason, .. } => format!("DOWN {reason:?}"),
    }
}

/// Matches an `EXIT` message from `from`.
fn exit_from(from: Pid) -> Matcher {
    Matcher::when(move |e| e.from == from && e.exit_reason().is_some())
}

/// Matches the `&str` message `text`.
fn text(text: &'static str) -> Matcher {
    Matcher::when(move |e| e.peek::<&'static str>() == Some(&text))
}

fn boom() -> ExitReason {
    ExitReason::custom("boom")
}

// ---- rule 1: signals are asynchronous and arrive independently of receive ---------------

#[test]
fn r1_signals_take_effect_while_the_receiver_never_receives() {
    for seed in 0..ALL_SEEDS {
        let mut busy = Pid(0);
        let mut sender = Pid(0);
        let ran = run_distributed(seed, |sim, log| {
            busy = sim.spawn("busy", {
                let log = log.clone();
                move |cx| async move {
                    let me = cx.me();
                    // Only yields; never calls receive.
                    wait_until(&cx, &log, "messages, link, monitor", move |w| {
                        w.mailbox_len(me) == 3
                            && !w.links(me).is_empty()
                            && !w.monitored_by(me).is_empty()
                    })
                    .await;
                    log.push("busy: three messages, a link and a monitor, without receiving");
                    forever(&cx).await;
                }
            });
            let b = busy;
            sender = sim.spawn("sender", move |cx| async move {
                for i in 0..3u32 {
                    cx.send(b, i).await;
                }
                // Asynchronous: each send returned; each is in flight or has arrived (a
                // send is a scheduling point, so deliveries may come between them).
                let (travelling, arrived) = {
                    let w = cx.world();
                    (w.in_flight(cx.me(), b), w.mailbox_len(b))
                };
                log.push(format!(
                    "sender: {} in flight or arrived",
                    travelling + arrived
                ));
                let _ = cx.link(b).await;
                cx.monitor(b).await;
                forever(&cx).await;
            });
        });
        assert_eq!(
            ran.lines(),
            [
                "sender: 3 in flight or arrived",
                "busy: three messages, a link and a monitor, without receiving"
            ],
            "seed {seed}"
        );
        let w = ran.world();
        assert!(w.is_alive(busy) && w.is_alive(sender), "seed {seed}");
        assert_eq!(w.mailbox_len(busy), 3, "seed {seed}");
        assert_eq!(w.links(busy), [sender], "seed {seed}");
        assert_eq!(w.links(sender), [busy], "seed {seed}");
        assert_eq!(w.monitored_by(busy).len(), 1, "seed {seed}");
        assert_eq!(w.monitored_by(busy)[0].1, sender, "seed {seed}");
        assert_eq!(w.monitors(sender), [(w.monitored_by(busy)[0].0, busy)]);
    }
}

#[test]
fn r1_exit_signal_kills_a_process_that_never_receives() {
    for seed in 0..ALL_SEEDS {
        let mut victim = Pid(0);
        let ran = run(seed, |sim, log| {
            victim = sim.spawn("victim", move |cx| async move {
                for _ in 0..POLL_MAX {
                    cx.yield_now().await;
                }
                log.push("victim finished its loop");
            });
            let v = victim;
            sim.spawn("killer", move |cx| async move {
                cx.exit_signal(v, ExitReason::custom("stop")).await;
            });
        });
        assert!(ran.lines().is_empty(), "seed {seed}: {:?}", ran.lines());
        assert_eq!(
            ran.world().exit_reason(victim),
            Some(&ExitReason::custom("stop")),
            "seed {seed}"
        );
    }
}

// ---- rule 2: FIFO per (sender, receiver) pair, nothing else ------------------------------

#[test]
fn r2_one_pair_never_reorders_and_two_senders_arrive_in_both_orders() {
    let mut orders: BTreeSet<Vec<u32>> = BTreeSet::new();
    for seed in 0..RACE_SEEDS {
        let ran = run(seed, |sim, log| {
            let r = sim.spawn("r", move |cx| async move {
                for _ in 0..6 {
                    let (_, n) = cx.recv_type::<u32>().await;
                    log.push(n.to_string());
                }
            });
            for (label, base) in [("a", 10u32), ("b", 20u32)] {
                sim.spawn(label, move |cx| async move {
                    for i in 1..=3 {
                        cx.send(r, base + i).await;
                        cx.yield_now().await;
                    }
                });
            }
        });
        let got: Vec<u32> = ran.lines().iter().map(|l| l.parse().unwrap()).collect();
        let from_a: Vec<u32> = got.iter().copied().filter(|n| *n < 20).collect();
        let from_b: Vec<u32> = got.iter().copied().filter(|n| *n > 20).collect();
        assert_eq!(
            from_a,
            [11, 12, 13],
            "seed {seed}: a's signals reordered: {got:?}"
        );
        assert_eq!(
            from_b,
            [21, 22, 23],
            "seed {seed}: b's signals reordered: {got:?}"
        );
        assert_eq!(got.len(), 6, "seed {seed}");
        orders.insert(got);
    }
    let a_first = orders.iter().any(|o| o[0] == 11);
    let b_first = orders.iter().any(|o| o[0] == 21);
    assert!(
        a_first && b_first,
        "two senders must arrive in both orders; seen {orders:?}"
    );
    assert!(
        orders.len() > 2,
        "senders must interleave, not only run one after the other: {orders:?}"
    );
}

#[test]
fn r2_messages_and_exit_signals_of_one_sender_keep_send_order() {
    let mut down_reasons = BTreeSet::new();
    for seed in 0..RACE_SEEDS {
        let ran = run_distributed(seed, |sim, log| {
            sim.spawn("r", move |cx| async move {
                cx.trap_exit(true);
                let me = cx.me();
                let s = cx
                    .spawn(move |cx| async move {
                        cx.send(me, "m1").await;
                        cx.exit_signal(me, ExitReason::custom("bye")).await;
                        cx.yield_now().await;
                        cx.send(me, "m2").await;
                        ExitReason::custom("done")
                    })
                    .await;
                cx.monitor(s).await;
                wait_until(&cx, &log, "four signals from s", move |w| {
                    w.mailbox_len(me) == 4
                })
                .await;
                for e in drain(&cx).await {
                    let who = if e.from == s { "" } else { " (not from s!)" };
                    log.push(format!("{}{who}", describe(&e)));
                }
            });
        });
        let lines = ran.lines();
        assert_eq!(
            lines[..3],
            ["msg \"m1\"", "EXIT bye", "msg \"m2\""],
            "seed {seed}: {lines:?}"
        );
        assert_eq!(lines.len(), 4, "seed {seed}: {lines:?}");
        // The monitor may reach s before or after it died; either way its DOWN is last.
        assert!(
            lines[3] == "DOWN done" || lines[3] == "DOWN noproc",
            "seed {seed}: {lines:?}"
        );
        down_reasons.insert(lines[3].clone());
    }
    assert_eq!(down_reasons.len(), 2, "both DOWN reasons: {down_reasons:?}");
}

#[test]
fn r2_one_sender_to_two_receivers_is_not_ordered() {
    // s sends x to r, then y to m; m forwards z to r on receiving y. z is caused by a
    // signal sent after x, but comes from another sender: r may see it first.
    let mut seen = BTreeSet::new();
    for seed in 0..RACE_SEEDS {
        let ran = run_distributed(seed, |sim, log| {
            let r = sim.spawn("r", move |cx| async move {
                let (_, a) = cx.recv_type::<&'static str>().await;
                let (_, b) = cx.recv_type::<&'static str>().await;
                log.push(format!("{a}{b}"));
            });
            let m = sim.spawn("m", move |cx| async move {
                cx.recv_match(text("y")).await;
                cx.send(r, "z").await;
            });
            sim.spawn("s", move |cx| async move {
                cx.send(r, "x").await;
                cx.send(m, "y").await;
            });
        });
        let l = ran.lines();
        assert!(l == ["xz"] || l == ["zx"], "seed {seed}: {l:?}");
        seen.insert(l[0].clone());
    }
    assert_eq!(
        seen.len(),
        2,
        "x then z and z then x must both occur: {seen:?}"
    );
}

#[test]
fn r2_a_noproc_down_never_overtakes_earlier_messages_of_the_dead_pid() {
    // d sends m to w and exits. w learns from alive? (a global read, not a signal) that d
    // is dead and monitors it: the DOWN(noproc) stands for d, so it must not arrive before
    // what d sent earlier (on the BEAM, a dead local process has no signal in flight).
    let mut in_flight_at_monitor = 0;
    for seed in 0..RACE_SEEDS {
        let ran = run_distributed(seed, |sim, log| {
            let w = sim.spawn("w", {
                let log = log.clone();
                move |cx| async move {
                    let (_, d) = cx.recv_type::<Pid>().await;
                    let mut polls = 0;
                    while cx.is_alive(d).await {
                        polls += 1;
                        if polls > POLL_MAX {
                            log.push("stuck: d never died");
                            return;
                        }
                    }
                    let travelling = cx.world().in_flight(d, cx.me());
                    cx.monitor(d).await;
                    log.push(format!("in flight at monitor: {travelling}"));
                    for _ in 0..2 {
                        let e = cx.recv().await;
                        log.push(describe(&e));
                    }
                }
            });
            sim.spawn("d", move |cx| async move {
                cx.send(w, cx.me()).await;
                cx.send(w, "m").await;
            });
        });
        let l = ran.lines();
        assert_eq!(l[1..], ["msg \"m\"", "DOWN noproc"], "seed {seed}: {l:?}");
        in_flight_at_monitor += (l[0] != "in flight at monitor: 0") as u32;
    }
    assert!(
        in_flight_at_monitor > 0,
        "d's message must sometimes still travel when w monitors the dead d"
    );
}

// ---- rule 3: mailbox order is arrival order; EXIT and DOWN have no priority --------------

#[test]
fn r3_mailbox_order_is_arrival_order_and_exit_down_have_no_priority() {
    let (mut exit_before_c, mut exit_after_c) = (false, false);
    let (mut down_before_c, mut down_after_c) = (false, false);
    for seed in 0..RACE_SEEDS {
        let mut r = Pid(0);
        let ran = run_traced_distributed(seed, |sim, log| {
            r = sim.spawn("r", move |cx| async move {
                cx.trap_exit(true);
                let me = cx.me();
                let a = cx
                    .spawn_link(move |cx| async move {
                        cx.send(me, "a").await;
                        ExitReason::custom("a-crash")
                    })
                    .await;
                let (b, _) = cx
                    .spawn_monitor(move |cx| async move {
                        cx.send(me, "b").await;
                    })
                    .await;
                let c = cx
                    .spawn(move |cx| async move {
                        cx.send(me, "c1").await;
                        cx.yield_now().await;
                        cx.send(me, "c2").await;
                    })
                    .await;
                wait_until(&cx, &log, "six messages", move |w| w.mailbox_len(me) == 6).await;
                for e in drain(&cx).await {
                    let who = [(a, "a"), (b, "b"), (c, "c")]
                        .iter()
                        .find(|(p, _)| *p == e.from)
                        .map_or("?", |(_, n)| n);
                    let kind = match e.body {
                        Body::Data { .. } => "msg",
                        Body::Exit { .. } => "exit",
                        Body::Down { .. } => "down",
                    };
                    log.push(format!("{kind}@{who}/{}", e.from.0));
                }
            });
        });
        // Arrival order, from the trace: deliveries to r that put something in its mailbox.
        let arrived: Vec<String> = ran
            .deliveries()
            .into_iter()
            .filter(|(_, to, _, dropped)| *to == r && !dropped)
            .filter_map(|(from, _, signal, _)| {
                let kind = match signal {
                    SignalKind::Message(_) => "msg",
                    SignalKind::Exit { .. } => "exit",
                    SignalKind::Down(_) => "down",
                    _ => return None,
                };
                Some(format!("{kind}/{}", from.0))
            })
            .collect();
        let lines = ran.lines();
        let received: Vec<String> = lines
            .iter()
            .map(|l| {
                let (kind, rest) = l.split_once('@').unwrap();
                format!("{kind}/{}", rest.split_once('/').unwrap().1)
            })
            .collect();
        assert_eq!(
            received, arrived,
            "seed {seed}: mailbox order is not arrival order"
        );
        let pos = |s: &str| lines.iter().position(|l| l.starts_with(s)).unwrap();
        assert!(pos("msg@a") < pos("exit@a"), "seed {seed}: {lines:?}");
        assert!(pos("msg@b") < pos("down@b"), "seed {seed}: {lines:?}");
        let last_c = lines.iter().rposition(|l| l.starts_with("msg@c")).unwrap();
        exit_before_c |= pos("exit@a") < last_c;
        exit_after_c |= pos("exit@a") > last_c;
        down_before_c |= pos("down@b") < last_c;
        down_after_c |= pos("down@b") > last_c;
    }
    assert!(
        exit_before_c && exit_after_c,
        "EXIT must land both before and after another sender's messages"
    );
    assert!(
        down_before_c && down_after_c,
        "DOWN must land both before and after another sender's messages"
    );
}

#[test]
fn r3_exit_and_down_queue_behind_earlier_messages() {
    for seed in 0..ALL_SEEDS {
        let ran = run(seed, |sim, log| {
            sim.spawn("r", move |cx| async move {
                cx.trap_exit(true);
                let me = cx.me();
                let s = cx
                    .spawn_link(move |cx| async move {
                        cx.send(me, "m1").await;
                        cx.send(me, "m2").await;
                        boom()
                    })
                    .await;
                cx.monitor(s).await;
                wait_until(&cx, &log, "four messages", move |w| w.mailbox_len(me) == 4).await;
                // A receive of anything takes the oldest first: no priority for EXIT/DOWN.
                for _ in 0..4 {
                    let e = cx.recv().await;
                    log.push(describe(&e));
                }
            });
        });
        let lines = ran.lines();
        assert_eq!(
            lines[..2],
            ["msg \"m1\"", "msg \"m2\""],
            "seed {seed}: {lines:?}"
        );
        let tail: BTreeSet<&str> = lines[2..].iter().map(String::as_str).collect();
        assert!(
            tail == BTreeSet::from(["EXIT boom", "DOWN boom"])
                || tail == BTreeSet::from(["EXIT boom", "DOWN noproc"]),
            "seed {seed}: {lines:?}"
        );
    }
}

// ---- rule 4: signals to a dead process ---------------------------------------------------

#[test]
fn r4_send_to_a_dead_pid_is_a_no_op() {
    for seed in 0..ALL_SEEDS {
        let (mut d, mut s) = (Pid(0), Pid(0));
        let ran = run_traced(seed, |sim, log| {
            d = sim.spawn("d", |_cx| async {});
            let dd = d;
            s = sim.spawn("s", move |cx| async move {
                let m = cx.monitor(dd).await;
                cx.recv_match(Matcher::Tag(m)).await;
                cx.send(dd, "hello").await;
                cx.send(dd, "again").await;
                log.push("s: sent to dead d and goes on");
            });
        });
        assert_eq!(
            ran.lines(),
            ["s: sent to dead d and goes on"],
            "seed {seed}"
        );
        let w = ran.world();
        assert_eq!(w.exit_reason(d), Some(&ExitReason::Normal), "seed {seed}");
        assert_eq!(w.exit_reason(s), Some(&ExitReason::Normal), "seed {seed}");
        assert_eq!(w.mailbox_len(d), 0, "seed {seed}");
        assert_eq!(w.in_flight(s, d), 0, "seed {seed}");
        drop(w);
        let reached = ran
            .deliveries()
            .into_iter()
            .any(|(from, to, sig, dropped)| {
                from == s && to == d && matches!(sig, SignalKind::Message(_)) && !dropped
            });
        assert!(!reached, "seed {seed}: a message reached a dead process");
    }
}

#[test]
fn r4_link_to_a_dead_pid_yields_exit_noproc() {
    for seed in 0..ALL_SEEDS {
        let (mut trapper, mut plain) = (Pid(0), Pid(0));
        let ran = run_distributed(seed, |sim, log| {
            let d = sim.spawn("d", |_cx| async {});
            trapper = sim.spawn("trapper", {
                let log = log.clone();
                move |cx| async move {
                    cx.trap_exit(true);
                    let m = cx.monitor(d).await;
                    cx.recv_match(Matcher::Tag(m)).await;
                    let _ = cx.link(d).await;
                    let e = cx.recv_match(exit_from(d)).await;
                    log.push(format!("trapper: {}", describe(&e)));
                    let me = cx.me();
                    wait_until(&cx, &log, "quiet", move |w| quiet(w, me, d)).await;
                    log.push(format!("trapper: links {:?}", cx.world().links(me)));
                    forever(&cx).await;
                }
            });
            plain = sim.spawn("plain", move |cx| async move {
                let m = cx.monitor(d).await;
                cx.recv_match(Matcher::Tag(m)).await;
                let _ = cx.link(d).await;
                forever(&cx).await;
            });
        });
        assert_eq!(
            ran.lines(),
            ["trapper: EXIT noproc", "trapper: links []"],
            "seed {seed}"
        );
        let w = ran.world();
        assert!(w.is_alive(trapper), "seed {seed}");
        assert_eq!(
            w.exit_reason(plain),
            Some(&ExitReason::NoProc),
            "seed {seed}"
        );
    }
}

#[test]
fn r14_monitor_of_dead_pid_gives_noproc_down() {
    for seed in 0..ALL_SEEDS {
        let ran = run(seed, |sim, log| {
            let d = sim.spawn("d", |_cx| async {});
            sim.spawn("m", move |cx| async move {
                let first = cx.monitor(d).await;
                cx.recv_match(Matcher::Tag(first)).await;
                let m = cx.monitor(d).await;
                let e = cx.recv_match(Matcher::Tag(m)).await;
                let (r, pid, reason) = e.down().unwrap();
                log.push(format!(
                    "DOWN ref ok {}, pid ok {}, {reason:?}",
                    r == m,
                    pid == d
                ));
                log.push(format!(
                    "monitors left {}",
                    cx.world().monitors(cx.me()).len()
                ));
            });
        });
        assert_eq!(
            ran.lines(),
            ["DOWN ref ok true, pid ok true, noproc", "monitors left 0"],
            "seed {seed}"
        );
    }
}

#[test]
fn r4_link_and_monitor_racing_with_an_exit_give_one_signal_each() {
    let (mut exit_reasons, mut down_reasons) = (BTreeSet::new(), BTreeSet::new());
    for seed in 0..RACE_SEEDS {
        let ran = run(seed, |sim, log| {
            let v = sim.spawn("v", |cx| async move { forever(&cx).await });
            sim.spawn(
                "k",
                move |cx| async move { cx.exit_signal(v, boom()).await },
            );
            sim.spawn("w", move |cx| async move {
                cx.trap_exit(true);
                let me = cx.me();
                let _ = cx.link(v).await;
                let m = cx.monitor(v).await;
                let exit = cx.recv_match(exit_from(v)).await;
                let down = cx.recv_match(Matcher::Tag(m)).await;
                wait_until(&cx, &log, "v gone, channels empty", move |w| {
                    !w.is_alive(v) && quiet(w, me, v)
                })
                .await;
                let extra = drain(&cx).await.len();
                log.push(describe(&exit));
                log.push(describe(&down));
                log.push(format!("extra {extra}, links {:?}", cx.world().links(me)));
            });
        });
        let l = ran.lines();
        assert_eq!(l.len(), 3, "seed {seed}: {l:?}");
        assert!(
            l[0] == "EXIT boom" || l[0] == "EXIT noproc",
            "seed {seed}: {l:?}"
        );
        assert!(
            l[1] == "DOWN boom" || l[1] == "DOWN noproc",
            "seed {seed}: {l:?}"
        );
        assert_eq!(l[2], "extra 0, links []", "seed {seed}");
        exit_reasons.insert(l[0].clone());
        down_reasons.insert(l[1].clone());
    }
    assert_eq!(exit_reasons.len(), 2, "{exit_reasons:?}");
    assert_eq!(down_reasons.len(), 2, "{down_reasons:?}");
}

// ---- rule 5: send to an unregistered name raises -----------------------------------------

#[test]
fn r5_send_to_an_unregistered_name_is_badarg() {
    for seed in 0..ALL_SEEDS {
        let ran = run(seed, |sim, log| {
            let s = sim.spawn("s", {
                let log = log.clone();
                move |cx| async move {
                    let r = cx.send_named("ghost", 1u32).await;
                    log.push(format!("{r:?}"));
                    let (svc, _) = cx.recv_type::<&'static str>().await;
                    let r = cx.send_named("svc", 7u32).await;
                    log.push(format!("{r:?}"));
                    let m = cx.monitor(svc).await;
                    cx.recv_match(Matcher::Tag(m)).await;
                    let r = cx.send_named("svc", 8u32).await;
                    log.push(format!("{r:?}"));
                }
            });
            sim.spawn("svc", move |cx| async move {
                cx.register("svc").await.unwrap();
                cx.send(s, "registered").await;
                let (_, n) = cx.recv_type::<u32>().await;
                log.push(format!("svc got {n}"));
            });
        });
        assert_eq!(
            ran.lines(),
            [
                "Err(NotRegistered(\"ghost\"))",
                "Ok(())",
                "svc got 7",
                "Err(NotRegistered(\"svc\"))"
            ],
            "seed {seed}"
        );
        assert_eq!(ran.world().whereis("svc"), None);
    }
}

// ---- rule 6: names and tables are released before EXIT and DOWN go out ------------------

#[derive(Clone, Copy, PartialEq, Debug)]
enum Death {
    /// The server exits by itself.
    Itself,
    /// The watcher sends it `exit(kill)`.
    Killed,
    /// A fault kills it at any step.
    Fault,
}

fn r6_world(sim: &mut Sim, log: Log, death: Death) {
    sim.invariant(invariant(
        "names_and_tables_of_live_owners",
        When::Always,
        |w| {
            for (name, pid) in w.registered() {
                if !w.is_alive(pid) {
                    return Err(format!("name {name} held by dead {pid}"));
                }
            }
            if let Some(id) = w.table_named("tab")
                && !w.table_owner(id).is_some_and(|o| w.is_alive(o))
            {
                return Err("table tab outlived its owner".into());
            }
            Ok(())
        },
    ));
    sim.spawn("watcher", move |cx| async move {
        cx.trap_exit(true);
        let me = cx.me();
        let srv = SpawnOpts::labelled("srv").linked();
        let s = cx
            .spawn_opts(srv, {
                let log = log.clone();
                move |cx| async move {
                    cx.register("srv").await.unwrap();
                    let _t: Table<u32, u32> = cx.table_new_named("tab").await.unwrap();
                    log.push("srv: name and table taken");
                    if death == Death::Itself {
                        return boom();
                    }
                    cx.send(me, "ready").await;
                    forever(&cx).await;
                    ExitReason::Normal
                }
            })
            .await;
        let m = cx.monitor(s).await;
        if death == Death::Killed {
            cx.recv_match(text("ready")).await;
            cx.exit_signal(s, ExitReason::Kill).await;
        }
        let exit = cx.recv_match(exit_from(s)).await;
        let (name, table) = {
            let w = cx.world();
            (w.whereis("srv"), w.table_named("tab"))
        };
        log.push(format!(
            "at {}: name {name:?}, table {table:?}",
            describe(&exit)
        ));
        let again = cx.register("srv").await;
        let table_again = cx.table_new_named::<u32, u32>("tab").await.is_some();
        log.push(format!(
            "register again {again:?}, table again {table_again}"
        ));
        cx.recv_match(Matcher::Tag(m)).await;
        log.push(format!(
            "at DOWN: name held by watcher {}",
            cx.world().whereis("srv") == Some(me)
        ));
    });
}

#[test]
fn r6_name_and_table_are_free_when_exit_and_down_arrive() {
    for (death, reason) in [(Death::Itself, "boom"), (Death::Killed, "killed")] {
        for seed in 0..ALL_SEEDS {
            let ran = run(seed, |sim, log| r6_world(sim, log, death));
            assert_eq!(
                ran.lines(),
                [
                    "srv: name and table taken".to_string(),
                    format!("at EXIT {reason}: name None, table None"),
                    "register again Ok(()), table again true".to_string(),
                    "at DOWN: name held by watcher true".to_string(),
                ],
                "{death:?} seed {seed}"
            );
        }
    }
}

#[test]
fn r6_name_and_table_are_free_when_a_fault_kills_the_owner() {
    let mut killed_holding = 0;
    for seed in 0..ALL_SEEDS {
        let config = kill_faults("srv", ExitReason::custom("fault"));
        let chooser = RandomChooser::new(seed).with_rates(300_000, 0);
        let ran = run_cfg(seed, config, chooser, |sim, log| {
            r6_world(sim, log, Death::Fault)
        });
        let l = ran.lines();
        // The invariant held at every step (else the run failed). When the fault hit:
        if l.iter().any(|x| x.starts_with("at EXIT")) {
            let at = l.iter().position(|x| x.starts_with("at EXIT")).unwrap();
            assert_eq!(
                l[at..],
                [
                    "at EXIT fault: name None, table None",
                    "register again Ok(()), table again true",
                    "at DOWN: name held by watcher true",
                ],
                "seed {seed}"
            );
            killed_holding += (at == 1) as u32;
        }
    }
    assert!(
        killed_holding >= 5,
        "the fault must often kill the server while it holds its name ({killed_holding})"
    );
}

// ---- rule 7: alive? -----------------------------------------------------------------------

#[test]
fn r7_check_then_act_on_alive_races_with_an_exit() {
    let mut outcomes: BTreeSet<Vec<String>> = BTreeSet::new();
    for seed in 0..RACE_SEEDS {
        let mut p = Pid(0);
        let ran = run(seed, |sim, log| {
            p = sim.spawn("p", {
                let log = log.clone();
                move |cx| async move {
                    cx.recv_match(text("work")).await;
                    log.push("p: handled work");
                    forever(&cx).await;
                }
            });
            let pp = p;
            sim.spawn("k", move |cx| async move {
                cx.exit_signal(pp, ExitReason::Kill).await
            });
            sim.spawn("c", move |cx| async move {
                if cx.is_alive(pp).await {
                    cx.send(pp, "work").await;
                    log.push("c: p alive, sent work");
                } else {
                    log.push("c: p dead");
                }
            });
        });
        assert_eq!(
            ran.world().exit_reason(p),
            Some(&ExitReason::Killed),
            "seed {seed}"
        );
        outcomes.insert(ran.lines());
    }
    let allowed: BTreeSet<Vec<String>> = [
        vec!["c: p dead"],
        vec!["c: p alive, sent work"],
        vec!["c: p alive, sent work", "p: handled work"],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(String::from).collect())
    .collect();
    assert!(outcomes.is_subset(&allowed), "{outcomes:?}");
    // The race: p was alive at the check, yet the work was never handled.
    assert!(
        outcomes.contains(&vec!["c: p alive, sent work".to_string()]),
        "check-then-act must lose the race in some seed: {outcomes:?}"
    );
    assert!(
        outcomes.contains(&vec!["c: p dead".to_string()]),
        "{outcomes:?}"
    );
}

#[test]
fn r7_alive_is_false_from_the_exit_on_even_before_down_arrives() {
    let mut down_there = BTreeSet::new();
    for seed in 0..RACE_SEEDS {
        let ran = run_distributed(seed, |sim, log| {
            let p = sim.spawn("p", |cx| async move {
                cx.yield_now().await;
                boom()
            });
            sim.spawn("w", move |cx| async move {
                let me = cx.me();
                let m = cx.monitor(p).await;
                let mut polls = 0;
                while cx.is_alive(p).await {
                    polls += 1;
                    if polls > POLL_MAX {
                        log.push("stuck: p never died");
                        return;
                    }
                }
                // alive? turned false: p has exited, whether or not its DOWN arrived yet.
                let world_alive = cx.world().is_alive(p);
                let has_down = cx.world().mailbox_len(me) == 1;
                let again = cx.is_alive(p).await;
                cx.recv_match(Matcher::Tag(m)).await;
                log.push(format!("world alive {world_alive}, again {again}"));
                log.push(format!("DOWN already there: {has_down}"));
            });
        });
        let l = ran.lines();
        assert_eq!(l[0], "world alive false, again false", "seed {seed}");
        down_there.insert(l[1].clone());
    }
    assert_eq!(
        down_there.len(),
        2,
        "alive? must turn false both before and after the DOWN arrives: {down_there:?}"
    );
}

// ---- rule 8: a dead process's mailbox is never handled -----------------------------------

#[derive(Debug)]
enum SinkCast {
    Crash,
    Work(u32),
}

/// Handles `Work` by logging it; `Crash` waits until two more casts are queued, then stops.
struct Sink {
    log: Log,
}

impl GenServer for Sink {
    type Call = ();
    type Reply = ();
    type Cast = SinkCast;

    async fn handle_call(
        &mut self,
        _cx: &Cx,
        _req: (),
        _from: gen_server::Caller,
    ) -> CallReply<()> {
        CallReply::Reply(())
    }

    async fn handle_cast(&mut self, cx: &Cx, msg: SinkCast) -> Next {
        match msg {
            SinkCast::Work(n) => {
                self.log.push(format!("handled {n}"));
                Next::Continue
            }
            SinkCast::Crash => {
                let me = cx.me();
                wait_until(cx, &self.log, "two queued casts", move |w| {
                    w.mailbox_len(me) >= 2
                })
                .await;
                let queued = cx.world().mailbox_len(me);
                self.log.push(format!("crashing with {queued} queued"));
                Next::Stop(ExitReason::custom("crash"))
            }
        }
    }
}

#[test]
fn r8_casts_queued_at_a_crashed_server_are_never_handled() {
    for seed in 0..ALL_SEEDS {
        let server = Slot::default();
        let ran = run(seed, |sim, log| {
            let server = server.clone();
            sim.spawn("client", move |cx| async move {
                let sink = Sink { log: log.clone() };
                let s = gen_server::start(&cx, sink, StartOpts::default())
                    .await
                    .unwrap();
                server.set(s);
                let m = cx.monitor(s).await;
                gen_server::cast(&cx, s, SinkCast::Crash).await;
                gen_server::cast(&cx, s, SinkCast::Work(1)).await;
                gen_server::cast(&cx, s, SinkCast::Work(2)).await;
                let e = cx.recv_match(Matcher::Tag(m)).await;
                log.push(describe(&e));
                gen_server::cast(&cx, s, SinkCast::Work(3)).await;
            });
        });
        assert_eq!(
            ran.lines(),
            ["crashing with 2 queued", "DOWN crash"],
            "seed {seed}"
        );
        let w = ran.world();
        assert_eq!(
            w.exit_reason(server.get()),
            Some(&ExitReason::custom("crash"))
        );
        assert_eq!(w.mailbox_len(server.get()), 0, "seed {seed}");
    }
}

#[test]
fn r8_messages_in_the_mailbox_of_a_killed_process_are_lost() {
    let mut lost_some = 0;
    for seed in 0..ALL_SEEDS {
        let mut victim = Pid(0);
        // The victim's mailbox length at the last step it was alive.
        let last_len = Rc::new(Cell::new(0usize));
        let config = kill_faults("victim", ExitReason::custom("fault"));
        let chooser = RandomChooser::new(seed).with_rates(100_000, 0);
        let ran = run_cfg(seed, config, chooser, |sim, log| {
            victim = sim.spawn("victim", move |cx| async move {
                for _ in 0..10 {
                    let (_, n) = cx.recv_type::<u32>().await;
                    log.push(n.to_string());
                    cx.yield_now().await;
                    cx.yield_now().await;
                }
            });
            let v = victim;
            sim.spawn("sender", move |cx| async move {
                for n in 1..=10u32 {
                    cx.send(v, n).await;
                }
            });
            let last_len = last_len.clone();
            sim.invariant(invariant("track mailbox", When::Always, move |w| {
                if w.is_alive(v) {
                    last_len.set(w.mailbox_len(v));
                }
                Ok(())
            }));
        });
        let handled: Vec<u32> = ran.lines().iter().map(|l| l.parse().unwrap()).collect();
        let k = handled.len() as u32;
        assert_eq!(handled, (1..=k).collect::<Vec<_>>(), "seed {seed}");
        let w = ran.world();
        assert_eq!(w.mailbox_len(victim), 0, "seed {seed}");
        if w.exit_reason(victim) == Some(&ExitReason::custom("fault")) {
            assert!(k < 10, "seed {seed}");
            if last_len.get() > 0 {
                lost_some += 1;
            }
        } else {
            assert_eq!(k, 10, "seed {seed}");
        }
    }
    assert!(
        lost_some > 10,
        "the fault must often kill the victim with messages waiting ({lost_some})"
    );
}

// ---- rule 9: links ------------------------------------------------------------------------

#[test]
fn r9_links_are_bidirectional_and_at_most_one_per_pair() {
    for seed in 0..ALL_SEEDS {
        let ran = run(seed, |sim, log| {
            sim.spawn("a", move |cx| async move {
                cx.trap_exit(true);
                let a = cx.me();
                let b = cx
                    .spawn(move |cx| async move {
                        let _ = cx.link(a).await;
                        let _ = cx.link(a).await;
                        cx.send(a, "linked").await;
                        cx.recv_match(text("die")).await;
                        boom()
                    })
                    .await;
                for _ in 0..3 {
                    let _ = cx.link(b).await;
                }
                cx.recv_match(text("linked")).await;
                wait_until(&cx, &log, "links delivered", move |w| quiet(w, a, b)).await;
                {
                    let w = cx.world();
                    log.push(format!(
                        "a links b: {}, b links a: {}",
                        w.links(a) == [b],
                        w.links(b) == [a]
                    ));
                }
                cx.send(b, "die").await;
                let e = cx.recv_match(exit_from(b)).await;
                log.push(describe(&e));
                wait_until(&cx, &log, "b gone", move |w| {
                    !w.is_alive(b) && quiet(w, a, b)
                })
                .await;
                let extra = drain(&cx).await.len();
                log.push(format!("extra {extra}, links {:?}", cx.world().links(a)));
            });
        });
        assert_eq!(
            ran.lines(),
            [
                "a links b: true, b links a: true",
                "EXIT boom",
                "extra 0, links []"
            ],
            "seed {seed}"
        );
    }
}

#[test]
fn r9_unlink_removes_the_link_on_both_sides() {
    for seed in 0..ALL_SEEDS {
        let mut a = Pid(0);
        let b_slot = Slot::default();
        let ran = run(seed, |sim, log| {
            let b_slot = b_slot.clone();
            a = sim.spawn("a", move |cx| async move {
                let a = cx.me();
                let b = cx
                    .spawn(move |cx| async move {
                        cx.recv_match(text("die")).await;
                        boom()
                    })
                    .await;
                b_slot.set(b);
                let _ = cx.link(b).await;
                wait_until(&cx, &log, "link delivered", move |w| w.links(b) == [a]).await;
                cx.unlink(b).await;
                wait_until(&cx, &log, "unlink delivered", move |w| quiet(w, a, b)).await;
                {
                    let w = cx.world();
                    log.push(format!("links {:?} {:?}", w.links(a), w.links(b)));
                }
                let m = cx.monitor(b).await;
                cx.send(b, "die").await;
                cx.recv_match(Matcher::Tag(m)).await;
                wait_until(&cx, &log, "quiet", move |w| quiet(w, a, b)).await;
                log.push("a survived b's crash");
                forever(&cx).await;
            });
        });
        assert_eq!(
            ran.lines(),
            ["links [] []", "a survived b's crash"],
            "seed {seed}"
        );
        let w = ran.world();
        assert!(w.is_alive(a), "seed {seed}");
        assert_eq!(w.exit_reason(b_slot.get()), Some(&boom()), "seed {seed}");
    }
}

/// a and b linked (by spawn_link); c then tells a to unlink b and, at the same time, b to
/// call link(a) and then run `b_then`. Returns the world's pids (a, b).
fn unlink_vs_link_world(sim: &mut Sim, log: Log, b_then: ExitReason) -> (Pid, Slot<Pid>) {
    let b_slot = Slot::default();
    let bs = b_slot.clone();
    let a = sim.spawn("a", move |cx| async move {
        let a = cx.me();
        let b = cx
            .spawn_link({
                let log = log.clone();
                move |cx| async move {
                    cx.recv_match(text("relink")).await;
                    // Is b's side of the link still there (a's unlink not arrived yet)?
                    let redundant = cx.world().links(cx.me()).contains(&a);
                    log.push(format!("b: link(a) while still linked: {redundant}"));
                    let _ = cx.link(a).await;
                    if b_then == ExitReason::Normal {
                        forever(&cx).await;
                    }
                    b_then
                }
            })
            .await;
        bs.set(b);
        cx.spawn(move |cx| async move {
            cx.send(a, "unlink").await;
            cx.send(b, "relink").await;
        })
        .await;
        cx.recv_match(text("unlink")).await;
        cx.unlink(b).await;
        log.push("a: unlinked");
        forever(&cx).await;
    });
    (a, b_slot)
}

#[test]
fn r9_concurrent_link_and_unlink_leave_both_sides_agreeing() {
    for seed in 0..RACE_SEEDS {
        let mut pids = (Pid(0), Slot::default());
        let ran = run(seed, |sim, log| {
            pids = unlink_vs_link_world(sim, log, ExitReason::Normal);
        });
        let (a, b) = (pids.0, pids.1.get());
        let w = ran.world();
        let (ab, ba) = (w.links(a).contains(&b), w.links(b).contains(&a));
        assert_eq!(
            ab,
            ba,
            "seed {seed}: a links b {ab}, b links a {ba}; {:?}",
            ran.lines()
        );
    }
}

#[test]
fn r9_unlink_is_not_undone_by_a_redundant_link_from_the_partner() {
    let mut redundant_seen = 0;
    for seed in 0..RACE_SEEDS {
        let mut pids = (Pid(0), Slot::default());
        let ran = run_traced_distributed(seed, |sim, log| {
            pids = unlink_vs_link_world(sim, log, boom());
        });
        let (a, b) = (pids.0, pids.1.get());
        let lines = ran.lines();
        // b's link(a) was a no-op when b's side was still active: no LINK went out.
        let link_sent = ran
            .deliveries()
            .iter()
            .any(|(from, to, sig, _)| *from == b && *to == a && matches!(sig, SignalKind::Link));
        let redundant = !link_sent && lines.contains(&"a: unlinked".to_string());
        if redundant {
            // a unlinked while alive, and b's link(a) was a no-op (b's side of the link was
            // still active): from the unlink on, the link must have no effect on a.
            redundant_seen += 1;
            assert!(
                ran.world().is_alive(a),
                "seed {seed}: a unlinked b, yet died with {:?}",
                ran.world().exit_reason(a)
            );
        }
    }
    assert!(redundant_seen > 0);
}

#[test]
fn r9_link_right_after_unlink_leaves_a_live_link_whatever_the_acknowledgement_order() {
    for seed in 0..RACE_SEEDS {
        let ran = run(seed, |sim, _log| {
            sim.spawn("a", |cx| async move {
                let b = cx
                    .spawn_link(|cx| async move {
                        cx.recv_match(text("die")).await;
                        boom()
                    })
                    .await;
                cx.unlink(b).await;
                let _ = cx.link(b).await; // while the UNLINK_ID is still on its way
                cx.send(b, "die").await;
                forever(&cx).await;
            });
        });
        // The relink wins: b's crash reaches a through the link, and the late
        // acknowledgement of the unlink does not remove it.
        assert_eq!(
            ran.world().exit_reason(Pid(0)),
            Some(&boom()),
            "seed {seed}"
        );
    }
}

#[test]
fn r9_spawn_link_links_both_sides_before_the_child_runs() {
    for seed in 0..ALL_SEEDS {
        let mut p = Pid(0);
        let ran = run(seed, |sim, log| {
            p = sim.spawn("p", move |cx| async move {
                // The child crashes on its first step: without an atomic link p would live.
                let c = cx.spawn_link(|_cx| async { boom() }).await;
                {
                    let w = cx.world();
                    log.push(format!(
                        "links at once: {} {}",
                        w.links(cx.me()) == [c],
                        w.links(c) == [cx.me()]
                    ));
                }
                forever(&cx).await;
            });
        });
        assert_eq!(ran.lines(), ["links at once: true true"], "seed {seed}");
        assert_eq!(ran.world().exit_reason(p), Some(&boom()), "seed {seed}");
    }
}

#[test]
fn r9_a_dying_process_signals_every_link_with_its_reason() {
    for seed in 0..ALL_SEEDS {
        let x = Slot::default();
        let ran = run(seed, |sim, log| {
            let x = x.clone();
            sim.spawn("hub", move |cx| async move {
                cx.trap_exit(true);
                let pid = cx
                    .spawn_link({
                        let log = log.clone();
                        move |cx| async move {
                            let me = cx.me();
                            for name in ["y1", "y2"] {
                                let log = log.clone();
                                cx.spawn_link(move |cx| async move {
                                    cx.trap_exit(true);
                                    cx.send(me, "trapping").await;
                                    let e = cx.recv_match(exit_from(me)).await;
                                    log.push(format!("{name}: {}", describe(&e)));
                                })
                                .await;
                            }
                            cx.recv_match(text("trapping")).await;
                            cx.recv_match(text("trapping")).await;
                            boom()
                        }
                    })
                    .await;
                x.set(pid);
                let e = cx.recv_match(exit_from(pid)).await;
                log.push(format!("hub: {}", describe(&e)));
            });
        });
        let got: BTreeSet<String> = ran.lines().into_iter().collect();
        let want: BTreeSet<String> = ["hub: EXIT boom", "y1: EXIT boom", "y2: EXIT boom"]
            .map(String::from)
            .into();
        assert_eq!(got, want, "seed {seed}");
        assert_eq!(ran.lines().len(), 3, "seed {seed}");
        let w = ran.world();
        assert_eq!(w.exit_reason(x.get()), Some(&boom()));
        assert!(w.links(x.get()).is_empty());
    }
}

// ---- rule 10: what an untrapped exit signal does -----------------------------------------

#[test]
fn r10_non_trapping_process_ignores_a_normal_exit_of_its_link() {
    for seed in 0..ALL_SEEDS {
        let mut p = Pid(0);
        let ran = run(seed, |sim, log| {
            p = sim.spawn("p", move |cx| async move {
                let me = cx.me();
                let c = cx.spawn_link(|_cx| async {}).await;
                wait_until(&cx, &log, "c gone", move |w| {
                    !w.is_alive(c) && quiet(w, me, c)
                })
                .await;
                log.push(format!("p survived, links {:?}", cx.world().links(me)));
                forever(&cx).await;
            });
        });
        assert_eq!(ran.lines(), ["p survived, links []"], "seed {seed}");
        assert!(ran.world().is_alive(p), "seed {seed}");
    }
}

#[test]
fn r10_other_reasons_kill_a_non_trapping_process_with_the_same_reason() {
    let reasons = [
        boom(),
        ExitReason::Shutdown,
        ExitReason::ShutdownWith("bye".into()),
        ExitReason::Killed,
        ExitReason::Timeout,
        ExitReason::NoProc,
        ExitReason::CallFailed(Box::new(ExitReason::Normal)),
    ];
    for reason in reasons {
        for seed in 0..ALL_SEEDS / 4 {
            // Through links: top <-> mid <-> leaf; leaf exits with `reason`.
            let mut top = Pid(0);
            let mid = Slot::default();
            let r = reason.clone();
            let ran = run(seed, |sim, _log| {
                let mid = mid.clone();
                top = sim.spawn("top", move |cx| async move {
                    let pid = cx
                        .spawn_link(move |cx| async move {
                            cx.spawn_link(move |_cx| async move { r }).await;
                            forever(&cx).await;
                        })
                        .await;
                    mid.set(pid);
                    forever(&cx).await;
                });
            });
            let w = ran.world();
            assert_eq!(
                w.exit_reason(mid.get()),
                Some(&reason),
                "{reason:?} seed {seed}"
            );
            assert_eq!(w.exit_reason(top), Some(&reason), "{reason:?} seed {seed}");
            drop(w);
            // Through an explicit exit signal.
            let mut victim = Pid(0);
            let r = reason.clone();
            let ran = run(seed, |sim, _log| {
                victim = sim.spawn("victim", |cx| async move { forever(&cx).await });
                let v = victim;
                sim.spawn(
                    "sender",
                    move |cx| async move { cx.exit_signal(v, r).await },
                );
            });
            assert_eq!(
                ran.world().exit_reason(victim),
                Some(&reason),
                "{reason:?} seed {seed}"
            );
        }
    }
}

// ---- rule 11: trap_exit, and the untrappable explicit kill --------------------------------

#[test]
fn r11_trapping_process_gets_exit_as_a_message_at_the_end_of_its_mailbox() {
    for seed in 0..ALL_SEEDS {
        let mut r = Pid(0);
        let ran = run(seed, |sim, log| {
            r = sim.spawn("r", move |cx| async move {
                cx.trap_exit(true);
                let me = cx.me();
                cx.spawn(move |cx| async move { cx.send(me, "from y").await })
                    .await;
                let x = cx
                    .spawn_link(|cx| async move {
                        cx.recv_match(text("die")).await;
                        boom()
                    })
                    .await;
                wait_until(&cx, &log, "y's message", move |w| w.mailbox_len(me) == 1).await;
                cx.send(x, "die").await;
                wait_until(&cx, &log, "x's EXIT", move |w| w.mailbox_len(me) == 2).await;
                for e in drain(&cx).await {
                    let from_x = e.from == x;
                    log.push(format!("{} (from x: {from_x})", describe(&e)));
                }
                log.push(format!("links {:?}", cx.world().links(me)));
                forever(&cx).await;
            });
        });
        assert_eq!(
            ran.lines(),
            [
                "msg \"from y\" (from x: false)",
                "EXIT boom (from x: true)",
                "links []"
            ],
            "seed {seed}"
        );
        assert!(ran.world().is_alive(r), "seed {seed}");
    }
}

#[test]
fn r11_explicit_kill_is_untrappable_and_links_see_killed() {
    for seed in 0..ALL_SEEDS {
        let (t, l2) = (Slot::default(), Slot::default());
        let ran = run(seed, |sim, log| {
            let (t, l2) = (t.clone(), l2.clone());
            sim.spawn("l1", move |cx| async move {
                cx.trap_exit(true);
                let me = cx.me();
                let target = cx
                    .spawn_link(move |cx| async move {
                        cx.trap_exit(true);
                        let child = cx.spawn_link(|cx| async move { forever(&cx).await }).await;
                        cx.send(me, child).await;
                        forever(&cx).await;
                    })
                    .await;
                t.set(target);
                let (_, child) = cx.recv_type::<Pid>().await;
                l2.set(child);
                cx.exit_signal(target, ExitReason::Kill).await;
                let e = cx.recv_match(exit_from(target)).await;
                log.push(format!("l1: {}", describe(&e)));
            });
        });
        assert_eq!(ran.lines(), ["l1: EXIT killed"], "seed {seed}");
        let w = ran.world();
        assert_eq!(
            w.exit_reason(t.get()),
            Some(&ExitReason::Killed),
            "seed {seed}"
        );
        assert_eq!(
            w.exit_reason(l2.get()),
            Some(&ExitReason::Killed),
            "seed {seed}"
        );
    }
}

#[test]
fn r11_a_link_exit_with_reason_kill_is_trappable() {
    // Only `exit(p, kill)` sent explicitly is untrappable; a process that *terminates* with
    // reason kill sends an ordinary exit signal `kill` to its links.
    for seed in 0..ALL_SEEDS {
        let q = Slot::default();
        let ran = run(seed, |sim, log| {
            let q = q.clone();
            sim.spawn("p", move |cx| async move {
                cx.trap_exit(true);
                let me = cx.me();
                let c = cx
                    .spawn_link(move |cx| async move {
                        let child = cx.spawn_link(|cx| async move { forever(&cx).await }).await;
                        cx.send(me, child).await;
                        cx.recv_match(text("go")).await;
                        ExitReason::Kill
                    })
                    .await;
                let (_, child) = cx.recv_type::<Pid>().await;
                q.set(child);
                cx.send(c, "go").await;
                let e = cx.recv_match(exit_from(c)).await;
                log.push(format!("p: {}", describe(&e)));
                forever(&cx).await;
            });
        });
        assert_eq!(ran.lines(), ["p: EXIT kill"], "seed {seed}");
        assert_eq!(
            ran.world().exit_reason(q.get()),
            Some(&ExitReason::Kill),
            "seed {seed}"
        );
    }
}

// ---- rule 12: exit(p, normal) ---------------------------------------------------------------

#[test]
fn r12_exit_normal_to_a_non_trapping_process_does_nothing() {
    for seed in 0..ALL_SEEDS {
        let (mut plain, mut trapper) = (Pid(0), Pid(0));
        let ran = run(seed, |sim, log| {
            plain = sim.spawn("plain", {
                let log = log.clone();
                move |cx| async move {
                    cx.recv_match(text("go")).await;
                    log.push("plain: alive after exit(normal)");
                    forever(&cx).await;
                }
            });
            trapper = sim.spawn("trapper", {
                let log = log.clone();
                move |cx| async move {
                    cx.trap_exit(true);
                    cx.recv_match(text("go")).await;
                    let e = cx.recv_timeout(Matcher::Any, 0).await.unwrap();
                    log.push(format!("trapper: {}", describe(&e)));
                    forever(&cx).await;
                }
            });
            let (p, t) = (plain, trapper);
            sim.spawn("sender", move |cx| async move {
                cx.exit_signal(p, ExitReason::Normal).await;
                cx.send(p, "go").await;
                // The trapper must trap before the exit signal arrives.
                wait_until(&cx, &log, "trapper traps", move |w| w.traps_exits(t)).await;
                cx.exit_signal(t, ExitReason::Normal).await;
                cx.send(t, "go").await;
            });
        });
        let got: BTreeSet<String> = ran.lines().into_iter().collect();
        let want: BTreeSet<String> = ["plain: alive after exit(normal)", "trapper: EXIT normal"]
            .map(String::from)
            .into();
        assert_eq!(got, want, "seed {seed}");
        let w = ran.world();
        assert!(w.is_alive(plain) && w.is_alive(trapper), "seed {seed}");
    }
}

// ---- rule 13: normal, shutdown, {shutdown, _} ---------------------------------------------

#[test]
fn r13_normal_and_shutdown_reasons_count_as_normal_termination() {
    let normal = [
        ExitReason::Normal,
        ExitReason::Shutdown,
        ExitReason::ShutdownWith("x".into()),
    ];
    let abnormal = [
        boom(),
        ExitReason::Kill,
        ExitReason::Killed,
        ExitReason::NoProc,
        ExitReason::Timeout,
        ExitReason::CallFailed(Box::new(ExitReason::Normal)),
        ExitReason::CallFailed(Box::new(ExitReason::Shutdown)),
    ];
    for r in &normal {
        assert!(r.is_normal_termination(), "{r:?}");
    }
    for r in &abnormal {
        assert!(!r.is_normal_termination(), "{r:?}");
    }
}

/// A transient child that exits with `reason` when told "stop"; logs each start.
fn transient_child(log: Log, reason: ExitReason) -> ChildSpec {
    ChildSpec::new("w", move |cx| {
        let log = log.clone();
        let reason = reason.clone();
        async move {
            log.push("start");
            let pid = cx
                .spawn_link(move |cx| async move {
                    cx.recv_match(text("stop")).await;
                    reason
                })
                .await;
            Ok(pid)
        }
    })
    .restart(Restart::Transient)
}

#[test]
fn r13_a_transient_child_is_restarted_only_after_an_abnormal_exit() {
    let cases = [
        (ExitReason::Normal, 1),
        (ExitReason::Shutdown, 1),
        (ExitReason::ShutdownWith("done".into()), 1),
        (boom(), 2),
        (ExitReason::Killed, 2),
    ];
    for (reason, starts) in cases {
        for seed in 0..ALL_SEEDS / 4 {
            let first = Slot::default();
            let r = reason.clone();
            let ran = run(seed, |sim, log| {
                let first = first.clone();
                sim.spawn("test", move |cx| async move {
                    let spec =
                        SupSpec::new(Strategy::OneForOne, vec![transient_child(log.clone(), r)]);
                    let sup = supervisor::start_link(&cx, spec, None).await.unwrap();
                    let kids = supervisor::which_children(&cx, sup).await;
                    let w = kids[0].1.unwrap();
                    first.set(w);
                    cx.send(w, "stop").await;
                    // Stay alive: the supervisor stops with its parent.
                    forever(&cx).await;
                });
            });
            let n = ran.lines().iter().filter(|l| *l == "start").count();
            assert_eq!(n, starts, "{reason:?} seed {seed}");
            let w = ran.world();
            assert_eq!(w.exit_reason(first.get()), Some(&reason), "seed {seed}");
            // test + supervisor (+ the restarted child).
            assert_eq!(
                w.live_count() as usize,
                1 + starts,
                "{reason:?} seed {seed}"
            );
        }
    }
}

#[test]
fn r13_shutdown_still_kills_non_trapping_linked_partners() {
    for reason in [ExitReason::Shutdown, ExitReason::ShutdownWith("bye".into())] {
        for seed in 0..ALL_SEEDS / 2 {
            let (plain, trapper) = (Slot::default(), Slot::default());
            let r = reason.clone();
            let ran = run(seed, |sim, log| {
                let (plain, trapper) = (plain.clone(), trapper.clone());
                sim.spawn("root", move |cx| async move {
                    cx.trap_exit(true);
                    let me = cx.me();
                    let c = cx
                        .spawn_link(move |cx| async move {
                            cx.recv_match(text("go")).await;
                            r
                        })
                        .await;
                    trapper.set(me);
                    // A non-trapping partner of c.
                    let p = cx
                        .spawn(move |cx| async move {
                            let _ = cx.link(c).await;
                            cx.send(me, "linked").await;
                            forever(&cx).await;
                        })
                        .await;
                    plain.set(p);
                    cx.recv_match(text("linked")).await;
                    wait_until(&cx, &log, "link arrives", move |w| w.links(c).contains(&p)).await;
                    cx.send(c, "go").await;
                    let e = cx.recv_match(exit_from(c)).await;
                    log.push(format!("root: {}", describe(&e)));
                    forever(&cx).await;
                });
            });
            assert_eq!(
                ran.lines(),
                [format!("root: EXIT {reason:?}")],
                "{reason:?} seed {seed}"
            );
            let w = ran.world();
            assert_eq!(w.exit_reason(plain.get()), Some(&reason), "seed {seed}");
            assert!(w.is_alive(trapper.get()), "seed {seed}");
        }
    }
}

// ---- rule 14: monitors ----------------------------------------------------------------------

#[test]
fn r14_each_monitor_call_gives_a_fresh_independent_reference() {
    for seed in 0..ALL_SEEDS {
        let ran = run(seed, |sim, log| {
            sim.spawn("m", move |cx| async move {
                let me = cx.me();
                let p = cx
                    .spawn(|cx| async move {
                        cx.recv_match(text("die")).await;
                        boom()
                    })
                    .await;
                let refs = [
                    cx.monitor(p).await,
                    cx.monitor(p).await,
                    cx.monitor(p).await,
                ];
                let distinct: BTreeSet<Ref> = refs.into_iter().collect();
                log.push(format!("{} distinct refs", distinct.len()));
                wait_until(&cx, &log, "monitors arrive", move |w| quiet(w, me, p)).await;
                log.push(format!(
                    "p watched {} times",
                    cx.world().monitored_by(p).len()
                ));
                cx.demonitor(refs[1], false).await;
                cx.send(p, "die").await;
                wait_until(&cx, &log, "p gone", move |w| {
                    !w.is_alive(p) && quiet(w, me, p)
                })
                .await;
                let mut downs: Vec<String> = drain(&cx)
                    .await
                    .iter()
                    .map(|e| {
                        let (r, pid, reason) = e.down().unwrap();
                        let i = refs.iter().position(|x| *x == r).unwrap();
                        format!("DOWN ref#{i} pid ok {} {reason:?}", pid == p)
                    })
                    .collect();
                downs.sort();
                for d in downs {
                    log.push(d);
                }
                log.push(format!("monitors left {}", cx.world().monitors(me).len()));
            });
        });
        assert_eq!(
            ran.lines(),
            [
                "3 distinct refs",
                "p watched 3 times",
                "DOWN ref#0 pid ok true boom",
                "DOWN ref#2 pid ok true boom",
                "monitors left 0"
            ],
            "seed {seed}"
        );
    }
}

#[test]
fn r14_down_carries_the_exit_reason() {
    let cases = [
        (ExitReason::Normal, false),
        (boom(), false),
        (ExitReason::Shutdown, false),
        (ExitReason::Kill, true),
    ];
    for (reason, by_signal) in cases {
        for seed in 0..ALL_SEEDS / 4 {
            let r = reason.clone();
            let ran = run(seed, |sim, log| {
                sim.spawn("m", move |cx| async move {
                    let p = cx
                        .spawn(move |cx| async move {
                            cx.recv_match(text("die")).await;
                            r
                        })
                        .await;
                    let m = cx.monitor(p).await;
                    if by_signal {
                        cx.exit_signal(p, ExitReason::Kill).await;
                    } else {
                        cx.send(p, "die").await;
                    }
                    let e = cx.recv_match(Matcher::Tag(m)).await;
                    log.push(describe(&e));
                });
            });
            let want = if by_signal {
                ExitReason::Killed
            } else {
                reason.clone()
            };
            assert_eq!(ran.lines(), [format!("DOWN {want:?}")], "seed {seed}");
        }
    }
}

#[test]
fn r14_down_for_an_already_dead_pid_is_delivered_at_once() {
    for seed in 0..ALL_SEEDS {
        let ran = run(seed, |sim, log| {
            let d = sim.spawn("d", |_cx| async {});
            sim.spawn("m", move |cx| async move {
                let first = cx.monitor(d).await;
                cx.recv_match(Matcher::Tag(first)).await; // d is dead
                let m = cx.monitor(d).await;
                let at_once = cx.recv_timeout(Matcher::Tag(m), 0).await;
                log.push(format!("{:?}", at_once.as_ref().map(describe)));
            });
        });
        assert_eq!(ran.lines(), ["Some(\"DOWN noproc\")"], "seed {seed}");
    }
}

// ---- rule 15: demonitor ---------------------------------------------------------------------

#[test]
fn r15_demonitor_leaves_a_delivered_down_unless_flushed() {
    for seed in 0..ALL_SEEDS {
        let ran = run(seed, |sim, log| {
            sim.spawn("m", move |cx| async move {
                let me = cx.me();
                for flush in [false, true] {
                    let p = cx.spawn(|_cx| async { boom() }).await;
                    let m = cx.monitor(p).await;
                    wait_until(&cx, &log, "DOWN arrives", move |w| w.mailbox_len(me) == 1).await;
                    let was_on = cx.demonitor(m, flush).await;
                    let left = cx.world().mailbox_len(me);
                    let got = cx.recv_timeout(Matcher::Tag(m), 0).await;
                    log.push(format!(
                        "flush {flush}: was on {was_on}, left {left}, got {:?}",
                        got.as_ref().map(|e| e.down().is_some())
                    ));
                }
            });
        });
        assert_eq!(
            ran.lines(),
            [
                "flush false: was on false, left 1, got Some(true)",
                "flush true: was on false, left 0, got None"
            ],
            "seed {seed}"
        );
    }
}

#[test]
fn r15_no_down_is_enqueued_after_demonitor_returns() {
    let (mut kept, mut discarded, mut flushed) = (0, 0, 0);
    for seed in 0..RACE_SEEDS {
        let flush = seed % 2 == 1;
        let (mut v, mut m) = (Pid(0), Pid(0));
        let ran = run_traced_distributed(seed, |sim, log| {
            v = sim.spawn("v", |cx| async move { forever(&cx).await });
            let vv = v;
            sim.spawn("k", move |cx| async move {
                cx.yield_now().await;
                cx.exit_signal(vv, boom()).await
            });
            m = sim.spawn("m", move |cx| async move {
                let me = cx.me();
                let r = cx.monitor(vv).await;
                cx.yield_now().await;
                cx.yield_now().await;
                // demonitor answers whether the monitor was still on: false once the DOWN
                // is in the mailbox (then, without flush, it stays there).
                let was_on = cx.demonitor(r, flush).await;
                wait_until(&cx, &log, "v gone", move |w| {
                    !w.is_alive(vv) && quiet(w, me, vv)
                })
                .await;
                let after = cx.recv_timeout(Matcher::Tag(r), 0).await.is_some();
                log.push(format!("{was_on} {after}"));
            });
        });
        let l = ran.lines();
        let parts: Vec<&str> = l[0].split(' ').collect();
        let (was_on, after) = (parts[0] == "true", parts[1] == "true");
        let before = !was_on;
        assert_eq!(after, before && !flush, "seed {seed}: flush {flush}: {l:?}");
        let down_signal = ran
            .deliveries()
            .iter()
            .any(|(from, to, sig, _)| *from == v && *to == m && matches!(sig, SignalKind::Down(_)));
        if !before && down_signal {
            discarded += 1; // a DOWN arrived after demonitor and was not enqueued
        }
        if before && !flush {
            kept += 1;
        }
        if before && flush {
            flushed += 1;
        }
    }
    assert!(
        kept > 0 && discarded > 0 && flushed > 0,
        "kept {kept}, discarded {discarded}, flushed {flushed}"
    );
}

// ---- rule 16: monitor by name --------------------------------------------------------------

#[test]
fn r16_monitor_by_name_resolves_the_name_once() {
    for seed in 0..ALL_SEEDS {
        let ran = run(seed, |sim, log| {
            sim.spawn("m", move |cx| async move {
                let me = cx.me();
                let p = cx
                    .spawn(move |cx| async move {
                        cx.register("srv").await.unwrap();
                        cx.send(me, "p registered").await;
                        cx.recv_match(text("unregister")).await;
                        cx.unregister("srv").await;
                        cx.send(me, "p unregistered").await;
                        cx.recv_match(text("die")).await;
                        ExitReason::custom("p-reason")
                    })
                    .await;
                cx.recv_match(text("p registered")).await;
                let m = cx.monitor_name("srv").await;
                cx.send(p, "unregister").await;
                cx.recv_match(text("p unregistered")).await;
                let q = cx
                    .spawn(move |cx| async move {
                        cx.register("srv").await.unwrap();
                        cx.send(me, "q registered").await;
                        cx.recv_match(text("die")).await;
                        ExitReason::custom("q-reason")
                    })
                    .await;
                cx.recv_match(text("q registered")).await;
                // The name's new holder dies: nothing for m.
                let qm = cx.monitor(q).await;
                cx.send(q, "die").await;
                cx.recv_match(Matcher::Tag(qm)).await;
                wait_until(&cx, &log, "q quiet", move |w| quiet(w, me, q)).await;
                let early = cx.recv_timeout(Matcher::Tag(m), 0).await.is_some();
                // The process that held the name at the call dies: its DOWN comes.
                cx.send(p, "die").await;
                let e = cx.recv_match(Matcher::Tag(m)).await;
                let (_, pid, _) = e.down().unwrap();
                log.push(format!(
                    "early {early}; DOWN of p {}; {}",
                    pid == p,
                    describe(&e)
                ));
            });
        });
        assert_eq!(
            ran.lines(),
            ["early false; DOWN of p true; DOWN p-reason"],
            "seed {seed}"
        );
    }
}

#[test]
fn r16_monitor_of_an_unregistered_name_is_down_noproc_at_once() {
    for seed in 0..ALL_SEEDS {
        let ran = run(seed, |sim, log| {
            sim.spawn("m", move |cx| async move {
                let m = cx.monitor_name("nobody").await;
                let e = cx.recv_timeout(Matcher::Tag(m), 0).await;
                log.push(format!("{:?}", e.as_ref().map(describe)));
            });
        });
        assert_eq!(ran.lines(), ["Some(\"DOWN noproc\")"], "seed {seed}");
    }
}

// ---- rule 17: links and monitors die with their owner ----------------------------------------

#[test]
fn r17_links_and_monitors_vanish_with_their_owner() {
    for seed in 0..ALL_SEEDS {
        let (c, x) = (Slot::default(), Slot::default());
        let ran = run_traced(seed, |sim, log| {
            let (cs, xs) = (c.clone(), x.clone());
            sim.spawn("h", move |cx| async move {
                cx.trap_exit(true);
                let h = cx.me();
                let c = cx.spawn(|cx| async move { forever(&cx).await }).await;
                cs.set(c);
                let l = cx
                    .spawn({
                        let log = log.clone();
                        move |cx| async move {
                            cx.trap_exit(true);
                            cx.send(h, "trapping").await;
                            let e = cx.recv().await;
                            log.push(format!("l: {}", describe(&e)));
                            forever(&cx).await;
                        }
                    })
                    .await;
                cx.recv_match(text("trapping")).await;
                let x = cx
                    .spawn_link(move |cx| async move {
                        cx.monitor(c).await;
                        cx.monitor(c).await;
                        let _ = cx.link(l).await;
                        cx.recv_match(text("die")).await;
                        boom()
                    })
                    .await;
                xs.set(x);
                wait_until(&cx, &log, "x's monitors and link arrive", move |w| {
                    w.monitored_by(c).len() == 2 && w.links(l).contains(&x)
                })
                .await;
                {
                    let w = cx.world();
                    log.push(format!(
                        "before: x links {}, x monitors {}",
                        w.links(x).len(),
                        w.monitors(x).len()
                    ));
                }
                cx.send(x, "die").await;
                cx.recv_match(exit_from(x)).await;
                wait_until(&cx, &log, "x's signals delivered", move |w| {
                    quiet(w, x, l) && quiet(w, x, c) && quiet(w, x, h)
                })
                .await;
                {
                    let w = cx.world();
                    log.push(format!(
                        "after: x links {}, x monitors {}, c watched by {}, l links {}, h links {}",
                        w.links(x).len(),
                        w.monitors(x).len(),
                        w.monitored_by(c).len(),
                        w.links(l).len(),
                        w.links(h).len()
                    ));
                }
                // c dies later: no DOWN goes to the dead x.
                cx.exit_signal(c, ExitReason::custom("late")).await;
                forever(&cx).await;
            });
        });
        let lines = ran.lines();
        let (l_lines, h_lines): (Vec<String>, Vec<String>) =
            lines.into_iter().partition(|l| l.starts_with("l:"));
        assert_eq!(l_lines, ["l: EXIT boom"], "seed {seed}");
        assert_eq!(
            h_lines,
            [
                "before: x links 2, x monitors 2",
                "after: x links 0, x monitors 0, c watched by 0, l links 0, h links 0"
            ],
            "seed {seed}"
        );
        let (c, x) = (c.get(), x.get());
        let down_to_x = ran
            .deliveries()
            .iter()
            .any(|(from, to, _, _)| *from == c && *to == x);
        assert!(!down_to_x, "seed {seed}: c signalled the dead x");
        assert_eq!(
            ran.world().exit_reason(c),
            Some(&ExitReason::custom("late"))
        );
    }
}

/// Checks after a run that no live process is monitored by or linked to a dead one.
fn dead_owners(w: &World) -> Vec<String> {
    let mut bad = Vec::new();
    for p in w.live_pids() {
        for (r, watcher) in w.monitored_by(p) {
            if !w.is_alive(*watcher) {
                bad.push(format!("{p} monitored ({r:?}) by dead {watcher}"));
            }
        }
        for l in w.links(p) {
            if !w.is_alive(*l) {
                bad.push(format!("{p} linked to dead {l}"));
            }
        }
    }
    bad
}

#[test]
fn r17_a_monitor_in_flight_when_its_owner_dies_does_not_outlive_it() {
    for seed in 0..ALL_SEEDS {
        let ran = run(seed, |sim, _log| {
            let c = sim.spawn("c", |cx| async move { forever(&cx).await });
            let l = sim.spawn("l", |cx| async move {
                cx.trap_exit(true);
                forever(&cx).await;
            });
            sim.spawn("x", move |cx| async move {
                cx.yield_now().await; // let l trap first, most of the time
                let _ = cx.link(l).await;
                cx.monitor(c).await;
                boom()
            });
        });
        let w = ran.world();
        assert!(
            dead_owners(&w).is_empty(),
            "seed {seed}: {:?}",
            dead_owners(&w)
        );
    }
    // The same through a fault: x crashes right after its monitor effect.
    let mut crashed = 0;
    for seed in 0..ALL_SEEDS {
        let config = Config {
            faults: FaultMenu {
                budget: 1,
                crash_after_effect: true,
                targets: Targets::Labels(vec!["x".into()]),
                ..FaultMenu::default()
            },
            ..Config::default()
        };
        let chooser = RandomChooser::new(seed).with_rates(300_000, 0);
        let mut x = Pid(0);
        let ran = run_cfg(seed, config, chooser, |sim, _log| {
            let c = sim.spawn("c", |cx| async move { forever(&cx).await });
            x = sim.spawn("x", move |cx| async move {
                for _ in 0..3 {
                    let r = cx.monitor(c).await;
                    cx.yield_now().await;
                    cx.demonitor(r, true).await;
                    cx.yield_now().await;
                }
                forever(&cx).await;
            });
        });
        let w = ran.world();
        crashed += !w.is_alive(x) as u32;
        assert!(
            dead_owners(&w).is_empty(),
            "seed {seed}: {:?}",
            dead_owners(&w)
        );
    }
    assert!(crashed > 0);
}

#[derive(Debug)]
enum WatchCall {
    Watch(Pid, Pid),
    Ping,
}

/// Monitors and links whatever it is asked to.
struct Watcher;

impl GenServer for Watcher {
    type Call = WatchCall;
    type Reply = ();
    type Cast = ();

    async fn handle_call(
        &mut self,
        cx: &Cx,
        req: WatchCall,
        _from: gen_server::Caller,
    ) -> CallReply<()> {
        if let WatchCall::Watch(y, z) = req {
            cx.monitor(y).await;
            let _ = cx.link(z).await;
        }
        CallReply::Reply(())
    }
}

#[test]
fn r17_a_restarted_server_has_no_monitors_and_only_its_parent_link() {
    for seed in 0..ALL_SEEDS {
        let ran = run(seed, |sim, log| {
            sim.spawn("test", move |cx| async move {
                let me = cx.me();
                let y = cx.spawn(|cx| async move { forever(&cx).await }).await;
                let z = cx
                    .spawn(move |cx| async move {
                        cx.trap_exit(true);
                        cx.send(me, "trapping").await;
                        forever(&cx).await;
                    })
                    .await;
                cx.recv_match(text("trapping")).await;
                let spec = SupSpec::new(
                    Strategy::OneForOne,
                    vec![ChildSpec::server("w", Some("w".into()), || Watcher)],
                );
                let sup = supervisor::start_link(&cx, spec, None).await.unwrap();
                let () = gen_server::call(&cx, "w", WatchCall::Watch(y, z), None).await;
                let c1 = cx.whereis("w").await.unwrap();
                wait_until(&cx, &log, "c1's monitor and link arrive", move |w| {
                    quiet(w, c1, y) && quiet(w, c1, z)
                })
                .await;
                {
                    let w = cx.world();
                    log.push(format!(
                        "c1 monitors y {}, c1 links {}",
                        w.monitors(c1).iter().any(|(_, t)| *t == y),
                        w.links(c1).len()
                    ));
                }
                cx.exit_signal(c1, ExitReason::Kill).await;
                let mut c2 = None;
                for _ in 0..POLL_MAX {
                    match cx.whereis("w").await {
                        Some(p) if p != c1 => {
                            c2 = Some(p);
                            break;
                        }
                        _ => {}
                    }
                }
                let Some(c2) = c2 else {
                    log.push("stuck: no restart");
                    return;
                };
                let () = gen_server::call(&cx, "w", WatchCall::Ping, None).await;
                wait_until(&cx, &log, "c1's exit delivered", move |w| {
                    quiet(w, c1, z) && quiet(w, c1, y) && quiet(w, c1, sup)
                })
                .await;
                {
                    let w = cx.world();
                    log.push(format!(
                        "c2 links only its parent {}, c2 monitors {}, y watched by {}, z links {}",
                        w.links(c2) == [sup],
                        w.monitors(c2).len(),
                        w.monitored_by(y).len(),
                        w.links(z).len()
                    ));
                }
                forever(&cx).await;
            });
        });
        assert_eq!(
            ran.lines(),
            [
                "c1 monitors y true, c1 links 2",
                "c2 links only its parent true, c2 monitors 0, y watched by 0, z links 0"
            ],
            "seed {seed}"
        );
    }
}
