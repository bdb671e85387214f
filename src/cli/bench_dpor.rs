//! `fsim bench --dpor`: programs of Concuerror's DPOR test suite
//! (`tests/suites/dpor_tests/src/*.erl` in parapluu/Concuerror), written again for fsim,
//! each beside M, the number of interleavings Concuerror explores for it (from its results
//! file, `tests/suites/dpor_tests/results/<module>-<fun>-inf-<dpor>.txt`).
//!
//! fsim's exhaustive search with dynamic partial-order reduction (`explore::dpor`) runs
//! one schedule per class of equivalent schedules, so its run count over M measures how
//! far it is from Concuerror's optimal DPOR; the same search without reduction shows what
//! the reduction saves. Only M is a constant here; fsim's runs are counted every time.
//!
//! Each program also records what its processes observed — the values they received or
//! read, and how each ended (a crash with its Erlang reason, or blocked in a `receive`) —
//! so that the distinct terminal outcomes of a search can be set beside what the Erlang
//! program can show (`tests/dpor_programs.rs` checks them).
//!
//! The delivery model follows the option Concuerror ran with: `local` where its results
//! file says `instant_delivery` true, `distributed` where it says false, and for the
//! oldest files (whose traces show each message reaching its receiver as an event of its
//! own).
//!
//! The file is also compiled into `tests/dpor_programs.rs` (by `#[path]`), so it names
//! fsim only as `crate::sim` and `crate::explore`.

use crate::explore::exhaustive::{self, Bound};
use crate::sim::{
    Chooser, Config, Cx, Delivery, ExitReason, Matcher, Pid, Ref, RunReport, Sim, Table,
};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// What the processes of one run observed: a process's name in the Erlang program -> what
/// it saw and how it ended. Each process writes its entry when it starts (`blocked`, which
/// stays if it never gets further) and overwrites it as it goes.
pub type Obs = Rc<RefCell<BTreeMap<&'static str, String>>>;

/// An Erlang atom sent as a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Atom(pub &'static str);

/// One program of the suite.
pub struct Program {
    /// `module`, or `module:function` for a module of several tests.
    pub name: String,
    /// The Concuerror results file M is read from.
    pub results: String,
    /// Interleavings Concuerror explored (its results file's "N/N interleavings explored").
    pub m: u64,
    /// The delivery model matching Concuerror's `instant_delivery` option.
    pub delivery: Delivery,
    /// Spawns the program's first process; its processes write what they observe to the
    /// `Obs` they are given.
    pub build: fn(&mut Sim, Obs),
}

/// What a search over one program found.
#[derive(Clone, Debug)]
pub struct Measured {
    /// Runs made.
    pub runs: u64,
    /// Every schedule was run (the search ended before its cap).
    pub complete: bool,
    /// The distinct terminal outcomes over all runs, each `name: observation; ...`.
    pub outcomes: BTreeSet<String>,
}

impl Program {
    /// A fresh world of this program.
    pub fn world(&self, obs: Obs) -> Sim {
        let mut sim = Sim::new(Config {
            delivery: self.delivery,
            ..Config::default()
        });
        (self.build)(&mut sim, obs);
        sim
    }
}

/// Runs the program once under `chooser`; its report and its outcome: each process's
/// observation, `name: observation; ...`, or for a run that failed (a panic, a bound)
/// `run failed: ...` first, so that it shows.
pub fn run_once(p: &Program, chooser: &mut dyn Chooser) -> (RunReport, String) {
    let obs: Obs = Rc::default();
    let r = p.world(obs.clone()).run(chooser);
    let seen = obs
        .borrow()
        .iter()
        .map(|(who, what)| format!("{who}: {what}"))
        .collect::<Vec<_>>()
        .join("; ");
    let outcome = if r.outcome.is_failure() {
        format!("run failed: {:?}; {seen}", r.outcome)
    } else {
        seen
    };
    (r, outcome)
}

/// Exhaustive search with no bound on deviations, at most `max_runs` runs, collecting
/// each run's outcome.
pub fn measure(p: &Program, max_runs: u64) -> Measured {
    let mut outcomes = BTreeSet::new();
    let s = exhaustive::search(
        |chooser| {
            let (r, outcome) = run_once(p, chooser);
            outcomes.insert(outcome);
            r
        },
        |_| false,
        Bound {
            deviations: u32::MAX,
            max_runs,
        },
    );
    Measured {
        runs: s.runs,
        complete: s.complete,
        outcomes,
    }
}

/// The same search with partial-order reduction (`explore::dpor`).
pub fn measure_reduced(p: &Program, max_runs: u64) -> Measured {
    let mut outcomes = BTreeSet::new();
    let s = crate::explore::dpor::search(
        |chooser| {
            let (r, outcome) = run_once(p, chooser);
            outcomes.insert(outcome);
            r
        },
        |_| false,
        max_runs,
    );
    Measured {
        runs: s.search.runs,
        complete: s.search.complete,
        outcomes,
    }
}

