//! Twins of a group of rules (see `tests/beam_twins/mod.rs`).

use super::{Go, Out, Ready, Server, Stop, down, ex};
use crate::Case;
use fsim::otp::gen_server::{self, CallReply, Caller, GenServer, Init, Next, StartOpts};
use fsim::otp::supervisor::{self, ChildSpec, Strategy, SupSpec};
use fsim::sim::*;

pub fn cases() -> Vec<Case> {
    vec![
        Case {
            script: "r26_call_outcomes.exs",
            twin: r26,
        },
        Case {
            script: "r27_reply_then_stop.exs",
            twin: r27,
        },
        Case {
            script: "r28_call_exit.exs",
            twin: r28,
        },
        Case {
            script: "r30_terminate.exs",
            twin: r30,
        },
        Case {
            script: "r31_stop.exs",
            twin: r31,
        },
        Case {
            script: "r32_boot_order.exs",
            twin: r32,
        },
        Case {
            script: "r48_send_after.exs",
            twin: r48,
        },
        Case {
            script: "r49_table_owner.exs",
            twin: r49,
        },
    ]
}

/// The next message, if one is already in the mailbox.
async fn flush_one(cx: &Cx) -> Option<Envelope> {
    cx.recv_timeout(Matcher::Any, 0).await
}

// ---- rule 26 ----------------------------------------------------------------------------

#[derive(Debug)]
enum Req26 {
    Ping,
    Die,
    Slow,
}
#[derive(Debug)]
struct Done;

struct S26 {
    test: Pid,
}

impl GenServer for S26 {
    type Call = Req26;
    type Reply = &'static str;
    type Cast = ();
    async fn handle_call(&mut self, cx: &Cx, req: Req26, from: Caller) -> CallReply<&'static str> {
        match req {
            Req26::Ping => CallReply::Reply(":pong"),
            Req26::Die => CallReply::Stop(ExitReason::custom("boom"), None),
            Req26::Slow => {
                cx.sleep(300).await;
                gen_server::reply(cx, from, ":late").await;
                cx.send(self.test, Done).await;
                CallReply::NoReply
            }
        }
    }
}

async fn call26(cx: &Cx, s: impl Into<gen_server::ServerRef>, req: Req26, t: u64) -> String {
    match gen_server::try_call::<Req26, &'static str>(cx, s, req, Some(t)).await {
        Ok(r) => format!("reply {r}"),
        Err(r) => format!("exit {}", ex(&r)),
    }
}

fn r26(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let s = gen_server::start(&cx, S26 { test: cx.me() }, StartOpts::default())
            .await
            .unwrap();
        out.line(format!(
            "r26 reply: {}",
            call26(&cx, s, Req26::Ping, 5000).await
        ));
        out.line(format!(
            "r26 timeout: {}",
            call26(&cx, s, Req26::Slow, 100).await
        ));
        cx.recv_type::<Done>().await;
        let late = match flush_one(&cx).await {
            Some(m) => format!("got {m:?}"),
            None => "nothing".into(),
        };
        out.line(format!(
            "r26 after timeout: server did the work, late reply: {late}"
        ));
        out.line(format!(
            "r26 server dies: {}",
            call26(&cx, s, Req26::Die, 5000).await
        ));
        out.line(format!(
            "r26 dead server: {}",
            call26(&cx, s, Req26::Ping, 5000).await
        ));
        out.line(format!(
            "r26 unregistered name: {}",
            call26(&cx, "r26_nobody", Req26::Ping, 5000).await
        ));
    });
}

// ---- rule 27 ----------------------------------------------------------------------------

#[derive(Debug)]
enum Req27 {
    Last,
    LastReply,
}

struct S27;

impl GenServer for S27 {
    type Call = Req27;
    type Reply = &'static str;
    type Cast = ();
    async fn handle_call(&mut self, cx: &Cx, req: Req27, from: Caller) -> CallReply<&'static str> {
        match req {
            Req27::Last => CallReply::Stop(ExitReason::custom("bye"), Some(":last_words")),
            Req27::LastReply => {
                gen_server::reply(cx, from, ":replied").await;
                cx.exit(ExitReason::custom("gone"))
            }
        }
    }
}

