//! The README's first example, as written: this file holds its text between the markers,
//! and a test checks that the README still says exactly that.

// README: begin
use fsim::otp::gen_server::{CallReply, Caller, GenServer, Server};
use fsim::sim::*;

struct Counter(u64);
impl GenServer for Counter {
    type Call = ();
    type Reply = u64;
    type Cast = ();
    async fn handle_call(&mut self, _cx: &Cx, _: (), _from: Caller) -> CallReply<u64> {
        self.0 += 1;
        CallReply::Reply(self.0)
    }
}

#[test]
fn counter_counts() {
    fsim::test(|sim| {
        sim.spawn("test", |cx| async move {
            let c = Server::start_link(&cx, Counter(0), Default::default())
                .await
                .unwrap();
            let n = c.call(&cx, ()).await; // a request of the wrong type does not compile
            assert_eq!(n, 1);
        });
    })
    .runs(1_000) // or FSIM_RUNS; .strategy(..), .faults(..), .seed(..), .jobs(..)
    .check(); // or .check_exhaustive(bound), or .check_all_schedules()
}
// README: end

#[test]
fn the_readme_example_is_this_file() {
    let readme = include_str!("../README.md");
    let at = readme
        .find("## Testing your own actors")
        .expect("the README's section");
    let block = readme[at..]
        .split("```rust\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a rust block");
    let this = include_str!("readme.rs");
    let begin = this.find("// README: begin\n").unwrap() + "// README: begin\n".len();
    let end = this.find("// README: end").unwrap();
    assert_eq!(
        &this[begin..end],
        block,
        "README.md and tests/readme.rs differ"
    );
}
