//! Twins of a group of rules (see `tests/beam_twins/mod.rs`).

use super::{Go, Linked, Out, Ready, Server, Stop, Trapping, down, ex};
use crate::Case;
use fsim::otp::gen_server::{
    self, CallReply, Caller, GenServer, Init, ServerRef, StartError, StartOpts,
};
use fsim::otp::registry;
use fsim::otp::supervisor::{self, ChildSpec, Strategy, SupSpec};
use fsim::sim::*;

pub fn cases() -> Vec<Case> {
    vec![
        Case {
            script: "r06_name_released.exs",
            twin: r06,
        },
        Case {
            script: "r11_trap_exit.exs",
            twin: r11,
        },
        Case {
            script: "r12_exit_normal_signal.exs",
            twin: r12,
        },
        Case {
            script: "r13_shutdown_kills_partners.exs",
            twin: r13,
        },
        Case {
            script: "r14_monitors.exs",
            twin: r14,
        },
        Case {
            script: "r17_restarted_server_clean.exs",
            twin: r17,
        },
        Case {
            script: "r18_names.exs",
            twin: r18,
        },
        Case {
            script: "r19_already_started.exs",
            twin: r19,
        },
        Case {
            script: "r20_unbound_name.exs",
            twin: r20,
        },
        Case {
            script: "r22_registry_via.exs",
            twin: r22,
        },
        Case {
            script: "r23_start_link_sync.exs",
            twin: r23,
        },
        Case {
            script: "r24_init_failure.exs",
            twin: r24,
        },
    ]
}

fn boom() -> ExitReason {
    ExitReason::custom("boom")
}

/// `inspect` of a `Process.whereis` result that is expected to be nil.
fn nil_or(p: Option<Pid>) -> String {
    match p {
        None => "nil".into(),
        Some(_) => "#PID<..>".into(),
    }
}

/// Waits for an `EXIT` message from `from`.
async fn exit_from(cx: &Cx, from: Pid) -> ExitReason {
    cx.recv_match(Matcher::when(move |e| {
        e.from == from && e.exit_reason().is_some()
    }))
    .await
    .exit_reason()
    .unwrap()
    .clone()
}

/// `inspect` of a start result.
fn start_res(r: &Result<Pid, StartError>) -> String {
    match r {
        Ok(_) => "{:ok, #PID<..>}".into(),
        Err(StartError::Ignore) => ":ignore".into(),
        Err(StartError::AlreadyStarted(_)) => "{:error, {:already_started, #PID<..>}}".into(),
        Err(StartError::Failed(r)) => format!("{{:error, {}}}", ex(r)),
        Err(StartError::Timeout) => "{:error, :timeout}".into(),
    }
}

fn r06(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        cx.trap_exit(true);
        let me = cx.me();
        for (label, stay) in [("exits itself", false), ("killed by signal", true)] {
            let h = cx
                .spawn_link(move |h| async move {
                    h.register("n").await.unwrap();
                    h.send(me, Ready).await;
                    h.recv_type::<Go>().await;
                    boom()
                })
                .await;
            let mref = cx.monitor(h).await;
            cx.recv_type::<Ready>().await;
            if stay {
                cx.exit_signal(h, boom()).await;
            } else {
                cx.send(h, Go).await;
            }
            let r = exit_from(&cx, h).await;
            let name = nil_or(cx.whereis("n").await);
            out.line(format!("r06 {label}: at EXIT {} name={name}", ex(&r)));
            let r = down(&cx, mref).await;
            let name = nil_or(cx.whereis("n").await);
            out.line(format!("r06 {label}: at DOWN {} name={name}", ex(&r)));
        }
    });
}

#[derive(Debug)]
struct Got(bool, ExitReason);

