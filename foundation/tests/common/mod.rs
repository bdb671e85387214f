//! What several of the Foundation's test files share.

use fsim::scenario::{self, Scenario};
use fsim::sim::RunReport;
use std::ops::Range;
use std::path::Path;

/// The built-in scenarios, every `.toml` in the repository's `sim-scenarios/`.
pub fn scenarios() -> Vec<Scenario> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the foundation crate sits in the repository")
        .join("sim-scenarios");
    scenario::load_dir(&dir, &fsim_foundation::systems()).unwrap_or_else(|e| panic!("{e}"))
}

/// The built-in scenarios, each with the seeds a comparison runs on it: `0..seeds`, and
/// `0..soak_seeds` for the soak, whose runs are long.
#[allow(dead_code)] // not every test file compares runs seed by seed
pub fn scenarios_with_seeds(seeds: u64, soak_seeds: u64) -> Vec<(Scenario, Range<u64>)> {
    scenarios()
        .into_iter()
        .map(|s| {
            let n = if s.name.contains("soak") {
                soak_seeds
            } else {
                seeds
            };
            (s, 0..n)
        })
        .collect()
}

/// Runs `compare` on every built-in scenario and each of its seeds
/// ([`scenarios_with_seeds`]); `compare` asserts what it compares and returns one of its
/// runs. A comparison must cover runs that fail too: over 100 of the runs returned must
/// have failed. Returns how many did.
#[allow(dead_code)] // not every test file compares runs seed by seed
pub fn compare_on_every_seed(
    seeds: u64,
    soak_seeds: u64,
    mut compare: impl FnMut(&Scenario, u64) -> RunReport,
) -> u32 {
    let mut failing = 0;
    for (s, seeds) in scenarios_with_seeds(seeds, soak_seeds) {
        for seed in seeds {
            failing += compare(&s, seed).outcome.is_failure() as u32;
        }
    }
    assert!(failing > 100, "only {failing} failing runs");
    failing
}
