//! Conformance tests for OTP_MODEL.md part D (names and Registry, rules 18–22) and part E
//! (GenServer, rules 23–31).
//!
//! Each test builds a tiny world, runs it under the seeded random chooser for many seeds,
//! and checks the log that processes append to and the world after the run. Determinate
//! rules assert the exact outcome in every seed; race rules assert that every seed's
//! outcome is one the rule allows, and that the racy outcome the rule talks about does
//! happen in some seed (so the test cannot pass on a model that never races).

use crate::common::*;
use fsim::otp::gen_server::{
    self, CallReply, Caller, GenServer, Init, Next, ServerRef, StartError, StartOpts,
};
use fsim::otp::registry;
use fsim::sim::*;
use std::collections::BTreeMap;

/// Seeds per test.
const SEEDS: u64 = 200;

// ---- harness --------------------------------------------------------------------------

/// Runs the world `setup` builds under the random chooser (no faults, `jump_ppm` chance of
/// a random time jump; with 0, time moves only when nothing else can run). `setup` gets the
/// log and a [`Pids`] to record pids in. Returns the finished sim (for `world()`), the log,
/// what `setup` returned, the report and the pids.
fn sim_run<T>(
    seed: u64,
    jump_ppm: u32,
    setup: impl FnOnce(&mut Sim, &Log, Pids) -> T,
) -> (Sim, Log, T, RunReport, Pids) {
    let chooser = RandomChooser::new(seed).with_rates(0, jump_ppm);
    let pids = Pids::default();
    let p = pids.clone();
    // These worlds model Elixir code, where a raise in a callback is an OTP crash: panics
    // here stand for raises.
    let config = Config {
        panics: Panics::Crash,
        ..Config::default()
    };
    let (sim, report, log, out) = run_checked(seed, config, chooser, |sim, log| setup(sim, log, p));
    (sim, log, out, report, pids)
}

/// Waits for the `DOWN` of monitor `mref`.
async fn await_down(cx: &Cx, mref: Ref) -> ExitReason {
    let env = cx.recv_match(Matcher::Tag(mref)).await;
    env.down()
        .expect("Tag(mref) without alias is the DOWN")
        .2
        .clone()
}

#[derive(Debug)]
struct Ready;

/// A GenServer that logs `init` and answers every call with its own pid, logging
/// `handled by PID`.
struct Named {
    log: Log,
}

impl Named {
    fn new(log: &Log) -> Self {
        Named { log: log.clone() }
    }
}

impl GenServer for Named {
    type Call = ();
    type Reply = Pid;
    type Cast = ();

    async fn init(&mut self, cx: &Cx) -> Init {
        self.log.push(format!("init {}", cx.me()));
        Init::Ok
    }

    async fn handle_call(&mut self, cx: &Cx, _req: (), _from: Caller) -> CallReply<Pid> {
        self.log.push(format!("handled by {}", cx.me()));
        CallReply::Reply(cx.me())
    }
}

// ---- rule 18: names are unique and freed at termination -------------------------------

#[test]
fn r18_of_two_racing_registrations_exactly_one_wins() {
    let mut wins = BTreeMap::<&str, u32>::new();
    for seed in 0..SEEDS {
        let (sim, log, (a, b), _, _) = sim_run(seed, 0, |sim, log, _| {
            let mut spawn = |id: &'static str| {
                let log = log.clone();
                sim.spawn(id, move |cx| async move {
                    match cx.register("n").await {
                        Ok(()) => log.push(format!("{id} ok")),
                        Err(e) => log.push(format!("{id} {e:?}")),
                    }
                    forever(&cx).await;
                })
            };
            (spawn("a"), spawn("b"))
        });
        let w = sim.world();
        let holder = w.whereis("n").expect("somebody holds the name");
        let (win, lose) = if holder == a { ("a", "b") } else { ("b", "a") };
        assert!(holder == a || holder == b, "seed {seed}");
        let mut lines = log.lines();
        lines.sort();
        let mut expected = vec![
            format!("{win} ok"),
            format!("{lose} {:?}", RegisterError::Taken(holder)),
        ];
        expected.sort();
        assert_eq!(lines, expected, "seed {seed}");
        assert_eq!(w.registered().count(), 1, "seed {seed}");
        *wins.entry(win).or_default() += 1;
    }
    assert_eq!(wins.len(), 2, "both orders of the race happen: {wins:?}");
}

#[test]
fn r18_name_is_already_free_when_exit_and_down_arrive() {
    for seed in 0..SEEDS {
        // the holder exits by itself, or is killed by an exit signal
        for killed in [false, true] {
            let (sim, log, _, _, _) = sim_run(seed, 0, |sim, log, _| {
                let log = log.clone();
                sim.spawn("t", move |cx| async move {
                    cx.trap_exit(true);
                    let me = cx.me();
                    let l = log.clone();
                    let h = cx
                        .spawn_link(move |hcx| async move {
                            hcx.register("n").await.expect("the name is free");
                            l.push("registered");
                            hcx.send(me, Ready).await;
                            if killed {
                                forever(&hcx).await;
                            }
                            custom("boom")
                        })
                        .await;
                    let mref = cx.monitor(h).await;
                    cx.recv_type::<Ready>().await;
                    if killed {
                        cx.exit_signal(h, custom("boom")).await;
                    }
                    for _ in 0..2 {
                        let env = cx
                            .recv_match(Matcher::when(move |e| {
                                (e.from == h && e.exit_reason().is_some())
                                    || e.down().is_some_and(|(r, _, _)| r == mref)
                            }))
                            .await;
                        // same step as the receive: nothing else ran in between
                        let held = cx.world().whereis("n");
                        let kind = if env.exit_reason().is_some() {
                            "EXIT"
                        } else {
                            "DOWN"
                        };
                        log.push(format!("{kind}: name held by {held:?}"));
                    }
                });
            });
            let lines = log.lines();
            assert_eq!(lines[0], "registered", "seed {seed} killed {killed}");
            let mut rest = lines[1..].to_vec();
            rest.sort();
            assert_eq!(
                rest,
                vec!["DOWN: name held by None", "EXIT: name held by None"],
                "seed {seed} killed {killed}"
            );
            assert_eq!(sim.world().whereis("n"), None, "seed {seed}");
        }
    }
}

#[test]
fn r18_lookups_see_old_holder_then_nothing_then_new_holder() {
    let allowed = ["new", "none new", "old new", "old none new"];
    let mut gap_seen = 0;
    for seed in 0..SEEDS {
        let (_sim, log, _, _, _) = sim_run(seed, 0, |sim, log, _| {
            let log = log.clone();
            sim.spawn("t", move |cx| async move {
                let me = cx.me();
                let h1 = cx
                    .spawn(move |hcx| async move {
                        hcx.register("n").await.expect("free");
                        hcx.send(me, Ready).await;
                        forever(&hcx).await;
                    })
                    .await;
                cx.recv_type::<Ready>().await;
                let l = log.clone();
                cx.spawn(move |pcx| async move {
                    let mut seen: Vec<&str> = Vec::new();
                    for _ in 0.. {
                        let r = pcx.whereis("n").await;
                        if let Some(p) = r
                            && !pcx.world().is_alive(p)
                        {
                            l.push(format!("whereis returned dead {p}"));
                        }
                        let obs = match r {
                            Some(p) if p == h1 => "old",
                            Some(_) => "new",
                            None => "none",
                        };
                        if seen.last() != Some(&obs) {
                            seen.push(obs);
                        }
                        if obs == "new" {
                            break;
                        }
                    }
                    l.push(seen.join(" "));
                })
                .await;
                let mref = cx.monitor(h1).await;
                cx.exit_signal(h1, ExitReason::Kill).await;
                await_down(&cx, mref).await;
                cx.spawn(|hcx| async move {
                    hcx.register("n").await.expect("free again");
                    forever(&hcx).await;
                })
                .await;
                forever(&cx).await;
            });
        });
        let lines = log.lines();
        assert_eq!(lines.len(), 1, "seed {seed}: {lines:?}");
        assert!(
            allowed.contains(&lines[0].as_str()),
            "seed {seed}: {lines:?}"
        );
        gap_seen += (lines[0] == "old none new") as u32;
    }
    assert!(gap_seen > 0, "some seed observes the gap between holders");
}

// ---- rule 19: already_started ---------------------------------------------------------

