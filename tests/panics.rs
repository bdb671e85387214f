//! A panic in simulated code fails the run by default (a failed `assert!` is a failed
//! test), with the process, the message and the place; OTP crashes stay expressible.

use fsim::check::{PANIC, When, invariant};
use fsim::otp::gen_server::{self, CallReply, GenServer};
use fsim::sim::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

fn panic_of(r: &RunReport) -> &fsim::check::Violation {
    match &r.outcome {
        Outcome::Violation(v) if v.invariant == PANIC => v,
        other => panic!("expected a panic violation, got {other:?}"),
    }
}

#[test]
fn a_failed_assert_in_a_process_fails_the_run_with_pid_label_message_and_location() {
    let mut sim = Sim::new(Config::default());
    sim.spawn("checker", |cx| async move {
        let n = cx.draw(1).await;
        assert_eq!(n + 1, 2, "one plus one");
    });
    let r = sim.run(&mut DefaultChooser);
    assert!(r.outcome.is_failure());
    let v = panic_of(&r);
    assert!(v.message.contains("<0.0.0> (checker)"), "{}", v.message);
    assert!(v.message.contains("one plus one"), "{}", v.message);
    let at = v.location.as_deref().expect("a location");
    assert!(at.starts_with("tests/panics.rs:"), "{at}");
    assert!(!r.recent.is_empty(), "the trace up to the panic is kept");
}

struct Counter(u64);
impl GenServer for Counter {
    type Call = u64;
    type Reply = u64;
    type Cast = ();
    async fn handle_call(&mut self, _cx: &Cx, add: u64, _: gen_server::Caller) -> CallReply<u64> {
        assert!(add < 10, "add {add} is too large");
        self.0 += add;
        CallReply::Reply(self.0)
    }
}

#[test]
fn a_panic_in_a_gen_server_callback_fails_the_run_not_just_the_server() {
    let mut sim = Sim::new(Config::default());
    sim.spawn("client", |cx| async move {
        let c = gen_server::start_link(&cx, Counter(0), Default::default())
            .await
            .unwrap();
        let _: u64 = gen_server::call(&cx, c, 12u64, None).await;
    });
    let r = sim.run(&mut DefaultChooser);
    let v = panic_of(&r);
    assert!(v.message.contains("add 12 is too large"), "{}", v.message);
}

#[test]
fn panics_as_crashes_for_a_whole_system_is_the_otp_raise() {
    let config = Config {
        panics: Panics::Crash,
        ..Config::default()
    };
    let mut sim = Sim::new(config);
    let client = sim.spawn("client", |cx| async move {
        let c = gen_server::start(&cx, Counter(0), Default::default())
            .await
            .unwrap();
        let got = gen_server::try_call::<u64, u64>(&cx, c, 12u64, None).await;
        assert_eq!(got, Err(ExitReason::custom("panic: add 12 is too large")));
    });
    let r = sim.run(&mut DefaultChooser);
    assert_eq!(r.outcome, Outcome::Quiescent);
    // the server crashed with the panic; the caller's call failed with its reason
    assert_eq!(sim.world().exit_reason(client), Some(&ExitReason::Normal));
    let server_reason = sim.world().exit_reason(Pid(1)).cloned().unwrap();
    assert_eq!(
        server_reason,
        ExitReason::custom("panic: add 12 is too large")
    );
}

#[test]
fn explicit_exits_and_injected_faults_are_crashes_never_failures() {
    let config = Config {
        faults: FaultMenu {
            budget: 1,
            kill_reasons: vec![ExitReason::Kill],
            crash_after_effect: true,
            ..FaultMenu::default()
        },
        ..Config::default()
    };
    for seed in 0..200 {
        let mut sim = Sim::new(config.clone());
        sim.spawn("a", |cx| async move {
            cx.spawn(|c: Cx| async move {
                if c.me().0 > 0 {
                    c.exit(ExitReason::custom("bye"));
                }
            })
            .await;
            cx.sleep(5).await;
        });
        let r = sim.run(&mut RandomChooser::new(seed));
        assert!(!r.outcome.is_failure(), "seed {seed}: {:?}", r.outcome);
    }
}

#[test]
fn a_panicking_invariant_fails_that_seed_with_its_name() {
    let mut sim = Sim::new(Config::default());
    sim.spawn("p", |_cx| async {});
    // Others before it, one checked at other times: the report names the one that
    // panicked, not the first.
    sim.invariant(invariant("at_the_end", When::End, |_| Ok(())));
    sim.invariant(invariant("calm", When::Always, |_| Ok(())));
    sim.invariant(invariant("nosy", When::Always, |w| {
        let first = w.live_pids().next().unwrap(); // None once p has exited
        assert!(first.0 < 100);
        Ok(())
    }));
    let r = sim.run(&mut DefaultChooser);
    match &r.outcome {
        Outcome::Violation(v) => {
            assert_eq!(v.invariant, "nosy");
            assert!(
                v.message.contains("the invariant itself panicked"),
                "{}",
                v.message
            );
        }
        other => panic!("{other:?}"),
    }
}

