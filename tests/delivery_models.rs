//! The two delivery models (docs/delivery-models.md), class by class: under `local` (one
//! node, the default) each ordering pattern gives what a real BEAM printed
//! (`tests/beam/oNN_*.exs`) on the default schedule and under every one of 256 seeds;
//! under `distributed` the other outcomes the spec allows between nodes are reachable.

use fsim::sim::*;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

const SEEDS: u64 = 256;

type Seen = Rc<RefCell<Vec<String>>>;

/// The outcomes a world shows under `delivery`: on the default schedule first, then
/// under each seed.
fn outcomes(delivery: Delivery, world: fn(&mut Sim, Seen)) -> (String, BTreeSet<String>) {
    let run = |chooser: &mut dyn Chooser| {
        let seen: Seen = Rc::default();
        let mut sim = Sim::new(Config {
            delivery,
            ..Config::default()
        });
        world(&mut sim, seen.clone());
        let r = sim.run(chooser);
        assert!(!r.outcome.is_failure(), "{:?}", r.outcome);
        seen.borrow().join("; ")
    };
    let default = run(&mut DefaultChooser);
    let all = (0..SEEDS)
        .map(|seed| run(&mut RandomChooser::new(seed).with_rates(0, 0)))
        .collect();
    (default, all)
}

/// Under `local` the one outcome the BEAM shows, everywhere; under `distributed` that one
/// and every one of `others` (each in some seed).
fn check(world: fn(&mut Sim, Seen), beam: &str, others: &[&str]) {
    check_local(world, beam);
    // Between nodes the default schedule runs a process before delivering to it, so its
    // default may be another allowed outcome; each must be reachable.
    let (_, distributed) = outcomes(Delivery::Distributed, world);
    for o in others.iter().chain([&beam]) {
        assert!(
            distributed.contains(*o),
            "distributed: `{o}` is allowed between nodes and must be reachable; seen {distributed:?}"
        );
    }
}

/// Under `local` the one outcome the BEAM shows, on the default schedule and every seed.
fn check_local(world: fn(&mut Sim, Seen), beam: &str) {
    let (default, local) = outcomes(Delivery::Local, world);
    assert_eq!(default, beam, "local, default schedule");
    assert_eq!(
        local,
        BTreeSet::from([beam.to_string()]),
        "local, {SEEDS} seeds"
    );
}

fn push(seen: &Seen, s: impl Into<String>) {
    seen.borrow_mut().push(s.into());
}

fn reason(r: &ExitReason) -> String {
    format!("{r:?}")
}

#[derive(Debug)]
struct Go;
#[derive(Debug)]
struct M(u32);

/// Spawn a child that exits at once, then monitor it (o01).
fn spawn_then_monitor(sim: &mut Sim, seen: Seen) {
    sim.spawn("parent", move |cx| async move {
        let child = cx.spawn(|_| async {}).await;
        let mref = cx.monitor(child).await;
        let env = cx.recv_match(Matcher::Tag(mref)).await;
        push(&seen, format!("DOWN {}", reason(env.down().unwrap().2)));
    });
}

#[test]
fn spawn_then_monitor_sees_the_childs_own_reason_on_one_node() {
    check(spawn_then_monitor, "DOWN normal", &["DOWN noproc"]);
}

/// P waits for :go, then traps exits; the parent sends :go and at once exit(P, boom) (o03).
fn go_then_exit(sim: &mut Sim, seen: Seen) {
    sim.spawn("parent", move |cx| async move {
        let (p, mref) = cx
            .spawn_monitor(|p| async move {
                p.recv_type::<Go>().await;
                p.trap_exit(true);
                let _ = p.recv_timeout(Matcher::Any, 200).await;
            })
            .await;
        cx.sleep(1).await; // P is blocked in its receive
        cx.send(p, Go).await;
        cx.exit_signal(p, ExitReason::custom("boom")).await;
        let env = cx.recv_match(Matcher::Tag(mref)).await;
        push(&seen, format!("DOWN {}", reason(env.down().unwrap().2)));
    });
}

#[test]
fn an_exit_right_after_go_kills_before_the_receiver_traps_on_one_node() {
    check(go_then_exit, "DOWN boom", &["DOWN normal"]);
}

/// A sends m1 to C, then tells B, which sends m2 to C: C's order (o06).
fn causal_third_process(sim: &mut Sim, seen: Seen) {
    sim.spawn("a", move |cx| async move {
        let me = cx.me();
        let c = cx
            .spawn(move |c| async move {
                let (_, M(x)) = c.recv_type::<M>().await;
                let (_, M(y)) = c.recv_type::<M>().await;
                c.send(me, (x, y)).await;
            })
            .await;
        let b = cx
            .spawn(move |b| async move {
                b.recv_type::<Go>().await;
                b.send(c, M(2)).await;
            })
            .await;
        cx.sleep(1).await;
        cx.send(c, M(1)).await;
        cx.send(b, Go).await;
        let (_, (x, y)) = cx.recv_type::<(u32, u32)>().await;
        push(&seen, format!("C got m{x} then m{y}"));
    });
}