#[test]
fn r19_start_with_taken_name_returns_already_started_with_the_holder() {
    for seed in 0..SEEDS {
        let (sim, log, t, _, pids) = sim_run(seed, 10_000, |sim, log, p| {
            let log = log.clone();
            sim.spawn("t", move |cx| async move {
                let s1 = gen_server::start_link(&cx, Named::new(&log), StartOpts::named("srv"))
                    .await
                    .expect("first start");
                p.set("s1", s1);
                let r =
                    gen_server::start_link(&cx, Named::new(&log), StartOpts::named("srv")).await;
                log.push(format!("second {r:?}"));
                let r = gen_server::start(&cx, Named::new(&log), StartOpts::named("srv")).await;
                log.push(format!("third {r:?}"));
                forever(&cx).await;
            })
        });
        let s1 = pids.get("s1");
        let err = Err::<Pid, _>(StartError::AlreadyStarted(s1));
        assert_eq!(
            log.lines(),
            vec![
                format!("init {s1}"),
                format!("second {err:?}"),
                format!("third {err:?}"),
            ],
            "seed {seed}: init runs once"
        );
        let w = sim.world();
        assert_eq!(w.whereis("srv"), Some(s1), "seed {seed}");
        assert!(w.is_alive(s1) && w.is_alive(t), "seed {seed}");
    }
}

#[test]
fn r19_start_with_taken_name_spawns_no_process() {
    for seed in 0..SEEDS {
        let (_sim, log, _, _, _) = sim_run(seed, 0, |sim, log, _| {
            let log = log.clone();
            sim.spawn("t", move |cx| async move {
                cx.trap_exit(true);
                let s1 = gen_server::start_link(&cx, Named::new(&log), StartOpts::named("srv"))
                    .await
                    .expect("first start");
                let before = cx.world().pids().count();
                let r =
                    gen_server::start_link(&cx, Named::new(&log), StartOpts::named("srv")).await;
                let after = cx.world().pids().count();
                assert_eq!(r, Err(StartError::AlreadyStarted(s1)));
                quiesce(&cx).await;
                let exit = cx
                    .recv_timeout(Matcher::when(|e| e.exit_reason().is_some()), 0)
                    .await;
                log.push(format!("spawned {} exit {exit:?}", after - before));
                forever(&cx).await;
            });
        });
        assert_eq!(
            log.lines().last().map(String::as_str),
            Some("spawned 0 exit None"),
            "seed {seed}"
        );
    }
}

#[test]
fn r19_racing_starts_one_wins_and_the_loser_reports_the_winner() {
    let mut wins = BTreeMap::<&str, u32>::new();
    let mut lost_the_race = 0;
    for seed in 0..SEEDS {
        let res: Slot<Vec<(&str, Result<Pid, StartError>)>> = Slot::new();
        res.set(Vec::new());
        let (sim, log, _, _, _) = sim_run(seed, 10_000, |sim, log, _| {
            for id in ["a", "b"] {
                let log = log.clone();
                let res = res.clone();
                sim.spawn(id, move |cx| async move {
                    let r = gen_server::start_link(&cx, Named::new(&log), StartOpts::named("srv"))
                        .await;
                    res.update(|v| v.push((id, r)));
                    forever(&cx).await;
                });
            }
        });
        let res = res.get();
        assert_eq!(res.len(), 2, "seed {seed}");
        let winner = sim.world().whereis("srv").expect("someone started");
        let oks: Vec<_> = res.iter().filter(|(_, r)| r.is_ok()).collect();
        assert_eq!(oks.len(), 1, "seed {seed}: {res:?}");
        assert_eq!(oks[0].1, Ok(winner), "seed {seed}");
        let lost = res.iter().find(|(_, r)| r.is_err()).unwrap();
        assert_eq!(
            lost.1,
            Err(StartError::AlreadyStarted(winner)),
            "seed {seed}"
        );
        assert_eq!(
            log.lines(),
            vec![format!("init {winner}")],
            "seed {seed}: only the winner runs init"
        );
        *wins.entry(oks[0].0).or_default() += 1;
        // a, b, the winner, and (only when the loser also saw the name free and spawned)
        // the loser's process, which exited normal without running init
        let w = sim.world();
        let spawned: Vec<Pid> = w.pids().skip(2).collect();
        match spawned[..] {
            [only] => assert_eq!(only, winner, "seed {seed}"),
            [_, _] => {
                let loser = *spawned.iter().find(|p| **p != winner).unwrap();
                assert_eq!(w.exit_reason(loser), Some(&ExitReason::Normal));
                lost_the_race += 1;
            }
            _ => panic!("seed {seed}: spawned {spawned:?}"),
        }
    }
    assert_eq!(wins.len(), 2, "either starter can win: {wins:?}");
    assert!(
        lost_the_race > 0,
        "some seed: both starters see the name free and one loses the registration race"
    );
}

// ---- rule 20: call/cast/stop resolve a name once --------------------------------------

#[test]
fn r20_call_to_unbound_name_exits_noproc_cast_is_dropped_stop_exits_noproc() {
    for seed in 0..SEEDS {
        let (sim, log, _, _, pids) = sim_run(seed, 10_000, |sim, log, p| {
            let log = log.clone();
            sim.spawn("t", move |cx| async move {
                // the name was bound once, and is not any more
                gen_server::start(&cx, Named::new(&log), StartOpts::named("srv"))
                    .await
                    .expect("start");
                gen_server::stop(&cx, "srv", ExitReason::Normal).await;
                let l = log.clone();
                let c = cx
                    .spawn(move |ccx| async move {
                        let _: Pid = gen_server::call(&ccx, "srv", (), None).await;
                        l.push("call returned");
                    })
                    .await;
                let l = log.clone();
                let tc = cx
                    .spawn(move |ccx| async move {
                        let r: Result<Pid, _> = gen_server::try_call(&ccx, "srv", (), None).await;
                        l.push(format!("try_call {r:?}"));
                    })
                    .await;
                let l = log.clone();
                let k = cx
                    .spawn(move |ccx| async move {
                        gen_server::cast(&ccx, "srv", ()).await;
                        l.push("cast returned");
                    })
                    .await;
                let l = log.clone();
                let s = cx
                    .spawn(move |ccx| async move {
                        gen_server::stop(&ccx, "srv", ExitReason::Normal).await;
                        l.push("stop returned");
                    })
                    .await;
                for (n, pid) in [("c", c), ("tc", tc), ("k", k), ("s", s)] {
                    p.set(n, pid);
                }
            });
        });
        let mut lines = log.lines();
        lines.retain(|l| !l.starts_with("init"));
        lines.sort();
        assert_eq!(
            lines,
            vec![
                "cast returned".to_string(),
                format!("try_call {:?}", Err::<Pid, _>(ExitReason::NoProc)),
            ],
            "seed {seed}"
        );
        let w = sim.world();
        assert_eq!(
            w.exit_reason(pids.get("c")),
            Some(&ExitReason::CallFailed(Box::new(ExitReason::NoProc))),
            "seed {seed}"
        );
        assert_eq!(
            w.exit_reason(pids.get("tc")),
            Some(&ExitReason::Normal),
            "seed {seed}"
        );
        assert_eq!(
            w.exit_reason(pids.get("k")),
            Some(&ExitReason::Normal),
            "seed {seed}"
        );
        // GenServer.stop on an unbound name exits {:noproc, {GenServer, :stop, [...]}}.
        assert_eq!(
            w.exit_reason(pids.get("s")),
            Some(&ExitReason::StopFailed(Box::new(ExitReason::NoProc))),
            "seed {seed}"
        );
    }
}

#[test]
fn r20_call_that_resolved_the_old_pid_fails_even_though_a_new_pid_registers() {
    let mut failed_with_new_holder = 0;
    let mut reached_new = 0;
    for seed in 0..SEEDS {
        let pids = Pids::default();
        let p = pids.clone();
        let out: Slot<(Result<Pid, ExitReason>, Option<Pid>)> = Slot::new();
        let o = out.clone();
        let (_sim, log, _, _, _) = sim_run(seed, 0, |sim, log, _| {
            let log = log.clone();
            sim.spawn("t", move |cx| async move {
                let s1 = gen_server::start(&cx, Named::new(&log), StartOpts::named("srv"))
                    .await
                    .expect("start");
                p.set("s1", s1);
                // the next server takes the name the moment it is free
                let l = log.clone();
                let s2 = cx
                    .spawn(move |scx| async move {
                        while scx.register("srv").await.is_err() {}
                        gen_server::enter_loop(scx, None, Named::new(&l)).await
                    })
                    .await;
                p.set("s2", s2);
                cx.spawn(move |ccx| async move {
                    // a per-seed head start for the killer and the new server
                    for _ in 0..seed % 8 {
                        ccx.yield_now().await;
                    }
                    let r = gen_server::try_call::<(), Pid>(&ccx, "srv", (), None).await;
                    // same step as the call's end: who holds the name now?
                    let holder = ccx.world().whereis("srv");
                    o.set((r, holder));
                })
                .await;
                cx.exit_signal(s1, ExitReason::Kill).await;
                forever(&cx).await;
            });
        });
        let (s1, s2) = (pids.get("s1"), pids.get("s2"));
        let (r, holder) = out.get();
        let handled: Vec<String> = log
            .lines()
            .into_iter()
            .filter(|l| l.starts_with("handled"))
            .collect();
        match &r {
            Ok(p) => {
                assert!(*p == s1 || *p == s2, "seed {seed}: {r:?}");
                assert_eq!(handled, vec![format!("handled by {p}")], "seed {seed}");
                reached_new += (*p == s2) as u32;
            }
            Err(e) => {
                assert!(
                    *e == ExitReason::Killed || *e == ExitReason::NoProc,
                    "seed {seed}: {r:?}"
                );
                // resolved once: the request never went to the new server (the old one
                // may have handled it and been killed before its reply went out)
                assert!(
                    !handled.contains(&format!("handled by {s2}")),
                    "seed {seed}: {handled:?}"
                );
                failed_with_new_holder += (holder == Some(s2)) as u32;
            }
        }
    }
    assert!(
        failed_with_new_holder > 0,
        "some seed: the call fails while the new pid already holds the name"
    );
    assert!(
        reached_new > 0,
        "some seed: a later resolution finds the new pid"
    );
}

