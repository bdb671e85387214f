//! Systems under test: the one abstraction every tool takes.
//!
//! A [`System`] builds a world: it spawns its processes into a [`Sim`] and adds its
//! invariants. A closure `Fn(&mut Sim)` is a system. Wrapped in a
//! [`Scenario`](crate::scenario::Scenario) (a name, a fault menu, limits, an exploration
//! budget and an expected outcome), a system is what the seed sweep, exhaustive search,
//! the shrinker, the corpus, replay, diagrams, `fsim explain` and the cargo-test entry
//! point ([`crate::test()`]) run.
//!
//! For the command line, a [`SystemDef`] names a system and says how to configure it from
//! the parameters of a scenario file, and which invariants a file may name. A set of
//! them ([`Systems`]) is what [`crate::cli::main`] serves:
//!
//! ```no_run
//! use fsim::check::{invariant, When};
//! use fsim::sim::Sim;
//! use fsim::system::{SystemDef, Systems};
//!
//! #[derive(serde::Deserialize, Default)]
//! #[serde(deny_unknown_fields, default)]
//! struct Params { workers: u32 }
//!
//! fn build(sim: &mut Sim, p: &Params) {
//!     for i in 0..p.workers {
//!         sim.spawn(&format!("worker{i}"), |_cx| async {});
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     fsim::cli::main(Systems::new().with(
//!         SystemDef::new("pool", "a pool of workers", |p: Params| {
//!             Ok(move |sim: &mut Sim| build(sim, &p))
//!         })
//!         .invariant("at most two processes alive", || {
//!             invariant("small", When::Always, |w| {
//!                 if w.live_count() <= 2 { Ok(()) } else { Err("too many".into()) }
//!             })
//!         }),
//!     ))
//! }
//! ```
//!
//! A scenario file then says `system = "pool"`, gives `workers = 2` at its top level, and
//! may list `invariants = ["small"]`.

use crate::check::{Invariant, When};
use crate::sim::Sim;
use std::fmt;
use std::sync::Arc;

/// A system under test: builds one world. Must be `Send + Sync` because the seed runner
/// builds worlds on several threads (each world itself stays on one).
pub trait System: std::any::Any + Send + Sync {
    /// Spawns the system's processes into `sim`, adds its invariants, and shares what its
    /// invariants need to read ([`Sim::share`]).
    fn build(&self, sim: &mut Sim);

    /// A few words on this configuration, for listings (the Foundation says which flaws
    /// are on). Empty by default.
    fn describe(&self) -> String {
        String::new()
    }
}

impl<F: Fn(&mut Sim) + Send + Sync + 'static> System for F {
    fn build(&self, sim: &mut Sim) {
        self(sim)
    }
}

/// Makes a fresh invariant for each world (invariants may keep per-run state).
pub type InvariantCtor = Arc<dyn Fn() -> Box<dyn Invariant> + Send + Sync>;

/// An invariant a scenario file may name.
#[derive(Clone)]
pub struct NamedInvariant {
    /// Its name (the invariant's own [`Invariant::name`]).
    pub name: String,
    /// When it is checked.
    pub when: When,
    /// What it states, for `fsim list` and error messages.
    pub doc: String,
    /// A fresh instance.
    pub make: InvariantCtor,
}

impl fmt::Debug for NamedInvariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NamedInvariant({})", self.name)
    }
}

/// The parameters of a scenario file that belong to its system: every top-level key the
/// scenario format itself does not use, deserialized with their positions so an error
/// names the line.
pub type ParamsDeserializer<'a> = toml::de::Deserializer<'a>;

type Configure =
    dyn for<'a> Fn(ParamsDeserializer<'a>) -> Result<Arc<dyn System>, ParamError> + Send + Sync;

/// A system's parameters could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamError {
    /// The parameter, as a dotted path (may be empty).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// Where, as a byte range of the scenario file, when known.
    pub span: Option<std::ops::Range<usize>>,
}

impl ParamError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ParamError {
            field: field.into(),
            message: message.into(),
            span: None,
        }
    }
}

