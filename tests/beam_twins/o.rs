//! Twins of the ordering patterns of one node, `tests/beam/o*.exs` (see
//! `tests/beam_twins/mod.rs`).

use super::{Out, down, ex};
use crate::Case;
use fsim::otp::gen_server::{self, CallReply, Caller, GenServer, Init, StartOpts};
use fsim::otp::supervisor::{self, ChildSpec, Strategy, SupSpec};
use fsim::sim::*;

pub fn cases() -> Vec<Case> {
    vec![
        Case {
            script: "o01_spawn_then_monitor.exs",
            twin: o01,
        },
        Case {
            script: "o02_spawn_exit_then_monitor.exs",
            twin: o02,
        },
        Case {
            script: "o03_go_then_exit.exs",
            twin: o03,
        },
        Case {
            script: "o04_message_then_exit.exs",
            twin: o04,
        },
        Case {
            script: "o05_exit_then_message_trapped.exs",
            twin: o05,
        },
        Case {
            script: "o06_causal_third_process.exs",
            twin: o06,
        },
        Case {
            script: "o07_rest_for_one_log.exs",
            twin: o07,
        },
        Case {
            script: "o08_demonitor_queued_down.exs",
            twin: o08,
        },
        Case {
            script: "o09_exit_self.exs",
            twin: o09,
        },
        Case {
            script: "o10_exit_self_normal.exs",
            twin: o10,
        },
        Case {
            script: "o11_call_self.exs",
            twin: o11,
        },
        Case {
            script: "o12_link_dead_untrapped.exs",
            twin: o12,
        },
        Case {
            script: "o13_link_dead_trapped.exs",
            twin: o13,
        },
        Case {
            script: "o14_kill_linked_monitored.exs",
            twin: o14,
        },
        Case {
            script: "o15_stop_unbound_name.exs",
            twin: o15,
        },
        Case {
            script: "o16_register_other.exs",
            twin: o16,
        },
        Case {
            script: "o17_ets_rename.exs",
            twin: o17,
        },
        Case {
            script: "o18_ets_give_away.exs",
            twin: o18,
        },
        Case {
            script: "o19_link_unlink_exit.exs",
            twin: o19,
        },
        Case {
            script: "o20_link_then_exit.exs",
            twin: o20,
        },
        Case {
            script: "o21_timer_vs_message.exs",
            twin: o21,
        },
        Case {
            script: "o22_after_zero.exs",
            twin: o22,
        },
        Case {
            script: "o23_spawn_monitor_link.exs",
            twin: o23,
        },
        Case {
            script: "o24_two_senders_fifo.exs",
            twin: o24,
        },
    ]
}

// ---- helpers ----------------------------------------------------------------------------

/// An atom sent as a message (`:go`, `:hello`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct A(&'static str);

impl A {
    /// As `inspect` prints it.
    fn inspect(self) -> String {
        format!(":{}", self.0)
    }
}

/// Accepts an atom message among `atoms` (`receive do: (x when x in atoms -> x)`).
fn atom_in(atoms: &'static [&'static str]) -> Matcher {
    Matcher::when(move |e| e.peek::<A>().is_some_and(|a| atoms.contains(&a.0)))
}

/// Receives an atom among `atoms`.
async fn recv_atom(cx: &Cx, atoms: &'static [&'static str]) -> A {
    cx.recv_match(atom_in(atoms))
        .await
        .downcast::<A>()
        .expect("the matcher accepts only atoms")
}

/// `inspect` of a list of atoms.
fn atoms(v: &[A]) -> String {
    let items: Vec<String> = v.iter().map(|a| a.inspect()).collect();
    format!("[{}]", items.join(", "))
}

/// `inspect` of a list of strings.
fn strings(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", items.join(", "))
}

/// `receive do: (:never -> :ok)`.
async fn forever(cx: &Cx) {
    let _ = cx.recv_match(Matcher::Nothing).await;
}

/// `Process.info(p, :status) == {:status, :waiting}`: alive, and blocked in a receive
/// (nothing for it to run).
fn waiting(cx: &Cx, p: Pid) -> bool {
    let w = cx.world();
    w.is_alive(p) && !w.enabled().contains(&Action::Run(p))
}

