//! The determinism self-check: a run must be a pure function of its tape.
//!
//! [`check_seed`] runs a seed twice and compares trace hashes; on a mismatch it runs the
//! pair again with full traces and names the first step where they differ. Anything that
//! leaks into simulated code from outside — hash-map iteration order, the wall clock, OS
//! randomness, global counters — shows up here.

use super::exec::{Config, RunReport, Sim, run_seed};
use super::trace::Event;

/// Two runs of the same seed that did not agree.
#[derive(Debug, Clone)]
pub struct Divergence {
    /// The seed.
    pub seed: u64,
    /// Trace hashes of the two runs.
    pub hashes: (u64, u64),
    /// The first step at which the full traces differ (`None` if the traced re-runs
    /// happened to agree: the nondeterminism is intermittent).
    pub step: Option<u32>,
    /// The two events at that step (`None` where one run had already ended).
    pub events: Box<(Option<Event>, Option<Event>)>,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seed {} is not deterministic: trace hashes {:016x} and {:016x}",
            self.seed, self.hashes.0, self.hashes.1
        )?;
        match self.step {
            Some(s) => {
                write!(f, "; first difference at step {s}:")?;
                let show = |e: &Option<Event>| {
                    e.as_ref()
                        .map_or("(run had ended)".to_string(), |e| e.to_string())
                };
                write!(
                    f,
                    "\n  first run:  {}\n  second run: {}",
                    show(&self.events.0),
                    show(&self.events.1)
                )
            }
            None => write!(
                f,
                "; the traced re-runs agreed (intermittent nondeterminism)"
            ),
        }
    }
}

/// Runs `seed` twice on the world `setup` builds; `Ok(the first run's report)` if both
/// runs agree.
pub fn check_seed(
    config: &Config,
    seed: u64,
    setup: impl Fn(&mut Sim),
) -> Result<RunReport, Box<Divergence>> {
    let a = run_seed(config, seed, &setup);
    let b = run_seed(config, seed, &setup);
    if a.trace_hash == b.trace_hash && a.tape == b.tape {
        return Ok(a);
    }
    let traced = Config {
        record_trace: true,
        ..config.clone()
    };
    let ta = run_seed(&traced, seed, &setup).trace.unwrap_or_default();
    let tb = run_seed(&traced, seed, &setup).trace.unwrap_or_default();
    let first = (0..ta.len().max(tb.len())).find(|&i| ta.get(i) != tb.get(i));
    Err(Box::new(Divergence {
        seed,
        hashes: (a.trace_hash, b.trace_hash),
        step: first.map(|i| i as u32),
        events: Box::new(first.map_or((None, None), |i| (ta.get(i).cloned(), tb.get(i).cloned()))),
    }))
}

/// Checks every seed in `seeds`; the first divergence, if any.
pub fn check_seeds(
    config: &Config,
    seeds: impl IntoIterator<Item = u64>,
    setup: impl Fn(&mut Sim),
) -> Result<usize, Box<Divergence>> {
    let mut n = 0;
    for seed in seeds {
        check_seed(config, seed, &setup)?;
        n += 1;
    }
    Ok(n)
}