// ---- rule 21: Registry cleanup is asynchronous ----------------------------------------

#[test]
fn r21_registration_runs_in_the_caller_and_links_it_to_the_registry() {
    for seed in 0..SEEDS {
        let (sim, log, _, _, pids) = sim_run(seed, 10_000, |sim, log, p| {
            let log = log.clone();
            sim.spawn("t", move |cx| async move {
                let reg = registry::start_link(&cx, "reg").await.expect("registry");
                p.set("reg", reg);
                let l = log.clone();
                let w = cx
                    .spawn(move |wcx| async move {
                        let in_reg = |wcx: &Cx| {
                            registry::rows(&wcx.world(), "reg")
                                .contains(&("k".to_string(), wcx.me()))
                        };
                        let before = in_reg(&wcx);
                        let r = registry::register(&wcx, "reg", "k").await;
                        // same step as the registration: no registry step in between
                        let visible = in_reg(&wcx);
                        let linked = wcx.world().links(wcx.me()).contains(&reg);
                        l.push(format!(
                            "{r:?} before {before} visible {visible} linked {linked}"
                        ));
                        forever(&wcx).await;
                    })
                    .await;
                p.set("w", w);
                forever(&cx).await;
            });
        });
        assert_eq!(
            log.lines(),
            vec!["Ok(()) before false visible true linked true"],
            "seed {seed}"
        );
        let w = sim.world();
        assert_eq!(
            registry::rows(&w, "reg"),
            vec![("k".to_string(), pids.get("w"))],
            "seed {seed}"
        );
        assert!(
            w.links(pids.get("reg")).contains(&pids.get("w")),
            "seed {seed}: the link is bidirectional"
        );
    }
}

/// Starts registry `reg`, spawns a holder that registers `keys` and then exits with
/// `boom`, and, once the holder has registered, runs `after_registered(cx, reg, holder)`
/// in the test process. The test process stays up (it owns the registry).
fn registry_world<F, Fut>(
    sim: &mut Sim,
    log: &Log,
    keys: &'static [&'static str],
    after_registered: F,
) where
    F: FnOnce(Cx, Pid, Pid, Log) -> Fut + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    let log = log.clone();
    sim.spawn("t", move |cx| async move {
        let reg = registry::start_link(&cx, "reg").await.expect("registry");
        let me = cx.me();
        let holder = cx
            .spawn(move |hcx| async move {
                for k in keys {
                    registry::register(&hcx, "reg", k).await.expect("free key");
                }
                hcx.send(me, Ready).await;
                custom("boom")
            })
            .await;
        cx.recv_type::<Ready>().await;
        after_registered(cx.clone(), reg, holder, log).await;
        forever(&cx).await;
    });
}

#[test]
fn r21_lookup_returns_the_dead_pid_until_cleanup_and_never_after() {
    let allowed = ["none", "live none", "dead none", "live dead none"];
    let mut dead_seen = 0;
    for seed in 0..SEEDS {
        let (sim, log, _, _, pids) = sim_run(seed, 10_000, |sim, log, p| {
            registry_world(sim, log, &["k"], move |cx, _reg, holder, log| async move {
                p.set("holder", holder);
                cx.spawn(move |lcx| async move {
                    let mut seen: Vec<&str> = Vec::new();
                    let mut after_none = 0;
                    while after_none < 5 {
                        let r = registry::lookup(&lcx, "reg", "k").await;
                        let obs = match r {
                            Some(p) if p != holder => "other",
                            Some(p) if lcx.world().is_alive(p) => "live",
                            Some(_) => "dead",
                            None => "none",
                        };
                        if seen.last() != Some(&obs) {
                            seen.push(obs);
                        }
                        if seen.contains(&"none") {
                            after_none += 1;
                        }
                    }
                    log.push(seen.join(" "));
                })
                .await;
            });
        });
        let lines = log.lines();
        assert_eq!(lines.len(), 1, "seed {seed}");
        assert!(
            allowed.contains(&lines[0].as_str()),
            "seed {seed}: {lines:?}"
        );
        dead_seen += lines[0].contains("dead") as u32;
        let w = sim.world();
        assert!(
            registry::rows(&w, "reg").is_empty(),
            "seed {seed}: cleaned up"
        );
        assert_eq!(
            w.exit_reason(pids.get("holder")),
            Some(&custom("boom")),
            "seed {seed}: the holder exited"
        );
    }
    assert!(
        dead_seen > 0,
        "some seed sees the dead holder before cleanup"
    );
}

// ---- rule 22: via names over Registry -------------------------------------------------

#[test]
fn r22_whereis_name_filters_a_dead_holder_whose_row_remains() {
    let mut filtered = 0;
    for seed in 0..SEEDS {
        let (_sim, log, _, _, _) = sim_run(seed, 10_000, |sim, log, _| {
            registry_world(sim, log, &["k"], |cx, _reg, holder, log| async move {
                cx.spawn(move |lcx| async move {
                    for _ in 0.. {
                        let r = registry::whereis_name(&lcx, "reg", "k").await;
                        // same step: the liveness and the raw row
                        let w = lcx.world();
                        let row = registry::rows(&w, "reg");
                        match r {
                            Some(p) if !w.is_alive(p) => log.push(format!("dead {p}")),
                            Some(p) if p != holder => log.push(format!("other {p}")),
                            Some(_) => {}
                            None if row == vec![("k".to_string(), holder)] => {
                                log.push("filtered");
                            }
                            None => {
                                log.push("gone");
                                break;
                            }
                        }
                    }
                })
                .await;
            });
        });
        let mut lines = log.lines();
        assert_eq!(lines.pop().as_deref(), Some("gone"), "seed {seed}");
        assert!(
            lines.iter().all(|l| l == "filtered"),
            "seed {seed}: {lines:?}"
        );
        filtered += !lines.is_empty() as u32;
    }
    assert!(
        filtered > 0,
        "some seed: a dead holder's row is there but filtered"
    );
}

#[test]
fn r22_register_over_dead_holder_succeeds_and_late_cleanup_removes_only_its_rows() {
    let mut late = 0;
    for seed in 0..SEEDS {
        let (sim, log, _, _, pids) = sim_run(seed, 10_000, |sim, log, p| {
            registry_world(
                sim,
                log,
                &["j", "k"],
                move |cx, reg, holder, log| async move {
                    let mref = cx.monitor(holder).await;
                    await_down(&cx, mref).await;
                    let w2 = cx
                        .spawn(move |wcx| async move {
                            let r = registry::register(&wcx, "reg", "k").await;
                            // same step: has the registry removed the holder's rows yet?
                            let pending = {
                                let w = wcx.world();
                                registry::rows(&w, "reg").iter().any(|(_, p)| *p == holder)
                            };
                            let _ = reg;
                            log.push(format!("{r:?}"));
                            if pending {
                                log.push("cleanup pending");
                            }
                            forever(&wcx).await;
                        })
                        .await;
                    p.set("w2", w2);
                },
            );
        });
        let w2 = pids.get("w2");
        let mut lines = log.lines();
        late += lines.contains(&"cleanup pending".to_string()) as u32;
        lines.retain(|l| l != "cleanup pending");
        assert_eq!(lines, vec!["Ok(())"], "seed {seed}");
        let w = sim.world();
        assert_eq!(
            registry::rows(&w, "reg"),
            vec![("k".to_string(), w2)],
            "seed {seed}: the dead holder's rows are gone, the new holder's row stays"
        );
    }
    assert!(
        late > 0,
        "some seed: the new registration precedes the cleanup"
    );
}