/// The scripts' `wait_waiting/1`: sleeps 1 ms until `p` is blocked in a receive.
async fn wait_waiting(cx: &Cx, p: Pid) {
    loop {
        cx.sleep(1).await;
        if waiting(cx, p) {
            return;
        }
    }
}

/// `raise Module, message` as an exit reason: `{exception, stacktrace}`, the exception
/// as `inspect` prints the struct (fsim keeps no stack frames: the stacktrace is `[]`).
fn raised(module: &str, message: &str) -> ExitReason {
    ExitReason::custom(format!("{{%{module}{{message: {message:?}}}, []}}"))
}

/// Splits a raise's exit reason (see [`raised`]) into the exception's module and whether
/// the stacktrace is a list; `None` for any other reason.
fn exception_of(r: &ExitReason) -> Option<(String, bool)> {
    let ExitReason::Custom(t) = r else {
        return None;
    };
    let inner = t.strip_prefix("{%")?.strip_suffix('}')?;
    let (module, rest) = inner.split_once('{')?;
    let (_, st) = rest.split_once("}, ")?;
    Some((module.to_string(), st.starts_with('[') && st.ends_with(']')))
}

/// A `try ... catch :exit, r -> r` around `body`: the code runs in a process of its own
/// (spawned and monitored at once) whose exit reason comes back in the `DOWN`; also
/// gives that process's pid (`self()` inside the `try`).
async fn catch_exit<F, Fut>(cx: &Cx, body: F) -> (Pid, ExitReason)
where
    F: FnOnce(Cx) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let (p, mref) = cx.spawn_monitor(body).await;
    (p, down(cx, mref).await)
}

// ---- o01, o02: spawn, then monitor ----------------------------------------------------------

fn o01(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        cx.sleep(1).await;
        let child = cx.spawn(|_| async {}).await;
        let mref = cx.monitor(child).await;
        let env = cx.recv_match(Matcher::Tag(mref)).await;
        let (_, pid, r) = env.down().expect("a DOWN");
        assert_eq!(pid, child);
        out.line(format!(
            "o01 spawn then monitor (child returns): DOWN {}",
            ex(r)
        ));
    });
}

fn o02(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        cx.sleep(1).await;
        let child = cx
            .spawn(|_| async move { ExitReason::custom("boom") })
            .await;
        let mref = cx.monitor(child).await;
        let env = cx.recv_match(Matcher::Tag(mref)).await;
        let (_, pid, r) = env.down().expect("a DOWN");
        assert_eq!(pid, child);
        out.line(format!(
            "o02 spawn then monitor (child exits :boom): DOWN {}",
            ex(r)
        ));
    });
}

// ---- o03, o04: a message, then an exit signal, from one sender --------------------------------

#[derive(Debug)]
struct Trapped(ExitReason);

fn o03(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let parent = cx.me();
        let p = cx
            .spawn(move |p| async move {
                recv_atom(&p, &["go"]).await;
                p.trap_exit(true);
                match p
                    .recv_timeout(Matcher::when(|e| e.exit_reason().is_some()), 200)
                    .await
                {
                    Some(e) => {
                        p.send(parent, Trapped(e.exit_reason().unwrap().clone()))
                            .await
                    }
                    None => p.send(parent, A("no_exit")).await,
                }
            })
            .await;
        let mref = cx.monitor(p).await;
        wait_waiting(&cx, p).await;
        cx.send(p, A("go")).await;
        cx.exit_signal(p, ExitReason::custom("boom")).await;
        let r = down(&cx, mref).await;
        out.line(format!("o03 :go then exit :boom: DOWN {}", ex(&r)));
        match cx.recv_timeout(Matcher::Any, 0).await {
            Some(m) => {
                let shown = if let Some(Trapped(r)) = m.peek::<Trapped>() {
                    format!("{{:trapped, {}}}", ex(r))
                } else if let Some(a) = m.peek::<A>() {
                    a.inspect()
                } else {
                    format!("{m:?}")
                };
                out.line(format!("o03 :go then exit :boom: P reported {shown}"));
            }
            None => out.line("o03 :go then exit :boom: P reported nothing"),
        }
    });
}

#[derive(Debug)]
struct GotAtom(A);

