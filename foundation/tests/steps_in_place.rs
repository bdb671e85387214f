//! Steps that end inside a process where the next decision has no choice
//! (`exec::step_in_place`) change no run of the Foundation: over every scenario in
//! `sim-scenarios/`, flawed and fixed, each run ends the same, with the same steps, tape
//! and trace hash, with the shortcut as without it. The kernel's own test
//! (`tests/steps_in_place.rs`) covers the built-in workloads and each way a run ends.

mod common;
use common::compare_on_every_seed;
use fsim::sim::exec::{set_steps_in_place, steps_ended_in_place};

#[test]
fn steps_ended_in_place_never_change_a_foundation_run() {
    let mut taken = 0;
    let failing = compare_on_every_seed(40, 10, |s, seed| {
        set_steps_in_place(true);
        let _ = steps_ended_in_place();
        let on = s.run_seed(seed);
        taken += steps_ended_in_place();
        set_steps_in_place(false);
        let off = s.run_seed(seed);
        set_steps_in_place(true);
        assert_ne!(on.trace_hash, 0, "the runs are hashed");
        assert_eq!(
            (&on.outcome, on.steps, &on.tape, on.trace_hash, &on.recent),
            (
                &off.outcome,
                off.steps,
                &off.tape,
                off.trace_hash,
                &off.recent
            ),
            "{} seed {seed}: the run differs when steps end in place",
            s.name
        );
        on
    });
    // The shortcut was taken (and the comparison covered failing runs).
    assert!(taken > 1_000, "only {taken} steps ended in place");
    println!("{taken} steps ended in place; {failing} runs failed");
}
