//! The system under test: a Rust port of the ElixirScope "Foundation" layer
//! (`seed-report.md`) on the OTP layer.
//!
//! Services: [`config`] (ConfigServer), [`events`] (EventStore), [`telemetry`]
//! (TelemetryService), a Task.Supervisor, [`degradation`] (GracefulDegradation), and
//! [`app`] (the Foundation supervisor and application). Callers reach them through a
//! [`ServiceContext`] passed explicitly.
//!
//! Each concurrency flaw of the report is a [`Flaw`] switch. With no switch on, the
//! services follow the report's recommended design (per-namespace Registry names, a
//! ServiceContext, `rest_for_one`, supervised tasks, bounded stores, subscriptions that
//! survive a ConfigServer restart); a switch restores exactly the report-era code path for
//! that flaw and nothing else.
//!
//! Business logic is in plain functions over the state; the GenServer callbacks are thin.
//!
//! The Foundation is an fsim system like any user's: it uses only fsim's public API, and
//! [`system()`] registers it with the command line (this crate's `fsim` binary is
//! `fsim::cli::main(fsim_foundation::systems())`). Its invariants are in [`checks`], its
//! scenario operations in [`ops`], and its scenarios in `sim-scenarios/`.

#![deny(missing_docs)]

pub mod app;
pub mod checks;
pub mod config;
pub mod degradation;
pub mod events;
pub mod observe;
pub mod ops;
mod suite;
pub mod system;
pub mod telemetry;

pub use system::{Client, Foundation, TestSpec, system, systems};

use fsim::otp::{ServerRef, gen_server};
use fsim::sim::{Name, Pid};
pub use observe::{Observer, Phase};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt::{self, Write as _};
use std::rc::Rc;
use std::str::FromStr;

/// One report flaw (REPORT_RACES.md), as a switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flaw {
    /// F1: one global name per service (`name: __MODULE__`).
    GlobalNames,
    /// F2: tests start and stop the processes the application's supervisor manages.
    TestsTouchSupervised,
    /// F3: `alive?`/`whereis` then act, and API calls that exit the caller.
    AliveCheckThenAct,
    /// F4: tests share the application's instances.
    SharedState,
    /// F4: `reset/0` replaces the state without demonitoring the subscribers.
    ResetWithoutDemonitor,
    /// F5: a subscription lives only in the ConfigServer's state; subscribers never
    /// learn of its restart.
    VolatileSubscriptions,
    /// F6: GracefulDegradation's `Task.start_link` retry loop and caller-owned table.
    UnsupervisedRetry,
    /// F7: `one_for_one` for services that depend on each other.
    OneForOneDeps,
    /// F8: dependents read the ConfigServer before it exists and fall back to defaults;
    /// the API starts a missing service lazily from the caller.
    StartupOrder,
    /// F9: no caps on events, metrics and retention.
    UnboundedGrowth,
}

impl Flaw {
    /// Every flaw, in report order.
    pub const ALL: [Flaw; 10] = [
        Flaw::GlobalNames,
        Flaw::TestsTouchSupervised,
        Flaw::AliveCheckThenAct,
        Flaw::SharedState,
        Flaw::ResetWithoutDemonitor,
        Flaw::VolatileSubscriptions,
        Flaw::UnsupervisedRetry,
        Flaw::OneForOneDeps,
        Flaw::StartupOrder,
        Flaw::UnboundedGrowth,
    ];

    /// The switch's name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Flaw::GlobalNames => "global_names",
            Flaw::TestsTouchSupervised => "tests_touch_supervised",
            Flaw::AliveCheckThenAct => "alive_check_then_act",
            Flaw::SharedState => "shared_state",
            Flaw::ResetWithoutDemonitor => "reset_without_demonitor",
            Flaw::VolatileSubscriptions => "volatile_subscriptions",
            Flaw::UnsupervisedRetry => "unsupervised_retry",
            Flaw::OneForOneDeps => "one_for_one_deps",
            Flaw::StartupOrder => "startup_order",
            Flaw::UnboundedGrowth => "unbounded_growth",
        }
    }
}

impl fmt::Display for Flaw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Flaw {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Flaw::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let known: Vec<_> = Flaw::ALL.iter().map(|f| f.name()).collect();
                format!("unknown flaw `{s}` (known: {})", known.join(", "))
            })
    }
}

/// The set of switches that are on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flaws(BTreeSet<Flaw>);

impl Flaws {
    /// No flaw: the recommended design.
    pub fn none() -> Self {
        Self::default()
    }

    /// Is `f` on?
    pub fn has(&self, f: Flaw) -> bool {
        self.0.contains(&f)
    }

    /// The flaws that are on, in report order.
    pub fn iter(&self) -> impl Iterator<Item = Flaw> + '_ {
        self.0.iter().copied()
    }
}

impl FromIterator<Flaw> for Flaws {
    fn from_iter<I: IntoIterator<Item = Flaw>>(iter: I) -> Self {
        Flaws(iter.into_iter().collect())
    }
}

/// Process labels of the services (what fault menus and invariants name).
pub mod label {
    /// ConfigServer.
    pub const CONFIG: &str = "config_server";
    /// EventStore.
    pub const EVENTS: &str = "event_store";
    /// TelemetryService.
    pub const TELEMETRY: &str = "telemetry_service";
    /// The Task.Supervisor.
    pub const TASKS: &str = "task_supervisor";
    /// GracefulDegradation's supervised retry server (fixed design).
    pub const DEGRADATION: &str = "graceful_degradation";
    /// A GracefulDegradation retry task (report-era design).
    pub const RETRY_TASK: &str = "retry_task";
    /// The Foundation supervisor.
    pub const SUPERVISOR: &str = "foundation_sup";
    /// The application master.
    pub const APP: &str = "foundation_app";
    /// The service services depend on, in start order.
    pub const SERVICES: [&str; 4] = [CONFIG, EVENTS, TELEMETRY, TASKS];
}