#[test]
fn r22_via_name_over_a_live_holder_gives_already_started() {
    for seed in 0..SEEDS {
        let (sim, log, _, _, pids) = sim_run(seed, 10_000, |sim, log, p| {
            let log = log.clone();
            sim.spawn("t", move |cx| async move {
                registry::start_link(&cx, "reg").await.expect("registry");
                let via = ServerRef::via("reg", "k");
                let s1 = gen_server::start_link(&cx, Named::new(&log), StartOpts::named(&via))
                    .await
                    .expect("first start");
                p.set("s1", s1);
                let r = gen_server::start_link(&cx, Named::new(&log), StartOpts::named(&via)).await;
                log.push(format!("second start {r:?}"));
                let r = registry::register(&cx, "reg", "k").await;
                log.push(format!("register {r:?}"));
                let r: Pid = gen_server::call(&cx, &via, (), None).await;
                log.push(format!("call {r}"));
                forever(&cx).await;
            });
        });
        let s1 = pids.get("s1");
        assert_eq!(
            log.lines(),
            vec![
                format!("init {s1}"),
                format!(
                    "second start {:?}",
                    Err::<Pid, _>(StartError::AlreadyStarted(s1))
                ),
                format!("register {:?}", Err::<(), _>(s1)),
                format!("handled by {s1}"),
                format!("call {s1}"),
            ],
            "seed {seed}"
        );
        assert_eq!(
            registry::rows(&sim.world(), "reg"),
            vec![("k".to_string(), s1)],
            "seed {seed}"
        );
    }
}

// ---- a configurable server for part E -------------------------------------------------

/// Requests to [`Svc`].
#[derive(Debug)]
enum Req {
    /// Reply `n` at once.
    Ping(u32),
    /// Sleep `ms` inside the callback (a receive that matches nothing), count the work
    /// as done, then reply `n`.
    Slow(u32, u64),
    /// Never reply.
    Silent,
    /// `{:stop, reason, state}` without a reply.
    Die(ExitReason),
    /// `{:stop, reason, n, state}`: reply, then stop.
    StopWithReply(u32, ExitReason),
    /// `GenServer.reply(from, n)`, then `{:stop, reason, state}`.
    ReplyThenStop(u32, ExitReason),
    /// `GenServer.reply(from, n)`, then panic.
    ReplyThenPanic(u32),
    /// Call `server` with `req` and timeout `ms` (catching a failure), and reply with
    /// what it gave.
    Forward {
        server: Pid,
        req: Box<Req>,
        ms: Option<u64>,
    },
    /// Call a process that does not exist (with `gen_server::call`).
    CallDead(Pid),
    /// Panic.
    Panic,
    /// `exit(reason)` from inside the callback.
    Exit(ExitReason),
}

/// A GenServer that logs what it does: `init`, `did N` after slow work, `call ... ->
/// ...` for forwarded calls, `terminate REASON`.
struct Svc {
    log: Log,
    name: &'static str,
    trap: bool,
    /// `init` sleeps this long first.
    init_ms: u64,
    init: Init,
    done: u32,
}

impl Svc {
    fn new(name: &'static str, log: &Log) -> Self {
        Svc {
            log: log.clone(),
            name,
            trap: false,
            init_ms: 0,
            init: Init::Ok,
            done: 0,
        }
    }
    fn trapping(mut self) -> Self {
        self.trap = true;
        self
    }
    fn init_with(mut self, ms: u64, init: Init) -> Self {
        self.init_ms = ms;
        self.init = init;
        self
    }
}

impl GenServer for Svc {
    type Call = Req;
    type Reply = Result<u32, ExitReason>;
    type Cast = u32;

    async fn init(&mut self, cx: &Cx) -> Init {
        if self.trap {
            cx.trap_exit(true);
        }
        self.log.push(format!("{} init begin", self.name));
        for _ in 0..3 {
            cx.yield_now().await;
        }
        if self.init_ms > 0 {
            cx.sleep(self.init_ms).await;
        }
        self.log.push(format!("{} init end", self.name));
        self.init.clone()
    }

    async fn handle_call(
        &mut self,
        cx: &Cx,
        req: Req,
        from: Caller,
    ) -> CallReply<Result<u32, ExitReason>> {
        match req {
            Req::Ping(n) => CallReply::Reply(Ok(n)),
            Req::Slow(n, ms) => {
                cx.sleep(ms).await;
                self.done += 1;
                self.log
                    .push(format!("{} did {n} at {}", self.name, cx.now_ms()));
                CallReply::Reply(Ok(n))
            }
            Req::Silent => CallReply::NoReply,
            Req::Die(r) => CallReply::Stop(r, None),
            Req::StopWithReply(n, r) => CallReply::Stop(r, Some(Ok(n))),
            Req::ReplyThenStop(n, r) => {
                gen_server::reply(cx, from, Ok::<u32, ExitReason>(n)).await;
                CallReply::Stop(r, None)
            }
            Req::ReplyThenPanic(n) => {
                gen_server::reply(cx, from, Ok::<u32, ExitReason>(n)).await;
                panic!("after the reply");
            }
            Req::Forward { server, req, ms } => {
                let r = svc_call(cx, server, *req, ms).await;
                self.log
                    .push(format!("{} forward -> {r:?} at {}", self.name, cx.now_ms()));
                CallReply::Reply(r)
            }
            Req::CallDead(p) => {
                let r: Result<u32, ExitReason> = gen_server::call(cx, p, Req::Ping(0), None).await;
                self.log
                    .push(format!("{} survived a failed call", self.name));
                CallReply::Reply(r)
            }
            Req::Panic => panic!("handle_call raised"),
            Req::Exit(r) => cx.exit(r),
        }
    }

    async fn handle_info(&mut self, _cx: &Cx, msg: Envelope) -> Next {
        if let Some(r) = msg.exit_reason() {
            self.log
                .push(format!("{} info EXIT {} {r:?}", self.name, msg.from));
        }
        Next::Continue
    }

    async fn terminate(&mut self, cx: &Cx, reason: &ExitReason) {
        self.log.push(format!("{} terminate {reason:?}", self.name));
        cx.yield_now().await;
        self.log.push(format!("{} terminate done", self.name));
    }
}

/// `try_call` to a [`Svc`], flattening its reply.
async fn svc_call(
    cx: &Cx,
    server: impl Into<ServerRef>,
    req: Req,
    ms: Option<u64>,
) -> Result<u32, ExitReason> {
    gen_server::try_call::<Req, Result<u32, ExitReason>>(cx, server, req, ms)
        .await
        .and_then(|r| r)
}

// ---- rule 23: start_link is synchronous and links ---------------------------------------

#[test]
fn r23_start_link_returns_after_init_and_links_the_server_to_its_parent() {
    let mut overlapped = 0;
    for seed in 0..SEEDS {
        let (sim, log, _, _, pids) = sim_run(seed, 10_000, |sim, log, p| {
            let l = log.clone();
            // a bystander that keeps running while init runs
            sim.spawn("bystander", move |cx| async move {
                for _ in 0..6 {
                    cx.yield_now().await;
                    l.push("tick");
                }
            });
            let log = log.clone();
            sim.spawn("t", move |cx| async move {
                log.push("start");
                let s = gen_server::start_link(&cx, Svc::new("s", &log), StartOpts::default())
                    .await
                    .expect("init ok");
                p.set("s", s);
                let linked = {
                    let w = cx.world();
                    w.links(cx.me()).contains(&s)
                        && w.links(s).contains(&cx.me())
                        && w.parent(s) == Some(cx.me())
                };
                log.push(format!("returned linked {linked}"));
                custom("parent died")
            });
        });
        let lines = log.lines();
        let not_tick: Vec<&str> = lines
            .iter()
            .map(String::as_str)
            .filter(|l| *l != "tick")
            .collect();
        assert_eq!(
            not_tick,
            vec![
                "start",
                "s init begin",
                "s init end",
                "returned linked true"
            ],
            "seed {seed}"
        );
        let begin = lines.iter().position(|l| l == "s init begin").unwrap();
        let end = lines.iter().position(|l| l == "s init end").unwrap();
        overlapped += lines[begin..end].iter().any(|l| l == "tick") as u32;
        // the link: the server dies with its parent's reason
        assert_eq!(
            sim.world().exit_reason(pids.get("s")),
            Some(&custom("parent died")),
            "seed {seed}"
        );
    }
    assert!(overlapped > 0, "other processes run while the caller waits");
}

// ---- rule 24: init failure, ignore, timeout ---------------------------------------------

#[test]
fn r24_init_stop_gives_error_to_a_trapping_caller_and_kills_a_non_trapping_one() {
    for seed in 0..SEEDS {
        for trap in [true, false] {
            let (sim, log, t, _, pids) = sim_run(seed, 10_000, |sim, log, p| {
                let log = log.clone();
                sim.spawn("t", move |cx| async move {
                    cx.trap_exit(trap);
                    let svc = Svc::new("s", &log).init_with(0, Init::Stop(custom("bad init")));
                    let r = gen_server::start_link(&cx, svc, StartOpts::named("srv")).await;
                    log.push(format!("returned {r:?}"));
                    p.set("s", cx.world().pids().last().unwrap());
                    forever(&cx).await;
                })
            });
            let w = sim.world();
            let returned = format!(
                "returned {:?}",
                Err::<Pid, _>(StartError::Failed(custom("bad init")))
            );
            if trap {
                assert_eq!(
                    log.lines(),
                    vec!["s init begin", "s init end", returned.as_str()],
                    "seed {seed}"
                );
                assert!(w.is_alive(t), "seed {seed}: a trapping caller survives");
                assert_eq!(w.exit_reason(pids.get("s")), Some(&custom("bad init")));
            } else {
                assert_eq!(
                    w.exit_reason(t),
                    Some(&custom("bad init")),
                    "seed {seed}: the link kills a non-trapping caller"
                );
            }
            assert_eq!(w.whereis("srv"), None, "seed {seed}");
            assert!(
                !log.lines().iter().any(|l| l.contains("terminate")),
                "seed {seed}: no terminate for a failed init"
            );
        }
    }
}

