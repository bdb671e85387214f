//! Sequence diagrams: what they contain, and (in a real browser, when Chromium is there)
//! that the HTML renders to the same picture.

use fsim::explore::corpus::{self, Entry};
use fsim::report::{Diagram, Row};
use fsim::scenario::{self, Scenario};
use std::path::Path;

fn shrunk_run(name: &str) -> (Scenario, fsim::sim::RunReport) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let all = scenario::load_dir(&root.join("sim-scenarios"), &fsim_foundation::systems()).unwrap();
    let p = corpus::entries(&root.join("seeds"))
        .into_iter()
        .find(|p| p.to_string_lossy().contains(&format!("/{name}/")))
        .unwrap();
    let e = Entry::load(&p).unwrap();
    let s = all.into_iter().find(|s| s.name == e.scenario).unwrap();
    let r = e.verify(&s).unwrap();
    (s, r)
}

#[test]
fn the_diagram_holds_every_delivery_exit_spawn_and_the_fault() {
    let (s, r) = shrunk_run("volatile_subscriptions");
    let d = Diagram::of(&s.name, &r);
    let events = r.trace.as_ref().unwrap();
    // Signals that reached their receiver: deliveries between nodes, signals handled at
    // once on one node.
    let deliveries = events.iter().flat_map(fsim::report::arrivals).count();
    assert!(deliveries > 10, "{deliveries} signals");
    let rows = |f: fn(&Row) -> bool| d.rows.iter().filter(|(_, _, r)| f(r)).count();
    assert_eq!(rows(|r| matches!(r, Row::Deliver { .. })), deliveries);
    assert_eq!(rows(|r| matches!(r, Row::Fault { .. })), 1);
    assert!(
        rows(|r| matches!(r, Row::Spawn { restart: true, .. })) >= 1,
        "the ConfigServer's restart is marked"
    );
    let fault = d.rows.iter().find_map(|(_, _, r)| match r {
        Row::Fault { pid, .. } => Some(*pid),
        _ => None,
    });
    assert!(
        fault.flatten().is_some(),
        "the fault is drawn on its victim's lifeline"
    );
    let (step, msg) = d.violation.clone().expect("the run ends in a violation");
    assert_eq!(step, r.steps);
    assert!(msg.contains("subscription_durability"));
    assert!(d.rows.iter().any(|(_, hot, _)| *hot) && d.rows.iter().any(|(_, hot, _)| !*hot));

    let svg = d.svg();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("class=\"lane\"").count(), d.lanes.len());
    assert_eq!(svg.matches("class=\"signal\"").count(), deliveries);
    assert_eq!(svg.matches("class=\"violation\"").count(), 1);
    assert!(!svg.contains("<script"), "no scripts");
    assert_eq!(
        svg.matches("http://").count(),
        1,
        "no resource but the SVG namespace"
    );
    let html = d.html();
    assert!(
        html.starts_with("<!doctype html>") && !html.contains("<script") && !html.contains("src=")
    );

    let m = d.mermaid();
    assert!(m.starts_with("sequenceDiagram\n"));
    assert_eq!(m.matches("participant ").count(), d.lanes.len());
    let spawns = d
        .rows
        .iter()
        .filter(|(_, _, r)| matches!(r, Row::Spawn { .. }))
        .count();
    assert_eq!(
        m.matches("->>").count() + m.matches("-x").count() - spawns,
        deliveries
    );
    // A call and its reply read as one exchange: the reply names the call it answers,
    // and both show their values.
    let exchange = d.rows.iter().find_map(|(_, _, r)| match r {
        Row::Deliver {
            text, reply: true, ..
        } => Some(text.clone()),
        _ => None,
    });
    let exchange = exchange.expect("a reply row");
    assert!(
        exchange.starts_with("reply ") && exchange.contains(" to call "),
        "{exchange}"
    );
    assert!(m.contains("FAULT kill") && m.contains("VIOLATION"));
}

/// Renders the HTML in headless Chromium and reads back the DOM it built. Needs
/// `chromium` (Debian); `.ci/run` installs it and runs this with `--ignored`.
#[test]
#[ignore = "needs chromium; .ci/run runs it"]
fn the_html_renders_in_a_real_browser() {
    let (s, r) = shrunk_run("one_for_one_deps");
    let d = Diagram::of(&s.name, &r);
    let dir = std::env::temp_dir().join(format!("fsim-diagram-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("run.html");
    std::fs::write(&page, d.html()).unwrap();
    let url = format!("file://{}", page.display());
    let chromium = |args: &[&str]| {
        std::process::Command::new("chromium")
            .args(["--headless", "--no-sandbox", "--disable-gpu"])
            .args(args)
            .arg(&url)
            .output()
            .expect("chromium runs")
    };
    let dom = String::from_utf8_lossy(&chromium(&["--dump-dom"]).stdout).to_string();
    assert!(
        dom.contains("<svg"),
        "the browser built the SVG: {}",
        &dom[..dom.len().min(400)]
    );
    let deliveries = d
        .rows
        .iter()
        .filter(|(_, _, r)| matches!(r, Row::Deliver { .. }))
        .count();
    assert_eq!(dom.matches("class=\"signal\"").count(), deliveries);
    assert!(dom.contains("id=\"verdict\"") && dom.contains("dependents_consistent"));
    let shot = dir.join("run.png");
    let out = chromium(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1600,1200",
    ]);
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (1600, 1200));
    assert!(
        png.len() > 20_000,
        "a blank page compresses to a few KB; this is {} bytes",
        png.len()
    );
    std::fs::remove_dir_all(&dir).ok();
}