fn r11(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        cx.trap_exit(true);
        let me = cx.me();
        let child = cx
            .spawn_link(move |c| async move {
                c.trap_exit(true);
                c.send(me, Ready).await;
                let env = c
                    .recv_match(Matcher::when(|e| e.exit_reason().is_some()))
                    .await;
                c.send(me, Got(env.from == me, env.exit_reason().unwrap().clone()))
                    .await;
                let _ = c.recv_match(Matcher::Nothing).await;
            })
            .await;
        cx.recv_type::<Ready>().await;
        cx.exit_signal(child, boom()).await;
        let (_, Got(from_parent, r)) = cx.recv_type::<Got>().await;
        out.line(format!(
            "r11 trapping child got EXIT {} from parent={from_parent}",
            ex(&r)
        ));
        out.line(format!(
            "r11 child alive after trapped exit: {}",
            cx.is_alive(child).await
        ));
        let mref = cx.monitor(child).await;
        cx.exit_signal(child, ExitReason::Kill).await;
        out.line(format!(
            "r11 kill to trapping child: DOWN {}",
            ex(&down(&cx, mref).await)
        ));
        out.line(format!(
            "r11 linked parent sees: EXIT {}",
            ex(&exit_from(&cx, child).await)
        ));
    });
}

#[derive(Debug)]
struct Ping(Pid);
#[derive(Debug)]
struct Pong;
#[derive(Debug)]
struct ExitMsg(ExitReason);

async fn pinger(cx: &Cx, trap: bool) -> Pid {
    cx.spawn(move |p| async move {
        p.trap_exit(trap);
        loop {
            let env = p.recv().await;
            if env.is::<Stop>() {
                return ExitReason::Normal;
            } else if let Some(r) = env.exit_reason() {
                p.send(env.from, ExitMsg(r.clone())).await;
            } else if let Some(Ping(from)) = env.peek::<Ping>() {
                p.send(*from, Pong).await;
            }
        }
    })
    .await
}

fn r12(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let me = cx.me();
        let p = pinger(&cx, false).await;
        let mref = cx.monitor(p).await;
        cx.exit_signal(p, ExitReason::Normal).await;
        cx.send(p, Ping(me)).await;
        let env = cx
            .recv_match(Matcher::when(move |e| {
                e.is::<Pong>() || e.down().is_some_and(|(r, _, _)| r == mref)
            }))
            .await;
        match env.down() {
            None => out.line("r12 exit normal to non-trapping: still answers"),
            Some((_, _, r)) => out.line(format!("r12 exit normal to non-trapping: died {}", ex(r))),
        }
        let t = pinger(&cx, true).await;
        cx.send(t, Ping(me)).await;
        cx.recv_type::<Pong>().await;
        cx.exit_signal(t, ExitReason::Normal).await;
        let (_, ExitMsg(r)) = cx.recv_type::<ExitMsg>().await;
        out.line(format!(
            "r12 exit normal to trapping: EXIT message {}",
            ex(&r)
        ));
    });
}

#[derive(Debug)]
struct Die(ExitReason);
#[derive(Debug)]
struct Trapped(ExitReason);

fn r13(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let me = cx.me();
        for reason in [
            ExitReason::Normal,
            ExitReason::Shutdown,
            ExitReason::ShutdownWith("bye".into()),
        ] {
            let partner = cx
                .spawn(|p| async move {
                    let (_, Ping(from)) = p.recv_type::<Ping>().await;
                    p.send(from, Pong).await;
                    let _ = p.recv_match(Matcher::Nothing).await;
                })
                .await;
            let trapper = cx
                .spawn(move |t| async move {
                    t.trap_exit(true);
                    t.send(me, Trapping).await;
                    let env = t
                        .recv_match(Matcher::when(|e| e.exit_reason().is_some()))
                        .await;
                    t.send(me, Trapped(env.exit_reason().unwrap().clone()))
                        .await;
                })
                .await;
            cx.recv_type::<Trapping>().await;
            let dier = cx
                .spawn(move |d| async move {
                    let _ = d.link(partner).await;
                    let _ = d.link(trapper).await;
                    d.send(me, Linked).await;
                    let (_, Die(r)) = d.recv_type::<Die>().await;
                    r
                })
                .await;
            cx.recv_type::<Linked>().await;
            let pref = cx.monitor(partner).await;
            cx.send(partner, Ping(me)).await;
            cx.recv_type::<Pong>().await;
            let dref = cx.monitor(dier).await;
            cx.send(dier, Die(reason.clone())).await;
            down(&cx, dref).await;
            let (_, Trapped(r)) = cx.recv_type::<Trapped>().await;
            let name = ex(&reason);
            out.line(format!("r13 {name}: trapping partner got EXIT {}", ex(&r)));
            if reason == ExitReason::Normal {
                out.line(format!(
                    "r13 {name}: partner alive={}",
                    cx.is_alive(partner).await
                ));
                cx.exit_signal(partner, ExitReason::Kill).await;
            } else {
                out.line(format!(
                    "r13 {name}: non-trapping partner died {}",
                    ex(&down(&cx, pref).await)
                ));
            }
        }
    });
}

