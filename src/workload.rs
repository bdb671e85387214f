//! Built-in workloads: the mixed world the determinism self-check runs, and the models the
//! benchmarks measure. They exercise the kernel and the OTP layer, nothing else.

use crate::otp::gen_server::{self, CallReply, Caller, GenServer, Next};
use crate::otp::supervisor::{self, ChildSpec, Strategy, SupSpec};
use crate::otp::{registry, task};
use crate::sim::{Config, Cx, ExitReason, FaultMenu, Matcher, Pid, Sim, SpawnOpts, Targets};

/// A counter server: `Inc` adds one and replies the new value, `Get` replies it.
#[derive(Debug, Default)]
pub struct Counter {
    /// The count.
    pub n: u64,
}

/// Requests to [`Counter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterCall {
    /// Add one.
    Inc,
    /// Read.
    Get,
}

impl GenServer for Counter {
    type Call = CounterCall;
    type Reply = u64;
    type Cast = u64;

    async fn handle_call(&mut self, _cx: &Cx, req: CounterCall, _from: Caller) -> CallReply<u64> {
        if req == CounterCall::Inc {
            self.n += 1;
        }
        CallReply::Reply(self.n)
    }

    async fn handle_cast(&mut self, _cx: &Cx, add: u64) -> Next {
        self.n += add;
        Next::Continue
    }
}

