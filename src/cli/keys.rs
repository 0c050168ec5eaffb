//! `tipline keys`: the reporter-identity keys — how many values each key seals (`status`), a new
//! current key with every value re-sealed under it (`rotate`), fresh key text (`generate`).

use crate::config::Config;
use crate::identity::KeySource;
use crate::store::Store;
use clap::Subcommand;

/// The `keys` subcommands.
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Key ids, where the keys come from, and how many values each key seals.
    Status {
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Make a new key current and re-seal every value under it, in batches, while `serve` runs;
    /// old keys are retired once no value uses them. Run again to resume an interrupted rotation.
    Rotate,
    /// Print fresh key text (for `TIPLINE_IDENTITY_KEY` — join the lines with `;` — or a key file).
    Generate,
}

/// How long a rotation waits after writing a new key, so that running nodes (which look at the key
/// file every second) seal with it before the old key's values are counted.
const GRACE: std::time::Duration = std::time::Duration::from_millis(2500);
/// Passes over the tables before a rotation gives up on values that keep appearing under old keys.
const MAX_PASSES: usize = 10;

/// Runs a `keys` subcommand; the exit code is 1 when values could not be re-sealed.
pub async fn run(config: Config, command: KeysCommand) -> anyhow::Result<u8> {
    match command {
        KeysCommand::Generate => {
            print!("{}", crate::identity::generate_text());
            Ok(0)
        }
        KeysCommand::Status { json } => {
            let store = Store::open(&config).await?;
            status(&store, json).await?;
            Ok(0)
        }
        KeysCommand::Rotate => rotate(&Store::open(&config).await?).await,
    }
}

async fn status(store: &Store, json: bool) -> anyhow::Result<()> {
    let keys = store.identity();
    let status = store.key_status().await?;
    let current = keys.current_id();
    let held = keys.ids();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "source": keys.source().to_string(),
                "current": current,
                "held": held,
                "values_by_key": status.by_key,
                "clear": status.clear,
                "by_table": status.by_table,
            })
        );
        return Ok(());
    }
    println!("keys from {}", keys.source());
    let mut ids: Vec<u32> = held.clone();
    ids.extend(status.by_key.keys());
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        let n = status.by_key.get(&id).copied().unwrap_or(0);
        let mut notes = Vec::new();
        if id == current {
            notes.push("current");
        }
        if !held.contains(&id) {
            notes.push("MISSING");
        } else if n == 0 && id != current {
            notes.push("unused: `tipline keys rotate` retires it");
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join(", "))
        };
        println!("key {id}: {n} values{notes}");
    }
    if status.clear > 0 {
        println!(
            "in clear: {} values (sealed at the next start)",
            status.clear
        );
    }
    Ok(())
}

async fn rotate(store: &Store) -> anyhow::Result<u8> {
    let keys = store.identity();
    let before = store.key_status().await?;
    let current = keys.current_id();
    let behind = before.not_under(current);
    let target = if behind > 0 {
        println!("resuming: {behind} values are not yet sealed with key {current}");
        current
    } else if *keys.source() == KeySource::Env {
        anyhow::bail!(
            "every value is sealed with key {current}, the newest in TIPLINE_IDENTITY_KEY: add a new \
             `key {} = <64 hex>` entry there (`tipline keys generate` prints one), restart the servers, \
             and run `tipline keys rotate` again",
            current + 1
        );
    } else {
        let id = keys.add_key()?;
        println!("key {id} is now current ({})", keys.source());
        tokio::time::sleep(GRACE).await;
        id
    };
    let mut total = 0;
    let mut unreadable = 0;
    for _ in 0..MAX_PASSES {
        let done = store.reseal(false).await?;
        total += done.resealed;
        unreadable = done.unreadable;
        let now = store.key_status().await?;
        let left = now.not_under(target);
        println!("re-sealed {total} values with key {target}; {left} left");
        if left <= i64::try_from(unreadable).unwrap_or(i64::MAX) {
            break;
        }
    }
    let after = store.key_status().await?;
    let unused: Vec<u32> = keys
        .ids()
        .into_iter()
        .filter(|id| *id != target && !after.by_key.contains_key(id))
        .collect();
    if !unused.is_empty() {
        match keys.retire(&unused)? {
            Some(copy) => println!(
                "retired key(s) {unused:?}: no value uses them; a copy is kept in {} for restoring old \
                 database backups — delete it when none needs it",
                copy.display()
            ),
            None => println!(
                "key(s) {unused:?} seal no value any more: remove them from TIPLINE_IDENTITY_KEY"
            ),
        }
    }
    if unreadable > 0 {
        eprintln!(
            "error: {unreadable} values could not be opened (a missing key or a damaged value) and \
             were left as they are; see the log, restore the key, and run `tipline keys rotate` again"
        );
        return Ok(1);
    }
    Ok(0)
}
