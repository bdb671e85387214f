//! The Foundation as an fsim system: its scenario parameters (flaws, clients, tests), the
//! world it builds, and its registration with the command line.
//!
//! A Foundation scenario file gives, at its top level:
//!
//! ```toml
//! flaws = ["volatile_subscriptions"]    # report flaws switched on (none: the fixed design)
//! settle_ms = 1000                       # how long timers run after the workload
//!
//! [[client]]
//! name = "reader"
//! ops = ["get ai.sampling_rate", "update dev.debug_mode 1"]
//! repeat = 1
//! draw = ["get_all", "reset"]            # then `draws` operations drawn from the tape
//! draws = 3
//!
//! [[test]]
//! name = "resets"
//! module = "ConfigTest"
//! async = true
//! ops = ["setup", "reset", "check_fresh"]
//! ```

use crate::ops::Op;
use crate::{Flaw, Flaws, Observer, ServiceContext, checks, suite};
use fsim::sim::Sim;
use fsim::system::{ParamError, System, SystemDef, Systems};
use serde::Deserialize;
use toml::Spanned;

/// One workload process.
#[derive(Clone, Debug)]
pub struct Client {
    /// Its name (its label is `client:<name>`).
    pub name: String,
    /// What it does, `repeat` times over.
    pub ops: Vec<Op>,
    /// How often.
    pub repeat: u32,
    /// Operations to draw from, after the fixed ones: each one a choice on the tape.
    pub draw: Vec<Op>,
    /// How many to draw.
    pub draws: u32,
}

/// One ExUnit test.
#[derive(Clone, Debug)]
pub struct TestSpec {
    /// Its name.
    pub name: String,
    /// Its module (tests of one module run one after another).
    pub module: String,
    /// The module is `async: true`.
    pub async_: bool,
    /// Its setup and body.
    pub ops: Vec<Op>,
}

/// The Foundation with its flaws and its workload: the suite runner starts the
/// application, runs the clients and the ExUnit tests, lets timers settle, and stops the
/// application.
#[derive(Clone, Debug)]
pub struct Foundation {
    /// The flaws switched on.
    pub flaws: Flaws,
    /// Client processes.
    pub clients: Vec<Client>,
    /// Tests.
    pub tests: Vec<TestSpec>,
    /// How long the suite lets timers run after the workload, before stopping the app.
    pub settle_ms: u64,
}

impl System for Foundation {
    fn build(&self, sim: &mut Sim) {
        let app = ServiceContext::new("app", self.flaws.clone(), Observer::new());
        // Invariants (the catalogue's and anyone's) find the services and the observer
        // log here: `world.get::<ServiceContext>()`.
        sim.share(app.clone());
        let plan = suite::Plan::new(self, app);
        sim.spawn("ex_unit", move |cx| suite::run(cx, plan));
    }

    fn describe(&self) -> String {
        let flaws: Vec<&str> = self.flaws.iter().map(Flaw::name).collect();
        if flaws.is_empty() {
            "none (fixed design)".into()
        } else {
            flaws.join(", ")
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(default)]
    flaws: Vec<Spanned<String>>,
    #[serde(default = "settle_default")]
    settle_ms: u64,
    #[serde(default)]
    client: Vec<RawClient>,
    #[serde(default)]
    test: Vec<RawTest>,
}

fn settle_default() -> u64 {
    1_000
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    name: String,
    #[serde(default)]
    ops: Vec<Spanned<String>>,
    #[serde(default = "one")]
    repeat: u32,
    #[serde(default)]
    draw: Vec<Spanned<String>>,
    #[serde(default)]
    draws: u32,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    name: String,
    #[serde(default)]
    module: Option<String>,
    #[serde(default, rename = "async")]
    async_: bool,
    ops: Vec<Spanned<String>>,
}

fn at(span: std::ops::Range<usize>, field: String, message: String) -> ParamError {
    ParamError {
        field,
        message,
        span: Some(span),
    }
}

fn parse_ops(ops: &[Spanned<String>], field: &str, in_test: bool) -> Result<Vec<Op>, ParamError> {
    ops.iter()
        .enumerate()
        .map(|(i, o)| {
            let op = o
                .get_ref()
                .parse::<Op>()
                .map_err(|m| at(o.span(), format!("{field}[{i}]"), m))?;
            if op == Op::Setup && !in_test {
                return Err(at(
                    o.span(),
                    format!("{field}[{i}]"),
                    "`setup` is only valid in a test".into(),
                ));
            }
            Ok(op)
        })
        .collect()
}

fn configure(p: Params) -> Result<Foundation, ParamError> {
    let flaws = p
        .flaws
        .iter()
        .enumerate()
        .map(|(i, f)| {
            f.get_ref()
                .parse::<Flaw>()
                .map_err(|m| at(f.span(), format!("flaws[{i}]"), m))
        })
        .collect::<Result<Flaws, _>>()?;
    let clients = p
        .client
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let field = format!("client[{i}]");
            let draw = parse_ops(&c.draw, &format!("{field}.draw"), false)?;
            if c.draws > 0 && draw.is_empty() {
                return Err(ParamError::new(
                    format!("{field}.draws"),
                    "`draws` needs a non-empty `draw` list",
                ));
            }
            Ok(Client {
                name: c.name.clone(),
                ops: parse_ops(&c.ops, &format!("{field}.ops"), false)?,
                repeat: c.repeat,
                draw,
                draws: c.draws,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let tests = p
        .test
        .iter()
        .enumerate()
        .map(|(i, t)| {
            Ok(TestSpec {
                name: t.name.clone(),
                module: t
                    .module
                    .clone()
                    .unwrap_or_else(|| format!("{}Test", t.name)),
                async_: t.async_,
                ops: parse_ops(&t.ops, &format!("test[{i}].ops"), true)?,
            })
        })
        .collect::<Result<Vec<_>, ParamError>>()?;
    if clients.is_empty() && tests.is_empty() {
        return Err(ParamError::new(
            "client",
            "a Foundation scenario needs at least one [[client]] or [[test]]",
        ));
    }
    Ok(Foundation {
        flaws,
        clients,
        tests,
        settle_ms: p.settle_ms,
    })
}

/// The Foundation's definition for the command line: `system = "foundation"`, its
/// parameters, and the 13 invariants of the report ([`checks::CATALOGUE`]).
pub fn system() -> SystemDef {
    checks::CATALOGUE.iter().fold(
        SystemDef::new(
            "foundation",
            "the ElixirScope Foundation layer of the seed report, with its flaws as switches",
            configure,
        ),
        |def, (name, _, doc)| def.invariant(doc, move || checks::named(name)),
    )
}

/// The systems of the `fsim` binary: the Foundation.
pub fn systems() -> Systems {
    Systems::new().with(system())
}
