//! Twins of a group of rules (see `tests/beam_twins/mod.rs`): rules 33–36, supervisors.

use super::{Out, down, ex};
use crate::Case;
use fsim::otp::gen_server::{self, CallReply, Caller, GenServer, Init, Next, StartError};
use fsim::otp::supervisor::{self, ChildSpec, Restart, Strategy, SupSpec};
use fsim::sim::*;

pub fn cases() -> Vec<Case> {
    vec![
        Case {
            script: "r33_boot_failure.exs",
            twin: r33,
        },
        Case {
            script: "r34_restart_types.exs",
            twin: r34,
        },
        Case {
            script: "r35_strategies.exs",
            twin: r35,
        },
        Case {
            script: "r36_intensity.exs",
            twin: r36,
        },
    ]
}

/// `{:shutdown, {a, b, c}}` as Elixir prints it, from fsim's `ShutdownWith("{a, b, c}")`.
fn shutdown_tuple(t: &str) -> String {
    let inner: Vec<String> = t
        .trim_start_matches('{')
        .trim_end_matches('}')
        .split(", ")
        .map(|a| format!(":{a}"))
        .collect();
    format!("{{:shutdown, {{{}}}}}", inner.join(", "))
}

/// Unlinks, stops with `:shutdown` and waits for the supervisor to be gone.
async fn stop_sup(cx: &Cx, sup: Pid) {
    cx.unlink(sup).await;
    let m = cx.monitor(sup).await;
    cx.exit_signal(sup, ExitReason::Shutdown).await;
    down(cx, m).await;
}

/// Cast: `{:stop, reason, state}`.
#[derive(Debug)]
struct StopWith(ExitReason);
/// Sent to the test by `init` when `W::test` is set.
#[derive(Debug)]
struct Inited(&'static str, Pid);

/// A worker: optionally traps exits, prints its init and/or terminate under `tag`, fails
/// its init with `fail`, reports its init to `test`.
#[derive(Clone)]
struct W {
    tag: &'static str,
    id: &'static str,
    out: Out,
    trap: bool,
    init_line: bool,
    term_line: bool,
    fail: Option<ExitReason>,
    test: Option<Pid>,
}

impl W {
    fn new(tag: &'static str, id: &'static str, out: &Out) -> Self {
        W {
            tag,
            id,
            out: out.clone(),
            trap: true,
            init_line: true,
            term_line: true,
            fail: None,
            test: None,
        }
    }
    fn spec(self, name: Option<&'static str>) -> ChildSpec {
        let id = self.id;
        ChildSpec::server(id, name.map(Into::into), move || self.clone())
    }
}

impl GenServer for W {
    type Call = ();
    type Reply = ();
    type Cast = StopWith;
    async fn init(&mut self, cx: &Cx) -> Init {
        if let Some(r) = &self.fail {
            self.out
                .line(format!("{} init {}: stop {}", self.tag, self.id, ex(r)));
            return Init::Stop(r.clone());
        }
        cx.trap_exit(self.trap);
        if self.init_line {
            self.out.line(format!("{} init {}", self.tag, self.id));
        }
        if let Some(t) = self.test {
            cx.send(t, Inited(self.id, cx.me())).await;
        }
        Init::Ok
    }
    async fn handle_call(&mut self, _cx: &Cx, _req: (), _from: Caller) -> CallReply<()> {
        CallReply::Reply(())
    }
    async fn handle_cast(&mut self, _cx: &Cx, StopWith(r): StopWith) -> Next {
        Next::Stop(r)
    }
    async fn terminate(&mut self, _cx: &Cx, reason: &ExitReason) {
        if self.term_line {
            self.out
                .line(format!("{} terminate {} {}", self.tag, self.id, ex(reason)));
        }
    }
}

// ---- rule 33 ----------------------------------------------------------------------------

fn r33(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        cx.trap_exit(true);
        let children = ["a", "b", "c", "d"]
            .into_iter()
            .map(|id| {
                let mut w = W::new("r33", id, &out);
                if id == "c" {
                    w.fail = Some(ExitReason::custom("boom"));
                }
                w.spec(None)
            })
            .collect();
        let r =
            supervisor::start_link(&cx, SupSpec::new(Strategy::OneForOne, children), None).await;
        let shown = match &r {
            Err(StartError::Failed(ExitReason::ShutdownWith(t))) => {
                format!("{{:error, {}}}", shutdown_tuple(t))
            }
            other => format!("{other:?}"),
        };
        out.line(format!("r33 start_link: {shown}"));
        let env = cx
            .recv_match(Matcher::when(|e| e.exit_reason().is_some()))
            .await;
        let shown = match env.exit_reason().unwrap() {
            ExitReason::ShutdownWith(t) => shutdown_tuple(t),
            other => ex(other),
        };
        out.line(format!("r33 supervisor exited {shown}"));
    });
}

// ---- rule 34 ----------------------------------------------------------------------------