#[test]
fn r24_init_ignore_returns_ignore_and_the_process_exits_normal() {
    for seed in 0..SEEDS {
        let (sim, log, t, _, _) = sim_run(seed, 10_000, |sim, log, _| {
            let log = log.clone();
            sim.spawn("t", move |cx| async move {
                let svc = Svc::new("s", &log).init_with(0, Init::Ignore);
                let r = gen_server::start_link(&cx, svc, StartOpts::named("srv")).await;
                log.push(format!("returned {r:?}"));
                let s = cx.world().pids().last().unwrap();
                let mref = cx.monitor(s).await;
                let reason = await_down(&cx, mref).await;
                log.push(format!("server exit {reason:?}"));
                forever(&cx).await;
            })
        });
        let lines = log.lines();
        assert_eq!(
            lines,
            vec![
                "s init begin".to_string(),
                "s init end".into(),
                format!("returned {:?}", Err::<Pid, _>(StartError::Ignore)),
                // the DOWN says noproc if the server was already gone: both are normal
                lines[3].clone(),
            ],
            "seed {seed}"
        );
        assert!(
            lines[3] == "server exit normal" || lines[3] == "server exit noproc",
            "seed {seed}: {lines:?}"
        );
        let w = sim.world();
        assert!(
            w.is_alive(t),
            "seed {seed}: the non-trapping caller survives"
        );
        assert_eq!(w.whereis("srv"), None, "seed {seed}");
        assert!(
            w.pids()
                .filter(|p| *p != t)
                .all(|p| w.exit_reason(p) == Some(&ExitReason::Normal)),
            "seed {seed}"
        );
    }
}

#[test]
fn r24_init_beyond_its_timeout_is_killed_and_start_returns_timeout() {
    for seed in 0..SEEDS {
        let (sim, log, t, _, pids) = sim_run(seed, 0, |sim, log, p| {
            let log = log.clone();
            sim.spawn("t", move |cx| async move {
                let svc = Svc::new("s", &log).init_with(1_000, Init::Ok);
                let opts = StartOpts {
                    name: Some("srv".into()),
                    timeout_ms: Some(100),
                };
                let r = gen_server::start_link(&cx, svc, opts).await;
                log.push(format!("returned {r:?} at {}", cx.now_ms()));
                p.set("s", cx.world().pids().last().unwrap());
                cx.sleep(5_000).await;
                log.push("caller still alive");
            })
        });
        assert_eq!(
            log.lines(),
            vec![
                "s init begin".to_string(),
                format!("returned {:?} at 100", Err::<Pid, _>(StartError::Timeout)),
                "caller still alive".into(),
            ],
            "seed {seed}"
        );
        let w = sim.world();
        assert_eq!(w.exit_reason(pids.get("s")), Some(&ExitReason::Killed));
        assert_eq!(w.exit_reason(t), Some(&ExitReason::Normal), "seed {seed}");
        assert_eq!(w.whereis("srv"), None, "seed {seed}");
    }
}

#[test]
fn r24_init_timeout_with_random_time_jumps_still_kills_and_returns_timeout() {
    // With random jumps the starter may be scheduled only after init has finished: the
    // start still returns `timeout` and the server is still killed.
    let mut late_acks = 0;
    for seed in 0..SEEDS {
        let (sim, log, t, _, pids) = sim_run(seed, 50_000, |sim, log, p| {
            let log = log.clone();
            sim.spawn("t", move |cx| async move {
                let svc = Svc::new("s", &log).init_with(1_000, Init::Ok);
                let opts = StartOpts {
                    name: Some("srv".into()),
                    timeout_ms: Some(100),
                };
                let r = gen_server::start_link(&cx, svc, opts).await;
                log.push(format!("returned {r:?}"));
                p.set("s", cx.world().pids().last().unwrap());
                cx.sleep(5_000).await;
            })
        });
        // A starter scheduled only after its timeout fired and after the ack arrived
        // takes the ack: a received message comes before an expired `after` (as in
        // proc_lib's `receive ... after`). Otherwise the start times out and kills.
        let ok = log.contains(&format!(
            "returned {:?}",
            Ok::<Pid, StartError>(pids.get("s"))
        ));
        let w = sim.world();
        if ok {
            late_acks += 1;
            assert!(log.contains("s init end"), "seed {seed}");
        } else {
            assert!(
                log.contains(&format!(
                    "returned {:?}",
                    Err::<Pid, _>(StartError::Timeout)
                )),
                "seed {seed}: {:?}",
                log.lines()
            );
            assert_eq!(w.exit_reason(pids.get("s")), Some(&ExitReason::Killed));
            assert_eq!(w.whereis("srv"), None, "seed {seed}");
        }
        assert_eq!(w.exit_reason(t), Some(&ExitReason::Normal), "seed {seed}");
    }
    assert!(
        late_acks < SEEDS / 4,
        "{late_acks} of {SEEDS} took a late ack"
    );
}

// ---- rule 25: one message per callback, in order ----------------------------------------

/// Logs `begin C I` / `end C I` around each cast `(C, I)`, yielding in between.
struct Seq {
    log: Log,
}

impl GenServer for Seq {
    type Call = ();
    type Reply = ();
    type Cast = (char, u32);

    async fn handle_call(&mut self, _cx: &Cx, _req: (), _from: Caller) -> CallReply<()> {
        CallReply::Reply(())
    }

    async fn handle_cast(&mut self, cx: &Cx, (c, i): (char, u32)) -> Next {
        self.log.push(format!("begin {c} {i}"));
        for _ in 0..2 {
            cx.yield_now().await;
        }
        let _ = cx.whereis("nobody").await;
        self.log.push(format!("end {c} {i}"));
        Next::Continue
    }
}

#[test]
fn r25_one_cast_per_callback_each_senders_casts_in_send_order() {
    const N: u32 = 4;
    let mut orders = std::collections::BTreeSet::new();
    let mut others_ran = 0;
    for seed in 0..SEEDS {
        let (_sim, log, _, _, _) = sim_run(seed, 10_000, |sim, log, _| {
            let l = log.clone();
            let srv = sim.spawn("srv", move |cx| async move {
                gen_server::enter_loop(cx, None, Seq { log: l }).await
            });
            for c in ['a', 'b'] {
                sim.spawn(&c.to_string(), move |cx| async move {
                    for i in 0..N {
                        gen_server::cast(&cx, srv, (c, i)).await;
                    }
                });
            }
            let l = log.clone();
            sim.spawn("bystander", move |cx| async move {
                for _ in 0..10 {
                    cx.yield_now().await;
                    l.push("tick");
                }
            });
        });
        let lines = log.lines();
        let handled: Vec<&String> = lines.iter().filter(|l| *l != "tick").collect();
        assert_eq!(handled.len(), 4 * N as usize, "seed {seed}");
        let mut next = BTreeMap::from([('a', 0u32), ('b', 0u32)]);
        let mut order = String::new();
        for pair in handled.chunks(2) {
            let begin = pair[0].strip_prefix("begin ").expect("a callback begins");
            assert_eq!(
                pair[1].strip_prefix("end "),
                Some(begin),
                "seed {seed}: a callback ran to its end before the next began: {handled:?}"
            );
            let c = begin.chars().next().unwrap();
            let i: u32 = begin[2..].parse().unwrap();
            assert_eq!(i, next[&c], "seed {seed}: {c}'s casts in send order");
            *next.get_mut(&c).unwrap() += 1;
            order.push(c);
        }
        orders.insert(order);
        others_ran += lines
            .windows(3)
            .any(|w| w[0].starts_with("begin") && w[1] == "tick" && w[2].starts_with("end"))
            as u32;
    }
    assert!(
        orders.len() > 2,
        "senders interleave differently: {orders:?}"
    );
    assert!(others_ran > 0, "other processes run during a callback");
}

/// A counter whose increment reads, yields, then writes.
struct Counter {
    n: u32,
}

impl GenServer for Counter {
    type Call = ();
    type Reply = u32;
    type Cast = ();

    async fn handle_call(&mut self, cx: &Cx, _req: (), _from: Caller) -> CallReply<u32> {
        let v = self.n;
        cx.yield_now().await;
        let _ = cx.whereis("nobody").await;
        self.n = v + 1;
        CallReply::Reply(self.n)
    }
}