#[derive(Debug)]
struct Tick(#[allow(dead_code)] u32);

/// The configuration the mixed workload is meant to run under: a small fault menu
/// (kills, crashes after an effect, init failures) aimed at the servers and clients.
pub fn mixed_config() -> Config {
    let mut c = Config::default();
    c.limits.steps_max = 20_000;
    c.faults = FaultMenu {
        budget: 2,
        kill_reasons: vec![ExitReason::Killed, ExitReason::custom("boom")],
        crash_after_effect: true,
        fail_init: true,
        targets: Targets::Labels(vec![
            "counter_a".into(),
            "counter_b".into(),
            "client".into(),
        ]),
    };
    c
}

/// A world with a supervisor (rest_for_one over two counters and a task supervisor), a
/// registry, and three clients that call, cast, spawn linked helpers, monitor, set timers
/// and register names. Spawns, links, monitors, timers, restarts and faults all happen.
pub fn mixed(sim: &mut Sim) {
    sim.spawn("root", |cx| async move {
        cx.trap_exit(true);
        let _reg = registry::start_link(&cx, "reg").await;
        let spec = SupSpec::new(
            Strategy::RestForOne,
            vec![
                ChildSpec::server("a", Some("counter_a".into()), Counter::default),
                ChildSpec::server("b", Some("counter_b".into()), Counter::default),
                task::supervisor_child_spec("tasks", Some("tasks".into())),
            ],
        );
        let Ok(sup) = supervisor::start_link(&cx, spec, Some("sup".into())).await else {
            return;
        };
        for i in 0..3u32 {
            cx.spawn_opts(SpawnOpts::labelled("client"), move |c| client(c, i))
                .await;
        }
        // Wait a while, then take the tree down.
        cx.send_after(cx.me(), Tick(99), 2_000);
        cx.recv_match(Matcher::of::<Tick>()).await;
        let _ = gen_server::try_stop(&cx, sup, ExitReason::Shutdown).await;
    });
}

async fn client(cx: Cx, i: u32) {
    let _ = registry::register(&cx, "reg", &format!("client{i}")).await;
    let target = if i.is_multiple_of(2) {
        "counter_a"
    } else {
        "counter_b"
    };
    if let Some(p) = cx.whereis(target).await {
        cx.monitor(p).await;
    }
    let helper = cx
        .spawn_link(move |h: Cx| async move {
            h.send_after(h.me(), Tick(i), 10 + i as u64);
            h.recv().await;
        })
        .await;
    let _ = helper;
    for round in 0..3u32 {
        let r: Result<u64, ExitReason> =
            gen_server::try_call(&cx, target, crate::workload::CounterCall::Inc, Some(500)).await;
        if r.is_err() {
            cx.send_after(cx.me(), Tick(round), 100);
            cx.recv_timeout(Matcher::of::<Tick>(), 1_000).await;
        }
        gen_server::cast(&cx, target, 1u64).await;
    }
    let _ = task::start_child(&cx, "tasks", move |t: Cx| async move {
        let _: Result<u64, ExitReason> =
            gen_server::try_call(&t, "counter_a", CounterCall::Get, Some(100)).await;
    })
    .await;
    let _ = registry::whereis_name(&cx, "reg", "client0").await;
}

/// No step or process limit: for benchmarks that run long on purpose.
pub fn unbounded_config() -> Config {
    let mut c = Config::default();
    c.limits.steps_max = u32::MAX;
    c.limits.processes_max = u32::MAX;
    c
}

/// Two processes passing a counter back and forth `n` times.
pub fn ping_pong(sim: &mut Sim, n: u64) {
    let ponger = sim.spawn("pong", move |cx| async move {
        loop {
            let env = cx.recv().await;
            let from = env.from;
            let Ok(v) = env.downcast::<u64>() else {
                continue;
            };
            cx.send(from, v + 1).await;
            if v + 1 >= n {
                break;
            }
        }
    });
    sim.spawn("ping", move |cx| async move {
        cx.send(ponger, 0u64).await;
        loop {
            let Ok(v) = cx.recv().await.downcast::<u64>() else {
                continue;
            };
            if v + 1 >= n {
                break;
            }
            cx.send(ponger, v + 1).await;
        }
    });
}

/// Three actors exchanging messages with a timer: about twenty decisions per run.
pub fn three_actors(sim: &mut Sim) {
    let sink = sim.spawn("sink", |cx| async move {
        for _ in 0..6 {
            cx.recv().await;
        }
    });
    for k in 0..2u64 {
        sim.spawn("producer", move |cx| async move {
            cx.send(sink, k).await;
            cx.send_after(cx.me(), Tick(k as u32), 5);
            cx.recv().await;
            cx.send(sink, k + 10).await;
            cx.send(sink, k + 20).await;
        });
    }
}

/// `actors` processes in a ring pass a token `messages` times; each holder waits 1 ms of
/// virtual time (a timer) before passing it on. Exactly `messages` messages and as many
/// timers; the peer benchmark's "tiny model" (3 actors, 20 messages).
pub fn ring_with_timers(sim: &mut Sim, actors: u32, messages: u32) {
    let first = sim.next_pid().0;
    for i in 0..actors {
        let next = Pid(first + (i + 1) % actors);
        // Token v (1..=messages) goes to actor v % actors; actor 0 also starts the ring.
        let mine = (1..=messages).filter(|v| v % actors == i).count();
        sim.spawn("ring", move |cx| async move {
            if i == 0 && messages > 0 {
                cx.send(next, 1u32).await;
            }
            for _ in 0..mine {
                let (_, v) = cx.recv_type::<u32>().await;
                cx.sleep(1).await;
                if v < messages {
                    cx.send(next, v + 1).await;
                }
            }
        });
    }
}

/// A parent that spawns `n` short-lived linked children, one after another.
pub fn churn(sim: &mut Sim, n: u32) {
    sim.spawn("parent", move |cx| async move {
        cx.trap_exit(true);
        for _ in 0..n {
            let _child: Pid = cx.spawn_link(|_: Cx| async move {}).await;
            cx.recv().await; // its EXIT
        }
    });
}

// ---- planted bugs: worlds with a known race, for the explorers' benchmarks ----------

/// The fault menu of the planted bugs: one fault (kill or crash after an effect) on the
/// processes labelled `victim`.
pub fn planted_config(victim: &str) -> Config {
    Config {
        faults: FaultMenu {
            budget: 1,
            kill_reasons: vec![ExitReason::Kill],
            crash_after_effect: true,
            fail_init: false,
            targets: Targets::Labels(vec![victim.to_string()]),
        },
        ..Config::default()
    }
}

/// A crash between two steps, hidden among unrelated actors: a writer puts `a` and then
/// `b` in a table another process owns; a crash in between leaves `a` without `b`
/// (invariant `a_implies_b`, at the end). `unrelated` ping-pong pairs exchange `work`
/// messages each alongside.
pub fn crash_between_steps(sim: &mut Sim, unrelated: u32, work: u32) {
    sim.spawn("owner", |cx| async move {
        let _table = cx.table_new_named::<String, u32>("store").await;
        let _ = cx.recv_match(Matcher::Nothing).await; // lives on, and so does the table
    });
    sim.spawn("writer", |cx| async move {
        let Some(t) = cx.table_by_name::<String, u32>("store").await else {
            return;
        };
        let _ = cx.table_insert(t, "a".to_string(), 1).await;
        let _ = cx.table_insert(t, "b".to_string(), 2).await;
    });
    for i in 0..unrelated {
        sim.spawn(&format!("ping{i}"), move |cx| async move {
            let me = cx.me();
            let pong = cx
                .spawn(move |p| async move {
                    for _ in 0..work {
                        let (_, ()) = p.recv_type::<()>().await;
                        p.send(me, ()).await;
                    }
                })
                .await;
            for _ in 0..work {
                cx.send(pong, ()).await;
                let _ = cx.recv_type::<()>().await;
            }
        });
    }
    sim.invariant(crate::check::invariant(
        "a_implies_b",
        crate::check::When::End,
        |w| {
            let Some(rows) = w
                .table_named("store")
                .and_then(|id| w.table_read::<String, u32>(id))
            else {
                return Ok(());
            };
            if rows.contains_key("a") && !rows.contains_key("b") {
                Err("the writer stored a but not b".into())
            } else {
                Ok(())
            }
        },
    ));
}

/// How the server of [`subscribe_race`] is crashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaceCrash {
    /// By an injected fault: the run's fault menu ([`subscribe_race_config`]) offers one
    /// kill of the server, and the chooser places it. The fault actor only does its
    /// unrelated steps. This is how an fsim user writes "the server may crash".
    Fault,
    /// By the fault actor itself: after its unrelated steps it sends the server an exit
    /// signal `kill`. This is the program a tool without fault injection has to write
    /// (shuttle's and loom's twins in `peers/` do exactly this).
    Actor,
}