fn o04(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let parent = cx.me();
        let p = cx
            .spawn(move |p| async move {
                let m = p.recv().await;
                let a = *m.peek::<A>().expect("only atoms are sent to P");
                p.send(parent, GotAtom(a)).await;
                forever(&p).await;
            })
            .await;
        let mref = cx.monitor(p).await;
        wait_waiting(&cx, p).await;
        cx.send(p, A("hello")).await;
        cx.exit_signal(p, ExitReason::custom("boom")).await;
        let r = down(&cx, mref).await;
        out.line(format!("o04 message then exit: DOWN {}", ex(&r)));
        match cx.recv_timeout(Matcher::of::<GotAtom>(), 0).await {
            Some(m) => {
                let GotAtom(a) = m.downcast::<GotAtom>().unwrap();
                out.line(format!("o04 message then exit: P reported {}", a.inspect()));
            }
            None => out.line("o04 message then exit: P reported nothing"),
        }
    });
}

// ---- o05: an exit signal, then a message, to a trapping process -------------------------------

#[derive(Debug)]
enum Got05 {
    Exit(ExitReason),
    Msg(A),
}
#[derive(Debug)]
struct Order(Vec<Got05>);

fn o05(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let parent = cx.me();
        let p = cx
            .spawn(move |p| async move {
                p.trap_exit(true);
                p.send(parent, A("trapping")).await;
                let mut got = Vec::new();
                for _ in 0..2 {
                    let m = p.recv().await;
                    match m.exit_reason() {
                        Some(r) if m.from == parent => got.push(Got05::Exit(r.clone())),
                        _ => got.push(Got05::Msg(*m.peek::<A>().expect("an atom"))),
                    }
                }
                p.send(parent, Order(got)).await;
            })
            .await;
        let mref = cx.monitor(p).await;
        recv_atom(&cx, &["trapping"]).await;
        cx.exit_signal(p, ExitReason::custom("boom")).await;
        cx.send(p, A("hello")).await;
        let (_, Order(got)) = cx.recv_type::<Order>().await;
        let items: Vec<String> = got
            .iter()
            .map(|g| match g {
                Got05::Exit(r) => format!("exit: {}", ex(r)),
                Got05::Msg(a) => format!("msg: {}", a.inspect()),
            })
            .collect();
        out.line(format!(
            "o05 exit then message (trapping): received [{}]",
            items.join(", ")
        ));
        let r = down(&cx, mref).await;
        out.line(format!(
            "o05 P after reporting (exit was trapped): DOWN {}",
            ex(&r)
        ));
    });
}

// ---- o06: causality through a third process --------------------------------------------------

#[derive(Debug)]
struct COrder(Vec<A>);
#[derive(Debug)]
struct Relay(Pid);

fn o06(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let parent = cx.me();
        let c = cx
            .spawn(move |c| async move {
                let a = recv_atom(&c, &["m1", "m2"]).await;
                let b = recv_atom(&c, &["m1", "m2"]).await;
                c.send(parent, COrder(vec![a, b])).await;
            })
            .await;
        let b = cx
            .spawn(|b| async move {
                let (_, Relay(c)) = b.recv_type::<Relay>().await;
                b.send(c, A("m2")).await;
            })
            .await;
        cx.spawn(move |a| async move {
            a.send(c, A("m1")).await;
            a.send(b, Relay(c)).await;
        })
        .await;
        let (_, COrder(order)) = cx.recv_type::<COrder>().await;
        out.line(format!(
            "o06 A: m1 to C, then B: m2 to C; C received {}",
            atoms(&order)
        ));
    });
}

// ---- o07: rest_for_one, logged ---------------------------------------------------------------

/// The `Agent` holding the log.
struct Log07(Vec<String>);

#[derive(Debug)]
enum LogReq {
    /// `Agent.update(&(&1 ++ [line]))`.
    Append(String),
    /// `Agent.get(& &1)`.
    Get,
}

impl GenServer for Log07 {
    type Call = LogReq;
    type Reply = Vec<String>;
    type Cast = ();
    async fn handle_call(
        &mut self,
        _cx: &Cx,
        req: LogReq,
        _from: Caller,
    ) -> CallReply<Vec<String>> {
        match req {
            LogReq::Append(line) => {
                self.0.push(line);
                CallReply::Reply(Vec::new())
            }
            LogReq::Get => CallReply::Reply(self.0.clone()),
        }
    }
}

async fn log07(cx: &Cx, line: String) {
    let _: Vec<String> = gen_server::call(cx, "o07_log", LogReq::Append(line), None).await;
}

