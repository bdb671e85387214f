//! What several of the Foundation's test files share.

use fsim::scenario::{self, Scenario};
use std::path::Path;

/// The built-in scenarios, every `.toml` in the repository's `sim-scenarios/`.
pub fn scenarios() -> Vec<Scenario> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the foundation crate sits in the repository")
        .join("sim-scenarios");
    scenario::load_dir(&dir, &fsim_foundation::systems()).unwrap_or_else(|e| panic!("{e}"))
}