fn r27(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        for (label, req) in [
            ("stop with reply", Req27::Last),
            ("reply then exit", Req27::LastReply),
        ] {
            let s = gen_server::start(&cx, S27, StartOpts::default())
                .await
                .unwrap();
            let m = cx.monitor(s).await;
            let got: &str = gen_server::call(&cx, s, req, None).await;
            out.line(format!("r27 {label}: caller got {got}"));
            out.line(format!(
                "r27 {label}: server exited {}",
                ex(&down(&cx, m).await)
            ));
        }
    });
}

// ---- rule 28 ----------------------------------------------------------------------------

#[derive(Debug)]
struct Caught(ExitReason);

fn r28(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let test = cx.me();
        // `rescue` catches only errors: the caller's code is a plain call. (`Go` after
        // the monitor: `spawn_monitor`.)
        let p = cx
            .spawn(move |c| async move {
                c.recv_type::<Go>().await;
                let () = gen_server::call(&c, "r28_nobody", (), None).await;
                c.send(test, "survived").await;
            })
            .await;
        let m = cx.monitor(p).await;
        cx.send(p, Go).await;
        let r = down(&cx, m).await;
        out.line(format!(
            "r28 rescue only: caller exited with a call exit: {}",
            matches!(&r, ExitReason::CallFailed(b) if **b == ExitReason::NoProc)
        ));
        let got = match flush_one(&cx).await {
            Some(m) => format!("{m:?}"),
            None => "nothing".into(),
        };
        out.line(format!("r28 rescue only: caller sent {got}"));
        let p = cx
            .spawn(move |c| async move {
                c.recv_type::<Go>().await;
                if let Err(r) = gen_server::try_call::<(), ()>(&c, "r28_nobody", (), None).await {
                    c.send(test, Caught(r)).await;
                }
            })
            .await;
        let m = cx.monitor(p).await;
        cx.send(p, Go).await;
        let (_, Caught(r)) = cx.recv_type::<Caught>().await;
        out.line(format!("r28 catch :exit: caught {}", ex(&r)));
        out.line(format!(
            "r28 catch :exit: caller exited {}",
            ex(&down(&cx, m).await)
        ));
    });
}

// ---- rule 30 ----------------------------------------------------------------------------

#[derive(Debug)]
enum Cast30 {
    Stop(ExitReason),
    Exit(ExitReason),
}
#[derive(Debug)]
struct Terminated(ExitReason);
#[derive(Debug)]
struct GoExit;

struct S30 {
    test: Pid,
    trap: bool,
}

impl GenServer for S30 {
    type Call = ();
    type Reply = ();
    type Cast = Cast30;
    async fn init(&mut self, cx: &Cx) -> Init {
        cx.trap_exit(self.trap);
        Init::Ok
    }
    async fn handle_call(&mut self, _cx: &Cx, _req: (), _from: Caller) -> CallReply<()> {
        CallReply::Reply(())
    }
    async fn handle_cast(&mut self, cx: &Cx, msg: Cast30) -> Next {
        match msg {
            Cast30::Stop(r) => Next::Stop(r),
            Cast30::Exit(r) => cx.exit(r),
        }
    }
    async fn terminate(&mut self, cx: &Cx, reason: &ExitReason) {
        cx.send(self.test, Terminated(reason.clone())).await;
    }
}

async fn outcome30(cx: &Cx, mref: Ref) -> String {
    let r = down(cx, mref).await;
    let t = match cx.recv_timeout(Matcher::of::<Terminated>(), 0).await {
        Some(e) => format!("terminate {}", ex(&e.downcast::<Terminated>().unwrap().0)),
        None => "no terminate".into(),
    };
    format!("{t}, exited {}", ex(&r))
}