/// `:sys.get_state/1`.
#[derive(Debug)]
struct GetState;

/// `O07.W`: traps exits, logs its init and its terminate.
struct W07(&'static str);

impl GenServer for W07 {
    type Call = GetState;
    type Reply = &'static str;
    type Cast = ();
    async fn init(&mut self, cx: &Cx) -> Init {
        cx.trap_exit(true);
        log07(cx, format!("start {}", self.0)).await;
        Init::Ok
    }
    async fn handle_call(
        &mut self,
        _cx: &Cx,
        _req: GetState,
        _from: Caller,
    ) -> CallReply<&'static str> {
        CallReply::Reply(self.0)
    }
    async fn terminate(&mut self, cx: &Cx, _reason: &ExitReason) {
        log07(cx, format!("stop {}", self.0)).await;
    }
}

fn o07(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        gen_server::start_link(&cx, Log07(Vec::new()), StartOpts::named("o07_log"))
            .await
            .unwrap();
        let children = ["o07_a", "o07_b", "o07_c"]
            .into_iter()
            .map(|n| ChildSpec::server(n, Some(n.into()), move || W07(n)))
            .collect();
        supervisor::start_link(&cx, SupSpec::new(Strategy::RestForOne, children), None)
            .await
            .unwrap();
        let b = cx.whereis("o07_b").await.unwrap();
        let c = cx.whereis("o07_c").await.unwrap();
        let rb = cx.monitor(b).await;
        let rc = cx.monitor(c).await;
        cx.exit_signal(b, ExitReason::Kill).await;
        out.line(format!("o07 b: DOWN {}", ex(&down(&cx, rb).await)));
        out.line(format!(
            "o07 c (stopped by supervisor): DOWN {}",
            ex(&down(&cx, rc).await)
        ));
        // wait_restarted(c)
        loop {
            match cx.whereis("o07_c").await {
                Some(pid) if pid != c => {
                    let _: &str = gen_server::call(&cx, pid, GetState, None).await;
                    break;
                }
                _ => cx.sleep(1).await,
            }
        }
        let log: Vec<String> = gen_server::call(&cx, "o07_log", LogReq::Get, None).await;
        out.line(format!("o07 log: {}", strings(&log)));
    });
}

// ---- o08: demonitor with the DOWN already queued ----------------------------------------------

fn o08(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let p = cx
            .spawn(|p| async move {
                recv_atom(&p, &["die"]).await;
                ExitReason::custom("boom")
            })
            .await;
        let mref = cx.monitor(p).await;
        cx.send(p, A("die")).await;
        // wait_down_queued(ref)
        loop {
            let queued = cx
                .world()
                .mailbox(cx.me())
                .any(|e| e.down().is_some_and(|(r, _, _)| r == mref));
            if queued {
                break;
            }
            cx.sleep(1).await;
        }
        // demonitor(ref, [:info]): whether an active monitor was removed.
        let info = cx.demonitor(mref, false).await;
        out.line(format!("o08 DOWN queued: demonitor(ref, [:info]) = {info}"));
        // demonitor(ref): returns true whatever it removed.
        cx.demonitor(mref, false).await;
        let plain = true;
        out.line(format!("o08 DOWN queued: demonitor(ref) = {plain}"));
        match cx.recv_timeout(Matcher::Tag(mref), 0).await {
            Some(e) => {
                let (_, pid, r) = e.down().unwrap();
                assert_eq!(pid, p);
                out.line(format!("o08 DOWN still in mailbox: {}", ex(r)));
            }
            None => out.line("o08 DOWN still in mailbox: none"),
        }
    });
}

// ---- o09, o10: exit(self(), reason) -----------------------------------------------------------

/// `drain([])`: the `:before`/`:after` messages until 100 ms pass without one.
async fn drain(cx: &Cx) -> Vec<A> {
    let mut acc = Vec::new();
    while let Some(m) = cx.recv_timeout(atom_in(&["before", "after"]), 100).await {
        acc.push(m.downcast::<A>().unwrap());
    }
    acc
}