impl From<toml::de::Error> for ParamError {
    fn from(e: toml::de::Error) -> Self {
        let message = e.message().trim().to_string();
        ParamError {
            field: crate::scenario::field_of(&message),
            message,
            span: e.span(),
        }
    }
}

/// A named system for the command line: how to build it from a scenario file's
/// parameters, and the invariants a file may name.
#[derive(Clone)]
pub struct SystemDef {
    name: String,
    about: String,
    configure: Arc<Configure>,
    invariants: Vec<NamedInvariant>,
}

impl fmt::Debug for SystemDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SystemDef")
            .field("name", &self.name)
            .field("invariants", &self.invariants)
            .finish()
    }
}

impl SystemDef {
    /// A system called `name` whose parameters deserialize into `P` (use
    /// `#[serde(deny_unknown_fields, default)]` so a misspelt key is an error and a
    /// missing one takes its default); `configure` turns them into the system, or says
    /// what is wrong with them.
    pub fn new<P, S>(
        name: &str,
        about: &str,
        configure: impl Fn(P) -> Result<S, ParamError> + Send + Sync + 'static,
    ) -> Self
    where
        P: serde::de::DeserializeOwned,
        S: System + 'static,
    {
        SystemDef {
            name: name.to_string(),
            about: about.to_string(),
            configure: Arc::new(move |de: ParamsDeserializer<'_>| {
                let p: P = serde_path_to_error::deserialize(de).map_err(|e| {
                    let path = crate::files::field_path(e.path());
                    let mut error = ParamError::from(e.into_inner());
                    if error.field.is_empty() {
                        error.field = path;
                    }
                    error
                })?;
                Ok(Arc::new(configure(p)?) as Arc<dyn System>)
            }),
            invariants: Vec::new(),
        }
    }

    /// Registers an invariant a scenario file may name (by the invariant's own name);
    /// `doc` says what it states. `make` takes no parameters: an invariant that needs
    /// to know the system's configuration (or its processes) reads what the system's
    /// `build` shared with [`Sim::share`], through
    /// [`World::get`](crate::sim::World::get). A file that names an invariant the system
    /// already adds in `build` does not check it twice.
    pub fn invariant<I, F>(mut self, doc: &str, make: F) -> Self
    where
        I: Invariant + 'static,
        F: Fn() -> I + Send + Sync + 'static,
    {
        let sample = make();
        self.invariants.push(NamedInvariant {
            name: sample.name().to_string(),
            when: sample.when(),
            doc: doc.to_string(),
            make: Arc::new(move || Box::new(make())),
        });
        self
    }

    /// Its name (what `system = "..."` says).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What it is.
    pub fn about(&self) -> &str {
        &self.about
    }

    /// The invariants a scenario file may name.
    pub fn invariants(&self) -> &[NamedInvariant] {
        &self.invariants
    }

    /// Configures the system from a scenario file's parameters.
    pub fn configure(&self, params: ParamsDeserializer<'_>) -> Result<Arc<dyn System>, ParamError> {
        (self.configure)(params)
    }
}

/// The systems a command line serves, by name.
#[derive(Clone, Debug, Default)]
pub struct Systems {
    defs: Vec<SystemDef>,
}

impl Systems {
    /// None yet.
    pub fn new() -> Self {
        Systems::default()
    }

    /// Adds a system (a later one with the same name replaces it).
    pub fn with(mut self, def: SystemDef) -> Self {
        self.defs.retain(|d| d.name != def.name);
        self.defs.push(def);
        self
    }

    /// The system called `name`.
    pub fn get(&self, name: &str) -> Option<&SystemDef> {
        self.defs.iter().find(|d| d.name == name)
    }

    /// Every system, in the order added.
    pub fn iter(&self) -> impl Iterator<Item = &SystemDef> {
        self.defs.iter()
    }

    /// Their names, for error messages.
    pub fn names(&self) -> Vec<&str> {
        self.defs.iter().map(|d| d.name.as_str()).collect()
    }
}

impl FromIterator<SystemDef> for Systems {
    fn from_iter<T: IntoIterator<Item = SystemDef>>(iter: T) -> Self {
        iter.into_iter().fold(Systems::new(), Systems::with)
    }
}