#[test]
fn r25_callbacks_are_atomic_so_read_yield_write_loses_no_update() {
    for seed in 0..SEEDS {
        let got: Slot<Vec<u32>> = Slot::new();
        got.set(Vec::new());
        let (sim, _log, srv, _, _) = sim_run(seed, 10_000, |sim, _log, _| {
            let srv = sim.spawn("srv", move |cx| async move {
                gen_server::enter_loop(cx, None, Counter { n: 0 }).await
            });
            for c in ["a", "b", "c"] {
                let got = got.clone();
                sim.spawn(c, move |cx| async move {
                    for _ in 0..4 {
                        let n: u32 = gen_server::call(&cx, srv, (), None).await;
                        got.update(|v| v.push(n));
                    }
                });
            }
            srv
        });
        let mut got = got.get();
        got.sort();
        assert_eq!(got, (1..=12).collect::<Vec<_>>(), "seed {seed}");
        assert_eq!(
            sim.world().with_state::<Counter, _>(srv, |c| c.n),
            Some(12),
            "seed {seed}"
        );
    }
}

// ---- rule 26: call outcomes, timeouts, late replies --------------------------------------

#[test]
fn r26_call_gives_the_reply_noproc_the_servers_reason_or_timeout() {
    for seed in 0..SEEDS {
        let (_sim, log, _, _, _) = sim_run(seed, 10_000, |sim, log, _| {
            let log = log.clone();
            sim.spawn("t", move |cx| async move {
                let start =
                    |name| gen_server::start(&cx, Svc::new(name, &log), StartOpts::default());
                let s = start("s").await.unwrap();
                let r = svc_call(&cx, s, Req::Ping(7), None).await;
                log.push(format!("reply {r:?}"));
                let r = svc_call(&cx, s, Req::Die(custom("bye")), None).await;
                log.push(format!("server died {r:?}"));
                let r = svc_call(&cx, s, Req::Ping(8), None).await;
                log.push(format!("already dead {r:?}"));
                let s = start("s2").await.unwrap();
                let t0 = cx.now_ms();
                let r = svc_call(&cx, s, Req::Silent, Some(250)).await;
                log.push(format!("silent {r:?} after {}", cx.now_ms() - t0));
                let r = svc_call(&cx, s, Req::Ping(9), None).await;
                log.push(format!("still serving {r:?}"));
            });
        });
        let lines: Vec<String> = log
            .lines()
            .into_iter()
            .filter(|l| !l.contains(" init "))
            .collect();
        assert_eq!(
            lines,
            vec![
                "reply Ok(7)",
                "s terminate bye",
                "s terminate done",
                "server died Err(bye)",
                "already dead Err(noproc)",
                "silent Err(timeout) after 250",
                "still serving Ok(9)",
            ],
            "seed {seed}"
        );
    }
}

#[test]
fn r26_timed_out_caller_never_receives_the_late_reply_though_the_server_did_the_work() {
    for seed in 0..SEEDS {
        let (sim, log, (t, s), _, _) = sim_run(seed, 0, |sim, log, _| {
            let l = log.clone();
            let s = sim.spawn("s", move |cx| async move {
                gen_server::enter_loop(cx, None, Svc::new("s", &l)).await
            });
            let log = log.clone();
            let t = sim.spawn("t", move |cx| async move {
                let r = svc_call(&cx, s, Req::Slow(1, 50), Some(10)).await;
                log.push(format!("first {r:?} at {}", cx.now_ms()));
                let r = svc_call(&cx, s, Req::Ping(2), None).await;
                log.push(format!("second {r:?}"));
                let late = cx.recv_timeout(Matcher::Any, 1_000).await;
                log.push(format!("afterwards {late:?}"));
                forever(&cx).await;
            });
            (t, s)
        });
        assert_eq!(
            log.lines(),
            vec![
                "first Err(timeout) at 10",
                "s did 1 at 50",
                "second Ok(2)",
                "afterwards None",
            ],
            "seed {seed}"
        );
        let w = sim.world();
        assert_eq!(w.mailbox_len(t), 0, "seed {seed}");
        assert!(
            w.monitors(t).is_empty(),
            "seed {seed}: the call's monitor is gone"
        );
        assert_eq!(w.with_state::<Svc, _>(s, |s| s.done), Some(1));
    }
}

#[test]
fn r26_reply_racing_the_timeout_is_either_received_or_dropped_never_late() {
    let mut outcomes = BTreeMap::<String, u32>::new();
    for seed in 0..SEEDS {
        let (sim, log, t, _, _) = sim_run(seed, 300_000, |sim, log, _| {
            let l = log.clone();
            let s = sim.spawn("s", move |cx| async move {
                gen_server::enter_loop(cx, None, Svc::new("s", &l)).await
            });
            let log = log.clone();
            sim.spawn("t", move |cx| async move {
                let r = svc_call(&cx, s, Req::Slow(1, 5), Some(10)).await;
                log.push(format!("first {r:?}"));
                let r = svc_call(&cx, s, Req::Ping(2), None).await;
                log.push(format!("second {r:?}"));
                let late = cx.recv_timeout(Matcher::Any, 1_000).await;
                log.push(format!("afterwards {late:?}"));
                forever(&cx).await;
            })
        });
        let lines: Vec<String> = log
            .lines()
            .into_iter()
            .filter(|l| !l.starts_with("s did"))
            .collect();
        assert!(
            lines[0] == "first Ok(1)" || lines[0] == "first Err(timeout)",
            "seed {seed}: {lines:?}"
        );
        assert_eq!(
            lines[1..],
            ["second Ok(2)", "afterwards None"],
            "seed {seed}"
        );
        assert_eq!(
            log.lines()
                .iter()
                .filter(|l| l.starts_with("s did 1"))
                .count(),
            1,
            "seed {seed}: the server did the work whatever the caller saw"
        );
        assert_eq!(sim.world().mailbox_len(t), 0, "seed {seed}");
        *outcomes.entry(lines[0].clone()).or_default() += 1;
    }
    assert_eq!(
        outcomes.len(),
        2,
        "both sides of the race happen: {outcomes:?}"
    );
}

// ---- rule 27: reply, then die ----------------------------------------------------------

#[test]
fn r27_a_reply_sent_before_the_server_dies_in_the_same_callback_arrives() {
    for seed in 0..SEEDS {
        for n in 1..=4u32 {
            let (req, reason) = match n {
                1 => (Req::StopWithReply(n, custom("x")), custom("x")),
                2 => (
                    Req::StopWithReply(n, ExitReason::Normal),
                    ExitReason::Normal,
                ),
                3 => (Req::ReplyThenStop(n, custom("y")), custom("y")),
                _ => (Req::ReplyThenPanic(n), custom("panic: after the reply")),
            };
            let (_sim, log, _, _, _) = sim_run(seed, 10_000, |sim, log, _| {
                let log = log.clone();
                sim.spawn("t", move |cx| async move {
                    let s = gen_server::start(&cx, Svc::new("s", &log), StartOpts::default())
                        .await
                        .unwrap();
                    let mref = cx.monitor(s).await;
                    let r = svc_call(&cx, s, req, None).await;
                    log.push(format!("got {r:?}"));
                    let reason = await_down(&cx, mref).await;
                    log.push(format!("server exit {reason:?}"));
                });
            });
            assert_eq!(
                log.lines().last().map(String::as_str),
                Some(format!("server exit {reason:?}").as_str()),
                "seed {seed} case {n}"
            );
            assert!(
                log.contains(&format!("got Ok({n})")),
                "seed {seed} case {n}: {:?}",
                log.lines()
            );
        }
    }
}

// ---- rule 28: a failed call is an exit -------------------------------------------------

#[test]
fn r28_failed_call_exits_the_caller_abnormally_even_when_the_server_exited_normal() {
    for seed in 0..SEEDS {
        let (sim, log, _, _, pids) = sim_run(seed, 10_000, |sim, log, p| {
            let log = log.clone();
            sim.spawn("t", move |cx| async move {
                let partner = cx.spawn(|pcx| async move { forever(&pcx).await }).await;
                let s = gen_server::start(&cx, Svc::new("s", &log), StartOpts::default())
                    .await
                    .unwrap();
                let l = log.clone();
                let c = cx
                    .spawn(move |ccx| async move {
                        let _ = ccx.link(partner).await;
                        let r: Result<u32, ExitReason> =
                            gen_server::call(&ccx, s, Req::Die(ExitReason::Normal), None).await;
                        l.push(format!("caller went on with {r:?}"));
                    })
                    .await;
                p.set("partner", partner);
                p.set("c", c);
                p.set("s", s);
            });
        });
        assert!(
            !log.lines().iter().any(|l| l.starts_with("caller went on")),
            "seed {seed}"
        );
        let w = sim.world();
        let failed = ExitReason::CallFailed(Box::new(ExitReason::Normal));
        assert!(!failed.is_normal_termination());
        assert_eq!(w.exit_reason(pids.get("s")), Some(&ExitReason::Normal));
        assert_eq!(w.exit_reason(pids.get("c")), Some(&failed), "seed {seed}");
        assert_eq!(
            w.exit_reason(pids.get("partner")),
            Some(&failed),
            "seed {seed}: the non-trapping linked partner dies with it"
        );
    }
}