fn r14(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let p = cx
            .spawn(|d| async move {
                let (_, Die(r)) = d.recv_type::<Die>().await;
                r
            })
            .await;
        let m1 = cx.monitor(p).await;
        let m2 = cx.monitor(p).await;
        out.line(format!("r14 two monitors: refs distinct={}", m1 != m2));
        cx.send(p, Die(boom())).await;
        out.line(format!(
            "r14 first monitor: DOWN {}",
            ex(&down(&cx, m1).await)
        ));
        out.line(format!(
            "r14 second monitor: DOWN {}",
            ex(&down(&cx, m2).await)
        ));
        let m3 = cx.monitor(p).await;
        out.line(format!(
            "r14 monitor of dead pid: DOWN {}",
            ex(&down(&cx, m3).await)
        ));
        let q = cx
            .spawn(|q| async move {
                q.recv_type::<Go>().await;
            })
            .await;
        let m4 = cx.monitor(q).await;
        cx.send(q, Go).await;
        out.line(format!(
            "r14 returning process: DOWN {}",
            ex(&down(&cx, m4).await)
        ));
    });
}

/// A server that links to and monitors on request.
struct W17;

impl GenServer for W17 {
    type Call = (Pid, Pid);
    type Reply = ();
    type Cast = ();

    async fn handle_call(&mut self, cx: &Cx, (a, b): (Pid, Pid), _from: Caller) -> CallReply<()> {
        let _ = cx.link(a).await;
        cx.monitor(b).await;
        CallReply::Reply(())
    }
}

#[derive(Debug)]
struct AGot(Pid, ExitReason, usize);

fn r17(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        cx.trap_exit(true);
        let me = cx.me();
        let child = ChildSpec::server("w", Some("w".into()), || W17);
        let sup = supervisor::start_link(&cx, SupSpec::new(Strategy::OneForOne, vec![child]), None)
            .await
            .unwrap();
        let w1 = cx.whereis("w").await.unwrap();
        let a = cx
            .spawn(move |a| async move {
                a.trap_exit(true);
                a.send(me, Trapping).await;
                let env = a
                    .recv_match(Matcher::when(|e| e.exit_reason().is_some()))
                    .await;
                let links = a.world().links(a.me()).len();
                a.send(
                    me,
                    AGot(env.from, env.exit_reason().unwrap().clone(), links),
                )
                .await;
            })
            .await;
        cx.recv_type::<Trapping>().await;
        let b = cx
            .spawn(|b| async move {
                let _ = b.recv_match(Matcher::Nothing).await;
            })
            .await;
        let () = gen_server::call(&cx, "w", (a, b), None).await;
        let mons: Vec<Pid> = cx.world().monitors(w1).iter().map(|m| m.1).collect();
        assert_eq!(mons, vec![b]);
        let mref = cx.monitor(w1).await;
        cx.exit_signal(w1, boom()).await;
        down(&cx, mref).await;
        let (_, AGot(from, r, links)) = cx.recv_type::<AGot>().await;
        assert_eq!(from, w1);
        let links = if links == 0 { "[]" } else { "[...]" };
        out.line(format!(
            "r17 linked partner got EXIT {}, its links now {links}",
            ex(&r)
        ));
        let w2 = loop {
            match cx.whereis("w").await {
                Some(p) if p != w1 => break p,
                _ => {}
            }
        };
        let (only_sup, mons) = {
            let w = cx.world();
            (w.links(w2) == [sup], w.monitors(w2).is_empty())
        };
        let mons = if mons { "[]" } else { "[...]" };
        out.line(format!(
            "r17 restarted server: links only supervisor={only_sup} monitors={mons}"
        ));
    });
}

