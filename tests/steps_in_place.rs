//! A step that stops at an effect point where the next decision can only be the same
//! process running on ends, and the next begins, inside the process, without going back to
//! the step loop (`exec::step_in_place`). That must change nothing a run shows: over the
//! built-in workloads and runs that end every way (quiescence, a violation after such a
//! step, a panic, a bound), each run ends the same, with the same steps, tape, trace hash
//! and events, with the shortcut as without it. Each comparison also asserts that the
//! shortcut was taken, so that it is tested at all.

use fsim::check::{When, invariant};
use fsim::sim::exec::{set_steps_in_place, steps_ended_in_place};
use fsim::sim::*;
use fsim::workload::{self, RaceCrash};

/// Runs `build` on `seeds` seeds with the shortcut and without it, traced, and asserts the
/// runs are the same; returns how many steps ended in place, and the runs' reports.
fn same_with_and_without(
    what: &str,
    config: Config,
    seeds: u64,
    build: impl Fn(&mut Sim),
) -> (u64, Vec<RunReport>) {
    let mut taken = 0;
    let mut reports = Vec::new();
    for seed in 0..seeds {
        let run = |in_place: bool| {
            set_steps_in_place(in_place);
            let mut sim = Sim::new(Config {
                record_trace: true,
                ..config.clone()
            });
            build(&mut sim);
            let _ = steps_ended_in_place();
            let r = sim.run(&mut RandomChooser::new(seed));
            (r, steps_ended_in_place())
        };
        let (on, ended) = run(true);
        let (off, none) = run(false);
        set_steps_in_place(true);
        assert_eq!(none, 0, "{what}: the switch turns the shortcut off");
        assert_eq!(
            (
                &on.outcome,
                on.steps,
                &on.tape,
                on.trace_hash,
                on.time_ms,
                &on.recent,
                &on.trace,
            ),
            (
                &off.outcome,
                off.steps,
                &off.tape,
                off.trace_hash,
                off.time_ms,
                &off.recent,
                &off.trace,
            ),
            "{what} seed {seed}: the run differs when steps end in place"
        );
        taken += ended;
        reports.push(on);
    }
    (taken, reports)
}

#[test]
fn the_built_in_workloads_run_the_same() {
    type Build = Box<dyn Fn(&mut Sim)>;
    let cases: Vec<(&str, Config, Build)> = vec![
        (
            "ping-pong",
            Config::default(),
            Box::new(|s| workload::ping_pong(s, 40)),
        ),
        (
            "three actors",
            Config::default(),
            Box::new(workload::three_actors),
        ),
        (
            "ring with timers",
            Config::default(),
            Box::new(|s| workload::ring_with_timers(s, 3, 10)),
        ),
        ("mixed", workload::mixed_config(), Box::new(workload::mixed)),
        (
            "churn",
            Config::default(),
            Box::new(|s| workload::churn(s, 30)),
        ),
        (
            "crash between steps",
            workload::planted_config("writer"),
            Box::new(|s| workload::crash_between_steps(s, 4, 3)),
        ),
        (
            "subscribe race, crash by the actor",
            workload::subscribe_race_config(),
            Box::new(|s| workload::subscribe_race(s, 3, 5, RaceCrash::Actor)),
        ),
    ];
    for (what, config, build) in cases {
        let (taken, _) = same_with_and_without(what, config, 40, build);
        if what == "ping-pong" {
            // About one a message (40 a seed): the sender's step to its send ends in
            // place, since the other process waits with nothing to take.
            assert!(
                taken >= 40 * 39,
                "{what}: only {taken} steps ended in place"
            );
        }
        assert!(taken > 0, "{what}: no step ended in place");
    }
}

/// A process that sends itself `n` messages, one after another: with nothing else to
/// run, each send's effect point is a decision without a choice.
fn self_sender(sim: &mut Sim, n: u32) -> Pid {
    sim.spawn("self_sender", move |cx| async move {
        let me = cx.me();
        for i in 0..n {
            cx.send(me, i).await;
        }
    })
}

#[test]
fn an_invariant_that_fails_after_a_step_ended_in_place_ends_the_run_there() {
    let build = |sim: &mut Sim| {
        let p = self_sender(sim, 10);
        sim.invariant(invariant(
            "short_mailbox",
            When::Always,
            move |w: &World| {
                let n = w.mailbox_len(p);
                if n > 4 {
                    Err(format!("{n} messages queued"))
                } else {
                    Ok(())
                }
            },
        ));
    };
    let (taken, reports) = same_with_and_without("short_mailbox", Config::default(), 3, build);
    assert!(taken > 0);
    for r in reports {
        match &r.outcome {
            Outcome::Violation(v) => {
                assert_eq!(v.invariant, "short_mailbox");
                assert!(v.message.contains("5 messages"), "{}", v.message);
            }
            other => panic!("expected the violation, got {other:?}"),
        }
    }
}

#[test]
fn a_panic_and_a_bound_after_steps_ended_in_place_end_the_same() {
    let panics = |sim: &mut Sim| {
        sim.spawn("counter", |cx| async move {
            let me = cx.me();
            for i in 0..6u32 {
                cx.send(me, i).await;
                assert!(i < 4, "counted too far");
            }
        });
    };
    let (taken, reports) = same_with_and_without("a panic", Config::default(), 2, panics);
    assert!(taken > 0);
    assert!(
        matches!(&reports[0].outcome, Outcome::Violation(v) if v.message.contains("counted too far")),
        "{:?}",
        reports[0].outcome
    );

    let mut bounded = Config::default();
    bounded.limits.steps_max = 7;
    let (taken, reports) = same_with_and_without("steps_max", bounded, 2, |s| {
        self_sender(s, 20);
    });
    assert!(taken > 0);
    assert!(
        matches!(
            reports[0].outcome,
            Outcome::BoundHit(Bound::Steps { max: 7 })
        ),
        "{:?}",
        reports[0].outcome
    );
    assert_eq!(reports[0].steps, 7);
}
