//! Twins of a group of rules (see `tests/beam_twins/mod.rs`).

use super::{ExitWith, Go, Out, down, ex};
use crate::Case;
use fsim::otp::gen_server::{self, CallReply, Caller, GenServer, Init};
use fsim::otp::supervisor::{self, ChildSpec, Shutdown, Strategy, SupSpec};
use fsim::otp::task;
use fsim::sim::*;
use std::collections::HashMap;

pub fn cases() -> Vec<Case> {
    vec![
        Case {
            script: "r39_shutdown.exs",
            twin: r39,
        },
        Case {
            script: "r42_task_start_link.exs",
            twin: r42,
        },
        Case {
            script: "r43_task_start.exs",
            twin: r43,
        },
        Case {
            script: "r44_task_supervisor.exs",
            twin: r44,
        },
    ]
}

/// `receive do: (:never -> :ok)`.
async fn forever(cx: &Cx) {
    let _ = cx.recv_match(Matcher::Nothing).await;
}

// ---- rule 39 ----------------------------------------------------------------------------

#[derive(Debug)]
struct Init39(&'static str, Pid);
#[derive(Debug)]
struct Term39(&'static str, ExitReason);

struct W39 {
    id: &'static str,
    trap: bool,
    delay: u64,
    test: Pid,
}

impl GenServer for W39 {
    type Call = ();
    type Reply = ();
    type Cast = ();
    async fn init(&mut self, cx: &Cx) -> Init {
        if self.trap {
            cx.trap_exit(true);
        }
        cx.send(self.test, Init39(self.id, cx.me())).await;
        Init::Ok
    }
    async fn handle_call(&mut self, _cx: &Cx, _req: (), _from: Caller) -> CallReply<()> {
        CallReply::Reply(())
    }
    async fn terminate(&mut self, cx: &Cx, reason: &ExitReason) {
        if self.delay > 0 {
            cx.sleep(self.delay).await;
        }
        cx.send(self.test, Term39(self.id, reason.clone())).await;
    }
}

fn r39(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let test = cx.me();
        let kids: [(&'static str, bool, u64, Shutdown); 5] = [
            ("trapping", true, 0, Shutdown::Timeout(5000)),
            ("plain", false, 0, Shutdown::Timeout(5000)),
            ("brutal", true, 0, Shutdown::BrutalKill),
            ("slow_within_timeout", true, 50, Shutdown::Timeout(500)),
            ("slow_past_timeout", true, 1000, Shutdown::Timeout(100)),
        ];
        let children = kids
            .iter()
            .map(|&(id, trap, delay, shutdown)| {
                ChildSpec::server(id, None, move || W39 {
                    id,
                    trap,
                    delay,
                    test,
                })
                .shutdown(shutdown)
            })
            .collect();
        let sup = supervisor::start_link(&cx, SupSpec::new(Strategy::OneForOne, children), None)
            .await
            .unwrap();
        let mut pids = HashMap::new();
        for _ in 0..kids.len() {
            let (_, Init39(id, p)) = cx.recv_type::<Init39>().await;
            pids.insert(id, p);
        }
        for &(id, _, _, shutdown) in &kids {
            let r = cx.monitor(pids[id]).await;
            let () = gen_server::call(&cx, pids[id], (), None).await;
            let reply = supervisor::terminate_child(&cx, sup, id).await;
            assert!(matches!(reply, supervisor::SupReply::Ok), "{reply:?}");
            let reason = down(&cx, r).await;
            let got = ex(&reason);
            let t = match cx
                .recv_timeout(
                    Matcher::when(move |e| e.peek::<Term39>().is_some_and(|t| t.0 == id)),
                    0,
                )
                .await
            {
                Some(e) => ex(&e.downcast::<Term39>().unwrap().1),
                None => "none".into(),
            };
            let s = match shutdown {
                Shutdown::Timeout(ms) => ms.to_string(),
                Shutdown::BrutalKill => ":brutal_kill".into(),
                Shutdown::Infinity => ":infinity".into(),
            };
            out.line(format!(
                "r39 {id} (shutdown {s}): DOWN {got}, terminate {t}"
            ));
        }
        cx.sleep(200).await;
        let running = supervisor::which_children(&cx, sup)
            .await
            .iter()
            .filter(|(_, p)| p.is_some())
            .count();
        out.line(format!(
            "r39 after terminate_child: children running={running}, supervisor alive={}",
            cx.is_alive(sup).await
        ));
    });
}

// ---- rules 42-44 ------------------------------------------------------------------------

#[derive(Debug)]
struct TaskOf(Pid);
#[derive(Debug)]
struct Got(ExitReason);
#[derive(Debug)]
struct Hello;
#[derive(Debug)]
struct Ack;

/// A task that waits for `Go` and then exits `crash`.
async fn crasher(tcx: Cx) -> ExitReason {
    tcx.recv_type::<Go>().await;
    ExitReason::custom("crash")
}

fn r42(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let test = cx.me();
        for reason in [
            ExitReason::custom("boom"),
            ExitReason::Shutdown,
            ExitReason::Normal,
        ] {
            let caller = cx
                .spawn(move |c| async move {
                    let t = task::start_link(&c, |tcx| async move {
                        let (from, Hello) = tcx.recv_type::<Hello>().await;
                        tcx.send(from, Ack).await;
                        forever(&tcx).await
                    })
                    .await;
                    c.send(test, TaskOf(t)).await;
                    let (_, ExitWith(r)) = c.recv_type::<ExitWith>().await;
                    r
                })
                .await;
            let (_, TaskOf(t)) = cx.recv_type::<TaskOf>().await;
            let r = cx.monitor(t).await;
            let cr = cx.monitor(caller).await;
            cx.send(t, Hello).await;
            cx.recv_type::<Ack>().await;
            cx.send(caller, ExitWith(reason.clone())).await;
            cx.recv_match(Matcher::Tag(cr)).await;
            if reason == ExitReason::Normal {
                cx.sleep(200).await;
                out.line(format!(
                    "r42 caller exits {}: task alive={}",
                    ex(&reason),
                    cx.is_alive(t).await
                ));
                cx.exit_signal(t, ExitReason::Kill).await;
                cx.recv_match(Matcher::Tag(r)).await;
            } else {
                let reason = down(&cx, r).await;
                out.line(format!(
                    "r42 caller exits {}: task DOWN {}",
                    ex(&reason),
                    ex(&reason)
                ));
            }
        }
        for trap in [false, true] {
            let caller = cx
                .spawn(move |c| async move {
                    c.trap_exit(trap);
                    let t = task::start_link(&c, crasher).await;
                    c.send(test, TaskOf(t)).await;
                    c.recv_type::<Go>().await;
                    c.send(t, Go).await;
                    let env = c
                        .recv_match(Matcher::when(move |e| {
                            e.from == t && e.exit_reason().is_some()
                        }))
                        .await;
                    c.send(test, Got(env.exit_reason().unwrap().clone())).await;
                    forever(&c).await;
                })
                .await;
            let (_, TaskOf(_t)) = cx.recv_type::<TaskOf>().await;
            let cr = cx.monitor(caller).await;
            cx.send(caller, Go).await;
            if trap {
                let (_, Got(r)) = cx.recv_type::<Got>().await;
                out.line(format!(
                    "r42 task crashes: trapping caller gets EXIT {}, alive={}",
                    ex(&r),
                    cx.is_alive(caller).await
                ));
                cx.exit_signal(caller, ExitReason::Kill).await;
            } else {
                let reason = down(&cx, cr).await;
                out.line(format!(
                    "r42 task crashes: non-trapping caller DOWN {}",
                    ex(&reason)
                ));
            }
        }
    });
}