fn r18(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let me = cx.me();
        let h = cx
            .spawn(move |h| async move {
                h.register("n").await.unwrap();
                h.send(me, Ready).await;
                h.recv_type::<Stop>().await;
            })
            .await;
        cx.recv_type::<Ready>().await;
        let second = match cx.register("n").await {
            Ok(()) => "ok",
            Err(_) => "ArgumentError",
        };
        out.line(format!("r18 second register of a held name: {second}"));
        out.line(format!(
            "r18 whereis while held: holder={}",
            cx.whereis("n").await == Some(h)
        ));
        let mref = cx.monitor(h).await;
        cx.send(h, Stop).await;
        down(&cx, mref).await;
        out.line(format!(
            "r18 whereis after holder died: {}",
            nil_or(cx.whereis("n").await)
        ));
        cx.register("n").await.unwrap();
        out.line(format!(
            "r18 register after holder died: ok, holder={}",
            cx.whereis("n").await == Some(me)
        ));
    });
}

#[derive(Debug)]
struct InitRan;

/// A server whose `init` tells `parent`.
struct S19(Pid);

impl GenServer for S19 {
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init(&mut self, cx: &Cx) -> Init {
        cx.send(self.0, InitRan).await;
        Init::Ok
    }

    async fn handle_call(&mut self, _cx: &Cx, _req: (), _from: Caller) -> CallReply<()> {
        CallReply::Reply(())
    }
}

fn r19(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let me = cx.me();
        let s1 = gen_server::start_link(&cx, S19(me), StartOpts::named("srv"))
            .await
            .unwrap();
        let r1 = gen_server::start_link(&cx, S19(me), StartOpts::named("srv")).await;
        let r2 = gen_server::start(&cx, S19(me), StartOpts::named("srv")).await;
        for (label, r) in [("start_link", r1), ("start", r2)] {
            match r {
                Err(StartError::AlreadyStarted(p)) => out.line(format!(
                    "r19 second {label}: already_started holder={}",
                    p == s1
                )),
                other => out.line(format!("r19 second {label}: {}", start_res(&other))),
            }
        }
        let mut n = 0;
        while cx.recv_timeout(Matcher::of::<InitRan>(), 0).await.is_some() {
            n += 1;
        }
        out.line(format!("r19 inits run: {n}"));
    });
}

fn r20(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let me = cx.me();
        gen_server::start(&cx, S19(me), StartOpts::named("srv"))
            .await
            .unwrap();
        gen_server::stop(&cx, "srv", ExitReason::Normal).await;
        let call = match gen_server::try_call::<(), ()>(&cx, "srv", (), None).await {
            Ok(()) => ":ok".to_string(),
            Err(r) => format!("exit {}", ex(&r)),
        };
        out.line(format!("r20 call to unbound name: {call}"));
        gen_server::cast(&cx, "srv", ()).await;
        out.line("r20 cast to unbound name: :ok");
        let stop = match gen_server::try_stop(&cx, "srv", ExitReason::Normal).await {
            Ok(()) => ":ok".to_string(),
            Err(r) => format!("exit {}", ex(&r)),
        };
        out.line(format!("r20 stop of unbound name: {stop}"));
    });
}

/// A server that answers `call` with its pid.
struct S22;

impl GenServer for S22 {
    type Call = ();
    type Reply = Pid;
    type Cast = ();

    async fn handle_call(&mut self, cx: &Cx, _req: (), _from: Caller) -> CallReply<Pid> {
        CallReply::Reply(cx.me())
    }
}

fn r22(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let me = cx.me();
        registry::start_link(&cx, "reg").await.unwrap();
        let via = ServerRef::via("reg", "k");
        let s1 = gen_server::start_link(&cx, S22, StartOpts::named(&via))
            .await
            .unwrap();
        out.line(format!(
            "r22 via start: ok, whereis holder={}",
            gen_server::whereis(&cx, &via).await == Some(s1)
        ));
        match gen_server::start_link(&cx, S22, StartOpts::named(&via)).await {
            Err(StartError::AlreadyStarted(p)) => out.line(format!(
                "r22 second via start: already_started holder={}",
                p == s1
            )),
            other => out.line(format!("r22 second via start: {}", start_res(&other))),
        }
        match registry::register(&cx, "reg", "k").await {
            Err(p) => out.line(format!(
                "r22 register over live holder: already_registered holder={}",
                p == s1
            )),
            Ok(()) => out.line("r22 register over live holder: {:ok, #PID<..>}"),
        }
        let who: Pid = gen_server::call(&cx, &via, (), None).await;
        out.line(format!("r22 call via name: reached holder={}", who == s1));
        cx.unlink(s1).await;
        gen_server::stop(&cx, &via, ExitReason::Normal).await;
        out.line(format!(
            "r22 whereis after holder stopped: {}",
            nil_or(gen_server::whereis(&cx, &via).await)
        ));
        match registry::register(&cx, "reg", "k").await {
            Ok(()) => out.line("r22 register over dead holder: ok"),
            Err(_) => {
                out.line("r22 register over dead holder: {:error, {:already_registered, #PID<..>}}")
            }
        }
        out.line(format!(
            "r22 whereis after re-register: self={}",
            gen_server::whereis(&cx, &via).await == Some(me)
        ));
    });
}