#[test]
fn r28_a_failed_call_inside_a_callback_exits_the_server_not_an_error_value() {
    for seed in 0..SEEDS {
        let (sim, log, _, _, pids) = sim_run(seed, 10_000, |sim, log, p| {
            let log = log.clone();
            sim.spawn("t", move |cx| async move {
                let dead = cx.spawn(|_| async {}).await;
                let mref = cx.monitor(dead).await;
                await_down(&cx, mref).await;
                let g = gen_server::start(&cx, Svc::new("g", &log), StartOpts::default())
                    .await
                    .unwrap();
                p.set("g", g);
                let r = svc_call(&cx, g, Req::CallDead(dead), None).await;
                log.push(format!("outer {r:?}"));
            });
        });
        let failed = ExitReason::CallFailed(Box::new(ExitReason::NoProc));
        assert!(
            !log.lines().iter().any(|l| l.contains("survived")),
            "seed {seed}: the callback did not go on after the failed call"
        );
        assert!(
            log.contains(&format!("outer {:?}", Err::<u32, _>(failed.clone()))),
            "seed {seed}: {:?}",
            log.lines()
        );
        assert_eq!(
            sim.world().exit_reason(pids.get("g")),
            Some(&failed),
            "seed {seed}: the server exits with the call's exit, not a panic"
        );
    }
}

// ---- rule 29: mutual calls deadlock until a timeout -------------------------------------

/// Two idle [`Svc`] servers `a` and `b`.
fn two_servers(sim: &mut Sim, log: &Log) -> (Pid, Pid) {
    let l = log.clone();
    let a = sim.spawn("a", move |cx| async move {
        gen_server::enter_loop(cx, None, Svc::new("a", &l)).await
    });
    let l = log.clone();
    let b = sim.spawn("b", move |cx| async move {
        gen_server::enter_loop(cx, None, Svc::new("b", &l)).await
    });
    (a, b)
}

#[test]
fn r29_a_call_chain_back_into_a_busy_server_blocks_until_the_timeout() {
    for seed in 0..SEEDS {
        let (sim, log, (a, b), _, _) = sim_run(seed, 0, |sim, log, _| {
            let (a, b) = two_servers(sim, log);
            let log = log.clone();
            sim.spawn("c", move |cx| async move {
                // c -> a -> b -> a: a is busy in the first call, b waits for it
                let inner = Req::Forward {
                    server: a,
                    req: Box::new(Req::Ping(1)),
                    ms: Some(1_000),
                };
                let outer = Req::Forward {
                    server: b,
                    req: Box::new(inner),
                    ms: Some(5_000),
                };
                let r = svc_call(&cx, a, outer, None).await;
                log.push(format!("c got {r:?} at {}", cx.now_ms()));
            });
            (a, b)
        });
        assert_eq!(
            log.lines(),
            vec![
                "b forward -> Err(timeout) at 1000",
                "a forward -> Err(timeout) at 1000",
                "c got Err(timeout) at 1000",
            ],
            "seed {seed}"
        );
        let w = sim.world();
        assert!(w.is_alive(a) && w.is_alive(b), "seed {seed}");
        assert_eq!(
            w.mailbox_len(b),
            0,
            "seed {seed}: a's late answer to b was dropped"
        );
    }
}

#[test]
fn r29_two_servers_calling_each_other_either_pass_or_deadlock_until_the_timeout() {
    let mut kinds = BTreeMap::<&str, u32>::new();
    for seed in 0..SEEDS {
        let (_sim, log, _, report, _) = sim_run(seed, 0, |sim, log, _| {
            let (a, b) = two_servers(sim, log);
            for (client, first, other) in [("ca", a, b), ("cb", b, a)] {
                let log = log.clone();
                sim.spawn(client, move |cx| async move {
                    let req = Req::Forward {
                        server: other,
                        req: Box::new(Req::Ping(1)),
                        ms: Some(1_000),
                    };
                    let r = svc_call(&cx, first, req, None).await;
                    log.push(format!("{client} got {r:?} at {}", cx.now_ms()));
                });
            }
        });
        let mut lines: Vec<String> = log
            .lines()
            .into_iter()
            .filter(|l| l.starts_with('c'))
            .collect();
        lines.sort();
        let passed = ["ca got Ok(1) at 0", "cb got Ok(1) at 0"];
        let a_timed_out = ["ca got Err(timeout) at 1000", "cb got Ok(1) at 1000"];
        let b_timed_out = ["ca got Ok(1) at 1000", "cb got Err(timeout) at 1000"];
        let kind = if lines == passed {
            "passed"
        } else if lines == a_timed_out || lines == b_timed_out {
            "deadlocked"
        } else {
            panic!("seed {seed}: {lines:?}");
        };
        if kind == "deadlocked" {
            // nothing at all happened between the deadlock and the timeout
            assert!(
                log.lines().iter().all(|l| l.ends_with("at 1000")),
                "seed {seed}: {:?}",
                log.lines()
            );
            assert_eq!(report.time_ms, 1_000, "seed {seed}");
        }
        *kinds.entry(kind).or_default() += 1;
    }
    assert_eq!(kinds.len(), 2, "both interleavings happen: {kinds:?}");
}

#[test]
fn r29_mutual_calls_without_timeout_deadlock_forever() {
    for seed in 0..SEEDS {
        let (sim, log, (a, b), report, _) = sim_run(seed, 10_000, |sim, log, _| {
            let (a, b) = two_servers(sim, log);
            let log = log.clone();
            sim.spawn("c", move |cx| async move {
                let inner = Req::Forward {
                    server: a,
                    req: Box::new(Req::Ping(1)),
                    ms: None,
                };
                let outer = Req::Forward {
                    server: b,
                    req: Box::new(inner),
                    ms: None,
                };
                let r = svc_call(&cx, a, outer, None).await;
                log.push(format!("c got {r:?}"));
            });
            (a, b)
        });
        assert!(log.lines().is_empty(), "seed {seed}: {:?}", log.lines());
        assert_eq!(report.outcome, Outcome::Quiescent, "seed {seed}");
        let w = sim.world();
        assert!(w.is_alive(a) && w.is_alive(b), "seed {seed}");
        assert_eq!(
            w.mailbox_len(a),
            1,
            "seed {seed}: b's request waits in a's mailbox"
        );
    }
}

// ---- rule 30: when terminate runs --------------------------------------------------------

/// Runs `body` as the one top-level process of a world; returns the sim, log and pids.
fn one(seed: u64, body: impl AsyncFnOnce(Cx, Log, Pids) + 'static) -> (Sim, Log, Pids) {
    let (sim, log, _, _, pids) = sim_run(seed, 10_000, |sim, log, p| {
        let log = log.clone();
        sim.spawn("t", move |cx| async move { body(cx, log, p).await });
    });
    (sim, log, pids)
}

fn terminates(log: &Log) -> Vec<String> {
    log.lines()
        .into_iter()
        .filter(|l| l.contains("terminate"))
        .collect()
}

#[test]
fn r30_terminate_runs_when_a_callback_stops_or_raises() {
    for seed in 0..SEEDS {
        for panics in [false, true] {
            let expect = if panics {
                custom("panic: handle_call raised")
            } else {
                custom("stop")
            };
            let (sim, log, pids) = one(seed, async move |cx, log, p| {
                let s = gen_server::start(&cx, Svc::new("s", &log), StartOpts::default())
                    .await
                    .unwrap();
                p.set("s", s);
                let req = if panics {
                    Req::Panic
                } else {
                    Req::Die(custom("stop"))
                };
                let r = svc_call(&cx, s, req, None).await;
                log.push(format!("caller got {r:?}"));
            });
            assert_eq!(
                terminates(&log),
                vec![format!("s terminate {expect:?}"), "s terminate done".into()],
                "seed {seed}"
            );
            assert!(
                log.contains(&format!("caller got {:?}", Err::<u32, _>(expect.clone()))),
                "seed {seed}"
            );
            assert_eq!(sim.world().exit_reason(pids.get("s")), Some(&expect));
        }
    }
}