/// The services a caller talks to, passed explicitly (the report's ServiceContext), plus
/// the switches the code runs with.
#[derive(Clone, Debug)]
pub struct ServiceContext {
    namespace: String,
    flaws: Flaws,
    /// Where the code's observations go (a test's telemetry handler, not part of the
    /// simulated system: writing to it takes no step).
    pub observer: Observer,
    /// The names its calls use, made once: every call names its service.
    names: Rc<Names>,
}

/// A context's registry, supervisor and service names.
#[derive(Debug)]
struct Names {
    registry: Option<Name>,
    supervisor: Name,
    services: [Name; label::SERVICES.len()],
}

impl ServiceContext {
    /// A context for `namespace`.
    pub fn new(namespace: &str, flaws: Flaws, observer: Observer) -> Self {
        let names = Names {
            registry: (!flaws.has(Flaw::GlobalNames)).then(|| registry_name(namespace).into()),
            supervisor: supervisor_name(namespace).into(),
            services: label::SERVICES.map(Name::from),
        };
        ServiceContext {
            namespace: namespace.to_string(),
            flaws,
            observer,
            names: Rc::new(names),
        }
    }

    /// `"app"` for the application's tree; a unique name per test instance.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The flaws that are on.
    pub fn flaws(&self) -> &Flaws {
        &self.flaws
    }

    /// Is `f` on?
    pub fn has(&self, f: Flaw) -> bool {
        self.flaws.has(f)
    }

    /// The namespace's Registry (fixed design) — `None` with global names.
    pub fn registry(&self) -> Option<&str> {
        self.names.registry.as_deref()
    }

    /// How to reach the service labelled `service`: its global name (F1) or
    /// `{:via, Registry, {namespace_registry, service}}`.
    pub fn name(&self, service: &str) -> ServerRef {
        let key = match self.names.services.iter().find(|s| &***s == service) {
            Some(s) => Name::clone(s),
            None => service.into(),
        };
        match &self.names.registry {
            None => ServerRef::Name(key),
            Some(registry) => ServerRef::Via {
                registry: Name::clone(registry),
                key,
            },
        }
    }

    /// The supervisor's registered name for this namespace.
    pub fn supervisor_name(&self) -> Name {
        Name::clone(&self.names.supervisor)
    }

    /// The live holder of `service` in a world, under this context's naming (its global
    /// name, or its namespace's Registry).
    pub fn holder(&self, world: &fsim::sim::World, service: &str) -> Option<Pid> {
        match self.registry() {
            None => world.whereis(service),
            Some(r) => holder_in(world, r, service),
        }
    }
}

/// The live holder of `key` in the registry called `registry`, as `whereis_name` sees it.
pub fn holder_in(world: &fsim::sim::World, registry: &str, key: &str) -> Option<Pid> {
    live_holder(
        world,
        world.table_read::<String, Pid>(world.table_named(registry)?)?,
        key,
    )
}

/// The live holder of `key` in a Registry's table, as `whereis_name` sees it: a holder
/// that has died is skipped (rule 22), though its entry stays until the Registry hears.
pub fn live_holder(
    world: &fsim::sim::World,
    table: &std::collections::BTreeMap<String, Pid>,
    key: &str,
) -> Option<Pid> {
    table.get(key).copied().filter(|p| world.is_alive(*p))
}

/// The Registry of `namespace`.
pub fn registry_name(namespace: &str) -> String {
    format!("{namespace}.registry")
}

/// The Foundation supervisor's registered name in `namespace`.
pub fn supervisor_name(namespace: &str) -> String {
    format!("{namespace}.foundation_sup")
}

/// A typed error the public API returns instead of exiting the caller (F3's fix).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiError {
    /// The service is not running (or died during the call).
    Unavailable(String),
    /// The request was rejected by validation.
    Invalid(String),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unavailable(why) => write!(f, "service unavailable ({why})"),
            ApiError::Invalid(why) => write!(f, "invalid request ({why})"),
        }
    }
}

/// The report-era and fixed ways to call a service: with `AliveCheckThenAct` on, look the
/// service up and then `GenServer.call` it, so a death in between exits the caller (F3);
/// otherwise `try_call` and turn the exit into [`ApiError::Unavailable`].
pub async fn call_service<Q: fsim::sim::Payload, R: fsim::sim::Payload>(
    cx: &fsim::sim::Cx,
    ctx: &ServiceContext,
    service: &str,
    req: Q,
) -> Result<R, ApiError> {
    let name = ctx.name(service);
    if ctx.has(Flaw::AliveCheckThenAct) {
        // `if Process.whereis(Service), do: GenServer.call(Service, req)`.
        let Some(pid) = gen_server::whereis(cx, &name).await else {
            return Err(ApiError::Unavailable(format!("{service} not registered")));
        };
        if !cx.is_alive(pid).await {
            return Err(ApiError::Unavailable(format!("{service} not alive")));
        }
        return Ok(gen_server::call(cx, pid, req, Some(gen_server::CALL_TIMEOUT_MS)).await);
    }
    gen_server::try_call(cx, name, req, Some(gen_server::CALL_TIMEOUT_MS))
        .await
        .map_err(|reason| {
            // Sized once: under kills, clients see this error every few calls.
            let mut text = String::with_capacity(service.len() + 64);
            let _ = write!(text, "{service}: {reason:?}");
            ApiError::Unavailable(text)
        })
}