#[derive(Debug)]
struct InitBegin;
#[derive(Debug)]
struct InitEnd;

/// A server whose `init` takes 50 ms and reports its begin and end to `parent`.
struct S23(Pid);

impl GenServer for S23 {
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init(&mut self, cx: &Cx) -> Init {
        cx.send(self.0, InitBegin).await;
        cx.sleep(50).await;
        cx.send(self.0, InitEnd).await;
        Init::Ok
    }

    async fn handle_call(&mut self, _cx: &Cx, _req: (), _from: Caller) -> CallReply<()> {
        CallReply::Reply(())
    }
}

fn r23(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let me = cx.me();
        let s = gen_server::start_link(&cx, S23(me), StartOpts::default())
            .await
            .unwrap();
        let done = cx.recv_timeout(Matcher::of::<InitEnd>(), 0).await.is_some();
        out.line(format!("r23 start_link returned after init: {done}"));
        let linked = cx.world().links(me).contains(&s);
        out.line(format!("r23 caller linked to server: {linked}"));
        let mid = cx
            .spawn(move |m| async move {
                let s2 = gen_server::start_link(&m, S23(me), StartOpts::default())
                    .await
                    .unwrap();
                m.send(me, Server(s2)).await;
                m.recv_type::<Go>().await;
                boom()
            })
            .await;
        let (_, Server(s2)) = cx.recv_type::<Server>().await;
        let mref = cx.monitor(s2).await;
        let () = gen_server::call(&cx, s2, (), None).await;
        cx.send(mid, Go).await;
        out.line(format!(
            "r23 parent exits :boom: server DOWN {}",
            ex(&down(&cx, mref).await)
        ));
    });
}

/// A server whose `init` returns `init` after `ms`.
struct S24(u64, Init);

impl GenServer for S24 {
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init(&mut self, cx: &Cx) -> Init {
        if self.0 > 0 {
            cx.sleep(self.0).await;
        }
        self.1.clone()
    }

    async fn handle_call(&mut self, _cx: &Cx, _req: (), _from: Caller) -> CallReply<()> {
        CallReply::Reply(())
    }
}

#[derive(Debug)]
struct Returned(String);

fn r24(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        cx.trap_exit(true);
        let bad = || S24(0, Init::Stop(ExitReason::custom("bad_init")));
        let r = gen_server::start_link(&cx, bad(), StartOpts::default()).await;
        out.line(format!("r24 init stop, trapping caller: {}", start_res(&r)));
        let me = cx.me();
        let c = cx
            .spawn(move |c| async move {
                let r = gen_server::start_link(&c, bad(), StartOpts::default()).await;
                c.send(me, Returned(start_res(&r))).await;
                let _ = c.recv_match(Matcher::Nothing).await;
            })
            .await;
        let mref = cx.monitor(c).await;
        out.line(format!(
            "r24 init stop, non-trapping caller: died {}",
            ex(&down(&cx, mref).await)
        ));
        let r = gen_server::start_link(&cx, S24(0, Init::Ignore), StartOpts::default()).await;
        out.line(format!("r24 init ignore: {}", start_res(&r)));
        let opts = StartOpts {
            name: None,
            timeout_ms: Some(100),
        };
        let r = gen_server::start_link(&cx, S24(1_000, Init::Ok), opts).await;
        out.line(format!("r24 init beyond timeout: {}", start_res(&r)));
    });
}