#[test]
fn r30_terminate_runs_when_a_trapping_server_gets_its_parents_exit() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = one(seed, async move |cx, log, p| {
            let me = cx.me();
            cx.spawn(move |pcx| async move {
                let s = gen_server::start_link(
                    &pcx,
                    Svc::new("s", &log).trapping(),
                    StartOpts::default(),
                )
                .await
                .unwrap();
                pcx.send(me, s).await;
                custom("parent gone")
            })
            .await;
            let (_, s) = cx.recv_type::<Pid>().await;
            p.set("s", s);
        });
        assert_eq!(
            terminates(&log),
            vec!["s terminate parent gone", "s terminate done"],
            "seed {seed}"
        );
        assert_eq!(
            sim.world().exit_reason(pids.get("s")),
            Some(&custom("parent gone"))
        );
    }
}

#[test]
fn r30_no_terminate_on_kill_or_on_an_untrapped_exit_signal() {
    for seed in 0..SEEDS {
        for (trap, signal, reason) in [
            (true, ExitReason::Kill, ExitReason::Killed),
            (false, ExitReason::Kill, ExitReason::Killed),
            (false, custom("sig"), custom("sig")),
        ] {
            let expect = reason.clone();
            let (sim, log, pids) = one(seed, async move |cx, log, p| {
                let mut svc = Svc::new("s", &log);
                if trap {
                    svc = svc.trapping();
                }
                let s = gen_server::start(&cx, svc, StartOpts::default())
                    .await
                    .unwrap();
                p.set("s", s);
                let mref = cx.monitor(s).await;
                cx.exit_signal(s, signal).await;
                let r = await_down(&cx, mref).await;
                log.push(format!("down {r:?}"));
            });
            assert!(
                terminates(&log).is_empty(),
                "seed {seed}: {:?}",
                log.lines()
            );
            assert!(log.contains(&format!("down {expect:?}")), "seed {seed}");
            assert_eq!(sim.world().exit_reason(pids.get("s")), Some(&expect));
        }
    }
}

#[test]
fn r30_a_trapping_server_gets_a_non_parent_exit_as_a_message_without_terminate() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = one(seed, async move |cx, log, p| {
            let s =
                gen_server::start_link(&cx, Svc::new("s", &log).trapping(), StartOpts::default())
                    .await
                    .unwrap();
            p.set("s", s);
            let me = cx.me();
            let x = cx
                .spawn(move |xcx| async move {
                    xcx.exit_signal(s, custom("other")).await;
                    xcx.send(me, Ready).await;
                    forever(&xcx).await;
                })
                .await;
            p.set("x", x);
            cx.recv_type::<Ready>().await;
            let r = svc_call(&cx, s, Req::Ping(5), None).await;
            log.push(format!("still serving {r:?}"));
            forever(&cx).await;
        });
        assert_exit_was_a_message(seed, &sim, &log, &pids, pids.get("x"));
    }
}

#[test]
fn r30_an_unlinked_server_treats_its_starters_exit_as_a_message() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = one(seed, async move |cx, log, p| {
            let s = gen_server::start(&cx, Svc::new("s", &log).trapping(), StartOpts::default())
                .await
                .unwrap();
            p.set("s", s);
            p.set("t", cx.me());
            cx.exit_signal(s, custom("other")).await;
            let r = svc_call(&cx, s, Req::Ping(5), None).await;
            log.push(format!("still serving {r:?}"));
            forever(&cx).await;
        });
        assert_exit_was_a_message(seed, &sim, &log, &pids, pids.get("t"));
    }
}

/// The trapping server `s` got `from`'s exit `other` as an `EXIT` message, ran no
/// `terminate`, and still serves.
fn assert_exit_was_a_message(seed: u64, sim: &Sim, log: &Log, pids: &Pids, from: Pid) {
    assert!(terminates(log).is_empty(), "seed {seed}: {:?}", log.lines());
    assert!(
        log.contains(&format!("s info EXIT {from} other")),
        "seed {seed}"
    );
    assert!(log.contains("still serving Ok(5)"), "seed {seed}");
    assert!(sim.world().is_alive(pids.get("s")), "seed {seed}");
}

/// A server whose callback ends with an exit (not a panic): `exit/1`, or a failed call.
fn callback_exit_run(seed: u64, by_call: bool) -> (Sim, Log, Pids) {
    one(seed, async move |cx, log, p| {
        let dead = cx.spawn(|_| async {}).await;
        let mref = cx.monitor(dead).await;
        await_down(&cx, mref).await;
        let s = gen_server::start(&cx, Svc::new("s", &log), StartOpts::default())
            .await
            .unwrap();
        p.set("s", s);
        let req = if by_call {
            Req::CallDead(dead)
        } else {
            Req::Exit(custom("bail"))
        };
        let r = svc_call(&cx, s, req, None).await;
        log.push(format!("caller got {r:?}"));
    })
}

#[test]
fn r30_terminate_runs_when_a_callback_calls_exit() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = callback_exit_run(seed, false);
        assert_eq!(
            sim.world().exit_reason(pids.get("s")),
            Some(&custom("bail"))
        );
        assert_eq!(
            terminates(&log),
            vec!["s terminate bail", "s terminate done"],
            "seed {seed}"
        );
    }
}

#[test]
fn r30_terminate_runs_when_a_call_inside_a_callback_fails() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = callback_exit_run(seed, true);
        let reason = ExitReason::CallFailed(Box::new(ExitReason::NoProc));
        assert_eq!(sim.world().exit_reason(pids.get("s")), Some(&reason));
        assert_eq!(
            terminates(&log),
            vec![format!("s terminate {reason:?}"), "s terminate done".into()],
            "seed {seed}"
        );
    }
}

// ---- rule 31: stop is synchronous and counts as an exit for supervisors ---------------

#[test]
fn r31_stop_returns_after_terminate_with_the_server_dead_and_its_name_free() {
    for seed in 0..SEEDS {
        let (sim, log, pids) = one(seed, async move |cx, log, p| {
            let s = gen_server::start(&cx, Svc::new("s", &log), StartOpts::named("srv"))
                .await
                .unwrap();
            p.set("s", s);
            gen_server::stop(&cx, "srv", ExitReason::Normal).await;
            let (alive, name) = {
                let w = cx.world();
                (w.is_alive(s), w.whereis("srv"))
            };
            log.push(format!("stopped: alive {alive} name {name:?}"));
            let s2 = gen_server::start(&cx, Svc::new("s2", &log), StartOpts::named("srv"))
                .await
                .unwrap();
            p.set("s2", s2);
            let r = gen_server::try_stop(&cx, s2, custom("my reason")).await;
            log.push(format!("try_stop {r:?}"));
        });
        let lines: Vec<String> = log
            .lines()
            .into_iter()
            .filter(|l| !l.contains(" init "))
            .collect();
        assert_eq!(
            lines,
            vec![
                "s terminate normal",
                "s terminate done",
                "stopped: alive false name None",
                "s2 terminate my reason",
                "s2 terminate done",
                "try_stop Ok(())",
            ],
            "seed {seed}"
        );
        let w = sim.world();
        assert_eq!(w.exit_reason(pids.get("s")), Some(&ExitReason::Normal));
        assert_eq!(w.exit_reason(pids.get("s2")), Some(&custom("my reason")));
    }
}

#[test]
fn r31_stopping_a_permanent_child_normally_restarts_it_and_counts_toward_intensity() {
    use fsim::otp::supervisor::{self, ChildSpec, Strategy, SupSpec};
    for seed in 0..SEEDS {
        let (sim, log, pids) = one(seed, async move |cx, log, p| {
            cx.trap_exit(true);
            let l = log.clone();
            let child = ChildSpec::server("w", Some("w".into()), move || Svc::new("w", &l));
            let mut spec = SupSpec::new(Strategy::OneForOne, vec![child]);
            spec.max_restarts = 1;
            let sup = supervisor::start_link(&cx, spec, None).await.unwrap();
            p.set("sup", sup);
            let w1 = cx.whereis("w").await.unwrap();
            gen_server::stop(&cx, "w", ExitReason::Normal).await;
            let w2 = loop {
                match cx.whereis("w").await {
                    Some(w) if w != w1 => break w,
                    _ => {}
                }
            };
            p.set("w2", w2);
            log.push("restarted after a normal stop");
            gen_server::stop(&cx, "w", ExitReason::Normal).await;
            let env = cx
                .recv_match(Matcher::when(move |e| {
                    e.from == sup && e.exit_reason().is_some()
                }))
                .await;
            log.push(format!("supervisor exit {:?}", env.exit_reason().unwrap()));
        });
        assert_eq!(
            log.count("w init begin"),
            2,
            "seed {seed}: one restart only"
        );
        assert!(log.contains("restarted after a normal stop"), "seed {seed}");
        assert_eq!(
            log.lines().last().map(String::as_str),
            Some("supervisor exit shutdown"),
            "seed {seed}: the second restart exceeds max_restarts = 1"
        );
        let w = sim.world();
        assert_eq!(w.exit_reason(pids.get("sup")), Some(&ExitReason::Shutdown));
        assert_eq!(w.exit_reason(pids.get("w2")), Some(&ExitReason::Normal));
        assert_eq!(w.whereis("w"), None, "seed {seed}");
    }
}