fn o09(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let parent = cx.me();
        let p = cx
            .spawn(move |p| async move {
                recv_atom(&p, &["go"]).await;
                p.send(parent, A("before")).await;
                p.exit_signal(p.me(), ExitReason::custom("boom")).await;
                p.send(parent, A("after")).await;
            })
            .await;
        let mref = cx.monitor(p).await;
        cx.send(p, A("go")).await;
        let r = down(&cx, mref).await;
        out.line(format!("o09 exit(self(), :boom): DOWN {}", ex(&r)));
        out.line(format!(
            "o09 exit(self(), :boom): parent received {}",
            atoms(&drain(&cx).await)
        ));
    });
}

fn o10(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let parent = cx.me();
        let p = cx
            .spawn(move |p| async move {
                recv_atom(&p, &["go"]).await;
                p.exit_signal(p.me(), ExitReason::Normal).await;
                p.send(parent, A("after")).await;
                recv_atom(&p, &["never"]).await;
            })
            .await;
        let mref = cx.monitor(p).await;
        cx.send(p, A("go")).await;
        match cx.recv_timeout(Matcher::Tag(mref), 500).await {
            Some(e) => out.line(format!(
                "o10 exit(self(), :normal): DOWN {}",
                ex(e.down().unwrap().2)
            )),
            None => out.line("o10 exit(self(), :normal): still alive"),
        }
        match cx.recv_timeout(atom_in(&["after"]), 100).await {
            Some(_) => out.line("o10 exit(self(), :normal): code after it ran"),
            None => out.line("o10 exit(self(), :normal): code after it did not run"),
        }
    });
}

// ---- o11: GenServer.call to self --------------------------------------------------------------

fn o11(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let (me, r) = catch_exit(&cx, |c| async move {
            let () = gen_server::call(&c, c.me(), A("x"), None).await;
        })
        .await;
        // {tag, {m, f, args}} = r; fsim's reason names the function, and the arguments
        // are the call's: [server, request, timeout (the default when none is given)].
        let (tag, mf) = match &r {
            ExitReason::CallFailed(inner) => (ex(inner), "{GenServer, :call}"),
            other => panic!("o11: not a call exit: {other:?}"),
        };
        let args = (me, A("x"), gen_server::CALL_TIMEOUT_MS);
        out.line(format!("o11 call to self: exit {tag} from {mf}"));
        out.line(format!(
            "o11 call to self: args are [self, msg, timeout]: {}",
            args.1 == A("x") && args.2 == 5000 && args.0 == me
        ));
    });
}

// ---- o12, o13: link to a dead pid -------------------------------------------------------------

#[derive(Debug)]
struct Caught(String);

/// A process that has returned, once its `DOWN` has been seen.
async fn dead_pid(cx: &Cx) -> Pid {
    let dead = cx.spawn(|_| async {}).await;
    let rd = cx.monitor(dead).await;
    cx.recv_match(Matcher::Tag(rd)).await;
    dead
}

fn o12(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let parent = cx.me();
        let dead = dead_pid(&cx).await;
        let p = cx
            .spawn(move |p| async move {
                let r = match p.link(dead).await {
                    Ok(()) => "{:returned, true}".to_string(),
                    Err(NoProc(_)) => format!("{{:error, {}}}", ex(&ExitReason::NoProc)),
                };
                p.send(parent, Caught(r)).await;
            })
            .await;
        let mref = cx.monitor(p).await;
        let (_, Caught(r)) = cx.recv_type::<Caught>().await;
        out.line(format!("o12 link to dead pid (not trapping): {r}"));
        let r = down(&cx, mref).await;
        out.line(format!("o12 linking process then exits: {}", ex(&r)));
    });
}

fn o13(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let dead = dead_pid(&cx).await;
        cx.trap_exit(true);
        let r = match cx.link(dead).await {
            Ok(()) => "true".to_string(),
            Err(NoProc(_)) => "raised noproc".into(),
        };
        out.line(format!("o13 link to dead pid (trapping): returns {r}"));
        match cx
            .recv_timeout(
                Matcher::when(move |e| e.from == dead && e.exit_reason().is_some()),
                500,
            )
            .await
        {
            Some(e) => out.line(format!(
                "o13 link to dead pid (trapping): EXIT {}",
                ex(e.exit_reason().unwrap())
            )),
            None => out.line("o13 link to dead pid (trapping): no EXIT"),
        }
    });
}

// ---- o14: kill a linked and monitored process ------------------------------------------------

