//! Elixir's `Registry` with unique keys (OTP_MODEL rules 21–22).
//!
//! A registry is a process that owns a named table `key -> pid`. Registration runs in the
//! caller: it links to the registry process and writes the table. When a holder dies, its
//! exit signal travels to the registry, which then removes that pid's rows: cleanup is
//! asynchronous, so until it happens `lookup` can return dead pids. `whereis_name` (what
//! `via` names use) filters dead holders, and registering over a dead holder succeeds.

use super::gen_server::StartError;
use crate::sim::{Body, Cx, ExitReason, Matcher, Pid, Table};

#[derive(Debug)]
struct Ready;

/// Starts a registry named `name`, linked to the caller. Its table has the same name.
pub async fn start_link(cx: &Cx, name: &str) -> Result<Pid, StartError> {
    let parent = cx.me();
    let owned = name.to_string();
    let pid = cx
        .spawn_opts(
            crate::sim::SpawnOpts::labelled(name).linked(),
            move |rcx| async move { run(rcx, parent, owned).await },
        )
        .await;
    let env = cx
        .recv_match(Matcher::when(move |e| {
            e.from == pid && (e.is::<Ready>() || e.is::<StartError>() || e.exit_reason().is_some())
        }))
        .await;
    match env.body {
        Body::Exit { reason } => Err(StartError::Failed(reason)),
        _ => match env.downcast::<StartError>() {
            Ok(e) => Err(e),
            Err(_) => Ok(pid),
        },
    }
}

async fn run(cx: Cx, parent: Pid, name: String) -> ExitReason {
    if let Err(crate::sim::RegisterError::Taken(p)) = cx.register(&name).await {
        cx.send(parent, StartError::AlreadyStarted(p)).await;
        return ExitReason::Normal;
    }
    cx.trap_exit(true);
    let Some(table) = cx.table_new_named::<String, Pid>(&name).await else {
        let reason = ExitReason::custom(format!("registry table {name} exists"));
        cx.send(parent, StartError::Failed(reason.clone())).await;
        return reason;
    };
    cx.send(parent, Ready).await;
    loop {
        let env = cx.recv().await;
        let Body::Exit { reason } = &env.body else {
            continue;
        };
        if env.from == parent {
            return reason.clone();
        }
        let dead = env.from;
        // rule 22: remove only the rows of the pid that died.
        let _ = cx
            .table(table, "registry cleanup", |m| {
                m.retain(|_, holder| *holder != dead)
            })
            .await;
    }
}

async fn table(cx: &Cx, registry: &str) -> Option<Table<String, Pid>> {
    cx.table_by_name::<String, Pid>(registry).await
}

/// `Registry.register/3` in the caller. `Err(holder)` when a live process holds `key`;
/// a dead holder's row is taken over (rule 22). Fails with `Err(self)` if the registry
/// does not exist.
pub async fn register(cx: &Cx, registry: &str, key: &str) -> Result<(), Pid> {
    let Some(t) = table(cx, registry).await else {
        return Err(cx.me());
    };
    let me = cx.me();
    let owner = cx.world().table_owner(t.id);
    if let Some(owner) = owner
        && cx.link(owner).await.is_err()
    {
        return Err(me); // the registry died meanwhile: as if it did not exist
    }
    cx.table_now(t, "registry register", |m, alive| match m.get(key) {
        Some(holder) if *holder != me && alive(*holder) => Err(*holder),
        _ => {
            m.insert(key.to_string(), me);
            Ok(())
        }
    })
    .unwrap_or(Err(me))
}

/// `Registry.unregister/2`: removes `key` if the caller holds it.
pub async fn unregister(cx: &Cx, registry: &str, key: &str) -> bool {
    let Some(t) = table(cx, registry).await else {
        return false;
    };
    let me = cx.me();
    cx.table_now(t, "registry unregister", |m, _| {
        if m.get(key) == Some(&me) {
            m.remove(key);
            true
        } else {
            false
        }
    })
    .unwrap_or(false)
}

/// `Registry.lookup/2`: the raw row, which may name a dead pid until cleanup (rule 21).
pub async fn lookup(cx: &Cx, registry: &str, key: &str) -> Option<Pid> {
    let t = table(cx, registry).await?;
    cx.table_read_now(t, "registry lookup", |m, _| m.get(key).copied())
        .ok()
        .flatten()
}

/// `Registry.whereis_name/1` (used by `via` names): filters dead holders (rule 22).
pub async fn whereis_name(cx: &Cx, registry: &str, key: &str) -> Option<Pid> {
    let t = table(cx, registry).await?;
    cx.table_read_now(t, "registry whereis", |m, alive| {
        m.get(key).copied().filter(|p| alive(*p))
    })
    .ok()
    .flatten()
}

/// `Registry.keys/2` as seen by an invariant: every `(key, pid)` row of a registry.
pub fn rows(world: &crate::sim::World, registry: &str) -> Vec<(String, Pid)> {
    world
        .table_named(registry)
        .and_then(|id| world.table_read::<String, Pid>(id))
        .map(|m| m.iter().map(|(k, p)| (k.clone(), *p)).collect())
        .unwrap_or_default()
}
