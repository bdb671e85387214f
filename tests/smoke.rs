mod common;
use common::*;
use fsim::otp::gen_server::{self, CallReply, Caller, GenServer, StartOpts};
use fsim::otp::supervisor::{self, ChildSpec, Strategy, SupSpec};
use fsim::sim::*;

struct Counter(u64);
impl GenServer for Counter {
    type Call = &'static str;
    type Reply = u64;
    type Cast = ();
    async fn handle_call(&mut self, _cx: &Cx, req: &'static str, _from: Caller) -> CallReply<u64> {
        if req == "inc" {
            self.0 += 1;
        }
        CallReply::Reply(self.0)
    }
}

#[test]
fn gen_server_call_and_supervisor_restart() {
    for seed in 0..200 {
        let (_r, log) = run_with(seed, |sim, log| {
            sim.spawn("test", move |cx| async move {
                let spec = SupSpec::new(
                    Strategy::OneForOne,
                    vec![ChildSpec::server("c", Some("counter".into()), || {
                        Counter(0)
                    })],
                );
                let sup = supervisor::start_link(&cx, spec, None).await.unwrap();
                let n: u64 = gen_server::call(&cx, "counter", "inc", None).await;
                log.push(format!("n={n}"));
                let c1 = cx.whereis("counter").await.unwrap();
                cx.exit_signal(c1, ExitReason::Kill).await;
                // wait until a new counter is registered
                loop {
                    match cx.whereis("counter").await {
                        Some(p) if p != c1 => break,
                        _ => {}
                    }
                }
                let n: u64 = gen_server::call(&cx, "counter", "get", None).await;
                log.push(format!("after restart n={n}"));
                let kids = supervisor::which_children(&cx, sup).await;
                log.push(format!("kids={}", kids.len()));
                let _ = StartOpts::default();
            });
        });
        assert_eq!(
            log.lines(),
            vec!["n=1", "after restart n=0", "kids=1"],
            "seed {seed}"
        );
    }
}