#[test]
fn causal_order_holds_across_senders_on_one_node() {
    check(
        causal_third_process,
        "C got m1 then m2",
        &["C got m2 then m1"],
    );
}

/// The target exits with boom on its own, once it has run; the watcher monitors it and,
/// once everything has settled, demonitors without flush: the queued DOWN stays, and
/// demonitor says the monitor was off (o08).
fn demonitor_queued_down(sim: &mut Sim, seen: Seen) {
    sim.spawn("w", move |cx| async move {
        let t = cx
            .spawn(|t| async move {
                t.yield_now().await;
                ExitReason::custom("boom")
            })
            .await;
        let mref = cx.monitor(t).await;
        cx.sleep(10).await; // time moves only when nothing else can run: t is gone
        let was_on = cx.demonitor(mref, false).await;
        let left = cx.recv_timeout(Matcher::Tag(mref), 0).await;
        let r = left.map_or("none".to_string(), |e| reason(e.down().unwrap().2));
        push(&seen, format!("demonitor {was_on}, DOWN left {r}"));
    });
}

#[test]
fn a_queued_down_keeps_the_real_reason_on_one_node() {
    check(
        demonitor_queued_down,
        "demonitor false, DOWN left boom",
        &["demonitor false, DOWN left noproc"],
    );
}

/// exit(self(), boom) after one message: nothing after it runs (o09), in both models.
fn exit_self(sim: &mut Sim, seen: Seen) {
    sim.spawn("parent", move |cx| async move {
        let me = cx.me();
        let (_, mref) = cx
            .spawn_monitor(move |p| async move {
                p.send(me, M(1)).await;
                p.exit_signal(p.me(), ExitReason::custom("boom")).await;
                p.send(me, M(2)).await;
            })
            .await;
        let env = cx.recv_match(Matcher::Tag(mref)).await;
        let mut got = Vec::new();
        while let Some(e) = cx.recv_timeout(Matcher::of::<M>(), 0).await {
            got.push(e.peek::<M>().unwrap().0);
        }
        push(
            &seen,
            format!("got {got:?}, DOWN {}", reason(env.down().unwrap().2)),
        );
    });
}

#[test]
fn exit_to_oneself_acts_at_once_in_both_models() {
    check(exit_self, "got [1], DOWN boom", &[]);
    let (_, distributed) = outcomes(Delivery::Distributed, exit_self);
    assert!(
        distributed
            .iter()
            .all(|o| o.ends_with("DOWN boom") && !o.contains('2')),
        "{distributed:?}"
    );
}

/// link/1 to a dead process from one that does not trap exits (o12).
fn link_dead(sim: &mut Sim, seen: Seen) {
    sim.spawn("parent", move |cx| async move {
        let (dead, mref) = cx.spawn_monitor(|_| async {}).await;
        cx.recv_match(Matcher::Tag(mref)).await;
        let (_, watch) = cx
            .spawn_monitor(move |l| async move {
                match l.link(dead).await {
                    Ok(()) => {
                        l.sleep(100).await;
                        ExitReason::custom("linked")
                    }
                    Err(NoProc(_)) => ExitReason::custom("caught noproc"),
                }
            })
            .await;
        let env = cx.recv_match(Matcher::Tag(watch)).await;
        push(&seen, format!("linker {}", reason(env.down().unwrap().2)));
    });
}

#[test]
fn link_to_a_dead_process_is_an_error_the_caller_handles_on_one_node() {
    // Between nodes the link request travels and a noproc exit signal comes back.
    check_local(link_dead, "linker caught noproc");
    let (_, distributed) = outcomes(Delivery::Distributed, link_dead);
    assert_eq!(
        distributed,
        BTreeSet::from(["linker noproc".to_string()]),
        "between nodes"
    );
}