fn o14(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        cx.trap_exit(true);
        let p = cx.spawn_link(|p| async move { forever(&p).await }).await;
        let mref = cx.monitor(p).await;
        cx.exit_signal(p, ExitReason::Kill).await;
        out.line(format!("o14 kill: DOWN {}", ex(&down(&cx, mref).await)));
        let e = cx
            .recv_match(Matcher::when(move |e| {
                e.from == p && e.exit_reason().is_some()
            }))
            .await;
        out.line(format!(
            "o14 kill: trapping link partner EXIT {}",
            ex(e.exit_reason().unwrap())
        ));
    });
}

// ---- o15: GenServer.stop on an unbound name ---------------------------------------------------

fn o15(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let name = "o15_unbound";
        let reason = ExitReason::Normal;
        let stop_reason = reason.clone();
        let (_, r) = catch_exit(&cx, move |c| async move {
            gen_server::stop(&c, name, stop_reason).await;
        })
        .await;
        // {tag, {m, f, args}} = r; fsim's reason names the function, and the arguments
        // are the stop's: [server, reason, timeout (:infinity: fsim's stop has none)].
        let (tag, mf) = match &r {
            ExitReason::StopFailed(inner) => (ex(inner), "{GenServer, :stop}"),
            other => panic!("o15: not a stop exit: {other:?}"),
        };
        out.line(format!(
            "o15 stop unbound name: exit {tag} from {mf} args [:{name}, {}, :infinity]",
            ex(&reason)
        ));
    });
}

// ---- o16: register another process ------------------------------------------------------------

fn o16(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let other = cx
            .spawn(|o| async move {
                recv_atom(&o, &["stop"]).await;
            })
            .await;
        cx.register_pid(other, "o16_n").await.unwrap();
        out.line(format!(
            "o16 register other pid: whereis is other={}",
            cx.whereis("o16_n").await == Some(other)
        ));
        let dead = dead_pid(&cx).await;
        let r = match cx.register_pid(dead, "o16_dead").await {
            Ok(()) => "{:returned, true}",
            Err(RegisterError::NotAlive(_)) => "{:raised, ArgumentError}",
            Err(e) => panic!("o16: {e}"),
        };
        let w = match cx.whereis("o16_dead").await {
            Some(p) => format!("{p:?}"),
            None => "nil".into(),
        };
        out.line(format!("o16 register dead pid: {r} whereis={w}"));
        let mref = cx.monitor(other).await;
        cx.send(other, A("stop")).await;
        cx.recv_match(Matcher::Tag(mref)).await;
        let w = match cx.whereis("o16_n").await {
            Some(p) => format!("{p:?}"),
            None => "nil".into(),
        };
        out.line(format!("o16 registered other died: whereis={w}"));
    });
}

// ---- o17, o18: ETS rename and give_away -------------------------------------------------------

/// `inspect` of an `:ets.lookup` result for key `:k`.
fn lookup(v: Option<i64>) -> String {
    match v {
        Some(v) => format!("[k: {v}]"),
        None => "[]".into(),
    }
}

fn o17(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let t = cx
            .table_new_named::<&'static str, i64>("o17_old")
            .await
            .unwrap();
        cx.table_insert(t, "k", 1).await.unwrap();
        let new = "o17_new";
        let r = match cx.table_rename(t, new).await {
            Ok(()) => format!(":{new}"),
            Err(e) => format!("raised {e}"),
        };
        out.line(format!("o17 rename returns {r}"));
        let by_new = cx
            .table_by_name::<&'static str, i64>("o17_new")
            .await
            .expect("o17: the new name reaches the table");
        let v = cx.table_get(by_new, &"k").await.unwrap();
        out.line(format!("o17 lookup by new name: {}", lookup(v)));
        let r = match cx.table_by_name::<&'static str, i64>("o17_old").await {
            None => "{:raised, ArgumentError}".to_string(),
            Some(old) => match cx.table_get(old, &"k").await {
                Ok(v) => format!("{{:returned, {}}}", lookup(v)),
                Err(_) => "{:raised, ArgumentError}".into(),
            },
        };
        let info = match cx.world().table_named("o17_old") {
            None => ":undefined".to_string(),
            Some(id) => format!("[id: {id}, ...]"),
        };
        out.line(format!("o17 lookup by old name: {r} info={info}"));
    });
}

#[derive(Debug)]
struct Transfer(u64, Pid, A);

