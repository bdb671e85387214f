//! Built-in workloads: the mixed world the determinism self-check runs, and the models the
//! benchmarks measure. They exercise the kernel and the OTP layer, nothing else.

use crate::otp::gen_server::{self, CallReply, From, GenServer, Next};
use crate::otp::supervisor::{self, ChildSpec, Strategy, SupSpec};
use crate::otp::{registry, task};
use crate::sim::{Config, Cx, ExitReason, FaultMenu, Matcher, Pid, Sim, Targets};

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

    async fn handle_call(&mut self, _cx: &Cx, req: CounterCall, _from: From) -> CallReply<u64> {
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
            cx.spawn_opts(
                crate::sim::SpawnOpts {
                    link: false,
                    label: Some("client".into()),
                },
                move |c| client(c, i),
            )
            .await;
        }
        // Wait a while, then take the tree down.
        cx.send_after(cx.me(), Tick(99), 2_000);
        cx.recv_match(Matcher::when(|e| e.is::<Tick>())).await;
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
        cx.monitor(p);
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
            cx.recv_timeout(Matcher::when(|e| e.is::<Tick>()), 1_000)
                .await;
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
            cx.send(from, v + 1);
            if v + 1 >= n {
                break;
            }
        }
    });
    sim.spawn("ping", move |cx| async move {
        cx.send(ponger, 0u64);
        loop {
            let Ok(v) = cx.recv().await.downcast::<u64>() else {
                continue;
            };
            if v + 1 >= n {
                break;
            }
            cx.send(ponger, v + 1);
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
            cx.send(sink, k);
            cx.send_after(cx.me(), Tick(k as u32), 5);
            cx.recv().await;
            cx.send(sink, k + 10);
            cx.send(sink, k + 20);
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
                        p.send(me, ());
                    }
                })
                .await;
            for _ in 0..work {
                cx.send(pong, ());
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