struct Bomb;
impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("boom in drop");
    }
}

#[test]
fn a_panic_in_drop_at_teardown_fails_the_run() {
    let mut sim = Sim::new(Config::default());
    sim.spawn("holder", |cx| async move {
        let _b = Bomb;
        cx.recv().await; // never arrives: dropped at the end of the run
    });
    let r = sim.run(&mut DefaultChooser);
    let v = panic_of(&r);
    assert!(v.message.contains("boom in drop"), "{}", v.message);
    assert!(v.message.contains("at the end of the run"), "{}", v.message);
}

#[test]
fn a_crash_opt_in_is_per_process_and_inherited() {
    let mut sim = Sim::new(Config::default());
    let parent = sim.spawn("parent", |cx| async move {
        cx.trap_exit(true);
        assert!(!cx.panics_are_crashes(true));
        cx.spawn_link(|c: Cx| async move {
            if c.me().0 > 0 {
                panic!("child raise")
            }
        })
        .await;
        let env = cx.recv().await;
        assert_eq!(
            env.exit_reason(),
            Some(&ExitReason::custom("panic: child raise"))
        );
    });
    let r = sim.run(&mut DefaultChooser);
    assert_eq!(r.outcome, Outcome::Quiescent);
    assert_eq!(sim.world().exit_reason(parent), Some(&ExitReason::Normal));
}

/// Adds one to its counter when dropped.
struct Counted(Arc<AtomicU32>);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Spawns a process that holds `held` and waits for a message that never comes.
fn spawn_holding<T: 'static>(sim: &mut Sim, label: &str, held: T) {
    sim.spawn(label, move |cx| async move {
        let _held = held;
        cx.recv().await;
    });
}

/// A world built and dropped without a run drops its processes, and what they hold,
/// with it (their futures hold the world: nothing else breaks that cycle). A panic in
/// one of those drops has no run to fail, and is not raised.
#[test]
fn a_world_dropped_without_a_run_drops_its_processes() {
    let dropped = Arc::new(AtomicU32::new(0));
    {
        let mut sim = Sim::new(Config::default());
        for i in 0..3 {
            spawn_holding(&mut sim, &format!("p{i}"), Counted(dropped.clone()));
        }
        spawn_holding(&mut sim, "bomb", Bomb);
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            0,
            "nothing is dropped before the world is"
        );
    }
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        3,
        "every process's future was dropped with the world"
    );
    // The next world on this thread starts empty and runs as usual.
    let mut sim = Sim::new(Config::default());
    sim.spawn("after", |cx| async move { cx.yield_now().await });
    let r = sim.run(&mut DefaultChooser);
    assert_eq!(r.outcome, Outcome::Quiescent, "{:?}", r.outcome);
    assert_eq!(r.steps, 2);
}

/// A system whose build panics after spawning fails each seed with the panic, and the
/// half-built world is dropped with its processes, seed after seed.
#[test]
fn a_build_that_panics_after_spawning_leaves_no_world_behind() {
    let dropped = Arc::new(AtomicU32::new(0));
    let counter = dropped.clone();
    let scenario = fsim::scenario::Scenario::new("half_built", move |sim: &mut Sim| {
        spawn_holding(sim, "spawned", Counted(counter.clone()));
        panic!("the build gives up");
    });
    for seed in 0..5 {
        let r = scenario.run_seed(seed);
        let v = panic_of(&r);
        assert!(v.message.contains("the build gives up"), "{}", v.message);
    }
    assert_eq!(dropped.load(Ordering::SeqCst), 5);
}

/// Gives up at its first decision.
struct GivesUp;
impl Chooser for GivesUp {
    fn choose(&mut self, _: &Decision<'_>) -> Choice {
        panic!("the chooser gives up");
    }
}

/// A run cut short by a panic outside the processes (here the chooser's, caught by the
/// caller) leaves its processes suspended; they are dropped with the world.
#[test]
fn a_world_whose_run_was_cut_short_drops_its_processes() {
    let dropped = Arc::new(AtomicU32::new(0));
    let mut sim = Sim::new(Config::default());
    for i in 0..2 {
        spawn_holding(&mut sim, &format!("p{i}"), Counted(dropped.clone()));
    }
    let cut = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sim.run(&mut GivesUp);
    }));
    assert!(cut.is_err(), "the chooser's panic reaches the caller");
    assert_eq!(dropped.load(Ordering::SeqCst), 0);
    drop(sim);
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        2,
        "both suspended processes were dropped with the world"
    );
}