/// Runs per program at most in `fsim bench --dpor`: a program that needs more prints
/// `>N (incomplete)`. (The 100-proxy chain, the slowest, runs at about 7k runs/s.)
pub const BENCH_MAX_RUNS: u64 = 200_000;

/// `fsim bench --dpor`: the table, where each M comes from and the delivery models, then
/// the median and the largest ratio. Each program is searched twice, with partial-order
/// reduction (the ratio to M) and without (the reduction's own ratio). The programs are
/// searched in parallel, one thread each (every world stays on its thread); the counts
/// do not depend on it.
pub fn print_table(max_runs: u64) {
    let started = std::time::Instant::now();
    let programs = programs();
    let measured: Vec<(Measured, Measured)> = std::thread::scope(|s| {
        let handles: Vec<_> = programs
            .iter()
            .map(|p| s.spawn(move || (measure_reduced(p, max_runs), measure(p, max_runs))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a search does not panic"))
            .collect()
    });
    println!(
        "| program | Concuerror M | fsim runs (DPOR) | ratio to M | outcomes | \
         runs without reduction | reduction |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut ratios: Vec<f64> = Vec::new();
    let mut incomplete = 0;
    let runs_text = |m: &Measured| {
        if m.complete {
            m.runs.to_string()
        } else {
            format!(">{} (incomplete)", m.runs)
        }
    };
    for (p, (r, plain)) in programs.iter().zip(&measured) {
        let ratio = r.runs as f64 / p.m as f64;
        let ratio_text = if r.complete {
            format!("{ratio:.1}")
        } else {
            incomplete += 1;
            format!(">{ratio:.1}")
        };
        let reduction = plain.runs as f64 / r.runs as f64;
        let reduction_text = match (plain.complete, r.complete) {
            (true, true) => format!("{reduction:.0}x"),
            (false, true) => format!(">{reduction:.0}x"),
            _ => "?".to_string(),
        };
        println!(
            "| {} | {} | {} | {ratio_text} | {} | {} | {reduction_text} |",
            p.name,
            p.m,
            runs_text(r),
            r.outcomes.len(),
            runs_text(plain),
        );
        ratios.push(ratio);
    }
    println!();
    let files: Vec<String> = programs
        .iter()
        .map(|p| format!("{} ({})", p.results, p.m))
        .collect();
    println!(
        "M: the interleavings Concuerror explored, from parapluu/Concuerror \
         tests/suites/dpor_tests/results/: {}",
        files.join(", ")
    );
    let local: Vec<&str> = programs
        .iter()
        .filter(|p| p.delivery == Delivery::Local)
        .map(|p| p.name.as_str())
        .collect();
    println!(
        "delivery model: local where Concuerror ran with instant_delivery true ({}), \
         distributed for the rest",
        local.join(", ")
    );
    println!(
        "runs: fsim's exhaustive search with no bound on deviations, with dynamic \
         partial-order reduction (explore::dpor) and without, at most {max_runs} runs a \
         program each; outcomes: the distinct terminal observations of the processes \
         ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    ratios.sort_by(f64::total_cmp);
    let median = match ratios.len() {
        0 => 0.0,
        n if n % 2 == 1 => ratios[n / 2],
        n => (ratios[n / 2 - 1] + ratios[n / 2]) / 2.0,
    };
    let max = ratios.last().copied().unwrap_or(0.0);
    let at_least = if incomplete > 0 { ">= " } else { "" };
    println!(
        "with reduction: median ratio to M {at_least}{median:.1}, max {at_least}{max:.1} \
         over {} programs ({incomplete} incomplete, counted at their lower bound)",
        ratios.len()
    );
}

/// The programs, in the order of the table.
pub fn programs() -> Vec<Program> {
    use Delivery::{Distributed as Dist, Local};
    /// Module, function, the results file's DPOR flavour, M, delivery model, program.
    type Row = (
        &'static str,
        &'static str,
        &'static str,
        u64,
        Delivery,
        fn(&mut Sim, Obs),
    );
    #[rustfmt::skip]
    let rows: [Row; 25] = [
        ("messages_1", "messages_1", "dpor", 6, Dist, messages_1),
        ("messages_2", "test", "dpor", 6, Dist, messages_2),
        ("receive_order", "test1", "dpor", 1, Dist, receive_order_1),
        ("receive_order", "test2", "dpor", 2, Dist, receive_order_2),
        ("receive_order", "test3", "dpor", 3, Dist, receive_order_3),
        ("register_again_2", "register_again_2", "dpor", 6, Dist, register_again_2),
        ("same_messages_2", "same_messages_2", "dpor", 6, Dist, same_messages_2),
        ("same_messages_3", "same_messages_3", "dpor", 6, Dist, same_messages_3),
        ("same_messages_4", "same_messages_4", "dpor", 4, Dist, same_messages_4),
        ("after_test", "after_test", "dpor", 36, Dist, after_test),
        ("depend_1", "depend_1", "dpor", 12, Dist, depend_1),
        ("depend_3", "depend_3", "dpor", 30, Dist, depend_3),
        ("depend_5", "depend_5", "dpor", 12, Dist, depend_5),
        ("readers_rrw", "readers_rrw", "dpor", 4, Dist, readers_rrw),
        ("readers_rwr", "readers_rwr", "dpor", 4, Dist, readers_rwr),
        ("etsi_2", "etsi_2", "dpor", 5, Dist, etsi_2),
        ("POPL_optimal_example", "test", "dpor", 5, Dist, popl_optimal_example),
        ("many_kill_2", "test", "dpor", 4, Local, many_kill_2),
        ("precise_demonitor", "demonitor_empty", "optimal", 3, Local, demonitor_empty),
        ("precise_demonitor", "demonitor_flush", "optimal", 2, Local, demonitor_flush),
        ("precise_demonitor", "demonitor_info", "optimal", 4, Local, demonitor_info),
        ("precise_demonitor", "demonitor_flush_info", "optimal", 3, Local, demonitor_flush_info),
        ("no_observers", "test", "optimal", 2, Local, no_observers),
        ("readers", "test", "optimal", 64, Local, readers),
        ("proxy", "proxy", "dpor", 2, Dist, proxy),
    ];
    rows.into_iter()
        .map(|(module, fun, kind, m, delivery, build)| Program {
            name: if fun == module || fun == "test" {
                module.to_string()
            } else {
                format!("{module}:{fun}")
            },
            results: format!("{module}-{fun}-inf-{kind}.txt"),
            m,
            delivery,
            build,
        })
        .collect()
}

// ---- helpers ------------------------------------------------------------------------

fn note(obs: &Obs, who: &'static str, what: impl Into<String>) {
    obs.borrow_mut().insert(who, what.into());
}

/// A receive pattern matching the atom `a`.
fn atom(a: &'static str) -> Matcher {
    Matcher::when(move |e| e.peek::<Atom>().is_some_and(|x| x.0 == a))
}

/// The atom a message carries (`?` for anything else).
fn atom_of(e: &crate::sim::Envelope) -> &'static str {
    e.peek::<Atom>().map_or("?", |a| a.0)
}

/// An Erlang exit reason (`throw(X)` is `{nocatch, X}`, a failed match `{badmatch, V}`).
fn crash(reason: &str) -> ExitReason {
    ExitReason::custom(reason)
}

/// `receive after infinity -> ok end`.
async fn block(cx: &Cx) {
    let _ = cx.recv_match(Matcher::Nothing).await;
}

/// A `{'DOWN', mref, process, pid, reason}` pattern.
fn down(mref: Ref, pid: Pid, reason: ExitReason) -> Matcher {
    Matcher::when(move |e| {
        e.down()
            .is_some_and(|(r, p, why)| r == mref && p == pid && *why == reason)
    })
}

type Tab = Table<&'static str, i64>;

/// A process body's rest, boxed (to pass one as a plain `fn`).
type Boxed<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T>>>;

/// `ets:new(table, [public, named_table])` with these keys inserted, in order.
async fn table(cx: &Cx, name: &str, init: &[(&'static str, i64)]) -> Tab {
    let t = cx
        .table_new_named(name)
        .await
        .expect("the only table of the program");
    for (k, v) in init {
        write(cx, t, k, *v).await;
    }
    t
}

/// `ets:insert(T, {K, V})` on a table whose owner never exits.
async fn write(cx: &Cx, t: Tab, k: &'static str, v: i64) {
    cx.table_insert(t, k, v)
        .await
        .expect("the owner blocks forever");
}

/// `[{K, V}] = ets:lookup(T, K)` on a table whose owner never exits.
async fn read(cx: &Cx, t: Tab, k: &'static str) -> i64 {
    cx.table_get(t, &k)
        .await
        .expect("the owner blocks forever")
        .expect("every key read was inserted first")
}

// ---- messages_1, messages_2 ---------------------------------------------------------

/// B waits for `special` (`after 0`: then waits for it anyway) and then for two more
/// messages; P spawns B, spawns C (which sends `c` to B), and sends `a`, `special` to B.
/// In messages_2 the first message after a late `special` must be `a` (`R = a`).
fn messages(sim: &mut Sim, obs: Obs, must_be_a: bool) {
    sim.spawn("P", move |cx| async move {
        let ob = obs.clone();
        let b = cx
            .spawn(move |b| async move {
                note(&ob, "B", "blocked");
                let first = b.recv_timeout(atom("special"), 0).await.is_some();
                if !first {
                    b.recv_match(atom("special")).await;
                }
                let got = if first {
                    b.recv_match(atom("a")).await;
                    b.recv_match(atom("c")).await;
                    "a, c".to_string()
                } else {
                    let r = atom_of(&b.recv().await);
                    if must_be_a && r != "a" {
                        note(&ob, "B", "special late, then crashed {badmatch,a}");
                        return crash("{badmatch,a}");
                    }
                    let r2 = atom_of(&b.recv().await);
                    format!("{r}, {r2}")
                };
                let when = if first { "first" } else { "late" };
                note(&ob, "B", format!("special {when}, then {got}"));
                ExitReason::Normal
            })
            .await;
        cx.spawn(move |c| async move { c.send(b, Atom("c")).await })
            .await;
        cx.send(b, Atom("a")).await;
        cx.send(b, Atom("special")).await;
    });
}

fn messages_1(sim: &mut Sim, obs: Obs) {
    messages(sim, obs, false)
}

fn messages_2(sim: &mut Sim, obs: Obs) {
    messages(sim, obs, true)
}

// ---- receive_order ------------------------------------------------------------------

/// Q receives `a`, then one message that must be `b`; two senders send `first` and
/// `second` (test1: a, b; test2: b, a).
fn receive_order(sim: &mut Sim, obs: Obs, first: &'static str, second: &'static str) {
    sim.spawn("P", move |cx| async move {
        let ob = obs.clone();
        let q = cx
            .spawn(move |q| async move {
                note(&ob, "Q", "blocked");
                q.recv_match(atom("a")).await;
                let b = atom_of(&q.recv().await);
                if b != "b" {
                    note(&ob, "Q", "a, then crashed {badmatch,b}");
                    return crash("{badmatch,b}");
                }
                note(&ob, "Q", "a, then b");
                ExitReason::Normal
            })
            .await;
        cx.spawn(move |s| async move { s.send(q, Atom(first)).await })
            .await;
        cx.spawn(move |s| async move { s.send(q, Atom(second)).await })
            .await;
    });
}

fn receive_order_1(sim: &mut Sim, obs: Obs) {
    receive_order(sim, obs, "a", "b")
}

fn receive_order_2(sim: &mut Sim, obs: Obs) {
    receive_order(sim, obs, "b", "a")
}

/// Q receives `a`, then `b`, then one message that must be `c`; one sender sends `b`,
/// another `c` then `a`.
fn receive_order_3(sim: &mut Sim, obs: Obs) {
    sim.spawn("P", move |cx| async move {
        let ob = obs.clone();
        let q = cx
            .spawn(move |q| async move {
                note(&ob, "Q", "blocked");
                q.recv_match(atom("a")).await;
                q.recv_match(atom("b")).await;
                let c = atom_of(&q.recv().await);
                if c != "c" {
                    note(&ob, "Q", "a, b, then crashed {badmatch,c}");
                    return crash("{badmatch,c}");
                }
                note(&ob, "Q", "a, b, then c");
                ExitReason::Normal
            })
            .await;
        cx.spawn(move |s| async move { s.send(q, Atom("b")).await })
            .await;
        cx.spawn(move |s| async move {
            s.send(q, Atom("c")).await;
            s.send(q, Atom("a")).await;
        })
        .await;
    });
}

// ---- register_again_2 ---------------------------------------------------------------

/// The bank registers as `bank` and waits for `money`; a customer sends `money` to `bank`
/// (a `badarg` is caught); God waits for one message; the robber unregisters `bank`,
/// registers itself under it and takes `money` if it is already there (`after 0`).
fn register_again_2(sim: &mut Sim, obs: Obs) {
    sim.spawn("Bank", move |cx| async move {
        cx.register("bank").await.expect("the name is free");
        let ob = obs.clone();
        cx.spawn(move |c| async move {
            let sent = c.send_named("bank", Atom("money")).await;
            note(
                &ob,
                "Customer",
                if sent.is_ok() {
                    "sent money"
                } else {
                    "badarg (caught)"
                },
            );
        })
        .await;
        let ob = obs.clone();
        let god = cx
            .spawn(move |g| async move {
                note(&ob, "God", "blocked");
                let m = atom_of(&g.recv().await);
                note(&ob, "God", format!("got {m}"));
            })
            .await;
        let ob = obs.clone();
        cx.spawn(move |r| async move {
            note(&ob, "Robber", "blocked");
            if !r.unregister("bank").await {
                note(&ob, "Robber", "crashed badarg (unregister)");
                return crash("badarg");
            }
            if r.register("bank").await.is_err() {
                note(&ob, "Robber", "crashed badarg (register)");
                return crash("badarg");
            }
            match r.recv_timeout(atom("money"), 0).await {
                Some(_) => {
                    r.send(god, Atom("robber_got_money")).await;
                    note(&ob, "Robber", "got money");
                }
                None => note(&ob, "Robber", "robbery_failed"),
            }
            ExitReason::Normal
        })
        .await;
        note(&obs, "Bank", "blocked");
        cx.recv_match(atom("money")).await;
        cx.send(god, Atom("bank_got_money")).await;
        note(&obs, "Bank", "got money");
    });
}

// ---- same_messages_2, _3, _4 --------------------------------------------------------

/// Two children each send `unlock` and then `a` (or `b`); P takes an `unlock`, then
/// throws the first `a` or `b`.
fn same_messages_2(sim: &mut Sim, obs: Obs) {
    sim.spawn("P", move |cx| async move {
        let me = cx.me();
        for x in ["a", "b"] {
            cx.spawn(move |c| async move {
                c.send(me, Atom("unlock")).await;
                c.send(me, Atom(x)).await;
            })
            .await;
        }
        note(&obs, "P", "blocked");
        cx.recv_match(atom("unlock")).await;
        let m = atom_of(
            &cx.recv_match(Matcher::when(|e| {
                matches!(e.peek::<Atom>(), Some(Atom("a" | "b")))
            }))
            .await,
        );
        note(&obs, "P", format!("threw {m}"));
        crash(&format!("{{nocatch,{m}}}"))
    });
}

/// Two children each send `a` (or `b`) and then `unlock`; P takes an `unlock`, then exits
/// with the first message that is not `unlock`.
fn same_messages_3(sim: &mut Sim, obs: Obs) {
    sim.spawn("P", move |cx| async move {
        let me = cx.me();
        for x in ["a", "b"] {
            cx.spawn(move |c| async move {
                c.send(me, Atom(x)).await;
                c.send(me, Atom("unlock")).await;
            })
            .await;
        }
        note(&obs, "P", "blocked");
        cx.recv_match(atom("unlock")).await;
        let m = atom_of(
            &cx.recv_match(Matcher::when(|e| {
                e.peek::<Atom>().is_some_and(|a| a.0 != "unlock")
            }))
            .await,
        );
        note(&obs, "P", format!("exited {m}"));
        crash(m)
    });
}

/// P owns a table; one child inserts `{foo}` and sends `unlock`, the other only sends
/// `unlock`; P takes an `unlock` and requires `foo` in the table. The table dies with P:
/// an insert after that is a `badarg`.
fn same_messages_4(sim: &mut Sim, obs: Obs) {
    sim.spawn("P", move |cx| async move {
        let t = cx
            .table_new_named::<&'static str, ()>("table")
            .await
            .expect("the only table");
        let me = cx.me();
        for (who, inserts) in [("Inserter", true), ("Other", false)] {
            let ob = obs.clone();
            cx.spawn(move |c| async move {
                if inserts && c.table_insert(t, "foo", ()).await.is_err() {
                    note(&ob, who, "crashed badarg (insert)");
                    return crash("badarg");
                }
                c.send(me, Atom("unlock")).await;
                note(&ob, who, "sent unlock");
                ExitReason::Normal
            })
            .await;
        }
        note(&obs, "P", "blocked");
        cx.recv_match(atom("unlock")).await;
        let found = cx.table_get(t, &"foo").await.expect("P owns it").is_some();
        if !found {
            note(&obs, "P", "crashed {badmatch,false}");
            return crash("{badmatch,false}");
        }
        note(&obs, "P", "found foo");
        ExitReason::Normal
    });
}

// ---- after_test ---------------------------------------------------------------------

/// `allow_but_wait(N, M)`: receives N messages, letting at most M of its receives time
/// out (`after 0`), then `crash_if_mail()`: throws a message still there. `Err` is the
/// thrown atom.
async fn allow_but_wait(cx: &Cx, mut n: u32, mut m: u32) -> Result<(), &'static str> {
    while n > 0 {
        if m > 0 {
            match cx.recv_timeout(Matcher::Any, 0).await {
                Some(_) => n -= 1,
                None => m -= 1,
            }
        } else {
            cx.recv().await;
            n -= 1;
        }
    }
    match cx.recv_timeout(Matcher::Any, 0).await {
        Some(e) => Err(atom_of(&e)),
        None => Ok(()),
    }
}

/// P checks its mailbox is empty, spawns a sender of `ok1`, takes it, spawns two senders
/// of `ok2`, takes both, and then waits for `deadlock`, which never comes.
fn after_test(sim: &mut Sim, obs: Obs) {
    sim.spawn("P", move |cx| async move {
        let me = cx.me();
        let steps: [(u32, &[&'static str]); 3] = [(0, &[]), (1, &["ok1"]), (2, &["ok2", "ok2"])];
        for (n, senders) in steps {
            for &m in senders {
                cx.spawn(move |s| async move { s.send(me, Atom(m)).await })
                    .await;
            }
            if let Err(x) = allow_but_wait(&cx, n, 2).await {
                note(&obs, "P", format!("threw {x}"));
                return crash(&format!("{{nocatch,{x}}}"));
            }
        }
        note(&obs, "P", "blocked in receive deadlock");
        cx.recv_match(atom("deadlock")).await;
        ExitReason::Normal
    });
}

// ---- depend_1, _3, _5 ---------------------------------------------------------------

/// The shape of the depend_* programs: a table with x, y, z = 0; writers of z = 1, x = 1
/// and y (`y_writes`, in order); two readers; the owner blocks.
fn depend(
    sim: &mut Sim,
    obs: Obs,
    y_writes: &'static [i64],
    r1: fn(Cx, Tab, Obs) -> Boxed<()>,
    r2: fn(Cx, Tab, Obs) -> Boxed<()>,
) {
    sim.spawn("P", move |cx| async move {
        let t = table(&cx, "table", &[("x", 0), ("y", 0), ("z", 0)]).await;
        cx.spawn(move |w| async move { write(&w, t, "z", 1).await })
            .await;
        cx.spawn(move |w| async move { write(&w, t, "x", 1).await })
            .await;
        cx.spawn(move |w| async move {
            for v in y_writes {
                write(&w, t, "y", *v).await;
            }
        })
        .await;
        let ob = obs.clone();
        cx.spawn(move |r| r1(r, t, ob)).await;
        let ob = obs.clone();
        cx.spawn(move |r| r2(r, t, ob)).await;
        block(&cx).await;
    });
}

/// depend_1's first reader: x; if 1, y; if 1, z.
fn d1_reader_1(cx: Cx, t: Tab, obs: Obs) -> Boxed<()> {
    Box::pin(async move {
        let x = read(&cx, t, "x").await;
        let seen = if x != 1 {
            format!("x={x}")
        } else {
            let y = read(&cx, t, "y").await;
            if y != 1 {
                format!("x=1 y={y}")
            } else {
                format!("x=1 y=1 z={}", read(&cx, t, "z").await)
            }
        };
        note(&obs, "R1", seen);
    })
}

/// depend_1's second reader: y; if 1, z.
fn d1_reader_2(cx: Cx, t: Tab, obs: Obs) -> Boxed<()> {
    Box::pin(async move {
        let y = read(&cx, t, "y").await;
        let seen = if y != 1 {
            format!("y={y}")
        } else {
            format!("y=1 z={}", read(&cx, t, "z").await)
        };
        note(&obs, "R2", seen);
    })
}

/// depend_3's and depend_5's first reader: x; if 1, y; unless 0, z.
fn d3_reader_1(cx: Cx, t: Tab, obs: Obs) -> Boxed<()> {
    Box::pin(async move {
        let x = read(&cx, t, "x").await;
        let seen = if x == 0 {
            "x=0".to_string()
        } else {
            let y = read(&cx, t, "y").await;
            if y == 0 {
                format!("x={x} y=0")
            } else {
                format!("x={x} y={y} z={}", read(&cx, t, "z").await)
            }
        };
        note(&obs, "R1", seen);
    })
}

/// depend_3's second reader: y; unless 0, z.
fn d3_reader_2(cx: Cx, t: Tab, obs: Obs) -> Boxed<()> {
    Box::pin(async move {
        let y = read(&cx, t, "y").await;
        let seen = if y == 0 {
            "y=0".to_string()
        } else {
            format!("y={y} z={}", read(&cx, t, "z").await)
        };
        note(&obs, "R2", seen);
    })
}

/// depend_5's second reader: x.
fn d5_reader_2(cx: Cx, t: Tab, obs: Obs) -> Boxed<()> {
    Box::pin(async move {
        let x = read(&cx, t, "x").await;
        note(&obs, "R2", format!("x={x}"));
    })
}

fn depend_1(sim: &mut Sim, obs: Obs) {
    depend(sim, obs, &[1], d1_reader_1, d1_reader_2)
}

fn depend_3(sim: &mut Sim, obs: Obs) {
    depend(sim, obs, &[1, 2], d3_reader_1, d3_reader_2)
}

fn depend_5(sim: &mut Sim, obs: Obs) {
    depend(sim, obs, &[1, 2], d3_reader_1, d5_reader_2)
}

// ---- readers_rrw, readers_rwr, readers ----------------------------------------------

/// x, y = 0; readers read y then x, the writer reads y then writes x = 1; spawned in
/// `order` (`r` a reader, `w` the writer).
fn readers_order(sim: &mut Sim, obs: Obs, order: [char; 3]) {
    sim.spawn("P", move |cx| async move {
        let t = table(&cx, "table", &[("x", 0), ("y", 0)]).await;
        let mut readers = ["R1", "R2"].into_iter();
        for kind in order {
            let ob = obs.clone();
            if kind == 'w' {
                cx.spawn(move |w| async move {
                    let y = read(&w, t, "y").await;
                    write(&w, t, "x", 1).await;
                    note(&ob, "W", format!("y={y}"));
                })
                .await;
            } else {
                let me = readers.next().expect("two readers");
                cx.spawn(move |r| async move {
                    let y = read(&r, t, "y").await;
                    let x = read(&r, t, "x").await;
                    note(&ob, me, format!("y={y} x={x}"));
                })
                .await;
            }
        }
        block(&cx).await;
    });
}

fn readers_rrw(sim: &mut Sim, obs: Obs) {
    readers_order(sim, obs, ['r', 'r', 'w'])
}

fn readers_rwr(sim: &mut Sim, obs: Obs) {
    readers_order(sim, obs, ['r', 'w', 'r'])
}

/// readers(6): a writer of x = 42, then six readers, each looking up its own (absent) key
/// I and then x.
fn readers(sim: &mut Sim, obs: Obs) {
    const NAMES: [&str; 6] = ["R1", "R2", "R3", "R4", "R5", "R6"];
    sim.spawn("P", move |cx| async move {
        let t = cx
            .table_new_named::<i64, i64>("tab")
            .await
            .expect("the only table");
        cx.spawn(move |w| async move {
            w.table_insert(t, 0, 42).await.expect("P blocks forever");
        })
        .await;
        for (i, who) in NAMES.into_iter().enumerate() {
            let ob = obs.clone();
            cx.spawn(move |r| async move {
                let own = r.table_get(t, &(i as i64 + 1)).await.expect("P lives");
                let x = r.table_get(t, &0).await.expect("P lives");
                let show = |v: Option<i64>| v.map_or("[]".to_string(), |v| v.to_string());
                note(&ob, who, format!("{}={} x={}", i + 1, show(own), show(x)));
            })
            .await;
        }
        block(&cx).await;
    });
}

// ---- etsi_2, POPL_optimal_example ---------------------------------------------------

/// x, y = 0; P1 writes x = 1; P2 writes y = 1 and reads x; P3 reads x and, if 1, y. All
/// block afterwards.
fn etsi_2(sim: &mut Sim, obs: Obs) {
    sim.spawn("P", move |cx| async move {
        let t = table(&cx, "table", &[("x", 0), ("y", 0)]).await;
        cx.spawn(move |p| async move {
            write(&p, t, "x", 1).await;
            block(&p).await;
        })
        .await;
        let ob = obs.clone();
        cx.spawn(move |p| async move {
            write(&p, t, "y", 1).await;
            let x = read(&p, t, "x").await;
            note(&ob, "P2", format!("x={x}"));
            block(&p).await;
        })
        .await;
        let ob = obs.clone();
        cx.spawn(move |p| async move {
            let x = read(&p, t, "x").await;
            let seen = if x == 1 {
                format!("x=1 y={}", read(&p, t, "y").await)
            } else {
                format!("x={x}")
            };
            note(&ob, "P3", seen);
            block(&p).await;
        })
        .await;
        block(&cx).await;
    });
}

/// x, y, z = 0; P1 writes x = 1; P2 writes y = 1; P3 reads y and, if 0, writes z = 1; P4
/// reads z and, if 1, reads y and, if 0, writes x = 2.
fn popl_optimal_example(sim: &mut Sim, obs: Obs) {
    sim.spawn("P", move |cx| async move {
        let t = table(&cx, "table", &[("x", 0), ("y", 0), ("z", 0)]).await;
        cx.spawn(move |p| async move { write(&p, t, "x", 1).await })
            .await;
        cx.spawn(move |p| async move { write(&p, t, "y", 1).await })
            .await;
        let ob = obs.clone();
        cx.spawn(move |p| async move {
            let y = read(&p, t, "y").await;
            if y == 0 {
                write(&p, t, "z", 1).await;
            }
            note(&ob, "P3", format!("y={y}"));
        })
        .await;
        let ob = obs.clone();
        cx.spawn(move |p| async move {
            let z = read(&p, t, "z").await;
            let seen = if z == 1 {
                let y = read(&p, t, "y").await;
                if y == 0 {
                    write(&p, t, "x", 2).await;
                }
                format!("z=1 y={y}")
            } else {
                format!("z={z}")
            };
            note(&ob, "P4", seen);
        })
        .await;
        block(&cx).await;
    });
}

// ---- many_kill_2 --------------------------------------------------------------------

/// P owns a table and monitors a process that blocks forever; one child inserts `{foo}`
/// and sends it `exit(not_normal)`, the other only sends the exit. On the `DOWN`, P
/// requires `foo` in the table; the table dies with P.
fn many_kill_2(sim: &mut Sim, obs: Obs) {
    sim.spawn("P", move |cx| async move {
        let t = cx
            .table_new_named::<&'static str, ()>("table")
            .await
            .expect("the only table");
        let (victim, mref) = cx.spawn_monitor(|v| async move { block(&v).await }).await;
        for (who, inserts) in [("K1", true), ("K2", false)] {
            let ob = obs.clone();
            cx.spawn(move |k| async move {
                if inserts && k.table_insert(t, "foo", ()).await.is_err() {
                    note(&ob, who, "crashed badarg (insert)");
                    return crash("badarg");
                }
                k.exit_signal(victim, crash("not_normal")).await;
                note(&ob, who, "sent exit");
                ExitReason::Normal
            })
            .await;
        }
        note(&obs, "P", "blocked");
        cx.recv_match(down(mref, victim, crash("not_normal"))).await;
        if cx.table_get(t, &"foo").await.expect("P owns it").is_none() {
            note(&obs, "P", "crashed {badmatch,false}");
            return crash("{badmatch,false}");
        }
        note(&obs, "P", "found foo");
        ExitReason::Normal
    });
}

// ---- precise_demonitor --------------------------------------------------------------

/// The four tests of precise_demonitor share their start: spawn_monitor a process that
/// exits at once, then `receive {'DOWN', ...} -> got_monitor after 0 -> <rest> end`.
fn demonitor_test(sim: &mut Sim, obs: Obs, rest: fn(Cx, Pid, Ref, Obs) -> Boxed<ExitReason>) {
    sim.spawn("P", move |cx| async move {
        let (p1, mref) = cx.spawn_monitor(|_| async {}).await;
        if cx
            .recv_timeout(down(mref, p1, ExitReason::Normal), 0)
            .await
            .is_some()
        {
            note(&obs, "P", "got_monitor");
            return ExitReason::Normal;
        }
        rest(cx, p1, mref, obs).await
    });
}

/// `receive {'DOWN', ...} -> error(impossible) after 0 -> ok end`.
async fn no_more_down(cx: &Cx, p1: Pid, mref: Ref, obs: &Obs) -> ExitReason {
    if cx
        .recv_timeout(down(mref, p1, ExitReason::Normal), 0)
        .await
        .is_some()
    {
        note(obs, "P", "crashed impossible");
        return crash("impossible");
    }
    ExitReason::Normal
}

/// `receive {'DOWN', ...} -> monitor_already_delivered after 0 -> monitor_ignored_upon_delivery end`.
async fn delivered_or_ignored(cx: &Cx, p1: Pid, mref: Ref, obs: &Obs) {
    let delivered = cx
        .recv_timeout(down(mref, p1, ExitReason::Normal), 0)
        .await
        .is_some();
    note(
        obs,
        "P",
        if delivered {
            "monitor_already_delivered"
        } else {
            "monitor_ignored_upon_delivery"
        },
    );
}

fn demonitor_empty(sim: &mut Sim, obs: Obs) {
    demonitor_test(sim, obs, |cx, p1, mref, obs| {
        Box::pin(async move {
            // `true = demonitor(Monitor, [])`: demonitor/2 without `info` returns true.
            cx.demonitor(mref, false).await;
            delivered_or_ignored(&cx, p1, mref, &obs).await;
            no_more_down(&cx, p1, mref, &obs).await
        })
    })
}

fn demonitor_flush(sim: &mut Sim, obs: Obs) {
    demonitor_test(sim, obs, |cx, p1, mref, obs| {
        Box::pin(async move {
            cx.demonitor(mref, true).await;
            note(&obs, "P", "monitor_removed_or_ignored_or_flushed");
            no_more_down(&cx, p1, mref, &obs).await
        })
    })
}

fn demonitor_info(sim: &mut Sim, obs: Obs) {
    demonitor_test(sim, obs, |cx, p1, mref, obs| {
        Box::pin(async move {
            // `demonitor(Monitor, [info])`: true when the monitor was found and removed.
            if cx.demonitor(mref, false).await {
                note(&obs, "P", "monitor_removed_before_exit");
            } else {
                if cx.is_alive(p1).await {
                    note(&obs, "P", "crashed {badmatch,true}");
                    return crash("{badmatch,true}");
                }
                delivered_or_ignored(&cx, p1, mref, &obs).await;
            }
            no_more_down(&cx, p1, mref, &obs).await
        })
    })
}

fn demonitor_flush_info(sim: &mut Sim, obs: Obs) {
    demonitor_test(sim, obs, |cx, p1, mref, obs| {
        Box::pin(async move {
            // `demonitor(Monitor, [flush, info])`: true when the monitor was found and
            // removed, false when its DOWN had to be flushed.
            let found = cx.demonitor(mref, true).await;
            note(
                &obs,
                "P",
                if found {
                    "monitor_flushed"
                } else {
                    "monitor_removed_or_ignored"
                },
            );
            no_more_down(&cx, p1, mref, &obs).await
        })
    })
}

// ---- no_observers, proxy ------------------------------------------------------------

/// Two children each send their pid to P; P receives the first child's pid, then the
/// second's.
fn no_observers(sim: &mut Sim, obs: Obs) {
    sim.spawn("P", move |cx| async move {
        let me = cx.me();
        let mut kids = Vec::new();
        for _ in 0..2 {
            kids.push(
                cx.spawn(move |c| async move { c.send(me, c.me()).await })
                    .await,
            );
        }
        note(&obs, "P", "blocked");
        for k in &kids {
            let k = *k;
            cx.recv_match(Matcher::when(move |e| e.peek::<Pid>() == Some(&k)))
                .await;
        }
        note(&obs, "P", "got P1, then P2");
    });
}

/// Proxies in a chain of 100 ending at C, each forwarding one message; A sends `hello`
/// to C and `world` to the chain's head; C receives two messages.
fn proxy(sim: &mut Sim, obs: Obs) {
    sim.spawn("C", move |cx| async move {
        let mut next = cx.me();
        let n: usize = std::env::var("PROXY_N")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100);
        for _ in 0..n {
            let to = next;
            next = cx
                .spawn(move |p| async move {
                    let m = p.recv().await;
                    if let Ok(a) = m.downcast::<Atom>() {
                        p.send(to, a).await;
                    }
                })
                .await;
        }
        let (c, b) = (cx.me(), next);
        cx.spawn(move |a| async move {
            a.send(c, Atom("hello")).await;
            a.send(b, Atom("world")).await;
        })
        .await;
        note(&obs, "C", "blocked");
        let m1 = atom_of(&cx.recv().await);
        let m2 = atom_of(&cx.recv().await);
        note(&obs, "C", format!("{{{m1},{m2}}}"));
    });
}