fn r34(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        for (name, restart) in [
            ("permanent", Restart::Permanent),
            ("transient", Restart::Transient),
            ("temporary", Restart::Temporary),
        ] {
            for reason in [
                ExitReason::Normal,
                ExitReason::Shutdown,
                ExitReason::ShutdownWith("x".into()),
                ExitReason::custom("boom"),
            ] {
                let mut w = W::new("r34", "w", &out);
                w.trap = false;
                w.init_line = false;
                w.term_line = false;
                let spec = SupSpec::new(Strategy::OneForOne, vec![w.spec(None).restart(restart)]);
                let sup = supervisor::start_link(&cx, spec, None).await.unwrap();
                let kids = supervisor::which_children(&cx, sup).await;
                let w = kids[0].1.unwrap();
                let m = cx.monitor(w).await;
                gen_server::cast(&cx, w, StopWith(reason.clone())).await;
                down(&cx, m).await;
                cx.sleep(200).await;
                let after = match supervisor::which_children(&cx, sup).await.as_slice() {
                    [] => "spec dropped".to_string(),
                    [(_, None)] => "not restarted, spec kept".into(),
                    [(_, Some(p))] if *p != w => "restarted".into(),
                    other => format!("{other:?}"),
                };
                out.line(format!("r34 {name} after {}: {after}", ex(&reason)));
                stop_sup(&cx, sup).await;
            }
        }
    });
}

// ---- rule 35 ----------------------------------------------------------------------------

fn r35(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        for (tag, st) in [
            ("r35 one_for_one:", Strategy::OneForOne),
            ("r35 one_for_all:", Strategy::OneForAll),
            ("r35 rest_for_one:", Strategy::RestForOne),
        ] {
            let children = ["a", "b", "c"]
                .into_iter()
                .map(|id| W::new(tag, id, &out).spec(None))
                .collect();
            let sup = supervisor::start_link(&cx, SupSpec::new(st, children), None)
                .await
                .unwrap();
            let pid_of = |kids: &[(String, Option<Pid>)], id: &str| {
                kids.iter().find(|(i, _)| i == id).and_then(|(_, p)| *p)
            };
            let old = supervisor::which_children(&cx, sup).await;
            out.line(format!("{tag} crash b"));
            let b = pid_of(&old, "b").unwrap();
            let m = cx.monitor(b).await;
            gen_server::cast(&cx, b, StopWith(ExitReason::custom("boom"))).await;
            down(&cx, m).await;
            cx.sleep(200).await;
            let new = supervisor::which_children(&cx, sup).await;
            let ids: Vec<String> = ["a", "b", "c"]
                .into_iter()
                .map(|id| {
                    let (o, n) = (pid_of(&old, id), pid_of(&new, id));
                    let s = if n == o {
                        "same"
                    } else if n.is_some() {
                        "new"
                    } else {
                        "none"
                    };
                    format!("{id}={s}")
                })
                .collect();
            out.line(format!("{tag} pids after {}", ids.join(" ")));
            stop_sup(&cx, sup).await;
        }
    });
}

// ---- rule 36 ----------------------------------------------------------------------------

async fn crash36(cx: &Cx, out: &Out, i: u32) {
    let w = cx.whereis("r36_w").await.unwrap();
    let m = cx.monitor(w).await;
    gen_server::cast(cx, w, StopWith(ExitReason::custom("boom"))).await;
    down(cx, m).await;
    match cx
        .recv_timeout(
            Matcher::when(|e| e.peek::<Inited>().is_some_and(|i| i.0 == "r36_w")),
            500,
        )
        .await
    {
        Some(e) => {
            let w2 = e.peek::<Inited>().unwrap().1;
            out.line(format!("r36 crash {i}: restarted={}", w2 != w));
        }
        None => out.line(format!("r36 crash {i}: not restarted")),
    }
}

fn r36(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        cx.trap_exit(true);
        let test = cx.me();
        let children = ["r36_a", "r36_w"]
            .into_iter()
            .map(|id| {
                let mut w = W::new("r36", id, &out);
                w.init_line = false;
                w.term_line = id == "r36_a";
                w.test = Some(test);
                w.spec(Some(id))
            })
            .collect();
        let mut spec = SupSpec::new(Strategy::OneForOne, children);
        spec.max_seconds = 1;
        let sup = supervisor::start_link(&cx, spec, None).await.unwrap();
        for id in ["r36_a", "r36_w"] {
            cx.recv_match(Matcher::when(move |e| {
                e.peek::<Inited>().is_some_and(|i| i.0 == id)
            }))
            .await;
        }
        for i in 1..=3 {
            crash36(&cx, &out, i).await;
        }
        cx.sleep(2100).await;
        out.line("r36 after 2.1 s");
        for i in 4..=7 {
            crash36(&cx, &out, i).await;
        }
        let env = cx
            .recv_match(Matcher::when(move |e| {
                e.from == sup && e.exit_reason().is_some()
            }))
            .await;
        out.line(format!(
            "r36 supervisor exited {}",
            ex(env.exit_reason().unwrap())
        ));
    });
}