fn r30(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let test = cx.me();
        let start = |trap| {
            let cx = cx.clone();
            async move {
                gen_server::start(&cx, S30 { test, trap }, StartOpts::default())
                    .await
                    .unwrap()
            }
        };
        let boom = || ExitReason::custom("boom");
        let s = start(false).await;
        let m = cx.monitor(s).await;
        gen_server::cast(&cx, s, Cast30::Stop(boom())).await;
        out.line(format!(
            "r30 callback stops :boom: {}",
            outcome30(&cx, m).await
        ));
        let s = start(false).await;
        let m = cx.monitor(s).await;
        gen_server::cast(&cx, s, Cast30::Exit(boom())).await;
        out.line(format!(
            "r30 callback exits :boom: {}",
            outcome30(&cx, m).await
        ));
        let parent = cx
            .spawn(move |p| async move {
                let s = gen_server::start_link(&p, S30 { test, trap: true }, StartOpts::default())
                    .await
                    .unwrap();
                p.send(test, Server(s)).await;
                p.recv_type::<GoExit>().await;
                ExitReason::custom("boom")
            })
            .await;
        let (_, Server(s)) = cx.recv_type::<Server>().await;
        let m = cx.monitor(s).await;
        gen_server::call::<(), ()>(&cx, s, (), None).await; // the monitor is in place
        cx.send(parent, GoExit).await;
        out.line(format!(
            "r30 trapping, parent exits :boom: {}",
            outcome30(&cx, m).await
        ));
        let s = start(true).await;
        let m = cx.monitor(s).await;
        cx.exit_signal(s, ExitReason::Kill).await;
        out.line(format!("r30 trapping, killed: {}", outcome30(&cx, m).await));
        let s = start(false).await;
        let m = cx.monitor(s).await;
        cx.exit_signal(s, boom()).await;
        out.line(format!(
            "r30 non-trapping, exit signal :boom: {}",
            outcome30(&cx, m).await
        ));
    });
}

// ---- rule 31 ----------------------------------------------------------------------------

#[derive(Debug)]
struct Inited(Pid);

struct S31 {
    test: Pid,
}

impl GenServer for S31 {
    type Call = ();
    type Reply = ();
    type Cast = ();
    async fn init(&mut self, cx: &Cx) -> Init {
        cx.send(self.test, Inited(cx.me())).await;
        Init::Ok
    }
    async fn handle_call(&mut self, _cx: &Cx, _req: (), _from: Caller) -> CallReply<()> {
        CallReply::Reply(())
    }
    async fn terminate(&mut self, cx: &Cx, reason: &ExitReason) {
        cx.send(self.test, Terminated(reason.clone())).await;
    }
}

fn r31(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let test = cx.me();
        let s = gen_server::start(&cx, S31 { test }, StartOpts::default())
            .await
            .unwrap();
        cx.recv_type::<Inited>().await;
        gen_server::stop(&cx, s, ExitReason::Normal).await;
        out.line(format!("r31 stop returned: alive={}", cx.is_alive(s).await));
        match cx.recv_timeout(Matcher::of::<Terminated>(), 0).await {
            Some(e) => out.line(format!(
                "r31 stop: terminate {}",
                ex(&e.downcast::<Terminated>().unwrap().0)
            )),
            None => out.line("r31 stop: no terminate"),
        }
        cx.trap_exit(true);
        let spec = SupSpec::new(
            Strategy::OneForOne,
            vec![ChildSpec::server("w", Some("r31_w".into()), move || S31 {
                test,
            })],
        );
        let sup = supervisor::start_link(&cx, spec, None).await.unwrap();
        let (_, Inited(mut w)) = cx.recv_type::<Inited>().await;
        for i in 1..=3 {
            gen_server::stop(&cx, "r31_w", ExitReason::Normal).await;
            cx.recv_type::<Terminated>().await;
            let (_, Inited(w2)) = cx.recv_type::<Inited>().await;
            out.line(format!(
                "r31 stop {i} (normal): permanent child restarted={}",
                w2 != w
            ));
            w = w2;
        }
        gen_server::stop(&cx, "r31_w", ExitReason::Normal).await;
        let env = cx
            .recv_match(Matcher::when(move |e| {
                e.from == sup && e.exit_reason().is_some()
            }))
            .await;
        out.line(format!(
            "r31 stop 4: supervisor exited {}",
            ex(env.exit_reason().unwrap())
        ));
    });
}

// ---- rule 32 ----------------------------------------------------------------------------