/// One run of [`subscribe_race`] with `k` requests and `m` unrelated steps under
/// `chooser`, with the configuration its crash needs.
pub fn run_subscribe_race(
    k: u32,
    m: u32,
    crash: RaceCrash,
    chooser: &mut dyn crate::sim::Chooser,
) -> crate::sim::RunReport {
    let config = match crash {
        RaceCrash::Fault => subscribe_race_config(),
        RaceCrash::Actor => Config::default(),
    };
    let mut sim = Sim::new(config);
    subscribe_race(&mut sim, k, m, crash);
    sim.run(chooser)
}

/// The fault menu of [`subscribe_race`] with [`RaceCrash::Fault`]: one kill of the server.
pub fn subscribe_race_config() -> Config {
    Config {
        faults: FaultMenu {
            budget: 1,
            kill_reasons: vec![ExitReason::Kill],
            crash_after_effect: false,
            fail_init: false,
            targets: Targets::Labels(vec!["server".to_string()]),
        },
        ..Config::default()
    }
}

/// A subscribe request: the subscriber's id.
#[derive(Debug)]
struct Subscribe(u64);

/// The crash-between-two-steps race of the peer benchmark. A holder owns two tables,
/// `monitors` and `subscribers` (they outlive the server, as the kernel's monitor table
/// does); a server handles `k` subscribe requests (ids `0..k`) from one client, each in two steps:
/// record the monitor, then add the subscriber. A fault actor does `m` unrelated steps;
/// the server is killed by `crash`. A kill between the two steps of one request leaves a
/// monitor without a subscriber: invariant `monitors_match_subscribers`, at the end.
/// Processes in spawn order: holder, server, client, fault actor.
pub fn subscribe_race(sim: &mut Sim, k: u32, m: u32, crash: RaceCrash) {
    sim.spawn("holder", move |cx| async move {
        let Some(monitors) = cx.table_new_named::<u64, ()>("monitors").await else {
            return;
        };
        let Some(subscribers) = cx.table_new_named::<u64, ()>("subscribers").await else {
            return;
        };
        let server = cx
            .spawn_opts(SpawnOpts::labelled("server"), move |s: Cx| async move {
                for _ in 0..k {
                    let (_, Subscribe(id)) = s.recv_type::<Subscribe>().await;
                    let _ = s.table_insert(monitors, id, ()).await;
                    let _ = s.table_insert(subscribers, id, ()).await;
                }
            })
            .await;
        cx.spawn_opts(SpawnOpts::labelled("client"), move |c: Cx| async move {
            for id in 0..k as u64 {
                c.send(server, Subscribe(id)).await;
            }
        })
        .await;
        cx.spawn_opts(SpawnOpts::labelled("fault"), move |f: Cx| async move {
            for _ in 0..m {
                f.yield_now().await;
            }
            if crash == RaceCrash::Actor {
                f.exit_signal(server, ExitReason::Kill).await;
            }
        })
        .await;
        let _ = cx.recv_match(Matcher::Nothing).await; // lives on, and so do the tables
    });
    sim.invariant(crate::check::invariant(
        "monitors_match_subscribers",
        crate::check::When::End,
        |w| {
            let keys = |name: &str| -> Vec<u64> {
                w.table_named(name)
                    .and_then(|id| w.table_read::<u64, ()>(id))
                    .map(|t| t.keys().copied().collect())
                    .unwrap_or_default()
            };
            let (monitors, subscribers) = (keys("monitors"), keys("subscribers"));
            if monitors == subscribers {
                Ok(())
            } else {
                Err(format!(
                    "monitors {monitors:?} but subscribers {subscribers:?}"
                ))
            }
        },
    ));
}