/// A caller that starts a `Task.start` task (a crasher waiting for `Go`, or one that
/// waits forever), reports it to `test` and lives on: `(caller, task)`.
async fn caller_with_task(cx: &Cx, test: Pid, crashing: bool) -> (Pid, Pid) {
    let caller = cx
        .spawn(move |c| async move {
            let t = if crashing {
                task::start(&c, crasher).await
            } else {
                task::start(&c, |tcx| async move { forever(&tcx).await }).await
            };
            c.send(test, TaskOf(t)).await;
            forever(&c).await;
        })
        .await;
    let (_, TaskOf(t)) = cx.recv_type::<TaskOf>().await;
    (caller, t)
}

fn r43(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let test = cx.me();
        for reason in [
            ExitReason::custom("boom"),
            ExitReason::Shutdown,
            ExitReason::Kill,
        ] {
            let (caller, t) = caller_with_task(&cx, test, false).await;
            let cr = cx.monitor(caller).await;
            cx.exit_signal(caller, reason).await;
            let reason = down(&cx, cr).await;
            let r = ex(&reason);
            cx.sleep(200).await;
            out.line(format!(
                "r43 caller exits {r}: task alive={}",
                cx.is_alive(t).await
            ));
            cx.exit_signal(t, ExitReason::Kill).await;
        }
        let (caller, t) = caller_with_task(&cx, test, true).await;
        let r = cx.monitor(t).await;
        cx.send(t, Go).await;
        let reason = down(&cx, r).await;
        let r = ex(&reason);
        cx.sleep(200).await;
        out.line(format!(
            "r43 task crashes (DOWN {r}): caller alive={}",
            cx.is_alive(caller).await
        ));
    });
}

fn r44(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let test = cx.me();
        let sup = task::supervisor_start_link(&cx, None).await.unwrap();
        let caller = cx
            .spawn(move |c| async move {
                let t = task::start_child(&c, sup, |tcx| async move { forever(&tcx).await })
                    .await
                    .unwrap();
                c.send(test, TaskOf(t)).await;
                let (_, ExitWith(r)) = c.recv_type::<ExitWith>().await;
                r
            })
            .await;
        let (_, TaskOf(t)) = cx.recv_type::<TaskOf>().await;
        let r = cx.monitor(t).await;
        let cr = cx.monitor(caller).await;
        cx.send(caller, ExitWith(ExitReason::custom("boom"))).await;
        cx.recv_match(Matcher::Tag(cr)).await;
        cx.sleep(200).await;
        let alive = cx.is_alive(t).await;
        let supervised = task::children(&cx, sup).await.contains(&t);
        out.line(format!(
            "r44 caller exits :boom: task alive={alive}, supervised={supervised}"
        ));
        let t2 = task::start_child(&cx, sup, crasher).await.unwrap();
        let r2 = cx.monitor(t2).await;
        cx.send(t2, Go).await;
        let reason = down(&cx, r2).await;
        let got = ex(&reason);
        cx.sleep(200).await;
        let n = task::children(&cx, sup).await.len();
        out.line(format!(
            "r44 task crashes (DOWN {got}): starter alive={}, children={n}, supervisor alive={}",
            cx.is_alive(test).await,
            cx.is_alive(sup).await
        ));
        gen_server::stop(&cx, sup, ExitReason::Normal).await;
        let reason = down(&cx, r).await;
        out.line(format!("r44 supervisor stopped: task DOWN {}", ex(&reason)));
    });
}
