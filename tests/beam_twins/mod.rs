//! The fsim twins of `tests/beam/*.exs`, one per rule, printing the same lines.
#![allow(dead_code)]

mod a;
mod b;
mod c;
mod d;
mod o;

use super::Case;
use fsim::sim::*;
use std::cell::RefCell;
use std::rc::Rc;

/// The lines a twin prints.
#[derive(Clone, Default)]
pub struct Out(Rc<RefCell<Vec<String>>>);

impl Out {
    pub fn line(&self, s: impl Into<String>) {
        self.0.borrow_mut().push(s.into());
    }
    pub fn lines(&self) -> Vec<String> {
        self.0.borrow().clone()
    }
}

/// Waits for the `DOWN` of monitor `mref` and returns its reason.
pub async fn down(cx: &Cx, mref: Ref) -> ExitReason {
    let env = cx.recv_match(Matcher::Tag(mref)).await;
    env.down().expect("a DOWN").2.clone()
}

/// An exit reason as Elixir's `inspect` prints it.
pub fn ex(r: &ExitReason) -> String {
    match r {
        ExitReason::Normal => ":normal".into(),
        ExitReason::Shutdown => ":shutdown".into(),
        ExitReason::ShutdownWith(t) => format!("{{:shutdown, :{t}}}"),
        ExitReason::Kill => ":kill".into(),
        ExitReason::Killed => ":killed".into(),
        ExitReason::NoProc => ":noproc".into(),
        ExitReason::Timeout => ":timeout".into(),
        ExitReason::CallFailed(inner) => format!("{{{}, {{GenServer, :call, ...}}}}", ex(inner)),
        ExitReason::StopFailed(inner) => format!("{{{}, {{GenServer, :stop, ...}}}}", ex(inner)),
        ExitReason::Custom(t) => format!(":{t}"),
    }
}

pub fn cases() -> Vec<Case> {
    let mut v = vec![
        Case {
            script: "r04_dead_pid.exs",
            twin: r04,
        },
        Case {
            script: "r10_exit_normal.exs",
            twin: r10,
        },
    ];
    v.extend(a::cases());
    v.extend(b::cases());
    v.extend(c::cases());
    v.extend(d::cases());
    v.extend(o::cases());
    v.sort_by_key(|c| c.script);
    v
}

fn r04(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let dead = cx.spawn(|_| async {}).await;
        let r = cx.monitor(dead).await;
        cx.recv_match(Matcher::Tag(r)).await;
        cx.send(dead, ()).await;
        out.line("r04 send to dead: ok");
        let r2 = cx.monitor(dead).await;
        let reason = down(&cx, r2).await;
        out.line(format!("r04 monitor dead: DOWN {}", ex(&reason)));
        cx.trap_exit(true);
        let _ = cx.link(dead).await;
        match cx
            .recv_timeout(
                Matcher::when(move |e| e.from == dead && e.exit_reason().is_some()),
                1000,
            )
            .await
        {
            Some(e) => out.line(format!(
                "r04 link dead (trapping): EXIT {}",
                ex(e.exit_reason().unwrap())
            )),
            None => out.line("r04 link dead (trapping): nothing"),
        }
    });
}

// Messages several twins use.
#[derive(Debug)]
struct Linked;
/// A spawned process has set `trap_exit` (so an exit signal sent after this cannot kill it
/// before it traps, however late the scheduler first runs it).
#[derive(Debug)]
struct Trapping;
#[derive(Debug)]
struct ExitWith(ExitReason);
#[derive(Debug)]
struct Go;
#[derive(Debug)]
struct Ready;
#[derive(Debug)]
struct Stop;
#[derive(Debug)]
struct Server(Pid);

async fn linker(cx: &Cx, parent: Pid, child: Pid) -> Pid {
    cx.spawn(move |l| async move {
        let _ = l.link(child).await;
        l.send(parent, Linked).await;
        let (_, ExitWith(r)) = l.recv_type::<ExitWith>().await;
        r
    })
    .await
}

fn r10(sim: &mut Sim, out: Out) {
    sim.spawn("test", move |cx| async move {
        let me = cx.me();
        let child = cx
            .spawn(|c| async move {
                let _ = c.recv_match(Matcher::Nothing).await;
            })
            .await;
        let r = cx.monitor(child).await;
        let l1 = linker(&cx, me, child).await;
        cx.recv_type::<Linked>().await;
        let m1 = cx.monitor(l1).await;
        cx.send(l1, ExitWith(ExitReason::Normal)).await;
        cx.recv_match(Matcher::Tag(m1)).await;
        out.line(format!(
            "r10 linked exit normal: child alive={}",
            cx.is_alive(child).await
        ));
        let l2 = linker(&cx, me, child).await;
        cx.recv_type::<Linked>().await;
        cx.send(l2, ExitWith(ExitReason::custom("boom"))).await;
        let reason = down(&cx, r).await;
        out.line(format!(
            "r10 linked exit boom: child exited {}",
            ex(&reason)
        ));
    });
}
