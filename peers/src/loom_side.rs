//! loom's side: the subscribe race under loom's exhaustive (DPOR) model checker. loom is
//! deterministic, so it gives one figure, not a spread over seeds.

use crate::Found;

crate::subscribe_race_program!(loom);

/// Executions of loom's exhaustive search until the first failure.
pub fn race(m: u32) -> Found {
    let mut builder = loom::model::Builder::new();
    builder.max_permutations = Some(crate::LIMIT as usize);
    Found::exact(executions_to_failure(|| {
        builder.check(move || race_body(m))
    }))
}