/// `stop/1` of o18: monitor, send `:stop`, wait for the `DOWN`.
async fn stop18(cx: &Cx, p: Pid) {
    let mref = cx.monitor(p).await;
    cx.send(p, A("stop")).await;
    cx.recv_match(Matcher::Tag(mref)).await;
}

fn o18(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let test = cx.me();
        let heir = cx
            .spawn(move |h| async move {
                let (_, t) = h.recv_type::<EtsTransfer<A>>().await;
                h.send(test, Transfer(t.table, t.from, t.data)).await;
                recv_atom(&h, &["stop"]).await;
            })
            .await;
        let old = cx
            .spawn(move |o| async move {
                let t = o
                    .table_new_named::<&'static str, i64>("o18_t")
                    .await
                    .unwrap();
                o.table_give_away(t, heir, A("gift")).await.unwrap();
                recv_atom(&o, &["stop"]).await;
            })
            .await;
        let (_, Transfer(tab, from, data)) = cx.recv_type::<Transfer>().await;
        // A named table's identifier is its name.
        let tab = if cx.world().table_named("o18_t") == Some(tab) {
            ":o18_t".to_string()
        } else {
            format!("#Reference<{tab}>")
        };
        out.line(format!(
            "o18 heir got ETS-TRANSFER: tab={tab} from old owner={} data={}",
            from == old,
            data.inspect()
        ));
        let owner = match cx.table_by_name::<&'static str, i64>("o18_t").await {
            Some(t) => cx.world().table_owner(t.id),
            None => None,
        };
        out.line(format!(
            "o18 owner after give_away is heir: {}",
            owner == Some(heir)
        ));
        stop18(&cx, old).await;
        let exists = cx
            .table_by_name::<&'static str, i64>("o18_t")
            .await
            .is_some();
        out.line(format!("o18 old owner died: table exists={exists}"));
        stop18(&cx, heir).await;
        let exists = cx
            .table_by_name::<&'static str, i64>("o18_t")
            .await
            .is_some();
        out.line(format!("o18 new owner died: table exists={exists}"));
        let dead = cx.spawn(|_| async {}).await;
        stop18(&cx, dead).await;
        let t = cx.table_new::<&'static str, i64>().await;
        let r = match cx.table_give_away(t, dead, A("x")).await {
            Ok(()) => "{:returned, true}",
            Err(_) => "{:raised, ArgumentError}",
        };
        out.line(format!("o18 give_away to a dead pid: {r}"));
    });
}

// ---- o19, o20: link, unlink, exit -------------------------------------------------------------

#[derive(Debug)]
struct BDown(ExitReason);

fn o19(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let parent = cx.me();
        let a = cx
            .spawn(move |a| async move {
                let b = a
                    .spawn(|b| async move {
                        recv_atom(&b, &["die"]).await;
                        ExitReason::custom("boom")
                    })
                    .await;
                let rb = a.monitor(b).await;
                let _ = a.link(b).await;
                a.unlink(b).await;
                a.send(b, A("die")).await;
                let r = down(&a, rb).await;
                a.send(parent, BDown(r)).await;
                forever(&a).await;
            })
            .await;
        let (_, BDown(r)) = cx.recv_type::<BDown>().await;
        out.line(format!("o19 link, unlink, B exits: B DOWN {}", ex(&r)));
        cx.sleep(50).await;
        out.line(format!(
            "o19 link, unlink, B exits: A alive={}",
            cx.is_alive(a).await
        ));
    });
}

fn o20(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        cx.trap_exit(true);
        let b = cx
            .spawn(|b| async move {
                recv_atom(&b, &["die"]).await;
                ExitReason::custom("boom")
            })
            .await;
        let _ = cx.link(b).await;
        cx.send(b, A("die")).await;
        match cx
            .recv_timeout(
                Matcher::when(move |e| e.from == b && e.exit_reason().is_some()),
                500,
            )
            .await
        {
            Some(e) => out.line(format!(
                "o20 trapping A linked to B, B exits: EXIT {}",
                ex(e.exit_reason().unwrap())
            )),
            None => out.line("o20 trapping A linked to B, B exits: no EXIT"),
        }
        out.line(format!("o20 A alive: {}", cx.is_alive(cx.me()).await));
    });
}

// ---- o21, o22: timers and messages to self ----------------------------------------------------