/// A kill fault: the victim exits `killed`, and that is what its monitor sees.
#[test]
fn a_kill_fault_kills_with_killed() {
    for delivery in [Delivery::Local, Delivery::Distributed] {
        let seen: Seen = Rc::default();
        let s = seen.clone();
        let mut sim = Sim::new(Config {
            delivery,
            faults: FaultMenu {
                budget: 1,
                kill_reasons: vec![ExitReason::Kill],
                targets: Targets::Labels(vec!["victim".into()]),
                ..FaultMenu::default()
            },
            ..Config::default()
        });
        sim.spawn("watcher", move |cx| async move {
            let (_, mref) = cx
                .spawn_monitor_opts(SpawnOpts::labelled("victim"), |v| async move {
                    let _ = v.recv_match(Matcher::Nothing).await;
                })
                .await;
            let env = cx.recv_match(Matcher::Tag(mref)).await;
            push(&s, reason(env.down().unwrap().2));
        });
        // Run the default schedule, killing the victim at the first decision offering it.
        struct KillFirst;
        impl Chooser for KillFirst {
            fn choose(&mut self, d: &Decision<'_>) -> Choice {
                d.faults
                    .first()
                    .cloned()
                    .map_or(Choice::Default, Choice::Fault)
            }
        }
        let r = sim.run(&mut KillFirst);
        assert_eq!(r.faults, 1, "{delivery:?}");
        assert_eq!(*seen.borrow(), ["killed"], "{delivery:?}");
    }
}

/// Two senders race to one receiver, which asserts it hears from `b` first: a race in
/// both models.
fn order_race(sim: &mut Sim) {
    let r = sim.spawn("r", |cx| async move {
        let (_, M(x)) = cx.recv_type::<M>().await;
        assert_eq!(x, 2, "a's message came first");
    });
    sim.spawn("a", move |cx| async move { cx.send(r, M(1)).await });
    sim.spawn("b", move |cx| async move { cx.send(r, M(2)).await });
}

#[test]
fn both_models_are_deterministic_replay_and_shrink() {
    use fsim::explore::shrink;
    use fsim::scenario::Scenario;
    for delivery in [Delivery::Local, Delivery::Distributed] {
        let config = Config {
            delivery,
            ..Config::default()
        };
        let runs = fsim::sim::determinism::check_seeds(&config, 0..300, order_race)
            .unwrap_or_else(|d| panic!("{delivery:?}: {d}"));
        assert_eq!(runs, 300);
        let s = Scenario::new("order_race", order_race)
            .with_delivery(delivery)
            .expect_violation(fsim::check::PANIC);
        let failing = (0..1_000)
            .map(|seed| s.run_seed(seed))
            .find(|r| r.outcome.is_failure())
            .unwrap_or_else(|| panic!("{delivery:?}: the race is found"));
        let again = s.run_tape(&failing.tape, false);
        assert_eq!(again.trace_hash, failing.trace_hash, "{delivery:?}: replay");
        let shrunk = shrink::shrink(&s, &failing.tape, shrink::Options::default()).unwrap();
        assert!(shrunk.report.outcome.is_failure(), "{delivery:?}");
        // Never worse by the shrinker's rank (faults, then deviations, then steps).
        assert!(
            shrink::Rank::of(&shrunk.report, &shrunk.tape)
                <= shrink::Rank::of(&failing, &failing.tape),
            "{delivery:?}"
        );
        let replayed = s.run_tape(&shrunk.tape, false);
        assert!(
            replayed.outcome.is_failure(),
            "{delivery:?}: the shrunk tape replays"
        );
    }
}

/// A GenServer that sends itself an exit signal in a callback: it dies inside the call,
/// and its `terminate` does not run (it does not trap exits), as on the BEAM.
struct SelfExit(Seen);

impl fsim::otp::gen_server::GenServer for SelfExit {
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn handle_call(
        &mut self,
        _: &Cx,
        _: (),
        _: fsim::otp::gen_server::Caller,
    ) -> fsim::otp::gen_server::CallReply<()> {
        fsim::otp::gen_server::CallReply::Reply(())
    }

    async fn handle_cast(&mut self, cx: &Cx, _: ()) -> fsim::otp::gen_server::Next {
        cx.exit_signal(cx.me(), ExitReason::custom("boom")).await;
        push(&self.0, "after exit");
        fsim::otp::gen_server::Next::Continue
    }

    async fn terminate(&mut self, _: &Cx, reason: &ExitReason) {
        push(&self.0, format!("terminate {}", reason));
    }
}

fn server_exits_itself(sim: &mut Sim, seen: Seen) {
    sim.spawn("client", move |cx| async move {
        let s = fsim::otp::gen_server::start(&cx, SelfExit(seen.clone()), Default::default())
            .await
            .unwrap();
        let mref = cx.monitor(s).await;
        fsim::otp::gen_server::cast(&cx, s, ()).await;
        let env = cx.recv_match(Matcher::Tag(mref)).await;
        push(&seen, format!("DOWN {}", reason(env.down().unwrap().2)));
    });
}

#[test]
fn a_server_that_exits_itself_dies_inside_the_call_without_terminate() {
    check(server_exits_itself, "DOWN boom", &[]);
}