#[derive(Debug)]
struct Init32(&'static str);

struct W32 {
    id: &'static str,
    prev: Option<&'static str>,
    out: Out,
}

impl GenServer for W32 {
    type Call = ();
    type Reply = ();
    type Cast = ();
    async fn init(&mut self, cx: &Cx) -> Init {
        let seen = match self.prev {
            Some(p) => format!(" ({p} registered: {})", cx.whereis(p).await.is_some()),
            None => String::new(),
        };
        self.out.line(format!("r32 init {}{seen}", self.id));
        cx.send_named("r32_test", Init32(self.id)).await.unwrap();
        Init::Ok
    }
    async fn handle_call(&mut self, _cx: &Cx, _req: (), _from: Caller) -> CallReply<()> {
        CallReply::Reply(())
    }
}

fn r32(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        cx.register("r32_test").await.unwrap();
        let ids = [
            ("r32_a", None),
            ("r32_b", Some("r32_a")),
            ("r32_c", Some("r32_b")),
        ];
        let children = ids
            .iter()
            .map(|&(id, prev)| {
                let o = out.clone();
                ChildSpec::server(id, Some(id.into()), move || W32 {
                    id,
                    prev,
                    out: o.clone(),
                })
            })
            .collect();
        let sup = supervisor::start_link(&cx, SupSpec::new(Strategy::OneForOne, children), None)
            .await
            .unwrap();
        let kids: Vec<String> = supervisor::which_children(&cx, sup)
            .await
            .into_iter()
            .map(|(id, p)| format!("{id}:{}", p.is_some()))
            .collect();
        out.line(format!(
            "r32 start_link returned; children running: {}",
            kids.join(" ")
        ));
        let b = cx.whereis("r32_b").await.unwrap();
        let m = cx.monitor(b).await;
        cx.exit_signal(b, ExitReason::custom("boom")).await;
        down(&cx, m).await;
        for id in ["r32_a", "r32_b", "r32_c", "r32_b"] {
            cx.recv_match(Matcher::when(move |e| {
                e.peek::<Init32>().is_some_and(|i| i.0 == id)
            }))
            .await;
        }
        out.line(format!(
            "r32 supervisor survives a child's exit: alive={}",
            cx.is_alive(sup).await
        ));
    });
}

// ---- rule 48 ----------------------------------------------------------------------------

#[derive(Debug)]
struct Tick;
#[derive(Debug)]
struct Registered;
#[derive(Debug)]
struct NextGotTick;

fn r48(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let test = cx.me();
        let p = cx
            .spawn(|c| async move {
                let _ = c.recv_match(Matcher::Nothing).await;
            })
            .await;
        let m = cx.monitor(p).await;
        let t = cx.send_after(p, Tick, 1000);
        cx.exit_signal(p, ExitReason::Kill).await;
        down(&cx, m).await;
        cx.sleep(100).await;
        out.line(format!(
            "r48 to a pid that died: cancel_timer={}",
            match cx.cancel_timer(t) {
                Some(ms) => ms.to_string(),
                None => "false".into(),
            }
        ));
        let p1 = cx
            .spawn(move |c| async move {
                c.register("r48_srv").await.unwrap();
                c.send(test, Registered).await;
                let _ = c.recv_match(Matcher::Nothing).await;
            })
            .await;
        let m1 = cx.monitor(p1).await;
        cx.recv_type::<Registered>().await;
        cx.send_after("r48_srv", Tick, 500);
        cx.exit_signal(p1, ExitReason::Kill).await;
        down(&cx, m1).await;
        cx.spawn(move |c| async move {
            c.register("r48_srv").await.unwrap();
            c.send(test, Registered).await;
            c.recv_type::<Tick>().await;
            c.send(test, NextGotTick).await;
        })
        .await;
        cx.recv_type::<Registered>().await;
        match cx.recv_timeout(Matcher::of::<NextGotTick>(), 3000).await {
            Some(_) => out.line("r48 to a name: the next incarnation got the tick"),
            None => out.line("r48 to a name: nothing"),
        }
    });
}

// ---- rule 49 ----------------------------------------------------------------------------

fn r49(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let test = cx.me();
        let owner = cx
            .spawn(move |c| async move {
                let t = c.table_new_named::<String, i64>("r49_t").await.unwrap();
                c.table_insert(t, "k".to_string(), 1).await.unwrap();
                c.send(test, Ready).await;
                c.recv_type::<Stop>().await;
                ExitReason::custom("boom")
            })
            .await;
        let m = cx.monitor(owner).await;
        cx.recv_type::<Ready>().await;
        let t = cx.table_by_name::<String, i64>("r49_t").await.unwrap();
        let got = match cx.table_get(t, &"k".to_string()).await {
            Ok(Some(v)) => format!("[k: {v}]"),
            other => format!("{other:?}"),
        };
        out.line(format!("r49 owner alive: lookup {got}"));
        cx.send(owner, Stop).await;
        down(&cx, m).await;
        let exists = cx.table_by_name::<String, i64>("r49_t").await.is_some();
        out.line(format!("r49 at owner's DOWN: table exists={exists}"));
        let r = match cx.table_get(t, &"k".to_string()).await {
            Ok(_) => "returned",
            Err(_) => "raises ArgumentError",
        };
        out.line(format!("r49 at owner's DOWN: lookup {r}"));
    });
}