/// `take(n)`: the next `n` of `:timer`/`:msg`.
async fn take(cx: &Cx, n: usize) -> Vec<A> {
    let mut got = Vec::new();
    for _ in 0..n {
        got.push(recv_atom(cx, &["timer", "msg"]).await);
    }
    got
}

fn o21(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let me = cx.me();
        cx.send_after(me, A("timer"), 0);
        cx.send(me, A("msg")).await;
        out.line(format!(
            "o21 send_after 0 then send: received {}",
            atoms(&take(&cx, 2).await)
        ));
        cx.send_after(me, A("timer"), 1000);
        cx.spawn(move |s| async move {
            s.sleep(10).await;
            s.send(me, A("msg")).await;
        })
        .await;
        out.line(format!(
            "o21 send_after 1000 vs message after 10 ms: received {}",
            atoms(&take(&cx, 2).await)
        ));
    });
}

fn o22(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        cx.send(cx.me(), A("x")).await;
        let r = match cx.recv_timeout(atom_in(&["x"]), 0).await {
            Some(_) => A("seen"),
            None => A("timeout"),
        };
        out.line(format!(
            "o22 send to self then receive after 0: {}",
            r.inspect()
        ));
    });
}

// ---- o23: spawn_monitor and spawn_link are atomic ---------------------------------------------

/// The `EXIT` from `from`.
async fn exit_from(cx: &Cx, from: Pid) -> ExitReason {
    cx.recv_match(Matcher::when(move |e| {
        e.from == from && e.exit_reason().is_some()
    }))
    .await
    .exit_reason()
    .unwrap()
    .clone()
}

fn o23(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let (p, mref) = cx.spawn_monitor(|_| async {}).await;
        let e = cx.recv_match(Matcher::Tag(mref)).await;
        assert_eq!(e.down().unwrap().1, p);
        out.line(format!(
            "o23 spawn_monitor, child returns: DOWN {}",
            ex(e.down().unwrap().2)
        ));
        let (p, mref) = cx
            .spawn_monitor(|_| async move { ExitReason::custom("boom") })
            .await;
        let e = cx.recv_match(Matcher::Tag(mref)).await;
        assert_eq!(e.down().unwrap().1, p);
        out.line(format!(
            "o23 spawn_monitor, child exits :boom: DOWN {}",
            ex(e.down().unwrap().2)
        ));
        cx.trap_exit(true);
        let c = cx
            .spawn_link(|_| async move { ExitReason::custom("crash") })
            .await;
        out.line(format!(
            "o23 spawn_link (trapping), child exits :crash: EXIT {}",
            ex(&exit_from(&cx, c).await)
        ));
        let c = cx
            .spawn_link(|_| async move { raised("ArgumentError", "bad") })
            .await;
        let r = exit_from(&cx, c).await;
        let (module, st_is_list) =
            exception_of(&r).unwrap_or_else(|| panic!("o23: not a raise: {r:?}"));
        out.line(format!(
            "o23 spawn_link (trapping), child raises: EXIT {{{module}, stacktrace is list={st_is_list}}}"
        ));
    });
}

// ---- o24: two senders, one receiver -----------------------------------------------------------

#[derive(Debug, Clone, Copy)]
struct Numbered(A, u32);
#[derive(Debug)]
struct GotAll(Vec<Numbered>);

fn o24(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let parent = cx.me();
        let r = cx
            .spawn(move |r| async move {
                let mut got = Vec::new();
                for _ in 0..6 {
                    let m = r
                        .recv_match(Matcher::when(|e| {
                            e.peek::<Numbered>()
                                .is_some_and(|Numbered(s, _)| ["a", "b"].contains(&s.0))
                        }))
                        .await;
                    got.push(m.downcast::<Numbered>().unwrap());
                }
                r.send(parent, GotAll(got)).await;
            })
            .await;
        for s in [A("a"), A("b")] {
            cx.spawn(move |c| async move {
                for n in 1..=3 {
                    c.send(r, Numbered(s, n)).await;
                }
            })
            .await;
        }
        let (_, GotAll(got)) = cx.recv_type::<GotAll>().await;
        for s in [A("a"), A("b")] {
            let ns: Vec<u32> = got.iter().filter(|m| m.0 == s).map(|m| m.1).collect();
            out.line(format!(
                "o24 sender {}: received {}, in send order={}",
                s.0,
                ns.len(),
                ns == [1, 2, 3]
            ));
        }
    });
}
